// libFuzzer target for the task-spec path of `ordinal verify` (tools/verify/tasks.cpp): any text is parsed
// and validated against a 64-token vocabulary, or refused; every case a valid spec describes (training
// lengths, 1.5x and 2x extrapolation) is generated with in-vocabulary ids and bounded lengths.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "verify/verify.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto spec = ordinal::verify::parse_task_spec(text, 64);
  if (!spec.ok()) return 0;
  uint64_t state = 1;
  for (const ordinal::verify::TaskDef& t : spec.value().tasks) {
    for (int64_t n : {int64_t{0}, (3 * t.max_len + 1) / 2, 2 * t.max_len}) {
      const ordinal::verify::TaskCase c = ordinal::verify::make_task_case(spec.value(), t, n, &state);
      if (c.prompt.size() > 3 * size_t{8192}) std::abort();
      for (int32_t id : c.prompt) {
        if (id < 0 || id >= 64) std::abort();
      }
      for (int32_t id : c.answer) {
        if (id < 0 || id >= 64) std::abort();
      }
    }
  }
  return 0;
}
