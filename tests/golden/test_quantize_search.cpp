// ordinal quantize --search: settings are tried from the smallest positional size up, each verified
// against the input with the given gates; the first that passes is written. The shipped-model
// targets for learned tables (int8-row |dppl| <= 0.2%, int4-g32 <= 1%, shrink >= 3.9x / 7x) are checked on
// the bundled GPT-2-style story model with sequences the model samples itself.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "model_internals.hpp"
#include "ordinal/runtime.hpp"
#include "support/synthetic_model.hpp"

namespace {

struct Output {
  int code;
  std::string text;
};

Output cli(const std::string& args) {
  const std::string out = ordinal::testing::temp_path("search_out.txt");
  const int rc =
      std::system(("'" + std::string(ORDINAL_CLI_PATH) + "' " + args + " > '" + out + "' 2>&1").c_str());
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ss.str()};
}

std::string learned_model() {
  ordinal::testing::SyntheticOptions o;
  o.arch = ordinal::Architecture::kGPT2;
  o.scheme = ordinal::PositionalScheme::kLearnedTable;
  o.dim = 64;
  o.heads = 4;
  o.kv_heads = 4;
  o.hidden = 128;
  o.layers = 1;
  o.context = 128;
  const std::string path = ordinal::testing::temp_path("search_src_learned.ordinal");
  REQUIRE(ordinal::modelio::write_model(ordinal::testing::make_synthetic_model(o), path).ok());
  return path;
}

// A small, fast battery: sampled sequences, few positions.
const char* kQuickBattery = " --samples 2 --max-positions 256 --order-positions 128 --swap-pairs 4";

bool exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

size_t line_of(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  return at == std::string::npos ? std::string::npos
                                 : static_cast<size_t>(std::count(text.begin(), text.begin() + at, '\n'));
}

}  // namespace

TEST_CASE("--search tries the smallest setting first and keeps the first that passes") {
  const std::string src = learned_model();
  const std::string out = ordinal::testing::temp_path("search_pick.ordinal");
  std::remove(out.c_str());
  // Listed largest first on purpose: the search must order them by size itself.
  Output o = cli("quantize " + src + " " + out +
                 " --search --search-schemes f16,int8-row,codebook-1 --max-kl 1e-3" + kQuickBattery);
  REQUIRE_MESSAGE(o.code == 0, o.text);
  // codebook-1 (one shared row) is tried first and fails a named gate; int8-row passes; f16 is not tried.
  const size_t cb = line_of(o.text, "codebook-1"), i8 = line_of(o.text, "int8-row"),
               f16 = line_of(o.text, " f16 ");
  REQUIRE_MESSAGE(cb != std::string::npos, o.text);
  REQUIRE_MESSAGE(i8 != std::string::npos, o.text);
  CHECK(cb < i8);
  // The first failing gate is named (top-1 is gated by default besides the explicit --max-kl).
  CHECK_MESSAGE(o.text.find("FAIL top1") != std::string::npos, o.text);
  CHECK(o.text.find("PASS") != std::string::npos);
  CHECK(o.text.find("smallest passing setting is int8-row") != std::string::npos);
  CHECK_MESSAGE(f16 == std::string::npos, "f16 is larger than int8-row and must not be tried: " << o.text);
  auto m = ordinal::Model::load(out);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  CHECK(m.value()->positional_scheme() == ordinal::PositionalScheme::kLearnedTable);
  CHECK(ordinal::detail::model_data(*m.value()).positional.bytes <
        128u * 64u * 2u);  // smaller than f16: the int8 table
  CHECK_FALSE(exists(out + ".search-candidate"));
}

TEST_CASE("--search writes nothing and exits 1 when no setting passes") {
  const std::string src = learned_model();
  const std::string out = ordinal::testing::temp_path("search_none.ordinal");
  std::remove(out.c_str());
  Output o = cli("quantize " + src + " " + out +
                 " --search --search-schemes codebook-1,codebook-2 --max-kl 1e-6" + kQuickBattery);
  CHECK_MESSAGE(o.code == 1, o.text);
  CHECK(o.text.find("no setting passed") != std::string::npos);
  CHECK_FALSE(exists(out));
  CHECK_FALSE(exists(out + ".search-candidate"));
}

