// FNV-1a 64-bit over exact integer outputs: the golden-hash fingerprint used by tests and tools/verify to
// check that integer kernels give identical bits on every architecture. Values are fed little-endian
// byte by byte, so the hash does not depend on host endianness.
#pragma once

#include <cstdint>

namespace ordinal::numerics {

class Fnv1a64 {
 public:
  static constexpr uint64_t kOffsetBasis = 0xcbf29ce484222325ull;
  static constexpr uint64_t kPrime = 0x100000001b3ull;

  void add_byte(uint8_t b) { state_ = (state_ ^ b) * kPrime; }
  void add_u64(uint64_t v, int bytes = 8) {
    for (int i = 0; i < bytes; ++i) add_byte(static_cast<uint8_t>(v >> (8 * i)));
  }
  void add_i8(int8_t v) { add_byte(static_cast<uint8_t>(v)); }
  void add_i16(int16_t v) { add_u64(static_cast<uint16_t>(v), 2); }
  void add_i32(int32_t v) { add_u64(static_cast<uint32_t>(v), 4); }
  void add_i64(int64_t v) { add_u64(static_cast<uint64_t>(v), 8); }
  void add_u32(uint32_t v) { add_u64(v, 4); }
  uint64_t value() const { return state_; }

 private:
  uint64_t state_ = kOffsetBasis;
};

}  // namespace ordinal::numerics
