// Integer-weight GEMV/GEMM throughput against the machine's single-core read bandwidth (Google Benchmark; not
// a test). Shapes are the 110M model's (dim 768, hidden 2048, vocab 32000): 768x768 (wq/wk/wv/wo), 2048x768
// (w1/w3), 768x2048 (w2), 32000x768 (classifier). Every layer is replicated until the copies exceed 256 MiB
// and the benchmark walks them in turn, so each call reads its weights from DRAM as a decode step does.
// Counters: bytes_per_second = weight (+ scale) bytes read per second; compare with read_bandwidth/* of the
// same run (a plain AVX2/NEON read loop over 256 MiB on one core). Prefill cases (/batch:N) run N tokens
// through one call; their figure is weight bytes per second (each row is read once per call).
// Run: build/tests/bench/ordinal_bench_integer [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "format/tensor_view.hpp"
#include "kernels/group_gemm.hpp"
#include "kernels/linear.hpp"
#include "quant/weights.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

using namespace ordinal;

namespace {

constexpr size_t kFootprint = size_t{256} << 20;

// ORDINAL_BENCH_WEIGHT_MB=N replicates each layer to N MiB instead (a small N keeps the weights in cache:
// the kernels' compute ceiling).
size_t weight_footprint() {
  const char* e = std::getenv("ORDINAL_BENCH_WEIGHT_MB");
  return e ? static_cast<size_t>(std::atol(e)) << 20 : kFootprint;
}

std::vector<float> random_weights(size_t n, uint32_t seed) {
  std::vector<float> w(n);
  uint32_t s = seed * 2654435761u + 1;
  for (float& v : w) {
    s = s * 1664525u + 1013904223u;
    v = (static_cast<float>(s >> 8) / 16777216.0f - 0.5f) * 0.1f;
  }
  return w;
}

// One quantized matrix stored the way a model file holds it, and views onto many copies of its bytes.
struct Replicated {
  std::vector<uint8_t> codes, scales, zeros;
  std::vector<float> f32_scales;
  std::vector<format::TensorView> views;
  std::vector<kernels::Linear> layers;
  size_t bytes_per_matrix = 0;
};

enum class Fmt { kInt8Row, kInt8G32, kInt4G32, kInt4G32Zero, kInt4G64 };

std::unique_ptr<Replicated> make(Fmt fmt, size_t rows, size_t cols) {
  auto r = std::make_unique<Replicated>();
  const std::vector<float> w = random_weights(rows * cols, static_cast<uint32_t>(rows + cols));
  size_t code_bytes = 0, scale_bytes = 0, zero_bytes = 0;
  format::TensorView v;
  v.name = "bench.w";
  v.rank = 2;
  v.shape[0] = static_cast<uint32_t>(rows);
  v.shape[1] = static_cast<uint32_t>(cols);
  std::vector<uint8_t> codes, scales, zeros;
  if (fmt == Fmt::kInt8Row) {
    quant::Int8Rows q = quant::quantize_rows_int8(w.data(), rows, cols);
    codes.assign(reinterpret_cast<uint8_t*>(q.q.data()), reinterpret_cast<uint8_t*>(q.q.data()) + q.q.size());
    scales.resize(rows * 4);
    std::memcpy(scales.data(), q.scales.data(), scales.size());
    v.dtype = format::DType::kI8;
    v.quant.granularity = format::QuantGranularity::kPerRow;
    v.quant.scale_dtype = format::DType::kF32;
    v.quant.scale_count = rows;
  } else {
    const size_t group = fmt == Fmt::kInt4G64 ? 64 : 32;
    const quant::GroupFormat gf = fmt == Fmt::kInt8G32       ? quant::GroupFormat::kInt8
                                  : fmt == Fmt::kInt4G32Zero ? quant::GroupFormat::kInt4Zero
                                                             : quant::GroupFormat::kInt4;
    quant::GroupQuantized q = quant::quantize_groups(w.data(), rows, cols, group, gf).value();
    codes = q.codes;
    scales.resize(q.scales.size() * 2);
    std::memcpy(scales.data(), q.scales.data(), scales.size());
    zeros = q.zero_points;
    v.dtype = gf == quant::GroupFormat::kInt8 ? format::DType::kI8 : format::DType::kI4;
    v.quant.granularity = format::QuantGranularity::kPerGroup;
    v.quant.group_size = static_cast<uint32_t>(group);
    v.quant.scale_dtype = format::DType::kF16;
    v.quant.scale_count = rows * (cols / group);
  }
  code_bytes = codes.size();
  scale_bytes = scales.size();
  zero_bytes = zeros.size();
  const size_t per = code_bytes + scale_bytes + zero_bytes;
  const size_t copies = weight_footprint() / per + 1;
  r->bytes_per_matrix = per;
  // 64-byte aligned slots as in a model file.
  auto round64 = [](size_t n) { return (n + 63) / 64 * 64; };
  const size_t slot = round64(code_bytes) + round64(scale_bytes) + round64(zero_bytes);
  r->codes.assign(copies * slot + 64, 0);
  uint8_t* base = r->codes.data() + (64 - reinterpret_cast<uintptr_t>(r->codes.data()) % 64) % 64;
  for (size_t c = 0; c < copies; ++c) {
    uint8_t* p = base + c * slot;
    std::memcpy(p, codes.data(), code_bytes);
    std::memcpy(p + round64(code_bytes), scales.data(), scale_bytes);
    if (zero_bytes) std::memcpy(p + round64(code_bytes) + round64(scale_bytes), zeros.data(), zero_bytes);
    format::TensorView cv = v;
    cv.data = p;
    cv.bytes = code_bytes;
    cv.quant.scales = p + round64(code_bytes);
    cv.quant.zero_points = zero_bytes ? p + round64(code_bytes) + round64(scale_bytes) : nullptr;
    r->views.push_back(cv);
    r->layers.push_back(kernels::Linear::create(cv, nullptr).value());
  }
  return r;
}

void BM_Linear(benchmark::State& state, Fmt fmt) {
  const size_t rows = static_cast<size_t>(state.range(0)), cols = static_cast<size_t>(state.range(1));
  const size_t batch = static_cast<size_t>(state.range(2));
  auto r = make(fmt, rows, cols);
  const std::vector<float> x = random_weights(batch * cols, 7);
  std::vector<float> y(batch * rows);
  kernels::LinearInput in;
  if (!in.reserve(batch, cols).ok()) state.SkipWithError("reserve failed");
  size_t i = 0;
  for (auto _ : state) {
    const kernels::Linear& l = r->layers[i++ % r->layers.size()];
    if (!l.run(in.bind(x.data(), batch, cols), y.data(), nullptr).ok()) state.SkipWithError("run failed");
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * r->layers[0].weight_bytes()));
  state.counters["tokens_per_call"] = static_cast<double>(batch);
  state.SetLabel(std::string("group path ") + kernels::group_path_name(kernels::group_gemm_path()));
}

