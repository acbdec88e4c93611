// libFuzzer target for the model loader: any byte string is either rejected with a Status or loads into
// a model that then runs (exercise_model.hpp) without a crash. Build: cmake -DORDINAL_FUZZ=ON with clang
// (tools/fuzz.sh).
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "exercise_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Files are mapped page-aligned; give the loader the same alignment.
  void* buf = std::aligned_alloc(64, (size + 64) / 64 * 64);
  if (!buf) return 0;
  if (size > 0) std::memcpy(buf, data, size);
  auto model = ordinal::Model::load_from_buffer(buf, size);
  if (model.ok() && !ordinal::fuzz::exercise_model(model.value())) std::abort();
  std::free(buf);
  return 0;
}
