// ordinal quantize: every positional scheme writes a model that loads and runs, tables shrink by the
// expected factors against f32, RoPE models get exact fixed-point phases, and misuse is a usage error.
#include <doctest/doctest.h>
#include <sys/wait.h>

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
  const std::string out = ordinal::testing::temp_path("quantize_out.txt");
  int rc = std::system(("'" + std::string(ORDINAL_CLI_PATH) + "' " + args + " > '" + out + "' 2>&1").c_str());
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ss.str()};
}

std::string write(const ordinal::modelio::ModelSpec& spec, const std::string& name) {
  std::string path = ordinal::testing::temp_path(name);
  REQUIRE(ordinal::modelio::write_model(spec, path).ok());
  return path;
}

std::string learned_model() {
  ordinal::testing::SyntheticOptions o;
  o.arch = ordinal::Architecture::kGPT2;
  o.scheme = ordinal::PositionalScheme::kLearnedTable;
  o.dim = 128;
  o.heads = 4;
  o.kv_heads = 4;
  o.hidden = 128;
  o.layers = 1;
  o.context = 128;
  return write(ordinal::testing::make_synthetic_model(o), "q_src_learned.ordinal");
}

}  // namespace

TEST_CASE("table schemes: each output loads, runs, and reports its bytes and position identity") {
  const std::string src = learned_model();
  auto base = ordinal::Model::load(src);
  REQUIRE(base.ok());
  const double f32_bytes = static_cast<double>(ordinal::detail::model_data(*base.value()).positional.bytes);
  struct Case {
    const char* scheme;
    double min_shrink;  // vs the f32 table
    bool shared;
  } cases[] = {{"f16", 2.0, false},
               {"int8-row", 3.9, false},
               {"int8-col", 3.85, false},
               {"int4-g32", 7.0, false},
               {"int4-g16-zp", 5.0, false},
               {"codebook-16", 7.0, true},
               {"codebook-32-int8", 3.9, true},
               {"bucket-stride-4", 4.0, true},
               {"bucket-t5-16", 8.0, true},
               {"lowrank-8", 4.0, false},
               {"lowrank-8-int8", 10.0, false}};
  for (const Case& c : cases) {
    const std::string out = ordinal::testing::temp_path(std::string("q_") + c.scheme + ".ordinal");
    Output o = cli("quantize " + src + " " + out + " --pos " + c.scheme);
    REQUIRE_MESSAGE(o.code == 0, c.scheme << ": " << o.text);
    CHECK(o.text.find("positional") != std::string::npos);
    CHECK(o.text.find("nearest-neighbour recovery") != std::string::npos);
    if (c.shared)
      CHECK_MESSAGE(o.text.find("shared by design") != std::string::npos, c.scheme << ": " << o.text);
    auto m = ordinal::Model::load(out);
    REQUIRE_MESSAGE(m.ok(), m.status().to_string());
    const double shrink =
        f32_bytes / static_cast<double>(ordinal::detail::model_data(*m.value()).positional.bytes);
    CHECK_MESSAGE(shrink >= c.min_shrink, std::string(c.scheme) << " shrinks only x" << shrink);
    Output r = cli("run " + out + " -n 20 -t 0");
    CHECK_MESSAGE(r.code == 0, c.scheme << ": " << r.text);
  }
}

TEST_CASE("a 1-entry codebook collapses every position and the report says so") {
  Output o = cli("quantize " + learned_model() + " " + ordinal::testing::temp_path("q_cb1.ordinal") +
                 " --pos codebook-1");
  REQUIRE(o.code == 0);
  CHECK(o.text.find("collapsed pairs 8128") != std::string::npos);  // all 128*127/2 pairs
}

TEST_CASE("RoPE models get fixed-point phases, scaling and a new context") {
  ordinal::testing::SyntheticOptions o;
  const std::string src = write(ordinal::testing::make_synthetic_model(o), "q_src_rope.ordinal");
  for (const char* args : {"--pos rope-q15", "--pos rope-q31", "--pos rope-f32",
                           "--pos rope-q31 --rope-scaling linear:2 --context 128",
                           "--pos rope-q31 --rope-scaling ntk:4 --context 256",
                           "--pos rope-q15 --rope-scaling yarn:4,64 --context 256"}) {
    const std::string out = ordinal::testing::temp_path("q_rope.ordinal");
    Output q = cli("quantize " + src + " " + out + " " + args);
    REQUIRE_MESSAGE(q.code == 0, args << ": " << q.text);
    auto m = ordinal::Model::load(out);
    REQUIRE(m.ok());
    const auto& p = ordinal::detail::model_data(*m.value()).positional;
    if (std::string(args).find("q15") != std::string::npos)
      CHECK(p.precision == ordinal::detail::TrigPrecision::kQ15);
    if (std::string(args).find("--context 256") != std::string::npos)
      CHECK(m.value()->config().max_positions == 256);
    if (std::string(args).find("yarn") != std::string::npos) CHECK(p.attention_factor > 1.0f);
    CHECK(cli("run " + out + " -n 16 -t 0").code == 0);
  }
}

TEST_CASE("misuse is a usage error naming the problem") {
  const std::string src = learned_model();
  const std::string out = ordinal::testing::temp_path("q_bad.ordinal");
  struct Case {
    std::string args, needle;
  } cases[] = {{"quantize " + src + " " + out + " --pos rope-q15", "learned table"},
               {"quantize " + src + " " + out + " --pos int4-g48", "does not divide"},
               {"quantize " + src + " " + out + " --pos banana", "unknown --pos"},
               {"quantize " + src + " " + out + " --weights int3", "f32, f16, int8"},
               {"quantize " + src + " " + out, "nothing to do"},
               {"quantize " + src, "IN and OUT"},
               {"quantize " + src + " " + out + " --pos f16 --rope-scaling linear:2", "RoPE"}};
  for (const Case& c : cases) {
    Output o = cli(c.args);
    CHECK_MESSAGE(o.code == 2, c.args << " -> " << o.text);
    CHECK_MESSAGE(o.text.find(c.needle) != std::string::npos, c.args << " -> " << o.text);
  }
}

TEST_CASE("--weights f16 halves the linear weights and keeps the model usable") {
  const std::string src = learned_model();
  const std::string out = ordinal::testing::temp_path("q_f16w.ordinal");
  Output o = cli("quantize " + src + " " + out + " --weights f16");
  REQUIRE_MESSAGE(o.code == 0, o.text);
  CHECK(o.text.find("weights f16: max |err|") != std::string::npos);
  auto a = ordinal::Model::load(src), b = ordinal::Model::load(out);
  REQUIRE((a.ok() && b.ok()));
  CHECK(b.value()->file_bytes() < a.value()->file_bytes() * 6 / 10);
  CHECK(cli("run " + out + " -n 16 -t 0").code == 0);
}
