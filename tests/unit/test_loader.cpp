// Loader: valid models load zero-copy; every truncation and hundreds of random corruptions are rejected
// with a message or load into a model that still runs (never a crash); semantic errors name the field.
#include <dirent.h>
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "format/loader.hpp"
#include "fuzz/exercise_model.hpp"
#include "model_internals.hpp"
#include "ordinal/runtime.hpp"
#include "support/synthetic_model.hpp"

using namespace ordinal;

namespace {

// 64-byte aligned copy of a model image (what an mmap gives us).
struct AlignedBuffer {
  explicit AlignedBuffer(const std::vector<uint8_t>& bytes) : size(bytes.size()) {
    ptr = static_cast<uint8_t*>(std::aligned_alloc(64, (bytes.size() + 63) / 64 * 64 + 64));
    if (!bytes.empty()) std::memcpy(ptr, bytes.data(), bytes.size());  // data() may be null when empty
  }
  ~AlignedBuffer() { std::free(ptr); }
  uint8_t* ptr;
  size_t size;
};

std::vector<uint8_t> small_model_bytes(PositionalScheme scheme = PositionalScheme::kRope,
                                       Architecture arch = Architecture::kLlama) {
  testing::SyntheticOptions o;
  o.dim = 16;
  o.hidden = 24;
  o.layers = 1;
  o.heads = 2;
  o.kv_heads = 1;
  o.context = 16;
  o.scheme = scheme;
  o.arch = arch;
  auto bytes = modelio::serialize_model(testing::make_synthetic_model(o));
  REQUIRE(bytes.ok());
  return std::move(bytes).value();
}

Status load_status(const std::vector<uint8_t>& bytes) {
  AlignedBuffer buf(bytes);
  auto m = Model::load_from_buffer(buf.ptr, buf.size);
  return m.ok() ? Status::Ok() : m.status();
}

// A loaded (possibly corrupted-but-valid) model must still run a few tokens without crashing.
void exercise(const std::shared_ptr<const Model>& m) {
  SessionOptions so;
  so.threads = 1;
  auto s = Session::create(m, so);
  if (!s.ok()) return;  // e.g. unsupported dtype: a clean error is fine
  int32_t toks[3] = {1, 40, 70};
  for (int32_t t : toks) {
    Status st = s.value()->decode(t % static_cast<int32_t>(m->config().vocab_size));
    if (!st.ok()) break;
  }
}

}  // namespace

TEST_CASE("a valid model loads from a buffer and from a file, zero-copy") {
  std::vector<uint8_t> bytes = small_model_bytes();
  AlignedBuffer buf(bytes);
  auto m = Model::load_from_buffer(buf.ptr, buf.size);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  // Tensor data points into the caller's buffer: nothing was copied.
  const auto& emb = ordinal::detail::model_data(*m.value()).token_embedding;
  CHECK(emb.data >= buf.ptr);
  CHECK(emb.data + emb.bytes <= buf.ptr + buf.size);
  CHECK(reinterpret_cast<uintptr_t>(emb.data) % 64 == 0);

  std::string path = testing::temp_path("loader_valid.ordinal");
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  auto mf = Model::load(path);
  REQUIRE_MESSAGE(mf.ok(), mf.status().to_string());
  CHECK(ordinal::detail::model_data(*mf.value()).file->is_mapped());
  CHECK(mf.value()->config().dim == 16);
}

TEST_CASE("every truncation of a valid model is rejected with a message") {
  std::vector<uint8_t> bytes = small_model_bytes();
  size_t accepted = 0;
  for (size_t len = 0; len < bytes.size(); ++len) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
    Status st = load_status(cut);
    if (st.ok()) {
      ++accepted;
    } else {
      CHECK(!st.message().empty());
    }
  }
  // The last tensor ends exactly at the end of the file, so no proper prefix can hold the whole model.
  CHECK(accepted == 0);
}

TEST_CASE("random byte corruptions never crash the loader") {
  for (auto scheme : {PositionalScheme::kRope, PositionalScheme::kLearnedTable, PositionalScheme::kNone}) {
    std::vector<uint8_t> bytes = small_model_bytes(
        scheme, scheme == PositionalScheme::kLearnedTable ? Architecture::kGPT2 : Architecture::kLlama);
    testing::TestRng rng(static_cast<uint64_t>(scheme) + 7);
    int rejected = 0, loaded = 0;
    for (int trial = 0; trial < 300; ++trial) {
      std::vector<uint8_t> bad = bytes;
      // Corrupt mostly the header (where structure lives), sometimes anywhere.
      const size_t span = (trial % 3 == 0) ? bad.size() : std::min<size_t>(bad.size(), 2048);
      const int flips = 1 + static_cast<int>(rng.next() % 4);
      for (int k = 0; k < flips; ++k) bad[rng.next() % span] ^= static_cast<uint8_t>(1 + rng.next() % 255);
      AlignedBuffer buf(bad);
      auto m = Model::load_from_buffer(buf.ptr, buf.size);
      if (m.ok()) {
        ++loaded;
        exercise(m.value());
      } else {
        ++rejected;
        CHECK(!m.status().message().empty());
      }
    }
    CHECK(rejected > 0);
    MESSAGE("scheme " << positional_scheme_name(scheme) << ": " << rejected << " rejected, " << loaded
                      << " loaded and ran");
  }
}

