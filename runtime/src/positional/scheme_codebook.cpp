// Codebook table: a [K, dim] codebook and one u8/u16 index per position (vector-quantized learned table).
#include "positional/scheme.hpp"
#include "positional/table_scheme_common.hpp"

namespace ordinal::positional {

namespace {

uint32_t index_at(const format::TensorView& ix, uint32_t row) {
  return ix.dtype == format::DType::kU8
             ? ix.data[row]
             : static_cast<uint32_t>(ix.data[2 * row]) | (static_cast<uint32_t>(ix.data[2 * row + 1]) << 8);
}

Status load(const format::Ctx& ctx, const schema::Model& m, const ModelConfig& cfg,
            detail::PositionalParams* p) {
  const auto* t = m.positional_as_CodebookTable();
  ORDINAL_RETURN_IF_ERROR(
      load_table_policy(t->out_of_range(), t->interpolation_factor(), "codebook table", p));
  const auto* cshape = t->codebook()->shape();
  const auto* ishape = t->indices()->shape();
  const uint32_t k = cshape->size() == 2 ? cshape->Get(0) : 0;
  const uint32_t rows = ishape->size() == 1 ? ishape->Get(0) : 0;
  if (k == 0 || k > 65536) return invalid_model("codebook table: codebook size out of range");
  if (rows == 0 || rows > format::kMaxPositions)
    return invalid_model("codebook table: position count out of range");
  ORDINAL_RETURN_IF_ERROR(format::check_tensor(ctx, t->codebook(), "positional.codebook", {k, cfg.dim},
                                               format::kTableFormats, true, &p->codebook));
  ORDINAL_RETURN_IF_ERROR(format::check_tensor(ctx, t->indices(), "positional.indices", {rows},
                                               format::kIndexFormats, true, &p->indices));
  for (uint32_t i = 0; i < rows; ++i) {
    const uint32_t idx = index_at(p->indices, i);
    if (idx >= k) {
      return invalid_model("codebook table: index of position " + std::to_string(i) + " is " +
                           std::to_string(idx) + ", codebook has " + std::to_string(k) + " entries");
    }
  }
  p->stored_positions = rows;
  p->bytes = format::stored_bytes(p->codebook) + format::stored_bytes(p->indices);
  return Status::Ok();
}

Status prepare(const detail::ModelData& model, EncoderState* s) {
  s->scratch_floats = s->dim;
  s->stored_positions = model.positional.stored_positions;
  s->distinct_rows = model.positional.codebook.rows();
  return Status::Ok();
}

void add_row(const EncoderState& s, uint32_t row, float weight, float* x, float* scratch) {
  uint32_t k = index_at(s.p->indices, row);
  // The loader checked every index, but they are read from the mapped file, which another process may
  // rewrite in place (docs/trust-boundary.md): an index is never trusted to address memory.
  const uint32_t k_rows = s.p->codebook.rows();
  if (k >= k_rows) k = k_rows - 1;
  add_table_row(s.p->codebook, k, weight, s.dim, x, scratch);
}

}  // namespace

const SchemeModule kCodebookTableModule = {
    PositionalScheme::kCodebookTable,
    schema::Positional::CodebookTable,
    "codebook-table",
    load,
    table_position_limit,
    prepare,
    table_add_to_embedding<add_row>,
    nullptr,
    nullptr,
    table_stored_row<add_row>,
};

}  // namespace ordinal::positional
