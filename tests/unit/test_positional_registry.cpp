// The positional registry: every scheme has exactly one module, found by scheme and by its FlatBuffers
// block, and each module offers the hooks its family needs (and only those).
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "positional/scheme.hpp"

using namespace ordinal;
using positional::SchemeModule;

namespace {

struct Expected {
  PositionalScheme scheme;
  bool adds, rotates, biases;
};

// One row per PositionalScheme value (kNone .. kHybridTable): a new scheme without a row fails below.
const Expected kExpected[] = {
    {PositionalScheme::kNone, false, false, false},
    {PositionalScheme::kLearnedTable, true, false, false},
    {PositionalScheme::kCodebookTable, true, false, false},
    {PositionalScheme::kBucketedTable, true, false, false},
    {PositionalScheme::kLowRankTable, true, false, false},
    {PositionalScheme::kSinusoidal, true, false, false},
    {PositionalScheme::kRope, false, true, false},
    {PositionalScheme::kAlibi, false, false, true},
    {PositionalScheme::kRelativeBias, false, false, true},
    {PositionalScheme::kHybridTable, true, false, false},
};

}  // namespace

TEST_CASE("every scheme has one module with the hooks of its family") {
  std::set<std::string> names;
  std::set<int> blocks;
  for (const Expected& e : kExpected) {
    const SchemeModule* m = positional::find_scheme(e.scheme);
    REQUIRE(m != nullptr);
    CAPTURE(m->name);
    CHECK(m->scheme == e.scheme);
    CHECK(names.insert(m->name).second);
    CHECK(blocks.insert(static_cast<int>(m->block)).second);
    CHECK(positional::find_scheme_for_block(m->block) == m);
    CHECK(std::string(positional_scheme_name(e.scheme)) == m->name);
    REQUIRE((m->load != nullptr));
    REQUIRE((m->position_limit != nullptr));
    REQUIRE((m->prepare != nullptr));
    CHECK((m->add_to_embedding != nullptr) == e.adds);
    CHECK((m->rotate != nullptr) == e.rotates);
    CHECK((m->attention_bias != nullptr) == e.biases);
    // Stored tables (and only they) expose their rows to tools.
    CHECK((m->stored_row != nullptr) == (e.adds && e.scheme != PositionalScheme::kSinusoidal));
  }
  // Every union member of the schema except NONE has a module; values past the enum have none.
  const int last = static_cast<int>(schema::Positional::MAX);
  for (int b = 1; b <= last; ++b) {
    CAPTURE(b);
    CHECK(positional::find_scheme_for_block(static_cast<schema::Positional>(b)) != nullptr);
  }
  CHECK(positional::find_scheme_for_block(schema::Positional::NONE) == nullptr);
  CHECK(positional::find_scheme_for_block(static_cast<schema::Positional>(last + 1)) == nullptr);
  CHECK(positional::find_scheme(static_cast<PositionalScheme>(200)) == nullptr);
  CHECK(std::string(positional_scheme_name(static_cast<PositionalScheme>(200))) == "unknown");
  CHECK(static_cast<int>(PositionalScheme::kHybridTable) + 1 ==
        static_cast<int>(sizeof(kExpected) / sizeof(kExpected[0])));
}

#if ORDINAL_HAVE_TOOL_LIB
#include "modelio/host_scheme.hpp"

TEST_CASE("every scheme has one host module (writer and inspect description)") {
  for (const Expected& e : kExpected) {
    const modelio::HostSchemeModule* m = modelio::find_host_scheme(e.scheme);
    REQUIRE(m != nullptr);
    CHECK(m->scheme == e.scheme);
    CHECK((m->write != nullptr));
    CHECK((m->describe != nullptr));
    CHECK((m->view != nullptr) == (e.adds && e.scheme != PositionalScheme::kSinusoidal));
  }
  CHECK(modelio::find_host_scheme(static_cast<PositionalScheme>(200)) == nullptr);
}
#endif
