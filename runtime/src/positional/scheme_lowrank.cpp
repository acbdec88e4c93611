// Low-rank table: P = A [positions, r] · B [r, dim], never materialised (A row times B, one B row at a time).
#include "positional/scheme.hpp"
#include "positional/table_scheme_common.hpp"

namespace ordinal::positional {

namespace {

Status load(const format::Ctx& ctx, const schema::Model& m, const ModelConfig& cfg,
            detail::PositionalParams* p) {
  const auto* t = m.positional_as_LowRankTable();
  ORDINAL_RETURN_IF_ERROR(
      load_table_policy(t->out_of_range(), t->interpolation_factor(), "low-rank table", p));
  const auto* ashape = t->a()->shape();
  const uint32_t rows = ashape->size() == 2 ? ashape->Get(0) : 0;
  const uint32_t rank = ashape->size() == 2 ? ashape->Get(1) : 0;
  if (rows == 0 || rows > format::kMaxPositions || rank == 0 || rank > cfg.dim) {
    return invalid_model("low-rank table: A must be [positions, rank] with 0 < rank <= dim");
  }
  const uint32_t formats = format::kFloatOnly | format::kAllowI8;
  ORDINAL_RETURN_IF_ERROR(
      format::check_tensor(ctx, t->a(), "positional.a", {rows, rank}, formats, true, &p->low_a));
  ORDINAL_RETURN_IF_ERROR(
      format::check_tensor(ctx, t->b(), "positional.b", {rank, cfg.dim}, formats, true, &p->low_b));
  for (const format::TensorView* v : {&p->low_a, &p->low_b}) {
    if (v->dtype == format::DType::kI8 && v->quant.granularity != format::QuantGranularity::kPerRow) {
      return invalid_model("low-rank table: int8 factors must use per-row scales");
    }
  }
  p->stored_positions = rows;
  p->bytes = format::stored_bytes(p->low_a) + format::stored_bytes(p->low_b);
  return Status::Ok();
}

Status prepare(const detail::ModelData& model, EncoderState* s) {
  s->scratch_floats = s->dim + model.positional.low_a.cols();
  s->stored_positions = model.positional.stored_positions;
  s->distinct_rows = s->stored_positions;
  prepare_lowrank(model.positional.low_a, model.positional.low_b, s);
  return Status::Ok();
}

void add_row(const EncoderState& s, uint32_t row, float weight, float* x, float* scratch) {
  add_lowrank_row(s, s.p->low_a, s.p->low_b, row, weight, x, scratch);
}

}  // namespace

const SchemeModule kLowRankTableModule = {
    PositionalScheme::kLowRankTable,
    schema::Positional::LowRankTable,
    "lowrank-table",
    load,
    table_position_limit,
    prepare,
    table_add_to_embedding<add_row>,
    nullptr,
    nullptr,
    table_stored_row<add_row>,
};

}  // namespace ordinal::positional
