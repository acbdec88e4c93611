// T5 relative attention bias: a [buckets, heads] table (f32 or int8) indexed by the bucket of key - query.
#include "positional/relative_bias.hpp"
#include "positional/scheme.hpp"

namespace ordinal::positional {

namespace {

Status load(const format::Ctx& ctx, const schema::Model& m, const ModelConfig& cfg,
            detail::PositionalParams* p) {
  const auto* t = m.positional_as_RelativeBias();
  const uint32_t nb = t->num_buckets();
  const uint32_t exact_buckets = t->bidirectional() ? nb / 2 : nb;
  if (nb < 2 || nb > 256 || (t->bidirectional() && (nb < 4 || nb % 2 != 0)) ||
      t->max_distance() <= exact_buckets / 2 || t->max_distance() > format::kMaxPositions) {
    return invalid_model(
        "relative bias: num_buckets must be in [2, 256] (even and >= 4 when bidirectional) and "
        "max_distance in (exact buckets, 2^24]");
  }
  ORDINAL_RETURN_IF_ERROR(format::check_tensor(ctx, t->table(), "positional.relative_bias", {nb, cfg.n_heads},
                                               format::kFloatOnly | format::kAllowI8, true, &p->table));
  if (p->table.dtype == format::DType::kI8 &&
      p->table.quant.granularity != format::QuantGranularity::kPerTensor &&
      p->table.quant.granularity != format::QuantGranularity::kPerColumn) {
    return invalid_model("relative bias: int8 table needs a per-tensor or per-head (column) scale");
  }
  p->num_buckets = nb;
  p->max_distance = t->max_distance();
  p->bidirectional = t->bidirectional();
  p->bytes = format::stored_bytes(p->table);
  return Status::Ok();
}

int64_t position_limit(const detail::PositionalParams&) {
  return format::kComputedPositionLimit;
}

Status prepare(const detail::ModelData& model, EncoderState* s) {
  const detail::PositionalParams& p = model.positional;
  ORDINAL_ASSIGN_OR_RETURN(
      s->t5, make_t5_bucket_table(static_cast<int>(p.num_buckets), p.max_distance, p.bidirectional));
  if (p.table.dtype == format::DType::kI8) {
    s->bias_scales.resize(p.table.quant.scale_count);
    for (uint64_t i = 0; i < p.table.quant.scale_count; ++i)
      s->bias_scales[i] = format::scale_at(p.table.quant, i);
  }
  return Status::Ok();
}

void attention_bias(const EncoderState& s, uint32_t head, int64_t query_pos, int64_t key_pos0, size_t n,
                    float* bias) {
  const format::TensorView& t = s.p->table;
  if (t.dtype == format::DType::kI8) {
    t5_bias_row_int8(s.t5, reinterpret_cast<const int8_t*>(t.data), s.bias_scales.data(),
                     static_cast<int>(s.bias_scales.size()), static_cast<int>(s.n_heads),
                     static_cast<int>(head), query_pos, key_pos0, static_cast<int>(n), bias);
  } else {
    t5_bias_row_f32(s.t5, reinterpret_cast<const float*>(t.data), static_cast<int>(s.n_heads),
                    static_cast<int>(head), query_pos, key_pos0, static_cast<int>(n), bias);
  }
}

}  // namespace

const SchemeModule kRelativeBiasModule = {
    PositionalScheme::kRelativeBias,
    schema::Positional::RelativeBias,
    "relative-bias",
    load,
    position_limit,
    prepare,
    nullptr,
    nullptr,
    attention_bias,
    nullptr,
};

}  // namespace ordinal::positional
