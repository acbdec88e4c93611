// The model's normalization of one dim-vector (RMSNorm, or LayerNorm with an optional bias), weights read
// in place: shared by the single-sequence and the batched forward passes.
#pragma once

#include "format/tensor_view.hpp"
#include "kernels/elementwise.hpp"
#include "ordinal/runtime.hpp"

namespace ordinal::detail {

inline void apply_norm(const ModelConfig& cfg, const format::TensorView& w, const format::TensorView& b,
                       const float* x, float* out) {
  const float* wp = reinterpret_cast<const float*>(w.data);
  if (cfg.norm == NormType::kRMSNorm) {
    kernels::rmsnorm(out, x, wp, cfg.dim, cfg.norm_eps);
  } else {
    kernels::layernorm(out, x, wp, b.present() ? reinterpret_cast<const float*>(b.data) : nullptr, cfg.dim,
                       cfg.norm_eps);
  }
}

}  // namespace ordinal::detail
