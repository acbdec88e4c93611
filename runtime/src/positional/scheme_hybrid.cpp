// Hybrid table: positions 0..K-1 are rows of an exact table `head` [K, dim] (int8 per-row in practice), the
// rest come from a low-rank tail A [positions - K, r] · B [r, dim]. Measurements on trained models (issue 18)
// show the early positions carry most of what the model reads from the table and are least like the rest,
// so they are kept row by row while the smooth tail is factored.
#include "positional/scheme.hpp"
#include "positional/table_scheme_common.hpp"

namespace ordinal::positional {

namespace {

Status load(const format::Ctx& ctx, const schema::Model& m, const ModelConfig& cfg,
            detail::PositionalParams* p) {
  const auto* t = m.positional_as_HybridTable();
  ORDINAL_RETURN_IF_ERROR(load_table_policy(t->out_of_range(), t->interpolation_factor(), "hybrid table", p));
  const auto* hshape = t->head()->shape();
  const auto* ashape = t->tail_a()->shape();
  const uint32_t head_rows = hshape->size() == 2 ? hshape->Get(0) : 0;
  const uint32_t tail_rows = ashape->size() == 2 ? ashape->Get(0) : 0;
  const uint32_t rank = ashape->size() == 2 ? ashape->Get(1) : 0;
  if (head_rows == 0 || head_rows > format::kMaxPositions)
    return invalid_model("hybrid table: head must be [K, dim] with 0 < K <= the position limit");
  if (tail_rows == 0 || tail_rows > format::kMaxPositions - head_rows)
    return invalid_model(
        "hybrid table: tail A must be [positions - K, rank] with at least one row and K + "
        "tail rows within the position limit");
  if (rank == 0 || rank > cfg.dim)
    return invalid_model("hybrid table: tail rank must satisfy 0 < rank <= dim");
  ORDINAL_RETURN_IF_ERROR(format::check_tensor(ctx, t->head(), "positional.head", {head_rows, cfg.dim},
                                               format::kAllowF32 | format::kAllowF16 | format::kAllowI8, true,
                                               &p->table));
  const uint32_t factor_formats = format::kFloatOnly | format::kAllowI8;
  ORDINAL_RETURN_IF_ERROR(format::check_tensor(ctx, t->tail_a(), "positional.tail_a", {tail_rows, rank},
                                               factor_formats, true, &p->low_a));
  ORDINAL_RETURN_IF_ERROR(format::check_tensor(ctx, t->tail_b(), "positional.tail_b", {rank, cfg.dim},
                                               factor_formats, true, &p->low_b));
  for (const format::TensorView* v : {&p->table, &p->low_a, &p->low_b}) {
    if (v->dtype == format::DType::kI8 && v->quant.granularity != format::QuantGranularity::kPerRow)
      return invalid_model("hybrid table: int8 head and factors must use per-row scales");
  }
  p->head_rows = head_rows;
  p->stored_positions = head_rows + tail_rows;
  p->bytes = format::stored_bytes(p->table) + format::stored_bytes(p->low_a) + format::stored_bytes(p->low_b);
  return Status::Ok();
}

Status prepare(const detail::ModelData& model, EncoderState* s) {
  s->scratch_floats = s->dim + model.positional.low_a.cols();
  s->stored_positions = model.positional.stored_positions;
  // Vectors actually stored: K head rows and the R basis rows of the tail. The tail lives in an R-dimensional
  // subspace by design (it does not claim that every tail position stays nearest to itself); verify's
  // decision gates (top-1, KL, perplexity per bucket) judge it instead of nearest-neighbour recovery.
  const uint32_t basis = model.positional.head_rows + model.positional.low_b.rows();
  s->distinct_rows = basis < s->stored_positions ? basis : s->stored_positions;
  prepare_lowrank(model.positional.low_a, model.positional.low_b, s);
  return Status::Ok();
}

void add_row(const EncoderState& s, uint32_t row, float weight, float* x, float* scratch) {
  const detail::PositionalParams& p = *s.p;
  if (row < p.head_rows) {
    add_table_row(p.table, row, weight, s.dim, x, scratch);
    return;
  }
  add_lowrank_row(s, p.low_a, p.low_b, row - p.head_rows, weight, x, scratch);
}

}  // namespace

const SchemeModule kHybridTableModule = {
    PositionalScheme::kHybridTable,
    schema::Positional::HybridTable,
    "hybrid-table",
    load,
    table_position_limit,
    prepare,
    table_add_to_embedding<add_row>,
    nullptr,
    nullptr,
    table_stored_row<add_row>,
};

}  // namespace ordinal::positional
