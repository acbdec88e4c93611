#include "weight_plan.hpp"

#include <new>

#include "model_data.hpp"

namespace ordinal::detail {

namespace {

size_t sum_layer(const LayerLinears& o, size_t (kernels::Linear::*what)() const) {
  return (o.wq.*what)() + (o.wk.*what)() + (o.wv.*what)() + (o.wo.*what)() + (o.w1.*what)() + (o.w2.*what)() +
         (o.w3.*what)();
}

}  // namespace

Result<std::unique_ptr<const WeightPlan>> WeightPlan::build(const ModelData& md) {
  std::unique_ptr<WeightPlan> p(new (std::nothrow) WeightPlan());
  if (!p) return internal_error("out of memory planning the linear layers");
  p->layers_.resize(md.layers.size());
  for (size_t l = 0; l < md.layers.size(); ++l) {
    const LayerWeights& w = md.layers[l];
    LayerLinears& o = p->layers_[l];
    ORDINAL_ASSIGN_OR_RETURN(o.wq, kernels::Linear::create(w.wq, &w.bq));
    ORDINAL_ASSIGN_OR_RETURN(o.wk, kernels::Linear::create(w.wk, &w.bk));
    ORDINAL_ASSIGN_OR_RETURN(o.wv, kernels::Linear::create(w.wv, &w.bv));
    ORDINAL_ASSIGN_OR_RETURN(o.wo, kernels::Linear::create(w.wo, &w.bo));
    ORDINAL_ASSIGN_OR_RETURN(o.w1, kernels::Linear::create(w.w1, &w.b1));
    ORDINAL_ASSIGN_OR_RETURN(o.w2, kernels::Linear::create(w.w2, &w.b2));
    if (w.w3.present()) {
      ORDINAL_ASSIGN_OR_RETURN(o.w3, kernels::Linear::create(w.w3, nullptr));
    }
  }
  ORDINAL_ASSIGN_OR_RETURN(p->classifier_, kernels::Linear::create(md.classifier_weight(), nullptr));
  return std::unique_ptr<const WeightPlan>(std::move(p));
}

size_t WeightPlan::owned_bytes() const {
  size_t b = classifier_.owned_bytes();
  for (const LayerLinears& o : layers_) b += sum_layer(o, &kernels::Linear::owned_bytes);
  return b;
}

size_t WeightPlan::weight_bytes_per_token() const {
  size_t b = classifier_.weight_bytes();
  for (const LayerLinears& o : layers_) b += sum_layer(o, &kernels::Linear::weight_bytes);
  return b;
}

}  // namespace ordinal::detail
