// Host side of the absolute-table schemes (learned, codebook, bucketed, low-rank) and of "none".
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

}  // namespace

const HostSchemeModule kHostNoPosition = {PositionalScheme::kNone, write_none, describe_none};
const HostSchemeModule kHostLearnedTable = {PositionalScheme::kLearnedTable, write_learned, describe_table};
const HostSchemeModule kHostCodebookTable = {PositionalScheme::kCodebookTable, write_codebook,
                                             describe_table};
const HostSchemeModule kHostBucketedTable = {PositionalScheme::kBucketedTable, write_bucketed,
                                             describe_table};
const HostSchemeModule kHostLowRankTable = {PositionalScheme::kLowRankTable, write_lowrank, describe_table};

}  // namespace ordinal::modelio
