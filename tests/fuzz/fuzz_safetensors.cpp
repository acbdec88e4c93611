// libFuzzer target for the safetensors importer (tools/importers/safetensors.cpp). The first byte picks the
// file the rest of the input replaces in a small valid model directory (models/zoo/task-nopos): 0 the
// safetensors file, 1 config.json, 2 tokenizer.json. Any input is imported or refused with a Status; what
// imports is serialized and loaded (no crash, no hang, no runaway allocation: -rss_limit_mb).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

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

// The three files of the valid model, read once.
const std::vector<uint8_t>& original(int i) {
  static const std::vector<std::vector<uint8_t>> files = [] {
    std::vector<std::vector<uint8_t>> f;
    for (const char* name : kFiles) {
      FILE* in =
          std::fopen((std::string(ORDINAL_SOURCE_DIR) + "/models/zoo/task-nopos/" + name).c_str(), "rb");
      if (!in) std::abort();
      std::vector<uint8_t> bytes;
      uint8_t buf[1 << 16];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, in)) > 0) bytes.insert(bytes.end(), buf, buf + n);
      std::fclose(in);
      f.push_back(std::move(bytes));
    }
    return f;
  }();
  return files[static_cast<size_t>(i)];
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int replaced = -1;  // which file the previous input replaced (-1: none written yet)
  if (size < 1) return 0;
  const int which = data[0] % 3;
  // Restore what the previous input replaced (on the first call: write every other file).
  for (int i = 0; i < 3; ++i) {
    if (i == which || (replaced >= 0 && replaced != i)) continue;
    const std::vector<uint8_t>& f = original(i);
    if (!ordinal::fuzz::write_file(model_dir() + kFiles[i], f.data(), f.size())) std::abort();
  }
  replaced = which;
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
