// Throughput of each SIMD primitive per path (scalar, NEON, SSE4.1, AVX2) on the sizes the runtime uses:
// head_dim 64 for dot/axpy (one q.k score, one value row), 64 pairs for RoPE, a 512-wide table row.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/simd.hpp"
#include "numerics/prng.hpp"
#include "numerics/trig_fixed.hpp"

using namespace ordinal::kernels;

namespace {

struct Data {
  std::vector<float> a, b, cf, sf;
  std::vector<int16_t> c16, s16, x16;
  std::vector<int8_t> x8;
  std::vector<uint8_t> packed;
  explicit Data(size_t n)
      : a(2 * n), b(2 * n), cf(n), sf(n), c16(n), s16(n), x16(2 * n), x8(2 * n), packed(n) {
    ordinal::numerics::SplitMix64 rng(1);
    for (size_t i = 0; i < 2 * n; ++i) {
      a[i] = static_cast<float>(rng.uniform01() - 0.5);
      b[i] = static_cast<float>(rng.uniform01() - 0.5);
      x16[i] = static_cast<int16_t>(rng.between(-20000, 20000));
      x8[i] = static_cast<int8_t>(rng.between(-90, 90));
    }
    for (size_t i = 0; i < n; ++i) {
      ordinal::numerics::sincos_q15(rng.next(), &s16[i], &c16[i]);
      cf[i] = c16[i] * 0x1p-15f;
      sf[i] = s16[i] * 0x1p-15f;
      packed[i] = static_cast<uint8_t>(rng.below(256));
    }
  }
};

template <typename F>
void run(benchmark::State& state, size_t n, F f) {
  for (auto _ : state) f();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

void register_all() {
  for (int i = 0; i < kIsaCount; ++i) {
    const Isa isa = static_cast<Isa>(i);
    if (!isa_supported(isa)) continue;
    const KernelTable* k = &kernels_for(isa);
    const std::string s = std::string("/") + isa_name(isa);
    auto reg = [&](const std::string& name, size_t n, auto body) {
      benchmark::RegisterBenchmark((name + s).c_str(), [n, body](benchmark::State& st) {
        Data d(n);
        run(st, n, [&] { body(d, n); });
      });
    };
    reg("dot_f32/64", 64,
        [k](Data& d, size_t n) { benchmark::DoNotOptimize(k->dot_f32(d.a.data(), d.b.data(), n)); });
    reg("axpy_f32/64", 64, [k](Data& d, size_t n) {
      k->axpy_f32(d.a.data(), 1e-3f, d.b.data(), n);
      benchmark::ClobberMemory();
    });
    reg("rope_f32_interleaved/64", 64, [k](Data& d, size_t n) {
      k->rotate_f32_interleaved(d.a.data(), d.cf.data(), d.sf.data(), n);
      benchmark::ClobberMemory();
    });
    reg("rope_f32_split/64", 64, [k](Data& d, size_t n) {
      k->rotate_f32_split(d.a.data(), d.a.data() + n, d.cf.data(), d.sf.data(), n);
      benchmark::ClobberMemory();
    });
    reg("rope_i16_q15_interleaved/64", 64, [k](Data& d, size_t n) {
      k->rotate_i16_q15_interleaved(d.x16.data(), d.c16.data(), d.s16.data(), n);
      benchmark::ClobberMemory();
    });
    reg("rope_i8_interleaved/64", 64, [k](Data& d, size_t n) {
      k->rotate_i8_interleaved(d.x8.data(), d.c16.data(), d.s16.data(), n);
      benchmark::ClobberMemory();
    });
    reg("dequant_i8_add/512", 512, [k](Data& d, size_t n) {
      k->dequant_i8(d.x8.data(), 0.01f, d.a.data(), n, true);
      benchmark::ClobberMemory();
    });
    reg("dequant_i4_add/512", 512, [k](Data& d, size_t n) {
      k->dequant_i4(d.packed.data(), 8, 8, 0.01f, d.a.data(), n, true);
      benchmark::ClobberMemory();
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
