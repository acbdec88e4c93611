// The --pos grammar (tools/ordinal/pos_grammar.hpp) is the one definition quantize's usage text, its parser
// and --search read: every value --search tries parses back to a family of the model's scheme, the usage
// text shows every family, and malformed values are refused with the scheme's families listed.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ordinal/pos_grammar.hpp"

using namespace ordinal;
using namespace ordinal::cli::quantize;

TEST_CASE("pos grammar: every search candidate parses to a family of its scheme, usage shows every family") {
  const std::string usage = pos_usage("  ");
  size_t total = 0;
  for (PositionalScheme scheme : {PositionalScheme::kLearnedTable, PositionalScheme::kRope,
                                  PositionalScheme::kSinusoidal, PositionalScheme::kRelativeBias}) {
    const std::vector<std::string> c = pos_candidates(scheme);
    CHECK_FALSE(c.empty());
    total += c.size();
    for (const std::string& v : c) {
      CAPTURE(v);
      auto s = parse_pos(scheme, v);
      REQUIRE_MESSAGE(s.ok(), s.status().to_string());
      bool found = false;
      for (const PosFamily& f : pos_families()) found = found || (f.kind == s->kind && f.scheme == scheme);
      CHECK(found);
    }
  }
  for (const PosFamily& f : pos_families()) CHECK_MESSAGE(usage.find(f.usage) != std::string::npos, f.usage);
  // table settings (37, then 40 hybrid ones), RoPE and sinusoidal precisions, relative-bias formats
  CHECK(total == 37 + 40 + 3 + 3 + 2);
  CHECK(pos_candidates(PositionalScheme::kAlibi).empty());
  CHECK(pos_candidates(PositionalScheme::kNone).empty());
}

TEST_CASE("pos grammar: the learned-table search order is the one --search has always used, hybrids last") {
  std::vector<std::string> want = {"f16",      "int8-row", "int8-col",   "int4-g64",
                                   "int4-g32", "int4-g16", "int4-g32-zp"};
  for (int k : {8, 16, 32, 64, 128, 256}) {
    want.push_back("codebook-" + std::to_string(k) + "-int8");
    want.push_back("codebook-" + std::to_string(k));
  }
  for (int s : {16, 8, 4, 2}) want.push_back("bucket-stride-" + std::to_string(s));
  for (int b : {16, 32, 64, 128}) want.push_back("bucket-t5-" + std::to_string(b));
  for (int r : {4, 8, 16, 32, 64}) {
    want.push_back("lowrank-" + std::to_string(r) + "-int8");
    want.push_back("lowrank-" + std::to_string(r));
  }
  // Then the hybrid tables (issue 18), the -qkv fit before the plain one of each shape.
  for (int k : {4, 8, 16, 32, 64}) {
    for (int r : {2, 4, 8, 16}) {
      const std::string base = "hybrid-" + std::to_string(k) + "-lowrank-" + std::to_string(r);
      want.push_back(base + "-qkv");
      want.push_back(base);
    }
  }
  CHECK(pos_candidates(PositionalScheme::kLearnedTable) == want);
  CHECK(pos_candidates(PositionalScheme::kRope) ==
        std::vector<std::string>{"rope-q15", "rope-q31", "rope-f32"});
  CHECK(pos_candidates(PositionalScheme::kSinusoidal) ==
        std::vector<std::string>{"sin-q15", "sin-q31", "sin-f32"});
  CHECK(pos_candidates(PositionalScheme::kRelativeBias) == std::vector<std::string>{"int8", "f32"});
}

TEST_CASE("pos grammar: values, numbers and suffixes") {
  auto ok = [](PositionalScheme scheme, const char* v, PosKind kind, int64_t n, bool variant) {
    CAPTURE(v);
    auto s = parse_pos(scheme, v);
    REQUIRE_MESSAGE(s.ok(), s.status().to_string());
    CHECK(s->kind == kind);
    CHECK(s->n == n);
    CHECK(s->variant == variant);
  };
  const PositionalScheme L = PositionalScheme::kLearnedTable;
  ok(L, "f32", PosKind::kTableF32, 0, false);
  ok(L, "int8-row-f32", PosKind::kTableInt8RowF32, 0, false);
  ok(L, "int4-g48", PosKind::kTableInt4Group, 48, false);
  ok(L, "int4-g32-zp", PosKind::kTableInt4Group, 32, true);
  ok(L, "codebook-12", PosKind::kCodebook, 12, false);
  ok(L, "codebook-12-int8", PosKind::kCodebook, 12, true);
  ok(L, "bucket-stride-3", PosKind::kBucketStride, 3, false);
  ok(L, "bucket-t5-16", PosKind::kBucketT5, 16, false);
  ok(L, "lowrank-4-int8", PosKind::kLowRank, 4, true);
  ok(PositionalScheme::kRope, "rope-q31", PosKind::kRopeQ31, 0, false);
  ok(PositionalScheme::kSinusoidal, "sin-q15", PosKind::kSinQ15, 0, false);
  ok(PositionalScheme::kRelativeBias, "f32", PosKind::kBiasF32, 0, false);
  for (const char* bad :
       {"int4-g32-", "int4-g1", "int4-g32-int8", "codebook-0", "codebook-12-zp", "bucket-t5-1",
        "bucket-stride-3-int8", "lowrank-", "lowrank-x", "f64", "rope-q15", "banana", ""}) {
    CAPTURE(bad);
    auto s = parse_pos(L, bad);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().message().find("unknown --pos") != std::string::npos);
    CHECK(s.status().message().find("codebook-K[-int8]") != std::string::npos);  // the scheme's families
  }
  CHECK_FALSE(parse_pos(PositionalScheme::kRope, "f16").ok());
  auto alibi = parse_pos(PositionalScheme::kAlibi, "int8");
  REQUIRE_FALSE(alibi.ok());
  CHECK(alibi.status().message().find("no settings to quantize") != std::string::npos);
}