TEST_CASE("--search misuse is a usage error") {
  const std::string src = learned_model();
  const std::string out = ordinal::testing::temp_path("search_bad.ordinal");
  struct Case {
    std::string args, needle;
  } cases[] = {{"--search --pos f16 --max-kl 1", "drop --pos"},
               {"--max-kl 1 --pos f16", "only with --search"},
               {"--search --search-schemes , --max-kl 1", "--search-schemes"},
               {"--search --search-schemes banana --max-kl 1", "none of the schemes applies"},
               {"--search --max-kl nan", "--max-kl"}};
  for (const Case& c : cases) {
    Output o = cli("quantize " + src + " " + out + " " + c.args);
    CHECK_MESSAGE(o.code == 2, c.args << " -> " << o.text);
    CHECK_MESSAGE(o.text.find(c.needle) != std::string::npos, c.args << " -> " << o.text);
  }
}

TEST_CASE("--search gates on top-1, KL and perplexity by default") {
  const std::string src = learned_model();
  const std::string out = ordinal::testing::temp_path("search_defaults.ordinal");
  std::remove(out.c_str());
  // No gate on the command line: the defaults apply, and codebook-1 (one row for every position) fails them.
  Output o = cli("quantize " + src + " " + out + " --search --search-schemes codebook-1,f16" + kQuickBattery);
  REQUIRE_MESSAGE(o.code == 0, o.text);
  CHECK_MESSAGE(o.text.find("FAIL top1") != std::string::npos, o.text);
  CHECK_MESSAGE(o.text.find("smallest passing setting is f16") != std::string::npos, o.text);
  // An explicit gate keeps its value; --min-top1 0 turns the top-1 gate off but KL still applies.
  Output off = cli("quantize " + src + " " + out + " --search --search-schemes codebook-1,f16 --min-top1 0" +
                   kQuickBattery);
  REQUIRE_MESSAGE(off.code == 0, off.text);
  CHECK_MESSAGE(off.text.find("FAIL top1") == std::string::npos, off.text);
  CHECK_MESSAGE(off.text.find("FAIL kl") != std::string::npos, off.text);
}

TEST_CASE("story-gpt2: int8-row keeps |dppl| <= 0.2% at >= 3.9x, int4-g32 <= 1% at >= 7x (verify gates)") {
  const std::string dir = std::string(ORDINAL_SOURCE_DIR) + "/models/zoo/story-gpt2";
  const std::string f32 = ordinal::testing::temp_path("search_story_gpt2.ordinal");
  Output imp = cli("import safetensors " + dir + " -o " + f32);
  REQUIRE_MESSAGE(imp.code == 0, imp.text);
  auto ref = ordinal::Model::load(f32);
  REQUIRE(ref.ok());
  // The shipped checkpoint stores the table in f16; the f32 table is what the shrink factors are against.
  const auto& rp = ordinal::detail::model_data(*ref.value()).positional;
  const double f32_table_bytes = 4.0 * ref.value()->config().max_positions * ref.value()->config().dim;
  CHECK(rp.bytes > 0);
  struct Case {
    const char* scheme;
    const char* max_ppl_delta;
    double min_shrink;
  } cases[] = {{"int8-row", "0.002", 3.9}, {"int4-g32", "0.01", 7.0}};
  for (const Case& c : cases) {
    CAPTURE(c.scheme);
    const std::string cand =
        ordinal::testing::temp_path(std::string("search_story_") + c.scheme + ".ordinal");
    Output q = cli("quantize " + f32 + " " + cand + " --pos " + c.scheme);
    REQUIRE_MESSAGE(q.code == 0, q.text);
    auto m = ordinal::Model::load(cand);
    REQUIRE(m.ok());
    const double shrink =
        f32_table_bytes / static_cast<double>(ordinal::detail::model_data(*m.value()).positional.bytes);
    CHECK_MESSAGE(shrink >= c.min_shrink, c.scheme << " shrinks the table only x" << shrink);
    Output v = cli("verify " + f32 + " " + cand + " --samples 8 --max-positions 2048 --max-ppl-delta " +
                   c.max_ppl_delta + " --min-gap-ratio 0.98");
    CHECK_MESSAGE(v.code == 0, v.text);
  }
}
