// ordinal verify: a model against itself passes strict gates with exact zeros; deliberately broken
// candidates (table shifted by one position, table zeroed, table quantized to 1 bit) are caught with
// exit 1 naming the metric and bucket; JSON/HTML outputs; usage errors exit 2; the metric and task
// helpers; and (with ORDINAL_SHARED) stories260K against itself on TinyStories text.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/synthetic_model.hpp"
#include "verify/verify.hpp"

namespace {

using ordinal::testing::temp_path;

struct Output {
  int code;
  std::string text;
};

Output run(const std::string& args) {
  const std::string out = temp_path("verify_out.txt");
  std::string cmd = "'" + std::string(ORDINAL_CLI_PATH) + "' " + args + " > '" + out + "' 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ss.str()};
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

ordinal::testing::SyntheticOptions learned_options() {
  ordinal::testing::SyntheticOptions o;
  o.arch = ordinal::Architecture::kGPT2;
  o.scheme = ordinal::PositionalScheme::kLearnedTable;
  o.context = 64;
  o.seed = 11;
  o.weight_scale = 0.3f;
  return o;
}

// Reference: a learned-table GPT-2-style model; candidates: the same model with its table transformed.
std::string write_variant(const std::string& name,
                          void (*transform)(std::vector<float>& table, uint32_t rows, uint32_t dim)) {
  const std::string path = temp_path(name);
  ordinal::modelio::ModelSpec spec = ordinal::testing::make_synthetic_model(learned_options());
  if (transform) {
    ordinal::modelio::HostTensor& t = spec.positional.table;
    std::vector<float> v = t.to_f32();
    transform(v, t.shape[0], t.shape[1]);
    t = ordinal::modelio::HostTensor::f32(t.name, t.shape, v);
  }
  REQUIRE(ordinal::modelio::write_model(spec, path).ok());
  return path;
}

std::string ref_model() {
  static std::string p = write_variant("verify_ref.ordinal", nullptr);
  return p;
}

std::string text_file() {
  static std::string p;
  if (p.empty()) {
    p = temp_path("verify_text.txt");
    std::ofstream f(p);
    f << "Once upon a time there was a little dog named Spot. Spot liked to run in the green park.\n\n"
         "One day Spot saw a big red ball under the old tree. He chased the ball and the cat watched him.\n\n"
         "The sun was warm and the birds sang in the trees. Spot was happy and he played all day long.\n";
  }
  return p;
}

const std::string kFast = " --max-positions 256 --order-positions 128 --swap-pairs 8 --buckets 0,16,32 ";

}  // namespace

TEST_CASE("verify: metric helpers (log-softmax, KL, quantile, buckets)") {
  using namespace ordinal::verify;
  const float a[4] = {1.0f, 2.0f, 3.0f, 4.0f}, b[4] = {4.0f, 3.0f, 2.0f, 1.0f};
  double la[4], lb[4];
  log_softmax(a, 4, la);
  log_softmax(b, 4, lb);
  double sum = 0.0;
  for (double x : la) sum += std::exp(x);
  CHECK(sum == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(kl_divergence(la, la, 4) == 0.0);
  CHECK(kl_divergence(la, lb, 4) > 0.5);
  CHECK(quantile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.99) == 10.0);
  CHECK(quantile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.5) == 5.0);
  std::vector<PositionSample> s(4);
  for (int i = 0; i < 4; ++i) {
    s[i].position = i * 10;
    s[i].kl = i;
    s[i].agree = i != 3;
    s[i].has_target = true;
    s[i].nll_ref = 1.0;
    s[i].nll_cand = 1.0 + i;
  }
  BucketStats lo = bucket_stats(s, 0, 20), hi = bucket_stats(s, 20, 40);
  CHECK(lo.positions == 2);
  CHECK(lo.top1 == 1.0);
  CHECK(hi.top1 == 0.5);
  CHECK(hi.kl_mean == doctest::Approx(2.5));
  CHECK(hi.ppl_delta == doctest::Approx(std::exp(2.5) - 1.0));
  CHECK(lo.label() == "[0,20)");
}

