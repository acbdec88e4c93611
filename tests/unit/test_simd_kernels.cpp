// Every SIMD path the build holds and the CPU runs (NEON, SSE4.1, AVX2) against the scalar definitions,
// bit for bit, on random inputs of every length from 0 to 67 (all tails) and a few long ones; the scalar
// dot product against the canonical order written out independently here. Under qemu this covers NEON.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/simd.hpp"
#include "kernels/vector_ops.hpp"
#include "numerics/prng.hpp"
#include "numerics/strict_float.hpp"
#include "numerics/trig_fixed.hpp"

using namespace ordinal::kernels;
using ordinal::numerics::SplitMix64;

namespace {

std::vector<size_t> lengths() {
  std::vector<size_t> n;
  for (size_t i = 0; i <= 67; ++i) n.push_back(i);
  for (size_t i : {127, 128, 129, 255, 1000, 4099}) n.push_back(i);
  return n;
}

// Finite floats over many binades (|x| in [2^-20, 2^6)), both signs, with the odd exact zero.
std::vector<float> random_floats(SplitMix64& rng, size_t n) {
  std::vector<float> v(n);
  for (auto& x : v) {
    const double mag = rng.uniform01() * std::ldexp(1.0, static_cast<int>(rng.between(-20, 5)));
    x = rng.below(64) == 0 ? 0.0f : static_cast<float>(rng.below(2) ? mag : -mag);
  }
  return v;
}

// Q15 (cos, sin) of random angles, as the RoPE kernels get them.
void random_sincos(SplitMix64& rng, size_t n, std::vector<int16_t>* c, std::vector<int16_t>* s) {
  c->resize(n);
  s->resize(n);
  for (size_t i = 0; i < n; ++i) ordinal::numerics::sincos_q15(rng.next(), &(*s)[i], &(*c)[i]);
}

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

std::vector<Isa> simd_paths() {
  std::vector<Isa> paths;
  for (int i = 1; i < kIsaCount; ++i) {
    const Isa isa = static_cast<Isa>(i);
    if (isa_supported(isa)) paths.push_back(isa);
  }
  return paths;
}

}  // namespace

TEST_CASE("the SIMD paths this CPU runs, and the one in use") {
  std::string list;
  for (Isa isa : simd_paths()) list += std::string(" ") + isa_name(isa);
  MESSAGE("SIMD paths tested:" << (list.empty() ? std::string(" none (scalar only)") : list)
                               << "; active: " << std::string(isa_name(active_isa())));
#if defined(__aarch64__)
  CHECK(isa_supported(Isa::kNeon));  // base ISA: always there, whatever cpuinfo says under qemu
#endif
#if defined(__x86_64__)
  CHECK(isa_compiled(Isa::kSse41));
  CHECK(isa_compiled(Isa::kAvx2));
#endif
  CHECK(active_kernels().isa == active_isa());
  CHECK(kernels_for(Isa::kScalar).isa == Isa::kScalar);
}

TEST_CASE("scalar dot product follows the documented canonical order") {
  SplitMix64 rng(7);
  for (size_t n : lengths()) {
    const std::vector<float> a = random_floats(rng, n), b = random_floats(rng, n);
    float p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      for (int l = 0; l < 8; ++l) {
        const float prod = a[i + l] * b[i + l];
        p[l] = p[l] + prod;
      }
    }
    float t[4];
    for (int l = 0; l < 4; ++l) t[l] = p[l] + p[l + 4];
    const float u0 = t[0] + t[2], u1 = t[1] + t[3];
    float s = u0 + u1;
    for (; i < n; ++i) {
      const float prod = a[i] * b[i];
      s = s + prod;
    }
    REQUIRE_MESSAGE(bits(scalar::dot_f32(a.data(), b.data(), n)) == bits(s), "n = " << n);
    REQUIRE(bits(dot_f32(a.data(), b.data(), n)) == bits(s));  // the dispatched entry point too
  }
}

