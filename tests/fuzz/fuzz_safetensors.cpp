// libFuzzer target for the safetensors importer (tools/importers/safetensors.cpp). The first byte picks the
// file the rest of the input replaces in a small valid model directory (models/zoo/task-nopos): 0 the
// safetensors file, 1 config.json, 2 tokenizer.json. Any input is imported or refused with a Status; what
// imports is serialized and loaded (no crash, no hang, no runaway allocation: -rss_limit_mb).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fuzz_importers_common.hpp"
#include "importers/safetensors.hpp"
#include "ordinal/runtime.hpp"

namespace {
const char* const kFiles[] = {"model.safetensors", "config.json", "tokenizer.json"};

const std::string& model_dir() {
  static const std::string dir = [] {
    const std::string d = ordinal::fuzz::scratch_dir() + "/st/";
    std::system(("mkdir -p '" + d + "'").c_str());
    return d;
  }();
  return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int which = data[0] % 3;
  const std::string zoo = std::string(ORDINAL_SOURCE_DIR) + "/models/zoo/task-nopos/";
  for (int i = 0; i < 3; ++i) {
    if (i != which && !ordinal::fuzz::copy_file(zoo + kFiles[i], model_dir() + kFiles[i])) std::abort();
  }
  if (!ordinal::fuzz::write_file(model_dir() + kFiles[which], data + 1, size - 1)) std::abort();
  if (which == 0) {
    (void)ordinal::importers::read_safetensors(model_dir() + kFiles[0]);
  }
  auto spec = ordinal::importers::import_safetensors(model_dir());
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