TEST_CASE("verify: task spec parsing and seeded cases follow TASKS.md") {
  using namespace ordinal::verify;
  auto spec =
      parse_task_spec(slurp(std::string(ORDINAL_SOURCE_DIR) + "/models/zoo/task-learned/config.json"));
  REQUIRE(spec.ok());
  REQUIRE(spec.value().tasks.size() == 4);
  CHECK(parse_task_spec("{not json").status().code() == ordinal::ErrorCode::kInvalidArgument);
  uint64_t state = 5;
  for (const TaskDef& t : spec.value().tasks) {
    for (int k = 0; k < 50; ++k) {
      TaskCase c = make_task_case(spec.value(), t, 0, &state);
      const std::vector<int32_t> x(c.prompt.begin() + 2, c.prompt.end() - 1);
      CHECK(c.prompt[0] == 1);
      CHECK(c.prompt[1] == t.prefix_id);
      CHECK(c.prompt.back() == 8);
      CHECK(c.answer.back() == 2);
      CHECK(static_cast<int64_t>(x.size()) >= t.min_len);
      CHECK(static_cast<int64_t>(x.size()) <= t.max_len);
      std::vector<int32_t> y(c.answer.begin(), c.answer.end() - 1), want = x;
      if (t.name == "reverse") std::reverse(want.begin(), want.end());
      if (t.name == "sort") std::sort(want.begin(), want.end());
      if (t.name == "copy_offset") std::rotate(want.begin(), want.begin() + 3, want.end());
      if (t.name == "passkey") {
        want.clear();
        for (int32_t v : x) {
          if (v >= 25) want.push_back(v);
        }
        CHECK(want.size() == 5);
      }
      CHECK_MESSAGE(y == want, t.name);
    }
    TaskCase c = make_task_case(spec.value(), t, 2 * t.max_len, &state);
    CHECK(static_cast<int64_t>(c.prompt.size()) == 2 * t.max_len + 3);
  }
}

TEST_CASE("verify: word shuffles keep the words, swap pairs differ by exactly two words") {
  using namespace ordinal::verify;
  const std::string text = "the dog chased the red cat\nonce upon a time a girl found a shiny stone\n";
  const std::string norm = normalize_words(text, false, 1), shuf = normalize_words(text, true, 1);
  CHECK(norm == text);
  CHECK(shuf != norm);
  auto words = [](std::string s) {
    std::istringstream in(s);
    std::vector<std::string> w((std::istream_iterator<std::string>(in)),
                               std::istream_iterator<std::string>());
    std::sort(w.begin(), w.end());
    return w;
  };
  CHECK(words(shuf) == words(norm));
  for (const auto& p : text_swap_pairs(slurp(text_file()), 10, 3)) {
    CHECK(p.first != p.second);
    CHECK(words(p.first) == words(p.second));
  }
  CHECK(swap_templates().size() >= 4);
}

TEST_CASE("verify: a model against itself is exact (top1 1, KL 0, ppl delta 0) and passes strict gates") {
  const std::string json = temp_path("verify_self.json"), html = temp_path("verify_self.html");
  std::remove(json.c_str());
  std::remove(html.c_str());
  Output o =
      run("verify " + ref_model() + " " + ref_model() + " --text " + text_file() + kFast +
          "--min-top1 1 --max-kl 0 --max-ppl-delta 0 --min-gap-ratio 1 --min-swap-agreement 1 --json " +
          json + " --report " + html);
  INFO(o.text);
  REQUIRE(o.code == 0);
  CHECK(o.text.find("result: PASS") != std::string::npos);
  CHECK(o.text.find("FAIL") == std::string::npos);

  // (c) JSON is valid and has every bucket with the exact figures; HTML is self-contained with SVG.
  nlohmann::json j = nlohmann::json::parse(slurp(json));
  REQUIRE(j["agreement"]["buckets"].size() == 3);
  CHECK(j["agreement"]["buckets"][0]["bucket"] == "[0,16)");
  CHECK(j["agreement"]["buckets"][2]["bucket"] == "[32,64)");
  for (const auto& b : j["agreement"]["buckets"]) {
    CHECK(b["positions"].get<int64_t>() > 0);
    CHECK(b["top1"].get<double>() == 1.0);
    CHECK(b["kl_mean"].get<double>() == 0.0);
    CHECK(b["ppl_delta"].get<double>() == 0.0);
  }
  CHECK(j["positions_evaluated"].get<int64_t>() > 0);
  CHECK(j["positions_evaluated"].get<int64_t>() <= 256);
  CHECK(j["word_order"]["gap_ratio"].get<double>() == 1.0);
  CHECK(j["swap_probes"]["agreement"].get<double>() == 1.0);
  CHECK(j["position_identity"]["kind"] == "table");
  // The batched pass: the candidate batched gives its solo bits (here the reference's own), padding unseen.
  CHECK(j["batched"]["ran"] == true);
  CHECK(j["batched"]["positions"].get<int64_t>() > 0);
  CHECK(j["batched"]["bit_mismatches_vs_alone"].get<int64_t>() == 0);
  CHECK(j["batched"]["padded_mismatches_vs_alone"].get<int64_t>() == 0);
  CHECK(j["batched"]["padding_attention_ratio"].get<double>() == 0.0);
  CHECK(j["batched"]["top1_vs_reference"].get<double>() == 1.0);
  CHECK(j["batched"]["kl_mean_vs_reference"].get<double>() == 0.0);
  CHECK(j["position_identity"]["recovery"].get<double>() == 1.0);
  CHECK(j["cost"]["ratio"]["file_bytes"].get<double>() == 1.0);
  CHECK(j["passed"] == true);
  const std::string page = slurp(html);
  CHECK(page.find("<svg") != std::string::npos);
  CHECK(page.find("polyline") != std::string::npos);
  CHECK(page.find("http") == std::string::npos);
  CHECK(page.find("<script") == std::string::npos);
}

