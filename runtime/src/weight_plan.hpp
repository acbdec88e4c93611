// The linear layers of one model, planned once when the model is loaded: a kernels::Linear per weight
// matrix, reading the mapped file in place. Immutable afterwards and shared by every session of the model
// on every thread, so a session owns only its KV cache and scratch, and creating one does no weight work.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "kernels/linear.hpp"
#include "ordinal/status.hpp"

namespace ordinal::detail {

struct ModelData;

struct LayerLinears {
  kernels::Linear wq, wk, wv, wo, w1, w2, w3;  // w3 absent (not present()) without a gated FFN
};

class WeightPlan {
 public:
  // Plans every layer of `md`, which must outlive the plan (the Linears view its mapped weights).
  static Result<std::unique_ptr<const WeightPlan>> build(const ModelData& md);

  const LayerLinears& layer(size_t l) const { return layers_[l]; }
  size_t layers() const { return layers_.size(); }
  const kernels::Linear& classifier() const { return classifier_; }
  // Bytes the plan allocated (int8 scales, int8 rows padded to 32 bytes): paid once per model.
  size_t owned_bytes() const;
  // Bytes of weights and scales the linear layers read per token (classifier included).
  size_t weight_bytes_per_token() const;

 private:
  WeightPlan() = default;
  std::vector<LayerLinears> layers_;
  kernels::Linear classifier_;
};

}  // namespace ordinal::detail
