// Positional kernel throughput (Google Benchmark; not a test): RoPE with the llama2.c-style f32 reference
// angles vs exact-phase f32/Q15/Q31 sin/cos (and the integer int16/int8 rotations), sinusoidal rows, and
// position-table dequantization for every stored format, codebook and low-rank tables, through both the
// positional library (table_dequant.hpp) and the runtime's per-token path (kernels::dequantize_row), and the
// positional modules' add_to_embedding hook (learned f32/int8 against hybrid tables).
// Throughput is reported as items_per_second = elements (floats produced or rotated) per second.
// Run: tools/bench.sh, or build-bench/tests/bench/ordinal_bench_kernels --benchmark_out=k.json
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "format/tensor_view.hpp"
#include "kernels/linear.hpp"
#include "model_data.hpp"
#include "positional/rope_fixed.hpp"
#include "positional/scheme.hpp"
#include "positional/sinusoidal.hpp"
#include "quant/codebook.hpp"
#include "quant/hybrid.hpp"
#include "quant/lowrank.hpp"
#include "quant/rope_frequencies.hpp"
#include "quant/table_dequant.hpp"
#include "quant/table_quantizers.hpp"

using namespace ordinal;

namespace {

constexpr int kHeads = 8, kHeadDim = 64;  // one token's q (or k) of a small model: 512 elements
constexpr int kRows = 1024, kCols = 512;  // a learned position table [positions, dim]

std::vector<float> random_floats(size_t n, uint64_t seed, float scale = 1.0f) {
  std::vector<float> v(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& x : v) {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    x = (static_cast<float>((s * 0x2545F4914F6CDD1Dull) >> 40) / 16777216.0f * 2.0f - 1.0f) * scale;
  }
  return v;
}

// A smooth table like a trained one (so codebook and low rank are meaningful).
const std::vector<float>& table() {
  static const std::vector<float> t = [] {
    std::vector<float> v(size_t{kRows} * kCols);
    const std::vector<float> noise = random_floats(v.size(), 3, 0.02f);
    for (int p = 0; p < kRows; ++p) {
      for (int c = 0; c < kCols; ++c) {
        v[static_cast<size_t>(p) * kCols + c] =
            0.1f * std::sin(p * (0.001f + 0.0005f * c)) + noise[static_cast<size_t>(p) * kCols + c];
      }
    }
    return v;
  }();
  return t;
}

const std::vector<uint64_t>& rope_turns() {
  static const std::vector<uint64_t> f = quant::rope_frequencies(kHeadDim, 10000.0).value().turns;
  return f;
}

positional::RopeShape rope_shape() {
  positional::RopeShape s;
  s.head_dim = kHeadDim;
  s.rotary_dims = kHeadDim;
  s.freqs = rope_turns().data();
  return s;
}

void BM_RopeF32Reference(benchmark::State& state) {
  std::vector<float> heads = random_floats(kHeads * kHeadDim, 1);
  std::vector<float> radians(kHeadDim / 2);
  for (int j = 0; j < kHeadDim / 2; ++j) radians[j] = 1.0f / std::pow(10000.0f, 2.0f * j / kHeadDim);
  int64_t pos = 0;
  for (auto _ : state) {
    positional::rope_rotate_f32_reference(heads.data(), kHeads, kHeadDim, kHeadDim,
                                          positional::RopeLayout::kInterleaved, radians.data(), pos++ & 4095);
    benchmark::DoNotOptimize(heads.data());
  }
  state.SetItemsProcessed(state.iterations() * kHeads * kHeadDim);
}
BENCHMARK(BM_RopeF32Reference)->Name("rope/f32_reference");

void BM_RopeExact(benchmark::State& state, positional::RopePrecision precision) {
  std::vector<float> heads = random_floats(kHeads * kHeadDim, 1);
  const positional::RopeShape shape = rope_shape();
  int64_t pos = 0;
  for (auto _ : state) {
    (void)positional::rope_rotate_f32(heads.data(), kHeads, shape, pos++ & 4095, precision);
    benchmark::DoNotOptimize(heads.data());
  }
  state.SetItemsProcessed(state.iterations() * kHeads * kHeadDim);
}
BENCHMARK_CAPTURE(BM_RopeExact, f32, positional::RopePrecision::kF32)->Name("rope/f32_exact_phase");
BENCHMARK_CAPTURE(BM_RopeExact, q15, positional::RopePrecision::kQ15)->Name("rope/q15");
BENCHMARK_CAPTURE(BM_RopeExact, q31, positional::RopePrecision::kQ31)->Name("rope/q31");

void BM_RopeInt16(benchmark::State& state) {
  std::vector<int16_t> heads(kHeads * kHeadDim);
  const std::vector<float> r = random_floats(heads.size(), 2, 4000.0f);
  for (size_t i = 0; i < heads.size(); ++i) heads[i] = static_cast<int16_t>(r[i]);
  const positional::RopeShape shape = rope_shape();
  int64_t pos = 0;
  for (auto _ : state) {
    (void)positional::rope_rotate_int16(heads.data(), kHeads, shape, pos++ & 4095,
                                        positional::RopePrecision::kQ15);
    benchmark::DoNotOptimize(heads.data());
  }
  state.SetItemsProcessed(state.iterations() * kHeads * kHeadDim);
}
BENCHMARK(BM_RopeInt16)->Name("rope/int16_q15");

void BM_RopeInt8(benchmark::State& state) {
  std::vector<int8_t> heads(kHeads * kHeadDim);
  const std::vector<float> r = random_floats(heads.size(), 2, 80.0f);
  for (size_t i = 0; i < heads.size(); ++i) heads[i] = static_cast<int8_t>(r[i]);
  const positional::RopeShape shape = rope_shape();
  int64_t pos = 0;
  for (auto _ : state) {
    (void)positional::rope_rotate_int8(heads.data(), kHeads, shape, pos++ & 4095);
    benchmark::DoNotOptimize(heads.data());
  }
  state.SetItemsProcessed(state.iterations() * kHeads * kHeadDim);
}
BENCHMARK(BM_RopeInt8)->Name("rope/int8_q15");

void BM_Sinusoidal(benchmark::State& state, positional::RopePrecision precision) {
  static const std::vector<uint64_t> f = quant::sinusoidal_frequencies(kCols).value().turns;
  std::vector<float> x(kCols, 0.0f);
  int64_t pos = 0;
  for (auto _ : state) {
    if (precision == positional::RopePrecision::kF32) {
      (void)positional::add_sinusoidal_f32(x.data(), kCols, pos++ & 4095, 10000.0);
    } else {
      (void)positional::add_sinusoidal_fixed(x.data(), kCols, pos++ & 4095, f.data(), precision);
    }
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * kCols);
}
BENCHMARK_CAPTURE(BM_Sinusoidal, f32, positional::RopePrecision::kF32)->Name("sinusoidal/f32");
BENCHMARK_CAPTURE(BM_Sinusoidal, q15, positional::RopePrecision::kQ15)->Name("sinusoidal/q15");
BENCHMARK_CAPTURE(BM_Sinusoidal, q31, positional::RopePrecision::kQ31)->Name("sinusoidal/q31");

// ---- table dequantization ----

struct Format {
  const char* name;
  quant::RowFormat format;
  int group;
};
const Format kFormats[] = {
    {"f32", quant::RowFormat::kF32, 0},
    {"f16", quant::RowFormat::kF16, 0},
    {"int8_row_f32scale", quant::RowFormat::kInt8RowF32Scale, 0},
    {"int8_row_f16scale", quant::RowFormat::kInt8RowF16Scale, 0},
    {"int8_col", quant::RowFormat::kInt8Col, 0},
    {"int4_g32", quant::RowFormat::kInt4Group, 32},
    {"int4_g32_zp_u8", quant::RowFormat::kInt4GroupZpU8, 32},
    {"int4_g32_zp_u4", quant::RowFormat::kInt4GroupZpU4, 32},
};

const quant::QuantizedTable& quantized(quant::RowFormat format, int group) {
  static std::vector<std::pair<int, quant::QuantizedTable>> cache;
  for (auto& [f, t] : cache) {
    if (f == static_cast<int>(format)) return t;
  }
  cache.emplace_back(static_cast<int>(format),
                     quant::quantize_table(table().data(), kRows, kCols, format, group).value());
  return cache.back().second;
}

// Rows visited in a scattered order, as positions of different sessions would be.
int64_t next_row(int64_t i) {
  return (i * 7919) % kRows;
}

void BM_TableRow(benchmark::State& state, quant::RowFormat format, int group) {
  const quant::QuantizedTable& q = quantized(format, group);
  const quant::RowTable view = q.view();
  std::vector<float> x(kCols, 0.0f);
  int64_t i = 0;
  for (auto _ : state) {
    (void)quant::add_row(view, next_row(i++), x.data());
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * kCols);
  state.counters["table_bytes"] = static_cast<double>(q.bytes());
}

// The runtime's per-token path: kernels::dequantize_row on the tensor as the loader describes it.
format::TensorView tensor_view(const quant::QuantizedTable& q) {
  format::TensorView v;
  v.name = "bench";
  v.rank = 2;
  v.shape[0] = static_cast<uint32_t>(q.rows);
  v.shape[1] = static_cast<uint32_t>(q.cols);
  v.data = q.data.data();
  v.bytes = q.data.size();
  format::QuantView& qv = v.quant;
  qv.scales = q.scales.empty() ? nullptr : q.scales.data();
  switch (q.format) {
    case quant::RowFormat::kF32:
      v.dtype = format::DType::kF32;
      break;
    case quant::RowFormat::kF16:
      v.dtype = format::DType::kF16;
      break;
    case quant::RowFormat::kInt8RowF32Scale:
    case quant::RowFormat::kInt8RowF16Scale:
      v.dtype = format::DType::kI8;
      qv.granularity = format::QuantGranularity::kPerRow;
      qv.scale_dtype =
          q.format == quant::RowFormat::kInt8RowF16Scale ? format::DType::kF16 : format::DType::kF32;
      qv.scale_count = static_cast<uint64_t>(q.rows);
      break;
    case quant::RowFormat::kInt8Col:
      v.dtype = format::DType::kI8;
      qv.granularity = format::QuantGranularity::kPerColumn;
      qv.scale_count = static_cast<uint64_t>(q.cols);
      break;
    default:
      v.dtype = format::DType::kI4;
      qv.granularity = format::QuantGranularity::kPerGroup;
      qv.group_size = static_cast<uint32_t>(q.group);
      qv.scale_dtype = format::DType::kF16;
      qv.scale_count = static_cast<uint64_t>(q.rows) * (q.cols / q.group);
      qv.zero_points = q.zero_points.empty() ? nullptr : q.zero_points.data();
      break;
  }
  return v;
}

void BM_RuntimeRow(benchmark::State& state, quant::RowFormat format, int group) {
  const quant::QuantizedTable& q = quantized(format, group);
  const format::TensorView v = tensor_view(q);
  std::vector<float> x(kCols, 0.0f);
  int64_t i = 0;
  for (auto _ : state) {
    kernels::dequantize_row(v, static_cast<uint32_t>(next_row(i++)), x.data());
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * kCols);
}

// Codebook: K f32 codewords, one u8/u16 index per position.
void BM_Codebook(benchmark::State& state) {
  quant::CodebookOptions o;
  o.k = static_cast<int>(state.range(0));
  o.max_iterations = 5;
  const quant::Codebook cb = quant::build_codebook(table().data(), kRows, kCols, o).value();
  const quant::CodebookTable view = cb.view();
  std::vector<float> x(kCols, 0.0f);
  int64_t i = 0;
  for (auto _ : state) {
    (void)quant::add_row_codebook(view, next_row(i++), x.data());
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * kCols);
  state.counters["table_bytes"] = static_cast<double>(cb.bytes());
}
BENCHMARK(BM_Codebook)->Name("table_dequant/codebook_f32")->Arg(64)->Arg(512);

// Low rank: row p = A[p] . B, rank r.
void BM_LowRank(benchmark::State& state, quant::LowRankFormat format) {
  const quant::LowRankFactors f =
      quant::lowrank_factorize(table().data(), kRows, kCols, static_cast<int>(state.range(0)), 8).value();
  const quant::LowRankTable view = f.view(format);
  std::vector<float> x(kCols, 0.0f);
  int64_t i = 0;
  for (auto _ : state) {
    (void)quant::add_row_lowrank(view, next_row(i++), x.data());
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * kCols);
  state.counters["table_bytes"] = static_cast<double>(quant::lowrank_table_bytes(view));
}
BENCHMARK_CAPTURE(BM_LowRank, f32, quant::LowRankFormat::kF32)->Name("table_dequant/lowrank_f32")->Arg(16);
BENCHMARK_CAPTURE(BM_LowRank, int8, quant::LowRankFormat::kInt8Row)
    ->Name("table_dequant/lowrank_int8")
    ->Arg(16);

// The runtime's per-token hook (the positional module's add_to_embedding, policy dispatch included) on the
// same table: f32 and int8-row learned tables against hybrid tables (K exact int8 rows + rank-R int8 tail),
// rows visited in the scattered order. Issue 18's bound: every new form at >= 0.5x the f32 row speed.
constexpr int kModuleRows = 1024, kModuleCols = 256;  // story-gpt2-1k's table shape

void BM_Module(benchmark::State& state, int head_rows, int rank, quant::RowFormat learned_format) {
  static const std::vector<float> values = random_floats(size_t{kModuleRows} * kModuleCols, 11, 0.1f);
  detail::ModelData md;
  md.config.dim = kModuleCols;
  detail::PositionalParams& p = md.positional;
  // Built once per configuration (Google Benchmark calls this function several times).
  static std::vector<std::pair<int, quant::QuantizedTable>> learned_cache;
  static std::vector<std::pair<int, quant::HybridTableFit>> hybrid_cache;
  if (head_rows == 0) {
    const int key = static_cast<int>(learned_format);
    const quant::QuantizedTable* q = nullptr;
    for (auto& [k, t] : learned_cache)
      if (k == key) q = &t;
    if (q == nullptr) {
      learned_cache.emplace_back(
          key, quant::quantize_table(values.data(), kModuleRows, kModuleCols, learned_format).value());
      q = &learned_cache.back().second;
    }
    p.scheme = PositionalScheme::kLearnedTable;
    p.table = tensor_view(*q);
    state.counters["table_bytes"] = static_cast<double>(q->bytes());
  } else {
    const int key = head_rows * 1000 + rank;
    const quant::HybridTableFit* h = nullptr;
    for (auto& [k, t] : hybrid_cache)
      if (k == key) h = &t;
    if (h == nullptr) {
      quant::HybridOptions o;
      o.head_rows = head_rows;
      o.rank = rank;
      o.max_sweeps = 4;  // the factor values do not change the speed
      hybrid_cache.emplace_back(key, quant::build_hybrid(values.data(), kModuleRows, kModuleCols, o).value());
      h = &hybrid_cache.back().second;
    }
    p.scheme = PositionalScheme::kHybridTable;
    p.table = tensor_view(h->head);
    p.low_a = tensor_view(h->tail_a);
    p.low_b = tensor_view(h->tail_b);
    p.head_rows = static_cast<uint32_t>(head_rows);
    state.counters["table_bytes"] =
        static_cast<double>(h->head.bytes() + h->tail_a.bytes() + h->tail_b.bytes());
  }
  p.stored_positions = kModuleRows;
  const positional::SchemeModule* m = positional::find_scheme(p.scheme);
  positional::EncoderState s;
  s.model = &md;
  s.p = &p;
  s.dim = kModuleCols;
  if (m == nullptr || !m->prepare(md, &s).ok()) {
    state.SkipWithError("module prepare failed");
    return;
  }
  std::vector<float> x(kModuleCols, 0.0f), scratch(s.scratch_floats);
  int64_t i = 0;
  for (auto _ : state) {
    m->add_to_embedding(s, (i++ * 7919) % kModuleRows, x.data(), scratch.data());
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * kModuleCols);
}
BENCHMARK_CAPTURE(BM_Module, learned_f32, 0, 0, quant::RowFormat::kF32)
    ->Name("positional_module/learned_f32");
BENCHMARK_CAPTURE(BM_Module, learned_int8_row, 0, 0, quant::RowFormat::kInt8RowF16Scale)
    ->Name("positional_module/learned_int8_row");
BENCHMARK_CAPTURE(BM_Module, hybrid_16_4, 16, 4, quant::RowFormat::kF32)
    ->Name("positional_module/hybrid_k16_r4_int8");
BENCHMARK_CAPTURE(BM_Module, hybrid_16_8, 16, 8, quant::RowFormat::kF32)
    ->Name("positional_module/hybrid_k16_r8_int8");
BENCHMARK_CAPTURE(BM_Module, hybrid_64_16, 64, 16, quant::RowFormat::kF32)
    ->Name("positional_module/hybrid_k64_r16_int8");

}  // namespace

static void register_tables() {
  for (const Format& f : kFormats) {
    benchmark::RegisterBenchmark((std::string("table_dequant/") + f.name).c_str(), BM_TableRow, f.format,
                                 f.group);
    if (f.format != quant::RowFormat::kInt4GroupZpU4) {  // the file stores one zero point per byte
      benchmark::RegisterBenchmark((std::string("runtime_row/") + f.name).c_str(), BM_RuntimeRow, f.format,
                                   f.group);
    }
  }
}

int main(int argc, char** argv) {
  register_tables();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
