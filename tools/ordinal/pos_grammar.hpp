// The --pos grammar of `ordinal quantize`, defined once: each family of settings names the scheme it
// applies to, how it is written (the usage text prints it), how a value is recognised (the parser) and the
// values `--search` tries. Quantize, its usage text and the search all read this table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ordinal/runtime.hpp"
#include "ordinal/status.hpp"

namespace ordinal::cli::quantize {

enum class PosKind : uint8_t {
  kTableF32,
  kTableF16,
  kTableInt8Row,
  kTableInt8RowF32,
  kTableInt8Col,
  kTableInt4Group,  // N = group, variant = zero points
  kCodebook,        // N = K, variant = int8 codebook rows
  kBucketStride,    // N = stride
  kBucketT5,        // N = buckets
  kLowRank,         // N = rank, variant = int8 factors
  kHybrid,          // N = exact head rows K, N2 = tail rank R, variant = -qkv metric fit
  kRopeF32,
  kRopeQ15,
  kRopeQ31,
  kSinF32,
  kSinQ15,
  kSinQ31,
  kBiasInt8,
  kBiasF32,
};

struct PosSetting;

// One family: the value is `prefix` alone (lo == hi == 0) or `prefix` N [ "-" suffix ] with N in [lo, hi].
// A family these fields cannot describe (several numbers in one value) brings its own recogniser and
// search values in `parse` / `search_values`, nullptr for every other family.
struct PosFamily {
  PosKind kind;
  PositionalScheme scheme;
  const char* prefix;
  int64_t lo, hi;
  const char* suffix;      // optional variant ("zp", "int8"), nullptr: none
  const char* usage;       // as the usage text writes the family
  const char* candidates;  // values --search tries, space-separated, in search order ("" none)
  bool (*parse)(const std::string& value, PosSetting* out);
  std::vector<std::string> (*search_values)();
};

// A parsed --pos value.
struct PosSetting {
  PosKind kind = PosKind::kTableF32;
  int64_t n = 0;         // the family's number (group, K, stride, buckets, rank); 0 for fixed names
  int64_t n2 = 0;        // a second number, for families with their own `parse`
  bool variant = false;  // the optional suffix was given
};

const std::vector<PosFamily>& pos_families();
// The value as a setting of `scheme`; kInvalidArgument "unknown --pos ..." listing that scheme's families.
Result<PosSetting> parse_pos(PositionalScheme scheme, const std::string& value);
// The values --search tries for a model of `scheme`, in order; empty when the scheme has no settings.
std::vector<std::string> pos_candidates(PositionalScheme scheme);
// The --pos lines of quantize's usage text (each family by scheme, ALiBi's note), `indent` before each
// continuation line.
std::string pos_usage(const std::string& indent);

}  // namespace ordinal::cli::quantize
