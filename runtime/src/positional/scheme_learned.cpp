// Learned absolute position table [positions, dim] (f32, f16, int8, int4), added to the token embedding.
#include "positional/scheme.hpp"
#include "positional/table_scheme_common.hpp"

namespace ordinal::positional {

namespace {

Status load(const format::Ctx& ctx, const schema::Model& m, const ModelConfig& cfg,
            detail::PositionalParams* p) {
  const auto* t = m.positional_as_LearnedTable();
  ORDINAL_RETURN_IF_ERROR(
      load_table_policy(t->out_of_range(), t->interpolation_factor(), "learned table", p));
  const auto* shape = t->table()->shape();
  const uint32_t rows = shape->size() == 2 ? shape->Get(0) : 0;
  if (rows == 0 || rows > format::kMaxPositions)
    return invalid_model("learned table: position count out of range");
  ORDINAL_RETURN_IF_ERROR(format::check_tensor(ctx, t->table(), "positional.table", {rows, cfg.dim},
                                               format::kTableFormats, true, &p->table));
  p->stored_positions = rows;
  p->bytes = format::stored_bytes(p->table);
  return Status::Ok();
}

Status prepare(const detail::ModelData& model, EncoderState* s) {
  s->scratch_floats = s->dim;
  s->stored_positions = model.positional.stored_positions;
  s->distinct_rows = s->stored_positions;
  return Status::Ok();
}

void add_row(const EncoderState& s, uint32_t row, float weight, float* x, float* scratch) {
  add_table_row(s.p->table, row, weight, s.dim, x, scratch);
}

}  // namespace

const SchemeModule kLearnedTableModule = {
    PositionalScheme::kLearnedTable,
    schema::Positional::LearnedTable,
    "learned-table",
    load,
    table_position_limit,
    prepare,
    table_add_to_embedding<add_row>,
    nullptr,
    nullptr,
    table_stored_row<add_row>,
};

}  // namespace ordinal::positional