TEST_CASE("f32 dot product and axpy: every SIMD path gives the scalar bits") {
  SplitMix64 rng(11);
  for (Isa isa : simd_paths()) {
    const KernelTable& k = kernels_for(isa);
    for (size_t n : lengths()) {
      const std::vector<float> a = random_floats(rng, n + 3), b = random_floats(rng, n + 3);
      for (size_t offset : {0, 1, 3}) {  // unaligned starts
        const float want = scalar::dot_f32(a.data() + offset, b.data() + offset, n);
        REQUIRE_MESSAGE(bits(k.dot_f32(a.data() + offset, b.data() + offset, n)) == bits(want),
                        std::string(isa_name(isa)) << " n = " << n << " offset " << offset);
      }
      const float alpha = random_floats(rng, 1)[0];
      std::vector<float> y = random_floats(rng, n), y_ref = y;
      k.axpy_f32(y.data(), alpha, a.data() + 1, n);
      scalar::axpy_f32(y_ref.data(), alpha, a.data() + 1, n);
      REQUIRE_MESSAGE(same_bits(y, y_ref), std::string(isa_name(isa)) << " axpy n = " << n);
    }
  }
}

TEST_CASE(
    "RoPE rotations (f32, int16 Q15, int8; split and interleaved): every SIMD path gives the scalar bits") {
  SplitMix64 rng(13);
  for (Isa isa : simd_paths()) {
    const KernelTable& k = kernels_for(isa);
    for (size_t n : lengths()) {
      std::vector<int16_t> c16, s16;
      random_sincos(rng, n, &c16, &s16);
      std::vector<float> cf(n), sf(n);
      for (size_t i = 0; i < n; ++i) {
        cf[i] = static_cast<float>(c16[i]) * 0x1p-15f;
        sf[i] = static_cast<float>(s16[i]) * 0x1p-15f;
      }
      // f32
      std::vector<float> v = random_floats(rng, 2 * n), v_ref = v;
      k.rotate_f32_split(v.data(), v.data() + n, cf.data(), sf.data(), n);
      scalar::rotate_f32_split(v_ref.data(), v_ref.data() + n, cf.data(), sf.data(), n);
      REQUIRE_MESSAGE(same_bits(v, v_ref), std::string(isa_name(isa)) << " f32 split n = " << n);
      k.rotate_f32_interleaved(v.data(), cf.data(), sf.data(), n);
      scalar::rotate_f32_interleaved(v_ref.data(), cf.data(), sf.data(), n);
      REQUIRE_MESSAGE(same_bits(v, v_ref), std::string(isa_name(isa)) << " f32 interleaved n = " << n);
      // int16, including the extremes of the range
      std::vector<int16_t> x(2 * n);
      for (auto& e : x) {
        e = static_cast<int16_t>(rng.below(8) == 0 ? (rng.below(2) ? 32767 : -32768)
                                                   : rng.between(-32768, 32767));
      }
      std::vector<int16_t> x_ref = x;
      k.rotate_i16_q15_split(x.data(), x.data() + n, c16.data(), s16.data(), n);
      scalar::rotate_i16_q15_split(x_ref.data(), x_ref.data() + n, c16.data(), s16.data(), n);
      REQUIRE_MESSAGE(same_bits(x, x_ref), std::string(isa_name(isa)) << " int16 split n = " << n);
      k.rotate_i16_q15_interleaved(x.data(), c16.data(), s16.data(), n);
      scalar::rotate_i16_q15_interleaved(x_ref.data(), c16.data(), s16.data(), n);
      REQUIRE_MESSAGE(same_bits(x, x_ref), std::string(isa_name(isa)) << " int16 interleaved n = " << n);
      // int8, full range (saturates at some angles)
      std::vector<int8_t> q(2 * n);
      for (auto& e : q) e = static_cast<int8_t>(rng.between(-128, 127));
      std::vector<int8_t> q_ref = q;
      k.rotate_i8_split(q.data(), q.data() + n, c16.data(), s16.data(), n);
      scalar::rotate_i8_split(q_ref.data(), q_ref.data() + n, c16.data(), s16.data(), n);
      REQUIRE_MESSAGE(same_bits(q, q_ref), std::string(isa_name(isa)) << " int8 split n = " << n);
      k.rotate_i8_interleaved(q.data(), c16.data(), s16.data(), n);
      scalar::rotate_i8_interleaved(q_ref.data(), c16.data(), s16.data(), n);
      REQUIRE_MESSAGE(same_bits(q, q_ref), std::string(isa_name(isa)) << " int8 interleaved n = " << n);
    }
  }
}