// A plain read loop on one core: the bandwidth the GEMV figures are compared with.
void BM_ReadBandwidth(benchmark::State& state) {
  std::vector<uint64_t> buf(kFootprint / 8 + 8, 1);
  const uint64_t* p = buf.data() + (8 - reinterpret_cast<uintptr_t>(buf.data()) % 64 / 8) % 8;
  const size_t n = kFootprint / 8;
  uint64_t total = 0;
  for (auto _ : state) {
#if defined(__x86_64__)
    __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < n; i += 8) {
      a0 = _mm_add_epi64(a0, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i)));
      a1 = _mm_add_epi64(a1, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 2)));
      a2 = _mm_add_epi64(a2, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 4)));
      a3 = _mm_add_epi64(a3, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 6)));
    }
    const __m128i s = _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3));
    total += static_cast<uint64_t>(_mm_cvtsi128_si64(s));
#else
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (size_t i = 0; i < n; i += 4) {
      a0 += p[i];
      a1 += p[i + 1];
      a2 += p[i + 2];
      a3 += p[i + 3];
    }
    total += a0 + a1 + a2 + a3;
#endif
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kFootprint));
}

void shapes(benchmark::internal::Benchmark* b) {
  for (auto s : {std::pair<int, int>{768, 768}, {2048, 768}, {768, 2048}, {32000, 768}}) {
    b->Args({s.first, s.second, 1});
  }
  b->Args({2048, 768, 16});  // a prefill chunk of 16 tokens
  b->Args({2048, 768, 64});  // a 64-token prompt in one chunk (llama-bench pp64)
  b->ArgNames({"rows", "cols", "batch"});
  b->Unit(benchmark::kMicrosecond);
  b->MinTime(0.3);
}

}  // namespace

BENCHMARK(BM_ReadBandwidth)->Name("read_bandwidth/256MiB")->Unit(benchmark::kMillisecond)->MinTime(0.5);
BENCHMARK_CAPTURE(BM_Linear, int8_row, Fmt::kInt8Row)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Linear, int8_g32, Fmt::kInt8G32)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Linear, int4_g32, Fmt::kInt4G32)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Linear, int4_g32_zp, Fmt::kInt4G32Zero)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Linear, int4_g64, Fmt::kInt4G64)->Apply(shapes);

BENCHMARK_MAIN();
