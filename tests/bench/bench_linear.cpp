// Dense linear kernels against the machine's read bandwidth, measured in the same run (Google Benchmark):
//   linear/read_loop         a plain vector sum over the weights: the bandwidth a GEMV can reach
//   linear/gemv_f32/<isa>    y = W x at the 110M shape's row length (768), W streamed from memory
//   linear/gemv_f16/<isa>    the same weights as f16 (half the bytes; bytes_per_second counts them)
//   linear/gemm_f32/<isa>    a 32-token prefill chunk against W [2048, 768] (items = multiply-adds)
// W is 256 MiB (f32), far beyond any last-level cache, so GEMV and the read loop stream from DRAM.
// Compare gemv bytes_per_second with read_loop's: the 110M target is >= 90 % at one thread.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/dense_gemm.hpp"
#include "numerics/half.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

using namespace ordinal;
using namespace ordinal::kernels;

namespace {

constexpr size_t kCols = 768;
constexpr size_t kRows = (size_t{256} << 20) / (kCols * sizeof(float));

// Model files align every tensor to 64 bytes (a cache line): so do these buffers (16-byte aligned ones
// split every other 32-byte load across two lines; the GEMM below measured 34-36 G multiply-adds per
// CPU-second on them against 47 aligned).
template <typename T>
T* aligned64(std::vector<T>& v) {
  const uintptr_t p = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<T*>((p + 63) & ~uintptr_t{63});
}

const std::vector<float>& weights_f32_storage() {
  static const std::vector<float> w = [] {
    std::vector<float> v(kRows * kCols + 16);
    uint32_t s = 12345;
    for (float& x : v) {
      s = s * 1664525u + 1013904223u;
      x = static_cast<float>(static_cast<int32_t>(s >> 8) - (1 << 23)) * (1.0f / (1 << 28));
    }
    return v;
  }();
  return w;
}

const float* weights_f32() {
  return aligned64(const_cast<std::vector<float>&>(weights_f32_storage()));
}

const uint16_t* weights_f16() {
  static std::vector<uint16_t> h = [] {
    const float* w = weights_f32();
    std::vector<uint16_t> v(kRows * kCols + 32);
    uint16_t* out = aligned64(v);
    for (size_t i = 0; i < kRows * kCols; ++i) out[i] = numerics::float_to_half(w[i]);
    return v;
  }();
  return aligned64(h);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) float read_sum_avx2(const float* p, size_t n) {
  __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
  for (size_t i = 0; i + 32 <= n; i += 32) {
    a = _mm256_add_ps(a, _mm256_loadu_ps(p + i));
    b = _mm256_add_ps(b, _mm256_loadu_ps(p + i + 8));
    c = _mm256_add_ps(c, _mm256_loadu_ps(p + i + 16));
    d = _mm256_add_ps(d, _mm256_loadu_ps(p + i + 24));
  }
  float t[8];
  _mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif

float read_sum(const float* p, size_t n) {
#if defined(__x86_64__) || defined(__i386__)
  if (isa_supported(Isa::kAvx2)) return read_sum_avx2(p, n);
#endif
  float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) a[j] += p[i + j];
  return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

void BM_ReadLoop(benchmark::State& state) {
  const float* w = weights_f32();
  for (auto _ : state) benchmark::DoNotOptimize(read_sum(w, kRows * kCols));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRows * kCols * sizeof(float)));
}

void BM_Gemv(benchmark::State& state, const DenseGemmKernels* k, bool f16) {
  const void* w = f16 ? static_cast<const void*>(weights_f16()) : weights_f32();
  std::vector<float> x(kCols, 0.5f), y(kRows);
  const DenseRowsFn fn = f16 ? k->f16_rows : k->f32_rows;
  for (auto _ : state) {
    fn(w, kRows, kCols, x.data(), 1, nullptr, 0, kRows, y.data(), kRows);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * kRows * kCols * (f16 ? sizeof(uint16_t) : sizeof(float))));
}

void BM_Gemm(benchmark::State& state, const DenseGemmKernels* k) {
  constexpr size_t kOut = 2048, kBatch = 32;
  const float* w = weights_f32();
  std::vector<float> x(kBatch * kCols, 0.5f), y(kBatch * kOut);
  for (auto _ : state) {
    k->f32_rows(w, kOut, kCols, x.data(), kBatch, nullptr, 0, kOut, y.data(), kOut);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kOut * kCols * kBatch));
}

void register_all() {
  benchmark::RegisterBenchmark("linear/read_loop", BM_ReadLoop)->Unit(benchmark::kMillisecond);
  for (int i = 0; i < kIsaCount; ++i) {
    const DenseGemmKernels* k = dense_gemm_kernels_for(static_cast<Isa>(i));
    if (k == nullptr) continue;
    const std::string name = k->name;
    benchmark::RegisterBenchmark(("linear/gemv_f32/" + name).c_str(), BM_Gemv, k, false)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("linear/gemv_f16/" + name).c_str(), BM_Gemv, k, true)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("linear/gemm_f32/" + name).c_str(), BM_Gemm, k)
        ->Unit(benchmark::kMillisecond);
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
