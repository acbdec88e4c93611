#include "format/loader.hpp"
#include "memory_plan.hpp"
#include "model_data.hpp"
#include "model_internals.hpp"
#include "ordinal/runtime.hpp"
#include "positional/scheme.hpp"
#include "weight_plan.hpp"

namespace ordinal {

const char* positional_scheme_name(PositionalScheme scheme) {
  const positional::SchemeModule* module = positional::find_scheme(scheme);
  return module != nullptr ? module->name : "unknown";
}

namespace detail {

const char* out_of_range_policy_name(OutOfRangePolicy p) {
  switch (p) {
    case OutOfRangePolicy::kError:
      return "error";
    case OutOfRangePolicy::kClamp:
      return "clamp";
    case OutOfRangePolicy::kInterpolate:
      return "interpolate";
  }
  return "?";
}

const char* trig_precision_name(TrigPrecision p) {
  switch (p) {
    case TrigPrecision::kF32:
      return "f32";
    case TrigPrecision::kQ15:
      return "q15";
    case TrigPrecision::kQ31:
      return "q31";
  }
  return "?";
}

std::vector<const format::TensorView*> ModelData::tensors() const {
  std::vector<const format::TensorView*> out;
  auto add = [&out](const format::TensorView& v) {
    if (v.present()) out.push_back(&v);
  };
  add(token_embedding);
  add(positional.table);
  add(positional.codebook);
  add(positional.indices);
  add(positional.low_a);
  add(positional.low_b);
  for (const LayerWeights& w : layers) {
    for (const format::TensorView* v :
         {&w.attn_norm, &w.attn_norm_bias, &w.wq, &w.wk, &w.wv, &w.wo, &w.bq, &w.bk, &w.bv, &w.bo,
          &w.ffn_norm, &w.ffn_norm_bias, &w.w1, &w.w2, &w.w3, &w.b1, &w.b2}) {
      add(*v);
    }
  }
  add(final_norm);
  add(final_norm_bias);
  add(classifier);
  return out;
}

}  // namespace detail

namespace {

// Plans the linear layers once for every session of the model. A model whose weights have no kernel still
// loads (inspect, quantize and verify read it); creating a session on it returns this status.
void plan_weights(detail::ModelData& md) {
  Result<std::unique_ptr<const detail::WeightPlan>> plan = detail::WeightPlan::build(md);
  if (plan.ok()) {
    md.weight_plan = std::move(plan).value();
  } else {
    md.weight_plan_status = plan.status();
  }
}

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  plan_weights(*impl_->data);
}
Model::~Model() = default;

Result<std::shared_ptr<const Model>> Model::load(const std::string& path) {
  ORDINAL_ASSIGN_OR_RETURN(auto file, format::MappedFile::open(path));
  ORDINAL_ASSIGN_OR_RETURN(auto data, format::load_model_data(std::move(file)));
  return std::shared_ptr<const Model>(new Model(std::unique_ptr<Impl>(new Impl{std::move(data)})));
}

Result<std::shared_ptr<const Model>> Model::load_from_buffer(const void* data, size_t size) {
  if (data == nullptr) return invalid_argument("load_from_buffer: null buffer");
  ORDINAL_ASSIGN_OR_RETURN(auto md, format::load_model_data(format::MappedFile::borrow(data, size)));
  return std::shared_ptr<const Model>(new Model(std::unique_ptr<Impl>(new Impl{std::move(md)})));
}

Result<std::shared_ptr<const Model>> Model::load_copy(const void* data, size_t size) {
  if (data == nullptr) return invalid_argument("load_copy: null buffer");
  ORDINAL_ASSIGN_OR_RETURN(auto file, format::MappedFile::copy(data, size));
  ORDINAL_ASSIGN_OR_RETURN(auto md, format::load_model_data(std::move(file)));
  return std::shared_ptr<const Model>(new Model(std::unique_ptr<Impl>(new Impl{std::move(md)})));
}

Result<std::shared_ptr<const Model>> Model::load_from_fd(int fd, int64_t offset, size_t size) {
  ORDINAL_ASSIGN_OR_RETURN(auto file, format::MappedFile::open_fd(fd, offset, size));
  ORDINAL_ASSIGN_OR_RETURN(auto md, format::load_model_data(std::move(file)));
  return std::shared_ptr<const Model>(new Model(std::unique_ptr<Impl>(new Impl{std::move(md)})));
}

const ModelConfig& Model::config() const {
  return impl_->data->config;
}
PositionalScheme Model::positional_scheme() const {
  return impl_->data->positional.scheme;
}
const Tokenizer& Model::tokenizer() const {
  return impl_->data->tokenizer;
}
int64_t Model::position_limit() const {
  return impl_->data->position_limit;
}
size_t Model::file_bytes() const {
  return impl_->data->file->size();
}
std::string Model::task_spec() const {
  return impl_->data->task_spec;
}
Result<uint64_t> Model::session_bytes(const SessionOptions& options) const {
  ORDINAL_ASSIGN_OR_RETURN(const detail::SessionMemoryPlan plan,
                           detail::plan_session_memory(*impl_->data, options));
  return plan.total;
}

}  // namespace ordinal
