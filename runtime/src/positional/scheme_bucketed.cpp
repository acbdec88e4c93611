// Bucketed table: positions share stored rows (uniform stride, or T5-style log buckets).
#include "positional/scheme.hpp"
#include "positional/table_scheme_common.hpp"

namespace ordinal::positional {

namespace fb = ::ordinal::schema;

namespace {

Status load(const format::Ctx& ctx, const schema::Model& m, const ModelConfig& cfg,
            detail::PositionalParams* p) {
  const auto* t = m.positional_as_BucketedTable();
  ORDINAL_RETURN_IF_ERROR(load_table_policy(t->out_of_range(), 1.0f, "bucketed table", p));
  if (t->out_of_range() == fb::OutOfRangePolicy::Interpolate) {
    return invalid_model("bucketed table: interpolation is not defined for bucketed positions");
  }
  if (static_cast<uint8_t>(t->rule()) > static_cast<uint8_t>(fb::BucketRule::T5Log)) {
    return invalid_model("bucketed table: unknown bucket rule");
  }
  const auto* shape = t->table()->shape();
  const uint32_t rows = shape->size() == 2 ? shape->Get(0) : 0;
  if (rows == 0 || rows > format::kMaxPositions)
    return invalid_model("bucketed table: row count out of range");
  if (t->positions() == 0 || t->positions() > format::kMaxPositions) {
    return invalid_model("bucketed table: covered positions out of range");
  }
  p->bucket_rule = static_cast<detail::BucketRuleKind>(t->rule());
  p->stride = t->stride();
  p->num_buckets = t->num_buckets();
  p->max_distance = t->max_distance();
  if (p->bucket_rule == detail::BucketRuleKind::kUniformStride) {
    if (p->stride == 0) return invalid_model("bucketed table: stride must be positive");
    if ((uint64_t{t->positions()} - 1) / p->stride >= rows) {
      return invalid_model("bucketed table: stride " + std::to_string(p->stride) + " over " +
                           std::to_string(t->positions()) + " positions needs more than " +
                           std::to_string(rows) + " rows");
    }
  } else {
    if (p->num_buckets < 2 || p->num_buckets > 256 || p->num_buckets != rows ||
        p->max_distance <= p->num_buckets / 2 || p->max_distance > format::kMaxPositions) {
      return invalid_model(
          "bucketed table: T5 rule needs num_buckets == rows >= 2 and max_distance > num_buckets/2");
    }
  }
  ORDINAL_RETURN_IF_ERROR(format::check_tensor(ctx, t->table(), "positional.table", {rows, cfg.dim},
                                               format::kTableFormats, true, &p->table));
  p->stored_positions = t->positions();
  p->bytes = format::stored_bytes(p->table);
  return Status::Ok();
}

Status prepare(const detail::ModelData& model, EncoderState* s) {
  const detail::PositionalParams& p = model.positional;
  // The same integer mapping quant/bucketed.cpp used to build the rows.
  if (p.bucket_rule == detail::BucketRuleKind::kT5Log) {
    ORDINAL_ASSIGN_OR_RETURN(s->buckets,
                             make_log_bucket_map(static_cast<int>(p.num_buckets), p.max_distance));
  } else {
    ORDINAL_ASSIGN_OR_RETURN(s->buckets, make_stride_bucket_map(p.stride, p.stored_positions));
  }
  s->scratch_floats = s->dim;
  s->stored_positions = model.positional.stored_positions;
  s->distinct_rows = model.positional.table.rows();
  return Status::Ok();
}

void add_row(const EncoderState& s, uint32_t row, float weight, float* x, float* scratch) {
  add_table_row(s.p->table, static_cast<uint32_t>(position_to_row(s.buckets, row)), weight, s.dim, x,
                scratch);
}

}  // namespace

const SchemeModule kBucketedTableModule = {
    PositionalScheme::kBucketedTable,
    schema::Positional::BucketedTable,
    "bucketed-table",
    load,
    table_position_limit,
    prepare,
    table_add_to_embedding<add_row>,
    nullptr,
    nullptr,
    table_stored_row<add_row>,
};

}  // namespace ordinal::positional
