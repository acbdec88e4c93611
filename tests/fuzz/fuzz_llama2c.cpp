// libFuzzer target for the llama2.c importer (tools/importers/llama2c.cpp). First byte even: the rest is a
// checkpoint imported with a fixed 4-token tokenizer; odd: the rest is a tokenizer.bin read for a
// vocabulary of 4. Imported checkpoints are serialized and loaded. Refusals are Statuses; nothing crashes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_importers_common.hpp"
#include "importers/llama2c.hpp"
#include "ordinal/runtime.hpp"

namespace {
// llama2.c tokenizer.bin: max_token_length, then per token (score f32, length i32, bytes).
const std::string& fixed_tokenizer() {
  static const std::string path = [] {
    std::vector<uint8_t> b;
    auto put = [&b](const void* p, size_t n) {
      b.insert(b.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
    };
    const int32_t max_len = 5;
    put(&max_len, 4);
    const char* pieces[] = {"<unk>", "<s>", "</s>", "a"};
    for (const char* piece : pieces) {
      const float score = 0.0f;
      const int32_t len = static_cast<int32_t>(std::strlen(piece));
      put(&score, 4);
      put(&len, 4);
      put(piece, static_cast<size_t>(len));
    }
    const std::string p = ordinal::fuzz::scratch_dir() + "/tokenizer4.bin";
    if (!ordinal::fuzz::write_file(p, b.data(), b.size())) std::abort();
    return p;
  }();
  return path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string path = ordinal::fuzz::scratch_dir() + "/input.bin";
  if (!ordinal::fuzz::write_file(path, data + 1, size - 1)) std::abort();
  if (data[0] % 2 == 1) {
    (void)ordinal::importers::read_llama2c_tokenizer(path, 4);
    return 0;
  }
  auto spec = ordinal::importers::import_llama2c(path, fixed_tokenizer());
  if (!spec.ok()) return 0;
  auto bytes = ordinal::modelio::serialize_model(spec.value());
  if (!bytes.ok()) return 0;
  void* buf = std::aligned_alloc(64, (bytes.value().size() + 64) / 64 * 64);
  if (!buf) return 0;
  std::memcpy(buf, bytes.value().data(), bytes.value().size());
  (void)ordinal::Model::load_from_buffer(buf, bytes.value().size());
  std::free(buf);
  return 0;
}
