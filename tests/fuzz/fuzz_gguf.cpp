// libFuzzer target for the GGUF importer: any byte string is either refused with a Status, or imports into
// a model spec that serialises, and whatever the loader then accepts runs (exercise_model.hpp) without a
// crash. Build: cmake -DORDINAL_FUZZ=ON with clang (tools/fuzz.sh); seeds: tests/fuzz/seeds/gguf.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "exercise_model.hpp"
#include "importers/gguf.hpp"
#include "importers/gguf_file.hpp"
#include "modelio/model_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = ordinal::importers::gguf::parse(data, size, "fuzz.gguf");
  if (!file.ok()) return 0;
  auto imported = ordinal::importers::import_gguf_file(file.value(), "fuzz.gguf");
  if (!imported.ok()) return 0;
  auto image = ordinal::modelio::serialize_model(imported.value().spec);
  if (!image.ok()) return 0;
  // Files are mapped page-aligned; give the loader the same alignment.
  const std::vector<uint8_t>& bytes = image.value();
  void* buf = std::aligned_alloc(64, (bytes.size() + 64) / 64 * 64);
  if (!buf) return 0;
  std::memcpy(buf, bytes.data(), bytes.size());
  auto model = ordinal::Model::load_from_buffer(buf, bytes.size());
  if (model.ok() && !ordinal::fuzz::exercise_model(model.value())) std::abort();
  std::free(buf);
  return 0;
}
