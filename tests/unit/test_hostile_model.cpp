// Hostile model files, round two (issue 13; docs/trust-boundary.md): int8 -128 weights, tensors whose
// bytes overlap, deeply nested or oversized task specs and metadata, a FIFO or a device given as a model.
// Each is refused with a clear error; none crashes or hangs. Numeric edge cases: test_hostile_numerics.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "model_data.hpp"
#include "model_internals.hpp"
#include "ordinal/quantize.hpp"
#include "support/session_helpers.hpp"

using namespace ordinal;
using namespace ordinal::testing;

namespace {

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string written(const modelio::ModelSpec& spec, const std::string& name) {
  const std::string path = temp_path(name);
  Status st = modelio::write_model(spec, path);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  return path;
}

// Runs `body` in a child process with a deadline: returns its exit code, or -signal when it was killed
// (by the alarm when it hung, or by a crash).
template <typename F>
int in_child(F body, unsigned deadline_seconds = 20) {
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

}  // namespace

TEST_CASE("int8 weights of -128 are refused as the trust boundary says") {
  modelio::ModelSpec spec = make_synthetic_model(SyntheticOptions());
  REQUIRE(cli::quantize::convert_weights(spec, "int8").ok());
  const std::string good = written(spec, "hostile_int8_ok.ordinal");
  REQUIRE(Model::load(good).ok());
  spec.layers[0].wq.data[5] = 0x80;  // -128
  auto m = Model::load(written(spec, "hostile_int8_minus128.ordinal"));
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == ErrorCode::kInvalidModel);
  CHECK(m.status().message().find("-128") != std::string::npos);
  CHECK(m.status().message().find("layers[0].wq") != std::string::npos);
}

TEST_CASE("tensors whose byte ranges overlap are refused") {
  const std::string path = written(make_synthetic_model(SyntheticOptions()), "hostile_overlap_src.ordinal");
  auto m = Model::load(path);
  REQUIRE(m.ok());
  const detail::ModelData& md = ordinal::detail::model_data(*m.value());
  const uint8_t* base = md.file->data();
  const uint64_t a = static_cast<uint64_t>(md.layers[0].attn_norm.data - base);
  const uint64_t b = static_cast<uint64_t>(md.layers[0].ffn_norm.data - base);
  const uint64_t size = md.layers[0].ffn_norm.bytes;
  REQUIRE(size == md.layers[0].attn_norm.bytes);
  // Point ffn_norm's data range at attn_norm's bytes: the (offset, size) pair of the TensorData struct.
  std::vector<uint8_t> bytes = file_bytes(path);
  uint8_t pattern[16];
  std::memcpy(pattern, &b, 8);
  std::memcpy(pattern + 8, &size, 8);
  auto at = std::search(bytes.begin(), bytes.end(), pattern, pattern + 16);
  REQUIRE(at != bytes.end());
  std::memcpy(&*at, &a, 8);
  const std::string patched = temp_path("hostile_overlap.ordinal");
  write_bytes(patched, bytes);
  auto r = Model::load(patched);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == ErrorCode::kInvalidModel);
  CHECK(r.status().message().find("overlaps") != std::string::npos);
}

TEST_CASE("task specs and metadata are bounded in size and nesting by the loader") {
  modelio::ModelSpec spec = make_synthetic_model(SyntheticOptions());
  spec.task_spec = "{\"ordinal_task\": {\"tasks\": []}}";
  CHECK(Model::load(written(spec, "hostile_spec_ok.ordinal")).ok());

  spec.task_spec = "{\"ordinal_task\": " + std::string(200000, '[') + std::string(200000, ']') + "}";
  auto deep = Model::load(written(spec, "hostile_spec_deep.ordinal"));
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.status().code() == ErrorCode::kInvalidModel);
  CHECK(deep.status().message().find("nests deeper") != std::string::npos);

  // Brackets inside strings are text, not nesting.
  spec.task_spec = "{\"note\": \"" + std::string(1000, '[') + "\\\"\"}";
  CHECK(Model::load(written(spec, "hostile_spec_brackets_in_string.ordinal")).ok());

  spec.task_spec = "\"" + std::string(2u << 20, 'x') + "\"";
  auto big = Model::load(written(spec, "hostile_spec_big.ordinal"));
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().message().find("over the limit") != std::string::npos);

  spec.task_spec.clear();
  spec.metadata.push_back({"ordinal_positional", std::string(100, '{')});
  auto meta = Model::load(written(spec, "hostile_meta_deep.ordinal"));
  REQUIRE_FALSE(meta.ok());
  CHECK(meta.status().message().find("metadata") != std::string::npos);
}

TEST_CASE("a FIFO or a device given as a model is refused without blocking") {
  const std::string fifo = temp_path("hostile_model.fifo");
  ::unlink(fifo.c_str());
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  // In a child with a deadline: before the fix, open() waited for a writer forever.
  const int code = in_child([&] {
    auto m = Model::load(fifo);
    return !m.ok() && m.status().code() == ErrorCode::kIoError &&
                   m.status().message().find("not a regular file") != std::string::npos
               ? 0
               : 1;
  });
  CHECK(code == 0);
  ::unlink(fifo.c_str());
  auto dev = Model::load("/dev/zero");
  REQUIRE_FALSE(dev.ok());
  CHECK(dev.status().code() == ErrorCode::kIoError);
}
