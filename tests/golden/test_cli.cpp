// CLI contract: usage errors exit 2 with a message naming the flag; inspect reports the positional
// scheme and its bytes on their own line; a corrupt model file is an error, not a crash.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "support/synthetic_model.hpp"

namespace {

struct Output {
  int code;
  std::string text;
};

Output run(const std::string& args) {
  const std::string out = ordinal::testing::temp_path("cli_out.txt");
  std::string cmd = "'" + std::string(ORDINAL_CLI_PATH) + "' " + args + " > '" + out + "' 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ss.str()};
}

std::string model_path() {
  static std::string path;
  if (path.empty()) {
    path = ordinal::testing::temp_path("cli_model.ordinal");
    ordinal::testing::SyntheticOptions o;
    o.scheme = ordinal::PositionalScheme::kLearnedTable;
    o.arch = ordinal::Architecture::kGPT2;
    REQUIRE(ordinal::modelio::write_model(ordinal::testing::make_synthetic_model(o), path).ok());
  }
  return path;
}

}  // namespace

TEST_CASE("bad arguments are usage errors (exit 2) naming the problem") {
  const std::string m = model_path();
  struct Case {
    std::string args, needle;
  } cases[] = {
      {"run " + m + " -n -5", "-n"},
      {"run " + m + " -t nan", "-t"},
      {"run " + m + " -t inf", "-t"},
      {"run " + m + " --threads 0", "--threads"},
      {"run " + m + " --top-p 1.5", "--top-p"},
      {"run " + m + " --seed 0", "--seed"},
      {"run " + m + " --bogus", "unknown option"},
      {"run", "missing MODEL"},
      {"run " + m + " -n", "needs"},
      {"frobnicate", "unknown verb"},
      {"import llama2c a.bin", "-o"},
      {"inspect", "missing MODEL"},
  };
  for (const Case& c : cases) {
    Output o = run(c.args);
    CHECK_MESSAGE(o.code == 2, c.args << " -> " << o.text);
    CHECK_MESSAGE(o.text.find(c.needle) != std::string::npos, c.args << " -> " << o.text);
  }
}

TEST_CASE("inspect names the positional scheme and gives its bytes on their own line") {
  Output o = run("inspect " + model_path());
  REQUIRE(o.code == 0);
  CHECK(o.text.find("positional     learned-table") != std::string::npos);
  CHECK(o.text.find("  positional             ") != std::string::npos);
  CHECK(o.text.find("wpe") != std::string::npos);
  CHECK(o.text.find("file total") != std::string::npos);
}

TEST_CASE("run generates from a model and a corrupt file is a clean error") {
  Output o = run("run " + model_path() + " -n 12 -t 0.8 --seed 3 -p 'the'");
  CHECK(o.code == 0);
  CHECK(o.text.find("achieved tok/s") != std::string::npos);
  const std::string bad = ordinal::testing::temp_path("cli_bad.ordinal");
  {
    std::ofstream f(bad, std::ios::binary);
    f << "this is not a model";
  }
  o = run("run " + bad);
  CHECK(o.code == 2);
  CHECK(o.text.find("invalid-model") != std::string::npos);
}

TEST_CASE("bench prints its table and writes JSON with every figure") {
  const std::string json = ordinal::testing::temp_path("bench.json");
  Output o =
      run("bench " + model_path() + " --threads 1 --steps 8 --prompt-tokens 4 --repeat 1 --json " + json);
  REQUIRE_MESSAGE(o.code == 0, o.text);
  CHECK(o.text.find("decode tok/s") != std::string::npos);
  std::ifstream f(json);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string j = ss.str();
  for (const char* key :
       {"\"decode_tokens_per_s\"", "\"ttft_ms\"", "\"weight_bytes_per_token\"", "\"kv_cache_bytes\"",
        "\"peak_rss_kib\"", "\"load_ms\"", "\"decode_tokens_per_cpu_s\"", "\"prefill_tokens_per_s\"",
        "\"prefill_tokens_per_cpu_s\"", "\"session_create_ms\"", "\"decode_weight_gb_per_s\""}) {
    CHECK_MESSAGE(j.find(key) != std::string::npos, key);
  }
  CHECK(run("bench " + model_path() + " --threads 0").code == 2);
  CHECK(run("bench").code == 2);
}