TEST_CASE("verify: sampled sequences (no text) are reproducible and exact against itself") {
  const std::string j1 = temp_path("verify_s1.json"), j2 = temp_path("verify_s2.json");
  Output a = run("verify " + ref_model() + " " + ref_model() + kFast +
                 "--samples 3 --seed 7 --min-top1 1 --json " + j1);
  Output b = run("verify " + ref_model() + " " + ref_model() + kFast +
                 "--samples 3 --seed 7 --min-top1 1 --json " + j2);
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  nlohmann::json x = nlohmann::json::parse(slurp(j1)), y = nlohmann::json::parse(slurp(j2));
  CHECK(x["agreement"]["overall"] == y["agreement"]["overall"]);
  CHECK(x["positions_evaluated"].get<int64_t>() == 3 * 64);
  CHECK(x["source"].get<std::string>().find("sampled") != std::string::npos);
}

TEST_CASE("verify: a table shifted by one position is caught (metric and bucket named, exit 1)") {
  const std::string shifted =
      write_variant("verify_shifted.ordinal", [](std::vector<float>& t, uint32_t rows, uint32_t dim) {
        std::vector<float> orig = t;
        for (uint32_t p = 0; p < rows; ++p) {
          const uint32_t src = p + 1 < rows ? p + 1 : p;
          std::copy(orig.begin() + size_t{src} * dim, orig.begin() + size_t{src + 1} * dim,
                    t.begin() + size_t{p} * dim);
        }
      });
  Output o =
      run("verify " + ref_model() + " " + shifted + " --text " + text_file() + kFast + "--min-top1 0.99");
  INFO(o.text);
  CHECK(o.code == 1);
  CHECK(o.text.find("FAIL top1 [") != std::string::npos);
  CHECK(o.text.find("FAIL position-recovery") != std::string::npos);
  CHECK(o.text.find("result: FAIL") != std::string::npos);
}

TEST_CASE("verify: a zeroed table and a 1-bit table are caught by KL / ppl gates") {
  const std::string zeroed =
      write_variant("verify_zeroed.ordinal",
                    [](std::vector<float>& t, uint32_t, uint32_t) { std::fill(t.begin(), t.end(), 0.0f); });
  const std::string onebit =
      write_variant("verify_1bit.ordinal", [](std::vector<float>& t, uint32_t rows, uint32_t dim) {
        for (uint32_t p = 0; p < rows; ++p) {
          double mean_abs = 0.0;
          for (uint32_t j = 0; j < dim; ++j) mean_abs += std::fabs(t[size_t{p} * dim + j]);
          mean_abs /= dim;
          for (uint32_t j = 0; j < dim; ++j) {
            float& v = t[size_t{p} * dim + j];
            v = static_cast<float>(v >= 0 ? mean_abs : -mean_abs);
          }
        }
      });
  Output z = run("verify " + ref_model() + " " + zeroed + " --text " + text_file() + kFast +
                 "--max-kl 0.001 --max-ppl-delta 0.01");
  INFO(z.text);
  CHECK(z.code == 1);
  CHECK(z.text.find("FAIL kl [0,16)") != std::string::npos);
  CHECK(z.text.find("FAIL ppl-delta [") != std::string::npos);
  // A zero table has no distinct positions at all.
  CHECK(z.text.find("FAIL position-recovery") != std::string::npos);

  Output b =
      run("verify " + ref_model() + " " + onebit + " --text " + text_file() + kFast + "--max-kl 0.001");
  INFO(b.text);
  CHECK(b.code == 1);
  CHECK(b.text.find("FAIL kl [") != std::string::npos);
}