TEST_CASE("int8 / int4 dequantization (store and accumulate): every SIMD path gives the scalar bits") {
  SplitMix64 rng(17);
  for (Isa isa : simd_paths()) {
    const KernelTable& k = kernels_for(isa);
    for (size_t n : lengths()) {
      std::vector<int8_t> q(n);
      for (auto& e : q) e = static_cast<int8_t>(rng.between(-128, 127));
      std::vector<uint8_t> packed((n + 1) / 2);
      for (auto& e : packed) e = static_cast<uint8_t>(rng.below(256));
      const std::vector<float> scales = random_floats(rng, n);
      const float scale = static_cast<float>(rng.uniform01() * 0.02 + 1e-6);
      for (bool accumulate : {false, true}) {
        const std::vector<float> init = random_floats(rng, n);
        std::vector<float> out = init, ref = init;
        k.dequant_i8(q.data(), scale, out.data(), n, accumulate);
        scalar::dequant_i8(q.data(), scale, ref.data(), n, accumulate);
        REQUIRE_MESSAGE(same_bits(out, ref), std::string(isa_name(isa))
                                                 << " i8 n = " << n << " acc " << accumulate);
        out = init;
        ref = init;
        k.dequant_i8_scales(q.data(), scales.data(), out.data(), n, accumulate);
        scalar::dequant_i8_scales(q.data(), scales.data(), ref.data(), n, accumulate);
        REQUIRE_MESSAGE(same_bits(out, ref), std::string(isa_name(isa)) << " i8 per-column n = " << n);
        // signed codes, then unsigned codes with zero points 0, 8, 15 and 255
        const uint8_t flips[] = {8, 0, 0, 0, 0};
        const int32_t zeros[] = {8, 0, 8, 15, 255};
        for (int z = 0; z < 5; ++z) {
          out = init;
          ref = init;
          k.dequant_i4(packed.data(), flips[z], zeros[z], scale, out.data(), n, accumulate);
          scalar::dequant_i4(packed.data(), flips[z], zeros[z], scale, ref.data(), n, accumulate);
          REQUIRE_MESSAGE(same_bits(out, ref), std::string(isa_name(isa))
                                                   << " i4 n = " << n << " zero " << zeros[z]);
        }
      }
    }
  }
}

TEST_CASE(
    "low-rank row (axpy_i8_rows): every SIMD path gives the scalar bits, which are the per-component "
    "dequant + axpy") {
  SplitMix64 rng(23);
  for (Isa isa : simd_paths()) {
    const KernelTable& k = kernels_for(isa);
    for (size_t n : lengths()) {
      for (size_t rank : {size_t{1}, size_t{3}, size_t{4}, size_t{16}}) {
        std::vector<std::vector<int8_t>> rows(rank, std::vector<int8_t>(n));
        std::vector<const int8_t*> q(rank);
        for (size_t r = 0; r < rank; ++r) {
          for (auto& e : rows[r]) e = static_cast<int8_t>(rng.between(-128, 127));
          q[r] = rows[r].data();
        }
        const std::vector<float> c = random_floats(rng, rank);
        std::vector<float> s(rank);
        for (auto& e : s) e = static_cast<float>(rng.uniform01() * 0.02 + 1e-6);
        const std::vector<float> init = random_floats(rng, n);
        std::vector<float> out = init, ref = init, two_step = init, tmp(n);
        k.axpy_i8_rows(out.data(), n, q.data(), c.data(), s.data(), rank);
        scalar::axpy_i8_rows(ref.data(), n, q.data(), c.data(), s.data(), rank);
        REQUIRE_MESSAGE(same_bits(out, ref), std::string(isa_name(isa)) << " n = " << n << " rank " << rank);
        for (size_t r = 0; r < rank; ++r) {  // what the low-rank tables did before: dequantize, then axpy
          scalar::dequant_i8(q[r], s[r], tmp.data(), n, false);
          scalar::axpy_f32(two_step.data(), c[r], tmp.data(), n);
        }
        REQUIRE_MESSAGE(same_bits(ref, two_step), "n = " << n << " rank " << rank);
      }
    }
  }
}

TEST_CASE("int4 codes: signed nibbles are (n ^ 8) - 8, unsigned ones n - zero, low nibble first") {
  const uint8_t packed[] = {0x8f, 0x70};  // elements: 15, 8, 0, 7
  float out[4];
  scalar::dequant_i4(packed, 8, 8, 1.0f, out, 4, false);
  CHECK(out[0] == -1.0f);
  CHECK(out[1] == -8.0f);
  CHECK(out[2] == 0.0f);
  CHECK(out[3] == 7.0f);
  scalar::dequant_i4(packed, 0, 3, 0.5f, out, 4, false);
  CHECK(out[0] == 6.0f);
  CHECK(out[1] == 2.5f);
  CHECK(out[2] == -1.5f);
  CHECK(out[3] == 2.0f);
}
