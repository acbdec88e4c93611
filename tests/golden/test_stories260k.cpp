// Golden test on the real third-party model: import karpathy's stories260K with `ordinal import
// llama2c`, run it greedily for 256 steps with `ordinal run`, and compare stdout byte for byte with
// what llama2.c's run.c printed. Runs when ORDINAL_SHARED points at the shared data folder.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "support/synthetic_model.hpp"

namespace {

std::string shared_dir() {
  const char* s = std::getenv("ORDINAL_SHARED");
  return s ? s : "";
}

bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int run(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

TEST_CASE("stories260K: ordinal run -t 0 prints llama2.c's 256-step greedy story byte for byte") {
  const std::string shared = shared_dir();
  if (shared.empty()) {
    MESSAGE("ORDINAL_SHARED is not set: skipping the stories260K golden test");
    return;
  }
  const std::string model = shared + "/models/stories260K.bin";
  const std::string tok = shared + "/models/tok512.bin";
  const std::string golden = shared + "/models/stories260K.greedy256.txt";
  // ORDINAL_SHARED is set: the data must be there. A missing file is a failure, not a skip.
  REQUIRE_MESSAGE(exists(model), "missing " << model);
  REQUIRE_MESSAGE(exists(tok), "missing " << tok);
  REQUIRE_MESSAGE(exists(golden), "missing " << golden);

  const std::string cli = ORDINAL_CLI_PATH;
  const std::string out_model = ordinal::testing::temp_path("stories260K.ordinal");
  const std::string out_text = ordinal::testing::temp_path("stories260K.greedy.txt");
  REQUIRE(run("'" + cli + "' import llama2c '" + model + "' '" + tok + "' -o '" + out_model +
              "' > /dev/null") == 0);
  for (const char* threads : {"1", "2"}) {
    REQUIRE(run("'" + cli + "' run '" + out_model + "' -t 0 -n 256 -p '' --threads " + threads + " > '" +
                out_text + "' 2>/dev/null") == 0);
    const std::string got = slurp(out_text), want = slurp(golden);
    CHECK(got.size() == want.size());
    CHECK_MESSAGE(got == want,
                  "threads " << threads << ": first difference at byte "
                             << std::mismatch(got.begin(), got.end(), want.begin()).first - got.begin());
  }
}

TEST_CASE("stories260K: a prompt is prefilled and continued greedily, deterministically") {
  const std::string shared = shared_dir();
  if (shared.empty()) return;
  const std::string cli = ORDINAL_CLI_PATH;
  const std::string out_model = ordinal::testing::temp_path("stories260K_prompt.ordinal");
  REQUIRE(run("'" + cli + "' import llama2c '" + shared + "/models/stories260K.bin' '" + shared +
              "/models/tok512.bin' -o '" + out_model + "' > /dev/null") == 0);
  const std::string a = ordinal::testing::temp_path("prompt_a.txt"),
                    b = ordinal::testing::temp_path("prompt_b.txt");
  REQUIRE(run("'" + cli + "' run '" + out_model + "' -t 0 -n 64 -p 'Once upon a time, Tom' > '" + a +
              "' 2>/dev/null") == 0);
  REQUIRE(run("'" + cli + "' run '" + out_model + "' -t 0 -n 64 -p 'Once upon a time, Tom' --threads 1 > '" +
              b + "' 2>/dev/null") == 0);
  const std::string text = slurp(a);
  CHECK(text.rfind("Once upon a time, Tom", 0) == 0);  // the prompt is echoed first, as run.c does
  CHECK(text.size() > 60);
  CHECK(text == slurp(b));
}
