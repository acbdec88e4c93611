// Host side of the absolute-table schemes (learned, codebook, bucketed, low-rank, hybrid) and of "none".
#include <string>

#include "modelio/host_scheme.hpp"

namespace ordinal::modelio {

namespace fb = ::ordinal::schema;

namespace {

fb::OutOfRangePolicy policy_of(const HostPositional& p) {
  return static_cast<fb::OutOfRangePolicy>(p.policy);
}

std::string describe_table(const detail::PositionalParams& p, const ModelConfig&) {
  std::string s = std::to_string(p.stored_positions) + " stored positions, out-of-range " +
                  detail::out_of_range_policy_name(p.policy);
  if (p.policy == detail::OutOfRangePolicy::kInterpolate) s += " x" + std::to_string(p.interpolation_factor);
  return s;
}

PositionalBlock write_none(flatbuffers::FlatBufferBuilder& b, TensorWriter&, const HostPositional&) {
  return {fb::Positional::NoPosition, fb::CreateNoPosition(b).Union()};
}

std::string describe_none(const detail::PositionalParams&, const ModelConfig&) {
  return "no positional information";
}

PositionalBlock write_learned(flatbuffers::FlatBufferBuilder& b, TensorWriter& w, const HostPositional& p) {
  auto t = w.write(b, p.table);
  return {fb::Positional::LearnedTable,
          fb::CreateLearnedTable(b, t, policy_of(p), p.interpolation_factor).Union()};
}

PositionalBlock write_codebook(flatbuffers::FlatBufferBuilder& b, TensorWriter& w, const HostPositional& p) {
  auto cb = w.write(b, p.codebook);
  auto ix = w.write(b, p.indices);
  return {fb::Positional::CodebookTable,
          fb::CreateCodebookTable(b, cb, ix, policy_of(p), p.interpolation_factor).Union()};
}

PositionalBlock write_bucketed(flatbuffers::FlatBufferBuilder& b, TensorWriter& w, const HostPositional& p) {
  auto t = w.write(b, p.table);
  return {fb::Positional::BucketedTable,
          fb::CreateBucketedTable(b, static_cast<fb::BucketRule>(p.bucket_rule), p.stride, p.num_buckets,
                                  p.max_distance, t, p.positions, policy_of(p))
              .Union()};
}

PositionalBlock write_lowrank(flatbuffers::FlatBufferBuilder& b, TensorWriter& w, const HostPositional& p) {
  auto a = w.write(b, p.low_a);
  auto bb = w.write(b, p.low_b);
  return {fb::Positional::LowRankTable,
          fb::CreateLowRankTable(b, a, bb, policy_of(p), p.interpolation_factor).Union()};
}

PositionalBlock write_hybrid(flatbuffers::FlatBufferBuilder& b, TensorWriter& w, const HostPositional& p) {
  auto head = w.write(b, p.table);
  auto a = w.write(b, p.low_a);
  auto bb = w.write(b, p.low_b);
  return {fb::Positional::HybridTable,
          fb::CreateHybridTable(b, head, a, bb, policy_of(p), p.interpolation_factor).Union()};
}

std::string describe_hybrid(const detail::PositionalParams& p, const ModelConfig& config) {
  return std::to_string(p.head_rows) + " exact head rows + rank-" + std::to_string(p.low_a.cols()) +
         " tail, " + describe_table(p, config);
}

void view_learned(const HostPositional& p, detail::PositionalParams* out) {
  out->table = view_of(p.table);
  out->stored_positions = out->table.rows();
}

void view_codebook(const HostPositional& p, detail::PositionalParams* out) {
  out->codebook = view_of(p.codebook);
  out->indices = view_of(p.indices);
  out->stored_positions = out->indices.rows();
}

void view_bucketed(const HostPositional& p, detail::PositionalParams* out) {
  out->table = view_of(p.table);
  out->stored_positions = p.positions;
}

void view_lowrank(const HostPositional& p, detail::PositionalParams* out) {
  out->low_a = view_of(p.low_a);
  out->low_b = view_of(p.low_b);
  out->stored_positions = out->low_a.rows();
}

void view_hybrid(const HostPositional& p, detail::PositionalParams* out) {
  out->table = view_of(p.table);
  out->low_a = view_of(p.low_a);
  out->low_b = view_of(p.low_b);
  out->head_rows = out->table.rows();
  out->stored_positions = out->head_rows + out->low_a.rows();
}

}  // namespace

const HostSchemeModule kHostNoPosition = {PositionalScheme::kNone, write_none, describe_none, nullptr};
const HostSchemeModule kHostLearnedTable = {PositionalScheme::kLearnedTable, write_learned, describe_table,
                                            view_learned};
const HostSchemeModule kHostCodebookTable = {PositionalScheme::kCodebookTable, write_codebook, describe_table,
                                             view_codebook};
const HostSchemeModule kHostBucketedTable = {PositionalScheme::kBucketedTable, write_bucketed, describe_table,
                                             view_bucketed};
const HostSchemeModule kHostLowRankTable = {PositionalScheme::kLowRankTable, write_lowrank, describe_table,
                                            view_lowrank};

const HostSchemeModule kHostHybridTable = {PositionalScheme::kHybridTable, write_hybrid, describe_hybrid,
                                           view_hybrid};

}  // namespace ordinal::modelio