TEST_CASE("verify: task models are scored, lengths a model cannot address are 'unsupported'") {
  const std::string path = temp_path("verify_task.ordinal");
  ordinal::modelio::ModelSpec spec = ordinal::testing::make_synthetic_model(learned_options());
  nlohmann::json cfg =
      nlohmann::json::parse(slurp(std::string(ORDINAL_SOURCE_DIR) + "/models/zoo/task-learned/config.json"));
  spec.task_spec = cfg["ordinal_task"].dump();
  REQUIRE(ordinal::modelio::write_model(spec, path).ok());
  const std::string json = temp_path("verify_task.json");
  Output o = run("verify " + path + " " + path + kFast +
                 "--task-cases 20 --task-extrap-cases 5 --min-task-accuracy 0 --json " + json);
  INFO(o.text);
  REQUIRE(o.code == 0);
  nlohmann::json j = nlohmann::json::parse(slurp(json));
  const auto& results = j["tasks"]["results"];
  REQUIRE(results.size() == 12);
  bool saw_unsupported = false;
  for (const auto& r : results) {
    if (r["regime"] == "in-distribution") {
      CHECK(r["cand"]["cases"].get<int64_t>() == 20);
      CHECK(r["ref"]["accuracy"] == r["cand"]["accuracy"]);
    }
    // 64 table rows: the 2x passkey case (121 tokens) cannot be addressed.
    if (r["task"] == "passkey" && r["regime"] == "2x") {
      CHECK(r["cand"]["supported"] == false);
      saw_unsupported = true;
    }
  }
  CHECK(saw_unsupported);
  CHECK(o.text.find("unsupported") != std::string::npos);
  // A strict accuracy gate on a random model fails and names the task.
  Output f = run("verify " + path + " " + path + kFast +
                 "--task-cases 10 --task-extrap-cases 1 --min-task-accuracy 0.99");
  CHECK(f.code == 1);
  CHECK(f.text.find("FAIL task-accuracy reverse") != std::string::npos);
}

TEST_CASE("verify: usage and load errors exit 2 with a message") {
  const std::string m = ref_model();
  const std::string empty = temp_path("verify_empty.txt");
  { std::ofstream(empty) << "  \n\n \t\n"; }
  ordinal::testing::SyntheticOptions small = learned_options();
  small.seed = 3;
  ordinal::modelio::ModelSpec other = ordinal::testing::make_synthetic_model(small);
  other.tokenizer.pieces.push_back("zzz");
  other.tokenizer.scores.push_back(-99.0f);
  other.config.vocab_size = static_cast<uint32_t>(other.tokenizer.pieces.size());
  other.token_embedding = ordinal::modelio::HostTensor::f32(
      "tok_embeddings", {other.config.vocab_size, other.config.dim},
      std::vector<float>(size_t{other.config.vocab_size} * other.config.dim, 0.01f));
  const std::string other_path = temp_path("verify_other_vocab.ordinal");
  REQUIRE(ordinal::modelio::write_model(other, other_path).ok());
  struct Case {
    std::string args, needle;
  } cases[] = {
      {"verify", "missing REF"},
      {"verify " + m, "missing REF"},
      {"verify " + m + " " + m + " extra", "unexpected"},
      {"verify " + m + " " + m + " --bogus", "unknown option"},
      {"verify " + m + " " + m + " --min-top1", "--min-top1"},
      {"verify " + m + " " + m + " --min-top1 abc", "--min-top1"},
      {"verify " + m + " " + m + " --max-kl -1", "--max-kl"},
      {"verify " + m + " " + m + " --max-positions 0", "--max-positions"},
      {"verify " + m + " " + m + " --seed 0", "--seed"},
      {"verify " + m + " " + m + " --buckets 0,64,32", "--buckets"},
      {"verify " + m + " " + m + " --buckets 0,,64", "--buckets"},
      {"verify " + m + " " + m + " --threads 0", "--threads"},
      {"verify " + m + " /nonexistent/model.ordinal", "candidate"},
      {"verify /nonexistent/model.ordinal " + m, "reference"},
      {"verify " + m + " " + m + " --text /nonexistent/text.txt", "text"},
      {"verify " + m + " " + m + " --text " + empty, "tokenizes to nothing"},
      {"verify " + m + " " + other_path, "vocabular"},
  };
  for (const Case& c : cases) {
    Output o = run(c.args);
    CHECK_MESSAGE(o.code == 2, c.args << " -> " << o.text);
    CHECK_MESSAGE(o.text.find(c.needle) != std::string::npos, c.args << " -> " << o.text);
  }
  Output h = run("verify --help");
  CHECK(h.code == 0);
  CHECK(h.text.find("--min-top1") != std::string::npos);
}

