// libFuzzer target for the model loader: any byte string is either rejected with a Status or loads into
// a model that then runs a few decode steps. Build: cmake -DORDINAL_FUZZ=ON with clang (see tools/fuzz.sh).
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ordinal/runtime.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Files are mapped page-aligned; give the loader the same alignment.
  void* buf = std::aligned_alloc(64, (size + 64) / 64 * 64);
  if (!buf) return 0;
  std::memcpy(buf, data, size);
  auto model = ordinal::Model::load_from_buffer(buf, size);
  if (model.ok()) {
    ordinal::SessionOptions so;
    so.threads = 1;
    so.context_length = 8;
    auto session = ordinal::Session::create(model.value(), so);
    if (session.ok()) {
      const int32_t vocab = static_cast<int32_t>(model.value()->config().vocab_size);
      for (int32_t t : {1, 5, 70}) {
        if (!session.value()->decode(t % vocab).ok()) break;
      }
    }
  }
  std::free(buf);
  return 0;
}
