#include "ordinal/pos_grammar.hpp"

#include <cstring>

#include "ordinal/args.hpp"
#include "ordinal/hybrid_quantize.hpp"

namespace ordinal::cli::quantize {

namespace {

using S = PositionalScheme;

// A function-local table: quantize's usage text is a global built from it during static initialization.
const std::vector<PosFamily>& families() {
  static const std::vector<PosFamily> kFamilies = {
      {PosKind::kTableF32, S::kLearnedTable, "f32", 0, 0, nullptr, "f32", "", nullptr, nullptr},
      {PosKind::kTableF16, S::kLearnedTable, "f16", 0, 0, nullptr, "f16", "f16", nullptr, nullptr},
      {PosKind::kTableInt8Row, S::kLearnedTable, "int8-row", 0, 0, nullptr, "int8-row", "int8-row", nullptr,
       nullptr},
      {PosKind::kTableInt8RowF32, S::kLearnedTable, "int8-row-f32", 0, 0, nullptr, "int8-row-f32", "",
       nullptr, nullptr},
      {PosKind::kTableInt8Col, S::kLearnedTable, "int8-col", 0, 0, nullptr, "int8-col", "int8-col", nullptr,
       nullptr},
      {PosKind::kTableInt4Group, S::kLearnedTable, "int4-g", 2, 4096, "zp", "int4-gN[-zp] (N divides dim)",
       "int4-g64 int4-g32 int4-g16 int4-g32-zp", nullptr, nullptr},
      {PosKind::kCodebook, S::kLearnedTable, "codebook-", 1, 65536, "int8", "codebook-K[-int8]",
       "codebook-8-int8 codebook-8 codebook-16-int8 codebook-16 codebook-32-int8 codebook-32 "
       "codebook-64-int8 "
       "codebook-64 codebook-128-int8 codebook-128 codebook-256-int8 codebook-256",
       nullptr, nullptr},
      {PosKind::kBucketStride, S::kLearnedTable, "bucket-stride-", 1, 1 << 24, nullptr, "bucket-stride-N",
       "bucket-stride-16 bucket-stride-8 bucket-stride-4 bucket-stride-2", nullptr, nullptr},
      {PosKind::kBucketT5, S::kLearnedTable, "bucket-t5-", 2, 256, nullptr, "bucket-t5-B",
       "bucket-t5-16 bucket-t5-32 bucket-t5-64 bucket-t5-128", nullptr, nullptr},
      {PosKind::kLowRank, S::kLearnedTable, "lowrank-", 1, 4096, "int8", "lowrank-R[-int8]",
       "lowrank-4-int8 lowrank-4 lowrank-8-int8 lowrank-8 lowrank-16-int8 lowrank-16 lowrank-32-int8 "
       "lowrank-32 "
       "lowrank-64-int8 lowrank-64",
       nullptr, nullptr},
      {PosKind::kHybrid, S::kLearnedTable, "hybrid-", 0, 0, nullptr,
       "hybrid-K-lowrank-R[-qkv] (K exact int8 rows, rank-R int8 tail; -qkv: tail fitted in layer 0's "
       "metric)",
       "", parse_hybrid_setting, hybrid_search_values},
      {PosKind::kRopeQ15, S::kRope, "rope-q15", 0, 0, nullptr, "rope-q15", "rope-q15", nullptr, nullptr},
      {PosKind::kRopeQ31, S::kRope, "rope-q31", 0, 0, nullptr, "rope-q31", "rope-q31", nullptr, nullptr},
      {PosKind::kRopeF32, S::kRope, "rope-f32", 0, 0, nullptr, "rope-f32", "rope-f32", nullptr, nullptr},
      {PosKind::kSinQ15, S::kSinusoidal, "sin-q15", 0, 0, nullptr, "sin-q15", "sin-q15", nullptr, nullptr},
      {PosKind::kSinQ31, S::kSinusoidal, "sin-q31", 0, 0, nullptr, "sin-q31", "sin-q31", nullptr, nullptr},
      {PosKind::kSinF32, S::kSinusoidal, "sin-f32", 0, 0, nullptr, "sin-f32", "sin-f32", nullptr, nullptr},
      {PosKind::kBiasInt8, S::kRelativeBias, "int8", 0, 0, nullptr, "int8", "int8", nullptr, nullptr},
      {PosKind::kBiasF32, S::kRelativeBias, "f32", 0, 0, nullptr, "f32", "f32", nullptr, nullptr},
  };
  return kFamilies;
}

bool match(const PosFamily& f, const std::string& value, PosSetting* out) {
  if (f.parse != nullptr) {
    if (!f.parse(value, out)) return false;
    out->kind = f.kind;
    return true;
  }
  const size_t plen = std::strlen(f.prefix);
  if (f.lo == 0 && f.hi == 0) {
    if (value != f.prefix) return false;
    *out = PosSetting{f.kind, 0, 0, false};
    return true;
  }
  if (value.compare(0, plen, f.prefix) != 0) return false;
  const std::string tail = value.substr(plen);
  const size_t dash = tail.find('-');
  const std::string rest = dash == std::string::npos ? "" : tail.substr(dash + 1);
  int64_t n = 0;
  if (!parse_int(tail.substr(0, dash), f.lo, f.hi, &n)) return false;
  const bool variant = !rest.empty();
  if (variant && (f.suffix == nullptr || rest != f.suffix)) return false;
  if (dash != std::string::npos && rest.empty()) return false;  // "int4-g32-"
  *out = PosSetting{f.kind, n, 0, variant};
  return true;
}

// The grammar's names for the schemes that have settings (usage text and errors).
struct SchemeLabel {
  PositionalScheme scheme;
  const char* label;
};
const SchemeLabel kLabels[] = {{S::kLearnedTable, "learned tables"},
                               {S::kRope, "RoPE"},
                               {S::kSinusoidal, "sinusoidal"},
                               {S::kRelativeBias, "relative bias"}};

const char* scheme_label(PositionalScheme scheme) {
  for (const SchemeLabel& l : kLabels) {
    if (l.scheme == scheme) return l.label;
  }
  return positional_scheme_name(scheme);
}

std::string family_list(PositionalScheme scheme) {
  std::string s;
  for (const PosFamily& f : families()) {
    if (f.scheme != scheme) continue;
    if (!s.empty()) s += " | ";
    s += f.usage;
  }
  return s;
}

}  // namespace

const std::vector<PosFamily>& pos_families() {
  return families();
}

Result<PosSetting> parse_pos(PositionalScheme scheme, const std::string& value) {
  PosSetting s;
  for (const PosFamily& f : families()) {
    if (f.scheme == scheme && match(f, value, &s)) return s;
  }
  const std::string known = family_list(scheme);
  if (known.empty()) {
    return invalid_argument(std::string("--pos: the positional component of this model (") +
                            positional_scheme_name(scheme) + ") has no settings to quantize");
  }
  return invalid_argument("unknown --pos '" + value + "' for " + scheme_label(scheme) + " (" + known + ")");
}

std::vector<std::string> pos_candidates(PositionalScheme scheme) {
  std::vector<std::string> out;
  for (const PosFamily& f : families()) {
    if (f.scheme != scheme) continue;
    if (f.search_values != nullptr) {
      for (const std::string& v : f.search_values()) out.push_back(v);
    }
    const std::string c = f.candidates;
    size_t start = 0;
    while (start < c.size()) {
      size_t end = c.find(' ', start);
      if (end == std::string::npos) end = c.size();
      if (end > start) out.push_back(c.substr(start, end - start));
      start = end + 1;
    }
  }
  return out;
}

std::string pos_usage(const std::string& indent) {
  constexpr size_t kWidth = 110;  // the usage text's column limit
  std::string out, line;
  std::vector<PositionalScheme> order;
  for (const PosFamily& f : families()) {
    bool seen = false;
    for (PositionalScheme s : order) seen = seen || s == f.scheme;
    if (!seen) order.push_back(f.scheme);
  }
  for (PositionalScheme s : order) {
    line = std::string(scheme_label(s)) + ":";
    bool first = true;
    for (const PosFamily& f : families()) {
      if (f.scheme != s) continue;
      const std::string item = std::string(first ? " " : " | ") + f.usage;
      if (indent.size() + line.size() + item.size() > kWidth) {
        out += (out.empty() ? "" : "\n" + indent) + line;
        line = "  |" + item.substr(first ? 0 : 2);
      } else {
        line += item;
      }
      first = false;
    }
    out += (out.empty() ? "" : "\n" + indent) + line;
  }
  out += "\n" + indent + "ALiBi: nothing (slopes are already Q0.32 integers)";
  return out;
}

}  // namespace ordinal::cli::quantize
