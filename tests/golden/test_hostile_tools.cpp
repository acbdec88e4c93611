// Hostile inputs to the host tools, round two (issue 13; docs/trust-boundary.md, "Host tools"): task specs
// the verify battery reads from a model, files that are not files, inputs over the size caps, deeply nested
// JSON, a 5 MB single-line evaluation text, a bucketed table covering 2^24 positions, thread counts above
// the cores, a 1-position model, models whose default session would not fit, non-finite tables, and
// control characters in what the CLI prints. Cases that hung or crashed before run in a child process with
// a deadline, so that they fail instead of stopping the suite.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "importers/llama2c.hpp"
#include "importers/read_file.hpp"
#include "importers/safetensors.hpp"
#include "ordinal/host_limits.hpp"
#include "support/session_helpers.hpp"
#include "verify/text_stream.hpp"
#include "verify/verify.hpp"

using namespace ordinal;
using namespace ordinal::testing;

namespace {

struct Output {
  int code;
  std::string text;
};

// Under `timeout 120`: a case that used to hang exits 124 instead of stopping the suite.
Output run_cli(const std::string& args) {
  const std::string out = temp_path("hostile_cli_out.txt");
  const std::string cmd =
      "timeout 120 '" + std::string(ORDINAL_CLI_PATH) + "' " + args + " > '" + out + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ss.str()};
}

std::string written(const modelio::ModelSpec& spec, const std::string& name) {
  const std::string path = temp_path(name);
  Status st = modelio::write_model(spec, path);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  return path;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

// Exit code of `body` run in a child with a deadline; -signal when killed (the alarm: it hung).
template <typename F>
int in_child(F body, unsigned deadline_seconds = 30) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    alarm(deadline_seconds);
    _exit(body());
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

std::string make_fifo(const std::string& name) {
  const std::string path = temp_path(name);
  ::unlink(path.c_str());
  REQUIRE(mkfifo(path.c_str(), 0600) == 0);
  return path;
}

const char* kSpecHead = R"({"bos_id": 1, "eos_id": 2, "sep_id": 8, "symbol_ids": [9, 24], "tasks": [)";

}  // namespace

TEST_CASE("task specs: ranges, lengths, offsets and ids are validated before any case is drawn") {
  const std::string good =
      std::string(kSpecHead) + R"({"name": "copy_offset", "prefix_id": 6, "offset": 3}]})";
  auto ok = verify::parse_task_spec(good, 64);
  REQUIRE(ok.ok());
  struct Case {
    const char* task;
    const char* needle;
  } cases[] = {
      {R"({"name": "passkey", "filler_ids": [24, 9]})", "filler_ids"},  // reversed: division by zero
      {R"({"name": "copy_offset", "offset": 9223372036854775807})", "offset"},
      {R"({"name": "copy_offset", "offset": -9223372036854775807})", "offset"},
      {R"({"name": "reverse", "max_len": 100000000})", "max_len"},
      {R"({"name": "reverse", "min_len": 0})", "min_len"},
      {R"({"name": "copy_offset", "min_len": 56})", "max_len"},  // default max_len 16 < min_len (fuzzer)
      {R"({"name": "reverse", "min_len": 8, "max_len": 4})", "max_len"},
      {R"({"name": "reverse", "prefix_id": 64})", "prefix_id"},
      {R"({"name": "reverse", "prefix_id": 4294967296})", "prefix_id"},
      {R"({"name": "reverse", "prefix_id": 1.5})", "prefix_id"},
      {R"({"name": "passkey", "key_ids": [25, 1000]})", "key_ids"},
      {R"({"name": "passkey", "key_len": 0})", "key_len"},
      {R"({"name": 7})", "name"},
  };
  for (const Case& c : cases) {
    auto r = verify::parse_task_spec(std::string(kSpecHead) + c.task + "]}", 64);
    INFO(c.task);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == ErrorCode::kInvalidArgument);
    CHECK(r.status().message().find(c.needle) != std::string::npos);
  }
  CHECK_FALSE(verify::parse_task_spec(R"({"bos_id": 99, "tasks": []})", 64).ok());
  // 200,000 nested arrays: refused by the depth scan (copying the parsed value overflowed the stack).
  const std::string deep = "{\"ordinal_task\": " + std::string(200000, '[') + std::string(200000, ']') + "}";
  const int code = in_child([&] {
    auto r = verify::parse_task_spec(deep, 64);
    return !r.ok() && r.status().message().find("nests deeper") != std::string::npos ? 0 : 1;
  });
  CHECK(code == 0);

  // A negative offset within the limit rotates the other way; no out-of-bounds index.
  auto neg =
      verify::parse_task_spec(std::string(kSpecHead) + R"({"name": "copy_offset", "offset": -3}]})", 64);
  REQUIRE(neg.ok());
  uint64_t state = 5;
  const verify::TaskCase c = verify::make_task_case(neg.value(), neg.value().tasks[0], 7, &state);
  REQUIRE(c.answer.size() == 8);
  for (int64_t i = 0; i < 7; ++i) CHECK(c.answer[i] == c.prompt[2 + static_cast<size_t>((i - 3 + 7) % 7)]);
}