TEST_CASE("verify: stories260K against itself on TinyStories text passes strict gates") {
  const char* shared_env = std::getenv("ORDINAL_SHARED");
  if (!shared_env) {
    MESSAGE("ORDINAL_SHARED is not set: skipping the stories260K verify test");
    return;
  }
  const std::string shared = shared_env;
  const std::string bin = shared + "/models/stories260K.bin", tok = shared + "/models/tok512.bin",
                    text = shared + "/corpus/tinystories_val_head.txt";
  REQUIRE_MESSAGE(exists(bin), "missing " << bin);
  REQUIRE_MESSAGE(exists(tok), "missing " << tok);
  REQUIRE_MESSAGE(exists(text), "missing " << text);
  const std::string model = temp_path("verify_stories260K.ordinal");
  Output imp = run("import llama2c '" + bin + "' '" + tok + "' -o '" + model + "'");
  REQUIRE_MESSAGE(imp.code == 0, imp.text);
  const std::string json = temp_path("verify_stories.json");
  Output o = run("verify " + model + " " + model + " --text '" + text +
                 "' --max-positions 320 --order-positions 256 " +
                 "--swap-pairs 16 --min-top1 1 --max-kl 0 --max-ppl-delta 0 --min-gap-ratio 1 "
                 "--min-swap-agreement 1 --json " +
                 json);
  INFO(o.text);
  REQUIRE(o.code == 0);
  nlohmann::json j = nlohmann::json::parse(slurp(json));
  CHECK(j["positions_evaluated"].get<int64_t>() == 320);
  CHECK(j["agreement"]["buckets"].size() == 3);
  CHECK(j["agreement"]["buckets"][2]["positions"].get<int64_t>() == 64);  // [256,512) from the window's tail
  const double ppl = j["agreement"]["overall"]["ppl_ref"].get<double>();
  CHECK(ppl > 2.0);  // a real model on real text: low but not degenerate perplexity
  CHECK(ppl < 12.0);
  CHECK(j["word_order"]["gap_ref"].get<double>() > 2.0);  // shuffling words hurts a language model
  CHECK(j["position_identity"]["kind"] == "rope");
  CHECK(j["position_identity"]["shift_max_rel"].get<double>() < 1e-4);
}

TEST_CASE("verify: --beyond evaluates past the training context only where both models address it") {
  ordinal::testing::SyntheticOptions ro;  // RoPE: computed positions, addressable beyond the context
  ro.context = 32;
  const std::string rope = temp_path("verify_rope.ordinal");
  REQUIRE(ordinal::modelio::write_model(ordinal::testing::make_synthetic_model(ro), rope).ok());
  const std::string json = temp_path("verify_beyond.json");
  Output o = run("verify " + rope + " " + rope +
                 " --beyond 48 --samples 2 --max-positions 96 --min-top1 1 --json " + json);
  INFO(o.text);
  REQUIRE(o.code == 0);
  nlohmann::json j = nlohmann::json::parse(slurp(json));
  const auto& last = j["agreement"]["buckets"].back();
  CHECK(last["bucket"] == "[32,48)");
  CHECK(last["supported"] == true);
  CHECK(last["positions"].get<int64_t>() == 32);
  CHECK(j["position_identity"]["kind"] == "rope");

  // A learned table of 64 rows cannot go to 96: reported unsupported, not a crash, not a failure.
  Output l = run("verify " + ref_model() + " " + ref_model() +
                 " --beyond 96 --samples 2 --max-positions 128 --min-top1 1");
  INFO(l.text);
  CHECK(l.code == 0);
  CHECK(l.text.find("[64,96)") != std::string::npos);
  CHECK(l.text.find("unsupported") != std::string::npos);
}

TEST_CASE("verify: a candidate that produces NaN fails (exit 1, runtime-error), it does not crash") {
  ordinal::modelio::ModelSpec spec = ordinal::testing::make_synthetic_model(learned_options());
  ordinal::modelio::HostTensor& t = spec.positional.table;
  std::vector<float> v = t.to_f32();
  v[5 * t.shape[1]] = NAN;  // position 5
  t = ordinal::modelio::HostTensor::f32(t.name, t.shape, v);
  const std::string path = temp_path("verify_nan.ordinal");
  REQUIRE(ordinal::modelio::write_model(spec, path).ok());
  Output o = run("verify " + ref_model() + " " + path + " --samples 1 --max-positions 32");
  INFO(o.text);
  CHECK(o.code == 1);
  CHECK(o.text.find("FAIL runtime-error") != std::string::npos);
}