TEST_CASE("semantic errors name the offending field or tensor") {
  auto base = [] {
    testing::SyntheticOptions o;
    o.dim = 16;
    o.hidden = 24;
    o.layers = 2;
    o.heads = 2;
    o.kv_heads = 1;
    o.context = 16;
    return testing::make_synthetic_model(o);
  };
  auto expect_error = [](const modelio::ModelSpec& spec, const char* needle) {
    auto bytes = modelio::serialize_model(spec);
    REQUIRE(bytes.ok());
    Status st = load_status(bytes.value());
    CHECK_FALSE(st.ok());
    CHECK_MESSAGE(st.message().find(needle) != std::string::npos, st.message());
  };
  {
    auto s = base();
    s.layers[1].wk.shape = {16, 16};
    s.layers[1].wk.data.resize(16 * 16 * 4);
    expect_error(s, "layers[1].wk");
  }
  {
    auto s = base();
    s.config.n_layers = 3;
    expect_error(s, "layers");
  }
  {
    auto s = base();
    s.config.head_dim = 4;
    expect_error(s, "head_dim");
  }
  {
    auto s = base();
    s.layers[0].w1.data.pop_back();
    expect_error(s, "layers[0].w1");
  }
  {
    auto s = base();
    s.tokenizer.scores.pop_back();
    s.tokenizer.pieces.pop_back();
    expect_error(s, "tokenizer");
  }
  {
    auto s = base();
    s.config.norm_eps = -1.0f;
    expect_error(s, "norm_eps");
  }
  {
    auto s = base();
    s.config.n_kv_heads = 3;
    expect_error(s, "n_kv_heads");
  }
  {
    auto s = base();
    s.positional.rotary_dims = 7;
    expect_error(s, "rotary_dims");
  }
  {
    auto s = base();
    s.config.tied_classifier = false;
    expect_error(s, "classifier");
  }
  {
    auto s = base();
    s.layers[0].bq = modelio::HostTensor::f32("bq", {16}, std::vector<float>(16, 0.0f));
    expect_error(s, "does not use");
  }
  {
    auto s = base();
    s.tokenizer.bos_id = 100000;
    expect_error(s, "bos_id");
  }
}

TEST_CASE("structural problems: identifier, version, misalignment, ranges outside the file") {
  std::vector<uint8_t> bytes = small_model_bytes();
  {
    auto bad = bytes;
    bad[8] = 'X';  // after the size prefix and the root offset
    Status st = load_status(bad);
    CHECK(st.code() == ErrorCode::kInvalidModel);
    CHECK(st.message().find("ORDL") != std::string::npos);
  }
  {
    auto bad = bytes;
    uint32_t huge = 0x7fffffff;
    std::memcpy(bad.data(), &huge, 4);
    Status st = load_status(bad);
    CHECK(st.message().find("truncated") != std::string::npos);
  }
  {
    // A misaligned caller buffer is refused rather than read unaligned.
    std::vector<uint8_t> storage(bytes.size() + 128);
    uint8_t* p = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(storage.data()) + 63) / 64 * 64 + 1);
    std::memcpy(p, bytes.data(), bytes.size());
    auto m = Model::load_from_buffer(p, bytes.size());
    CHECK_FALSE(m.ok());
    CHECK(m.status().message().find("aligned") != std::string::npos);
  }
  {
    auto m = Model::load("/definitely/not/here.ordinal");
    CHECK(m.status().code() == ErrorCode::kIoError);
  }
  {
    CHECK_FALSE(load_status({}).ok());
    CHECK_FALSE(load_status(std::vector<uint8_t>(7, 0)).ok());
  }
}

TEST_CASE("inputs the fuzzer once crashed on are replayed (tests/fuzz/regressions)") {
  const std::string dir = std::string(ORDINAL_SOURCE_DIR) + "/tests/fuzz/regressions";
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
  REQUIRE(d);
  int replayed = 0;
  while (dirent* e = readdir(d.get())) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(dir + "/" + e->d_name, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    AlignedBuffer buf(bytes);
    auto m = Model::load_from_buffer(buf.ptr, buf.size);
    // What the fuzzer ran on it, with the same promises checked.
    if (m.ok()) CHECK_MESSAGE(fuzz::exercise_model(m.value()), e->d_name);
    ++replayed;
  }
  MESSAGE(replayed << " regression inputs replayed");
}