TEST_CASE("files that are not regular files, and files over the caps, are refused") {
  const std::string fifo = make_fifo("hostile_tools.fifo");
  // Before: open() blocked until a writer appeared (forever).
  CHECK(in_child([&] {
          auto r = importers::read_file(fifo);
          return !r.ok() && r.status().message().find("FIFO") != std::string::npos ? 0 : 1;
        }) == 0);
  CHECK(in_child([&] {
          std::string text;
          std::vector<int32_t> tokens;
          Status st = verify::read_text_tokens(Tokenizer(), fifo, 16, 1 << 20, &text, &tokens);
          return st.code() == ErrorCode::kIoError ? 0 : 1;
        }) == 0);
  ::unlink(fifo.c_str());
  // Before: /dev/zero as a checkpoint or tokenizer grew to 2 GB and aborted.
  CHECK(in_child([] {
          auto r = importers::import_llama2c("/dev/zero", "/dev/zero");
          return !r.ok() && r.status().message().find("character device") != std::string::npos ? 0 : 1;
        }) == 0);
  auto tok = importers::read_llama2c_tokenizer("/dev/urandom", 32);
  CHECK(tok.status().code() == ErrorCode::kIoError);
  auto dir = importers::read_file("/tmp");
  CHECK(dir.status().message().find("directory") != std::string::npos);

  const std::string small = temp_path("hostile_cap.bin");
  write_text(small, std::string(100, 'x'));
  auto capped = importers::read_file(small, 99);
  REQUIRE_FALSE(capped.ok());
  CHECK(capped.status().message().find("over the limit") != std::string::npos);
  auto whole = importers::read_file(small, 100);
  REQUIRE(whole.ok());
  CHECK(whole.value().size() == 100);

  // The CLI: a FIFO as the model or as --text is an error (exit 2), not a hang.
  const std::string m = written(make_synthetic_model(SyntheticOptions()), "hostile_tools_model.ordinal");
  const std::string fifo2 = make_fifo("hostile_cli.fifo");
  Output o = run_cli("inspect " + fifo2);
  CHECK(o.code == 2);
  o = run_cli("verify " + m + " " + m + " --text " + fifo2 + " --task-cases 0");
  CHECK(o.code == 2);
  CHECK(o.text.find("FIFO") != std::string::npos);
  // A FIFO as the output: refused when nobody reads it (before: fopen waited for a reader).
  o = run_cli("quantize " + m + " " + fifo2 + " --weights f16");
  CHECK(o.code == 1);
  CHECK(o.text.find("FIFO with no reader") != std::string::npos);
  ::unlink(fifo2.c_str());
}

TEST_CASE("JSON nesting in an importer's config.json is refused, not a stack overflow") {
  const std::string dir = temp_path("hostile_st_dir");
  REQUIRE(std::system(("mkdir -p '" + dir + "'").c_str()) == 0);
  write_text(dir + "/config.json", "{\"a\": " + std::string(200000, '[') + std::string(200000, ']') + "}");
  const int code = in_child([&] {
    auto r = importers::import_safetensors(dir);
    return !r.ok() && r.status().message().find("nests deeper") != std::string::npos ? 0 : 1;
  });
  CHECK(code == 0);
}

