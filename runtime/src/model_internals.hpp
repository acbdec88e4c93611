// The runtime's access to a loaded Model's verified contents (detail::ModelData), which the public header
// keeps opaque. Sessions, the memory planner and the host tools' introspection library
// (runtime/introspect) read a model through here; apps cannot (this header is not installed).
#pragma once

#include <memory>

#include "model_data.hpp"
#include "ordinal/runtime.hpp"

namespace ordinal {

struct Model::Impl {
  std::unique_ptr<detail::ModelData> data;  // never null
};

class ModelInternals {
 public:
  static const detail::ModelData& data(const Model& model) { return *model.impl_->data; }
};

namespace detail {
// The verified contents of a loaded model (immutable, shared by every session).
inline const ModelData& model_data(const Model& model) {
  return ModelInternals::data(model);
}
}  // namespace detail

}  // namespace ordinal
