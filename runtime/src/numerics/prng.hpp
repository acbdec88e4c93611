// Deterministic PRNG (SplitMix64) with integer-only derivations. std:: distributions are avoided on purpose:
// their output differs between libstdc++, libc++ and MSVC, and seeded tests/k-means must reproduce
// everywhere.
#pragma once

#include <cstdint>

namespace ordinal::numerics {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound) for bound >= 1, by rejection (no modulo bias).
  uint64_t below(uint64_t bound) {
    const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    uint64_t r;
    do {
      r = next();
    } while (r >= limit);
    return r % bound;
  }
  // Uniform in [lo, hi] inclusive, for lo <= hi and hi - lo < 2^63.
  int64_t between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1u));
  }
  // Uniform double in [0, 1) with 53 random bits (exact integer -> double conversion, then exact scaling).
  double uniform01() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }

 private:
  uint64_t state_;
};

}  // namespace ordinal::numerics