TEST_CASE("evaluation text is streamed: a 5 MB single line is read only as far as the position cap") {
  const std::string path = temp_path("hostile_long_line.txt");
  std::string line;
  while (line.size() < (5u << 20)) line += "the cat sat on the mat and then ";
  write_text(path, line);
  auto m = Model::load(written(make_synthetic_model(SyntheticOptions()), "hostile_text_model.ordinal"));
  REQUIRE(m.ok());
  std::string text;
  std::vector<int32_t> tokens;
  Status st =
      verify::read_text_tokens(m.value()->tokenizer(), path, 100, importers::kMaxTextBytes, &text, &tokens);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(tokens.size() == 100);
  CHECK(text.size() <= 2 * verify::kTextSegmentBytes);  // before: all 5 MB read and tokenized

  // Short lines tokenize exactly as line by line encode().
  const std::string lines = "Once upon a time\n\nthere was a cat\n  \nthe end";
  std::vector<int32_t> streamed, expected, part;
  REQUIRE(verify::tokenize_text(m.value()->tokenizer(), lines, 1000, &streamed).ok());
  for (const char* l : {"Once upon a time", "there was a cat", "the end"}) {
    REQUIRE(m.value()->tokenizer().encode(l, false, false, &part).ok());
    expected.insert(expected.end(), part.begin(), part.end());
  }
  CHECK(streamed == expected);

  // A line without whitespace is cut at a UTF-8 character boundary.
  std::string euros;
  for (int i = 0; i < 3000; ++i) euros += "\xE2\x82\xAC";
  std::string_view seg;
  size_t used = 0;
  REQUIRE(verify::next_text_segment(euros, false, &seg, &used));
  CHECK(seg.size() % 3 == 0);
  CHECK(used == seg.size());
  CHECK(seg.size() <= verify::kTextSegmentBytes);
  // More input may follow a short partial line.
  CHECK_FALSE(verify::next_text_segment("abc", false, &seg, &used));
}

TEST_CASE("identity of a bucketed table covering 2^24 positions is sampled, not expanded") {
  SyntheticOptions o;
  o.scheme = PositionalScheme::kNone;
  o.context = 1024;
  modelio::ModelSpec spec = make_synthetic_model(o);
  modelio::HostPositional& p = spec.positional;
  p.scheme = PositionalScheme::kBucketedTable;
  TestRng rng(3);
  p.table =
      modelio::HostTensor::f32("wpe_buckets", {64, o.dim}, random_values(rng, 64 * size_t{o.dim}, 0.5f));
  p.bucket_rule = detail::BucketRuleKind::kUniformStride;
  p.stride = 1u << 18;
  p.positions = 1u << 24;
  auto m = Model::load(written(spec, "hostile_bucketed_2p24.ordinal"));
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  CHECK(verify::stored_position_count(*m.value()) == (1u << 24));
  const int code = in_child([&] {
    const verify::IdentityResult r = verify::position_identity(*m.value(), *m.value(), 1);
    return r.kind == "table" && r.sampled && r.positions == verify::kIdentityExactPositions &&
                   r.max_abs_error == 0.0 && r.shared_by_design && r.note.find("sampled") != std::string::npos
               ? 0
               : 1;
  });
  CHECK(code == 0);
}

TEST_CASE("bench: thread counts are clamped to the cores; a 1-position model works") {
  SyntheticOptions o;
  o.context = 1;
  const std::string one = written(make_synthetic_model(o), "hostile_ctx1.ordinal");
  Output r = run_cli("bench " + one + " --steps 4 --repeat 1");
  INFO(r.text);
  CHECK(r.code == 0);  // before: exit 1, "no tokens given"

  const std::string m = written(make_synthetic_model(SyntheticOptions()), "hostile_bench.ordinal");
  const std::string json = temp_path("hostile_bench.json");
  r = run_cli("bench " + m + " --threads 256 --steps 2 --repeat 1 --json " + json);
  INFO(r.text);
  REQUIRE(r.code == 0);
  CHECK(r.text.find("clamped to") != std::string::npos);
  std::ifstream f(json);
  const nlohmann::json j = nlohmann::json::parse(f);
  REQUIRE(j["runs"].size() >= 1);
  for (const auto& run : j["runs"]) CHECK(run["threads"].get<int64_t>() <= cli::host_cores());
  CHECK(run_cli("run --help").text.find("clamped to the cores") != std::string::npos);
}

TEST_CASE("quantize refuses a model whose default session would not fit, and non-finite tables") {
  const std::string rope = written(make_synthetic_model(SyntheticOptions()), "hostile_q_rope.ordinal");
  const std::string out = temp_path("hostile_q_out.ordinal");
  ::unlink(out.c_str());
  Output r = run_cli("quantize " + rope + " " + out + " --pos rope-q31 --context 16777216");
  INFO(r.text);
  CHECK(r.code == 2);  // before: written, exit 0
  CHECK(r.text.find("--allow-large-session") != std::string::npos);
  CHECK(r.text.find("out-of-memory") != std::string::npos);
  CHECK(::access(out.c_str(), F_OK) != 0);
  r = run_cli("quantize " + rope + " " + out + " --pos rope-q31 --context 16777216 --allow-large-session");
  CHECK(r.code == 0);
  CHECK(::access(out.c_str(), F_OK) == 0);
  // The written model's default session is refused by a budget, not allocated, by inspect.
  r = run_cli("inspect " + out);
  CHECK(r.code == 0);

  SyntheticOptions o;
  o.scheme = PositionalScheme::kLearnedTable;
  modelio::ModelSpec spec = make_synthetic_model(o);
  float inf = INFINITY;
  std::memcpy(spec.positional.table.data.data() + 4 * (5 * o.dim + 2), &inf, 4);
  const std::string bad = written(spec, "hostile_q_inf_table.ordinal");
  r = run_cli("quantize " + bad + " " + out + " --pos int8-row");
  INFO(r.text);
  CHECK(r.code == 2);  // before: undefined behaviour (NaN to int), file written
  CHECK(r.text.find("row 5") != std::string::npos);
  CHECK(r.text.find("infinite") != std::string::npos);

  // A long table: the all-pairs metrics run on a sample, errors on every row.
  o.context = 4096;
  const std::string long_table = written(make_synthetic_model(o), "hostile_q_long_table.ordinal");
  r = run_cli("quantize " + long_table + " " + out + " --pos int8-row");
  INFO(r.text);
  CHECK(r.code == 0);
  CHECK(r.text.find("2048 evenly spaced of 4096 positions") != std::string::npos);
}

TEST_CASE("inspect escapes control characters from the file") {
  modelio::ModelSpec spec = make_synthetic_model(SyntheticOptions());
  spec.metadata.push_back({"title\x1b]0;owned\x07",
                           "\x1b[31mred\x1b[0m \xc2\x9b"
                           "2J tab\tok"});
  spec.layers[0].wq.name = "evil\x1b[2Jname";
  const std::string m = written(spec, "hostile_escapes.ordinal");
  Output r = run_cli("inspect " + m + " --tensors");
  INFO(r.text);
  REQUIRE(r.code == 0);
  CHECK(r.text.find('\x1b') == std::string::npos);
  CHECK(r.text.find('\x07') == std::string::npos);
  CHECK(r.text.find("\\x1B[31mred") != std::string::npos);
  CHECK(r.text.find("\\xC2\\x9B2J") != std::string::npos);
  CHECK(r.text.find("evil\\x1B[2Jname") != std::string::npos);
  CHECK(cli::printable("a\\b\nc\td") == "a\\\\b\\x0Ac\td");
  CHECK(cli::printable("caf\xc3\xa9 \xff") == "caf\xc3\xa9 \\xFF");
  // Generated text: control bytes escaped, UTF-8 fragments (a character split across tokens) untouched.
  CHECK(cli::printable_generated("a\x1b[2Jb\n\t\xe2\x82") == "a\\x1B[2Jb\n\t\xe2\x82");
}
