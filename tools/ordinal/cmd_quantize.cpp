// ordinal quantize IN OUT --pos SCHEME [--rope-scaling KIND:F[,ORIG]] [--context N] [--weights f32|f16|int8]
// Rebuilds the positional component (and optionally the weights) in a smaller or exact format, writes a
// normal model, reloads it through the verifier, and prints a before/after table with reconstruction errors.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "model_data.hpp"
#include "modelio/host_scheme.hpp"
#include "modelio/model_spec.hpp"
#include "numerics/half.hpp"
#include "ordinal/args.hpp"
#include "ordinal/commands.hpp"
#include "ordinal/host_limits.hpp"
#include "ordinal/hybrid_quantize.hpp"
#include "ordinal/position_search.hpp"
#include "ordinal/quantize.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/search_gates.hpp"
#include "ordinal/verify_flags.hpp"
#include "ordinal/weight_quantize.hpp"
#include "quant/bucketed.hpp"
#include "quant/codebook.hpp"
#include "quant/lowrank.hpp"
#include "quant/metrics.hpp"
#include "quant/rope_frequencies.hpp"
#include "quant/table_quantizers.hpp"

namespace ordinal::cli {

namespace {

const std::string kUsage =
    std::string(
        "usage: ordinal quantize IN OUT --pos SCHEME [options]\n"
        "       ordinal quantize IN OUT --search GATES [verify options] [options]\n"
        "  --pos SCHEME          learned tables: f32 | f16 | int8-row | int8-row-f32 | int8-col | "
        "int4-g{16,32,64}[-zp]\n"
        "                          | codebook-K[-int8] | bucket-stride-N | bucket-t5-B | lowrank-R[-int8]\n"
        "                          | hybrid-K-lowrank-R[-qkv] (positions < K exact int8 rows, rank-R int8 "
        "tail;\n"
        "                            -qkv: tail fitted in the first layer's q/k/v metric)\n"
        "                        RoPE: rope-q15 | rope-q31 | rope-f32;  sinusoidal: sin-q15 | sin-q31 | "
        "sin-f32\n"
        "                        ALiBi: nothing (slopes are already Q0.32 integers);  relative bias: int8 | "
        "f32\n"
        "  --rope-scaling S      " +
        std::string(modelio::kRopeScalingGrammar) +
        "   (RoPE context extension)\n"
        "  --context N           new max_positions (context length) of the output model\n"
        "  --allow-large-session write the model even when its default session (full context, f32 KV\n"
        "                        cache) needs more than 1 GiB; without it such a model is refused\n"
        "  --weights W           f32 | f16 | int8 (per-row scales) | int8-gN | int4 (= int4-g32) | int4-gN | "
        "int4-gN-zp\n"
        "                        (group-wise, f16 scale per N values, N a multiple of 32) for linear layers, "
        "embedding and classifier\n"
        "  --seed S              seed for k-means (default 1)\n"
        "  --search              try every --pos setting for this model's scheme from the smallest "
        "positional size\n"
        "                        to the largest; keep the first whose model passes the verify gates against "
        "IN\n"
        "  --search-schemes L    comma-separated --pos settings to try instead of all of them\n"
        "  --verify-seed S       verify's --seed (sampling, shuffles, probes) during --search (default 42)\n"
        "verify options and gates for --search (as `ordinal verify`)\n") +
    kVerifyInputUsage + kVerifyGateUsage + quantize::kSearchGateDefaultsUsage;

using modelio::HostTensor;

bool starts_with(const std::string& s, const char* p) {
  return s.rfind(p, 0) == 0;
}

bool parse_suffix_int(const std::string& s, const char* prefix, int64_t lo, int64_t hi, int64_t* out,
                      std::string* rest) {
  if (!starts_with(s, prefix)) return false;
  std::string tail = s.substr(std::strlen(prefix));
  size_t dash = tail.find('-');
  *rest = dash == std::string::npos ? "" : tail.substr(dash + 1);
  return parse_int(tail.substr(0, dash), lo, hi, out);
}

}  // namespace

// ---- positional transforms --------------------------------------------------------------------------

namespace quantize {

Components components(const modelio::ModelSpec& s) {
  Components c;
  c.embedding = s.token_embedding.total_bytes();
  c.positional = s.positional.bytes();
  for (const modelio::HostLayer& l : s.layers) {
    for (const HostTensor* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.bq, &l.bk, &l.bv, &l.bo})
      c.attention += t->total_bytes();
    for (const HostTensor* t : {&l.w1, &l.w2, &l.w3, &l.b1, &l.b2}) c.mlp += t->total_bytes();
    for (const HostTensor* t : {&l.attn_norm, &l.attn_norm_bias, &l.ffn_norm, &l.ffn_norm_bias})
      c.norms += t->total_bytes();
  }
  c.norms += s.final_norm.total_bytes() + s.final_norm_bias.total_bytes();
  c.classifier = s.classifier.total_bytes();
  return c;
}

HostTensor tensor_from_quantized(const std::string& name, const quant::QuantizedTable& q) {
  HostTensor t;
  t.name = name;
  t.shape = {static_cast<uint32_t>(q.rows), static_cast<uint32_t>(q.cols)};
  t.data = q.data;
  switch (q.format) {
    case positional::RowFormat::kF32:
      t.dtype = format::DType::kF32;
      break;
    case positional::RowFormat::kF16:
      t.dtype = format::DType::kF16;
      break;
    case positional::RowFormat::kInt8RowF32Scale:
    case positional::RowFormat::kInt8RowF16Scale:
      t.dtype = format::DType::kI8;
      t.granularity = format::QuantGranularity::kPerRow;
      t.scale_dtype =
          q.format == positional::RowFormat::kInt8RowF16Scale ? format::DType::kF16 : format::DType::kF32;
      t.scales = q.scales;
      break;
    case positional::RowFormat::kInt8Col:
      t.dtype = format::DType::kI8;
      t.granularity = format::QuantGranularity::kPerColumn;
      t.scale_dtype = format::DType::kF32;
      t.scales = q.scales;
      break;
    case positional::RowFormat::kInt4Group:
    case positional::RowFormat::kInt4GroupZpU8:
    case positional::RowFormat::kInt4GroupZpU4:
      t.dtype = format::DType::kI4;
      t.granularity = format::QuantGranularity::kPerGroup;
      t.group_size = static_cast<uint32_t>(q.group);
      t.scale_dtype = format::DType::kF16;
      t.scales = q.scales;
      if (q.format == positional::RowFormat::kInt4GroupZpU8) t.zero_points = q.zero_points;
      if (q.format == positional::RowFormat::kInt4GroupZpU4) {
        // The file stores one zero point per byte; widen the packed nibbles.
        const size_t n = static_cast<size_t>(q.rows) * (q.cols / q.group);
        t.zero_points.resize(n);
        for (size_t i = 0; i < n; ++i)
          t.zero_points[i] = (i % 2 == 0) ? (q.zero_points[i / 2] & 0x0F) : (q.zero_points[i / 2] >> 4);
      }
      break;
  }
  return t;
}

// NaN/Inf rows would reach float->int conversions (undefined behaviour) and a meaningless table: refused.
Status check_finite_rows(const std::vector<float>& table, int cols, const char* what) {
  for (size_t i = 0; i < table.size(); ++i) {
    if (!std::isfinite(table[i])) {
      return invalid_argument(std::string(what) + ": row " + std::to_string(i / static_cast<size_t>(cols)) +
                              ", column " + std::to_string(i % static_cast<size_t>(cols)) + " is " +
                              (std::isnan(table[i]) ? "NaN" : "infinite") +
                              "; a table with non-finite values cannot be quantized");
    }
  }
  return Status::Ok();
}

Status check_default_session(const modelio::ModelSpec& spec, uint64_t limit) {
  ORDINAL_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, modelio::serialize_model(spec));
  // load_from_buffer needs 64-byte alignment.
  std::unique_ptr<void, void (*)(void*)> aligned(std::aligned_alloc(64, (bytes.size() + 63) / 64 * 64),
                                                 std::free);
  if (!aligned) return out_of_memory("cannot allocate " + std::to_string(bytes.size()) + " bytes");
  std::memcpy(aligned.get(), bytes.data(), bytes.size());
  ORDINAL_ASSIGN_OR_RETURN(auto model, Model::load_from_buffer(aligned.get(), bytes.size()));
  SessionOptions so;
  ORDINAL_ASSIGN_OR_RETURN(const uint64_t need, model->session_bytes(so));
  if (need > limit) {
    return out_of_memory("the default session of the output model (context " +
                         std::to_string(spec.config.max_positions) + ", f32 KV cache) needs " +
                         std::to_string(need) + " bytes, over the limit of " + std::to_string(limit));
  }
  return Status::Ok();
}

Result<TableReport> quantize_positional_table(modelio::ModelSpec& spec, const std::string& scheme,
                                              uint64_t seed) {
  modelio::HostPositional& p = spec.positional;
  if (p.scheme != PositionalScheme::kLearnedTable) {
    return invalid_argument(
        std::string("--pos ") + scheme + " needs a model with a learned position table; this one has '" +
        positional_scheme_name(p.scheme) + "' (quantize from the original f32/f16 model)");
  }
  const std::vector<float> table = p.table.to_f32();
  const int64_t P = p.table.shape[0];
  const int D = static_cast<int>(p.table.shape[1]);
  ORDINAL_RETURN_IF_ERROR(check_finite_rows(table, D, "position table"));
  TableReport report;
  report.original = table;
  report.positions = P;
  report.cols = D;
  std::string rest;
  int64_t n = 0;
  auto plain = [&](positional::RowFormat fmt, int group) -> Status {
    ORDINAL_ASSIGN_OR_RETURN(quant::QuantizedTable q, quant::quantize_table(table.data(), P, D, fmt, group));
    HostTensor t = tensor_from_quantized("positional.table", q);
    p.table = std::move(t);
    return Status::Ok();
  };
  if (scheme == "f32") {
    ORDINAL_RETURN_IF_ERROR(plain(positional::RowFormat::kF32, 0));
  } else if (scheme == "f16") {
    ORDINAL_RETURN_IF_ERROR(plain(positional::RowFormat::kF16, 0));
  } else if (scheme == "int8-row") {
    ORDINAL_RETURN_IF_ERROR(plain(positional::RowFormat::kInt8RowF16Scale, 0));
  } else if (scheme == "int8-row-f32") {
    ORDINAL_RETURN_IF_ERROR(plain(positional::RowFormat::kInt8RowF32Scale, 0));
  } else if (scheme == "int8-col") {
    ORDINAL_RETURN_IF_ERROR(plain(positional::RowFormat::kInt8Col, 0));
  } else if (parse_suffix_int(scheme, "int4-g", 2, 4096, &n, &rest) && (rest.empty() || rest == "zp")) {
    if (D % n != 0)
      return invalid_argument("--pos " + scheme + ": group " + std::to_string(n) + " does not divide dim " +
                              std::to_string(D));
    ORDINAL_RETURN_IF_ERROR(
        plain(rest == "zp" ? positional::RowFormat::kInt4GroupZpU8 : positional::RowFormat::kInt4Group,
              static_cast<int>(n)));
  } else if (parse_suffix_int(scheme, "codebook-", 1, 65536, &n, &rest) && (rest.empty() || rest == "int8")) {
    quant::CodebookOptions o;
    o.k = static_cast<int>(n);
    o.seed = seed;
    o.codebook_format =
        rest == "int8" ? positional::RowFormat::kInt8RowF16Scale : positional::RowFormat::kF32;
    ORDINAL_ASSIGN_OR_RETURN(quant::Codebook cb, quant::build_codebook(table.data(), P, D, o));
    const positional::CodebookTable v = cb.view();
    quant::QuantizedTable stored;
    stored.format = v.codebook.format;
    stored.rows = v.codebook.rows;
    stored.cols = v.codebook.cols;
    const uint64_t row_bytes =
        v.codebook.format == positional::RowFormat::kF32 ? 4ull * D : static_cast<uint64_t>(D);
    stored.data.assign(static_cast<const uint8_t*>(v.codebook.data),
                       static_cast<const uint8_t*>(v.codebook.data) + row_bytes * v.codebook.rows);
    if (v.codebook.scales) {
      stored.scales.assign(static_cast<const uint8_t*>(v.codebook.scales),
                           static_cast<const uint8_t*>(v.codebook.scales) + 2 * v.codebook.rows);
    }
    modelio::HostPositional np;
    np.scheme = PositionalScheme::kCodebookTable;
    np.codebook = tensor_from_quantized("positional.codebook", stored);
    np.indices.name = "positional.indices";
    np.indices.shape = {static_cast<uint32_t>(P)};
    if (cb.k <= 256) {
      np.indices.dtype = format::DType::kU8;
      np.indices.data.assign(cb.indices_u8.begin(), cb.indices_u8.end());
    } else {
      np.indices.dtype = format::DType::kU16;
      for (uint16_t i : cb.indices_u16) {
        np.indices.data.push_back(static_cast<uint8_t>(i & 0xFF));
        np.indices.data.push_back(static_cast<uint8_t>(i >> 8));
      }
    }
    report.shares_by_design = cb.k < P;
    p = std::move(np);
  } else if (parse_suffix_int(scheme, "bucket-stride-", 1, 1 << 24, &n, &rest) && rest.empty()) {
    ORDINAL_ASSIGN_OR_RETURN(quant::BucketedTable b, quant::build_bucketed_stride(table.data(), P, D, n));
    modelio::HostPositional np;
    np.scheme = PositionalScheme::kBucketedTable;
    np.bucket_rule = detail::BucketRuleKind::kUniformStride;
    np.stride = static_cast<uint32_t>(n);
    np.positions = static_cast<uint32_t>(P);
    np.table = HostTensor::f32("positional.table",
                               {static_cast<uint32_t>(b.map.num_rows), static_cast<uint32_t>(D)}, b.rows);
    report.shares_by_design = n > 1;
    p = std::move(np);
  } else if (parse_suffix_int(scheme, "bucket-t5-", 2, 256, &n, &rest) && rest.empty()) {
    ORDINAL_ASSIGN_OR_RETURN(quant::BucketedTable b,
                             quant::build_bucketed_log(table.data(), P, D, static_cast<int>(n), P));
    modelio::HostPositional np;
    np.scheme = PositionalScheme::kBucketedTable;
    np.bucket_rule = detail::BucketRuleKind::kT5Log;
    np.num_buckets = static_cast<uint32_t>(n);
    np.max_distance = static_cast<uint32_t>(P);
    np.positions = static_cast<uint32_t>(P);
    np.table = HostTensor::f32("positional.table",
                               {static_cast<uint32_t>(b.map.num_rows), static_cast<uint32_t>(D)}, b.rows);
    report.shares_by_design = true;
    p = std::move(np);
  } else if (parse_suffix_int(scheme, "lowrank-", 1, 4096, &n, &rest) && (rest.empty() || rest == "int8")) {
    if (n > D) return invalid_argument("--pos " + scheme + ": rank exceeds dim " + std::to_string(D));
    ORDINAL_ASSIGN_OR_RETURN(quant::LowRankFactors f,
                             quant::lowrank_factorize(table.data(), P, D, static_cast<int>(n)));
    const bool int8 = rest == "int8";
    modelio::HostPositional np;
    np.scheme = PositionalScheme::kLowRankTable;
    const uint32_t r = static_cast<uint32_t>(n);
    if (int8) {
      auto int8_tensor = [](const std::string& name, uint32_t rows, uint32_t cols,
                            const std::vector<int8_t>& q, const std::vector<float>& scales) {
        HostTensor t;
        t.name = name;
        t.dtype = format::DType::kI8;
        t.shape = {rows, cols};
        t.data.assign(reinterpret_cast<const uint8_t*>(q.data()),
                      reinterpret_cast<const uint8_t*>(q.data()) + q.size());
        t.granularity = format::QuantGranularity::kPerRow;
        t.scales.resize(scales.size() * 4);
        std::memcpy(t.scales.data(), scales.data(), t.scales.size());
        return t;
      };
      np.low_a = int8_tensor("positional.a", static_cast<uint32_t>(P), r, f.qa, f.a_scales);
      np.low_b = int8_tensor("positional.b", r, static_cast<uint32_t>(D), f.qb, f.b_scales);
    } else {
      np.low_a = HostTensor::f32("positional.a", {static_cast<uint32_t>(P), r}, f.a);
      np.low_b = HostTensor::f32("positional.b", {r, static_cast<uint32_t>(D)}, f.b);
    }
    report.energy_kept = f.energy_kept;
    p = std::move(np);
  } else if (is_hybrid_setting(scheme)) {
    ORDINAL_RETURN_IF_ERROR(apply_hybrid_table(spec, table, P, D, scheme));
  } else {
    return invalid_argument("unknown --pos scheme '" + scheme + "' for a learned table");
  }
  // The error is measured on the vectors the runtime will add: the runtime's positional module and kernels
  // on views of the new arrays (modelio::runtime_position_rows), not a host re-implementation.
  ORDINAL_ASSIGN_OR_RETURN(report.reconstructed, modelio::runtime_position_rows(spec));
  report.bytes = static_cast<int64_t>(p.bytes());
  if (P <= kExactTablePositions) {
    report.metrics = quant::compare_tables(report.original.data(), report.reconstructed.data(), P, D,
                                           report.bytes, report.shares_by_design);
    return report;
  }
  // A long table: the O(n^2) pair metrics on an evenly spaced sample (first and last row included), the
  // errors on every row.
  const int64_t S = kExactTablePositions;
  std::vector<float> sample_orig(static_cast<size_t>(S) * D), sample_rec(static_cast<size_t>(S) * D);
  for (int64_t i = 0; i < S; ++i) {
    const size_t row = static_cast<size_t>(i * (P - 1) / (S - 1));
    std::copy_n(&report.original[row * D], D, &sample_orig[static_cast<size_t>(i) * D]);
    std::copy_n(&report.reconstructed[row * D], D, &sample_rec[static_cast<size_t>(i) * D]);
  }
  report.metrics = quant::compare_tables(sample_orig.data(), sample_rec.data(), S, D, report.bytes * S / P,
                                         report.shares_by_design);
  quant::TableMetrics& m = report.metrics;
  m.positions = P;
  m.bytes = report.bytes;
  m.bytes_per_position = static_cast<double>(report.bytes) / static_cast<double>(P);
  double max_abs = 0, abs_sum = 0, sq_sum = 0;
  for (size_t i = 0; i < report.original.size(); ++i) {
    const double e = std::fabs(static_cast<double>(report.reconstructed[i]) - report.original[i]);
    max_abs = std::max(max_abs, e);
    abs_sum += e;
    sq_sum += e * e;
  }
  const double count = static_cast<double>(report.original.size());
  m.max_abs_error = max_abs;
  m.mean_abs_error = abs_sum / count;
  m.rms_error = std::sqrt(sq_sum / count);
  report.metrics_sampled = true;
  return report;
}

Status apply_rope(modelio::ModelSpec& spec, const std::string& scheme, const std::string& scaling,
                  int64_t context) {
  modelio::HostPositional& p = spec.positional;
  if (p.scheme != PositionalScheme::kRope) {
    return invalid_argument("--pos " + scheme + " needs a RoPE model; this one has '" +
                            positional_scheme_name(p.scheme) + "'");
  }
  // Without --rope-scaling the model keeps the scaling it has (an imported Llama-3.1 or YaRN model stays
  // scaled when its precision changes).
  if (!scaling.empty()) ORDINAL_RETURN_IF_ERROR(modelio::parse_rope_scaling(scaling, &p));
  if (scheme == "rope-f32") {
    p.precision = detail::TrigPrecision::kF32;
  } else if (scheme == "rope-q15") {
    p.precision = detail::TrigPrecision::kQ15;
  } else if (scheme == "rope-q31") {
    p.precision = detail::TrigPrecision::kQ31;
  } else {
    return invalid_argument("unknown --pos scheme '" + scheme +
                            "' for a RoPE model (rope-q15, rope-q31, rope-f32)");
  }
  ORDINAL_RETURN_IF_ERROR(modelio::compute_rope_frequencies(spec.config.head_dim, &p));
  if (context > 0) spec.config.max_positions = static_cast<uint32_t>(context);
  return Status::Ok();
}

Status apply_sinusoidal(modelio::ModelSpec& spec, const std::string& scheme) {
  modelio::HostPositional& p = spec.positional;
  if (p.scheme != PositionalScheme::kSinusoidal)
    return invalid_argument("--pos " + scheme + " needs a sinusoidal model");
  if (scheme == "sin-f32") {
    p.precision = detail::TrigPrecision::kF32;
    p.frequencies.clear();
    return Status::Ok();
  }
  p.precision = scheme == "sin-q15" ? detail::TrigPrecision::kQ15 : detail::TrigPrecision::kQ31;
  ORDINAL_ASSIGN_OR_RETURN(quant::RopeFrequencies f,
                           quant::sinusoidal_frequencies(static_cast<int>(spec.config.dim), p.base));
  p.frequencies = f.turns;
  return Status::Ok();
}

Result<TableReport> apply_relative_bias(modelio::ModelSpec& spec, const std::string& scheme) {
  modelio::HostPositional& p = spec.positional;
  const std::vector<float> table = p.table.to_f32();
  const int64_t rows = p.table.shape[0];
  const int cols = static_cast<int>(p.table.shape[1]);
  ORDINAL_RETURN_IF_ERROR(check_finite_rows(table, cols, "relative-bias table"));
  TableReport report;
  report.original = table;
  report.positions = rows;
  report.cols = cols;
  ORDINAL_ASSIGN_OR_RETURN(quant::QuantizedTable q,
                           quant::quantize_table(table.data(), rows, cols,
                                                 scheme == "int8" ? positional::RowFormat::kInt8Col
                                                                  : positional::RowFormat::kF32));
  report.reconstructed = quant::dequantize_table(q);
  p.table = tensor_from_quantized("positional.relative_bias", q);
  report.bytes = static_cast<int64_t>(p.bytes());
  report.metrics =
      quant::compare_tables(table.data(), report.reconstructed.data(), rows, cols, report.bytes, true);
  report.is_bias_table = true;
  return report;
}

// What `quantize --pos` does per scheme: one row per scheme (the --pos settings it accepts, the order
// --search tries them in, and the transform). apply_positional and search_candidates look rows up here
// instead of switching over the scheme.
struct PositionalQuantizer {
  PositionalScheme scheme;
  std::vector<std::string> (*candidates)();
  Result<TableReport> (*apply)(modelio::ModelSpec& spec, const Options& o);
};

std::vector<std::string> table_candidates() {
  std::vector<std::string> c = {"f16",      "int8-row", "int8-col",   "int4-g64",
                                "int4-g32", "int4-g16", "int4-g32-zp"};
  for (int k : {8, 16, 32, 64, 128, 256}) {
    c.push_back("codebook-" + std::to_string(k) + "-int8");
    c.push_back("codebook-" + std::to_string(k));
  }
  for (int s : {16, 8, 4, 2}) c.push_back("bucket-stride-" + std::to_string(s));
  for (int b : {16, 32, 64, 128}) c.push_back("bucket-t5-" + std::to_string(b));
  for (int r : {4, 8, 16, 32, 64}) {
    c.push_back("lowrank-" + std::to_string(r) + "-int8");
    c.push_back("lowrank-" + std::to_string(r));
  }
  for (const std::string& h : hybrid_candidates(INT64_MAX)) c.push_back(h);
  return c;
}

const PositionalQuantizer kQuantizers[] = {
    {PositionalScheme::kLearnedTable, table_candidates,
     [](modelio::ModelSpec& spec, const Options& o) {
       return quantize_positional_table(spec, o.pos, o.seed);
     }},
    {PositionalScheme::kRope,
     [] {
       return std::vector<std::string>{"rope-q15", "rope-q31", "rope-f32"};
     },
     [](modelio::ModelSpec& spec, const Options& o) -> Result<TableReport> {
       ORDINAL_RETURN_IF_ERROR(apply_rope(spec, o.pos, o.rope_scaling, 0));
       return TableReport();
     }},
    {PositionalScheme::kSinusoidal,
     [] {
       return std::vector<std::string>{"sin-q15", "sin-q31", "sin-f32"};
     },
     [](modelio::ModelSpec& spec, const Options& o) -> Result<TableReport> {
       if (o.pos != "sin-f32" && o.pos != "sin-q15" && o.pos != "sin-q31")
         return invalid_argument("unknown --pos '" + o.pos +
                                 "' for a sinusoidal model (sin-q15, sin-q31, sin-f32)");
       ORDINAL_RETURN_IF_ERROR(apply_sinusoidal(spec, o.pos));
       return TableReport();
     }},
    {PositionalScheme::kRelativeBias,
     [] {
       return std::vector<std::string>{"int8", "f32"};
     },
     [](modelio::ModelSpec& spec, const Options& o) -> Result<TableReport> {
       if (o.pos != "int8" && o.pos != "f32")
         return invalid_argument("unknown --pos '" + o.pos + "' for a relative-bias model (int8, f32)");
       return apply_relative_bias(spec, o.pos);
     }},
};

const PositionalQuantizer* find_quantizer(PositionalScheme scheme) {
  for (const PositionalQuantizer& q : kQuantizers) {
    if (q.scheme == scheme) return &q;
  }
  return nullptr;
}

Result<TableReport> apply_positional(modelio::ModelSpec& spec, const Options& o) {
  const PositionalQuantizer* q = find_quantizer(spec.positional.scheme);
  if (q == nullptr) {
    // ALiBi slopes are Q0.32 integers in every model and "none" has nothing: no setting changes them.
    return invalid_argument(std::string("--pos: the positional component of this model (") +
                            positional_scheme_name(spec.positional.scheme) + ") has no settings to quantize");
  }
  if (!o.rope_scaling.empty() && spec.positional.scheme != PositionalScheme::kRope)
    return invalid_argument("--rope-scaling applies to RoPE models only");
  auto r = q->apply(spec, o);
  if (r.ok() && o.context > 0) spec.config.max_positions = static_cast<uint32_t>(o.context);
  return r;
}

std::vector<std::string> search_candidates(const modelio::ModelSpec& spec) {
  const PositionalQuantizer* q = find_quantizer(spec.positional.scheme);
  return q != nullptr ? q->candidates() : std::vector<std::string>();
}

}  // namespace quantize

namespace {

std::vector<std::string> split_commas(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    const size_t comma = v.find(',', start);
    const std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Runs the search and prints one line per attempt; returns the winning --pos or an empty string.
Result<std::string> run_search(const modelio::ModelSpec& spec, const std::string& in, const std::string& out,
                               const std::vector<std::string>& schemes, const quantize::Options& o,
                               const verify::Options& gates) {
  std::printf("search: %zu positional settings for %s, smallest first; gates against %s\n", schemes.size(),
              positional_scheme_name(spec.positional.scheme), in.c_str());
  std::printf("  %-5s %-24s %11s %8s %10s %10s %9s %9s %7s  %s\n", "try", "scheme", "pos bytes", "top1",
              "max|dppl|", "max KL", "gap ratio", "recovery", "secs", "result");
  std::fflush(stdout);
  auto print = [](const quantize::SearchAttempt& a, size_t i, size_t n) {
    char idx[32];
    std::snprintf(idx, sizeof idx, "%zu/%zu", i + 1, n);
    char rec[16] = "-";
    if (a.recovery >= 0) std::snprintf(rec, sizeof rec, "%.4f", a.recovery);
    if (a.verified) {
      std::printf("  %-5s %-24s %11" PRIu64 " %8.5f %10.6f %10.3g %9.4f %9s %7.1f  %s\n", idx,
                  a.scheme.c_str(), a.positional_bytes, a.top1, a.max_ppl_delta, a.max_kl, a.gap_ratio, rec,
                  a.seconds, a.passed ? "PASS" : a.note.c_str());
    } else {
      std::printf("  %-5s %-24s %11" PRIu64 " %8s %10s %10s %9s %9s %7.1f  %s\n", idx, a.scheme.c_str(),
                  a.positional_bytes, "-", "-", "-", "-", "-", a.seconds, a.note.c_str());
    }
    std::fflush(stdout);
  };
  ORDINAL_ASSIGN_OR_RETURN(
      quantize::SearchResult r,
      quantize::search_positional(spec, in, schemes, o, gates, out + ".search-candidate", print));
  for (const quantize::SearchAttempt& a : r.attempts) {
    if (!a.built) std::printf("  %-5s %-24s %s\n", "skip", a.scheme.c_str(), a.note.c_str());
  }
  if (r.winner < 0) return std::string();
  const quantize::SearchAttempt& w = r.attempts[static_cast<size_t>(r.winner)];
  std::printf("search: smallest passing setting is %s (%" PRIu64 " positional bytes)\n", w.scheme.c_str(),
              w.positional_bytes);
  return w.scheme;
}

}  // namespace

int cmd_quantize(int argc, char** argv) {
  Args args(argc, argv, 1);
  quantize::Options o;
  std::vector<std::string> paths;
  bool search = false, verify_flags_given = false, allow_large_session = false;
  std::string search_schemes;
  verify::Options gates;
  while (!args.empty()) {
    std::string a = args.take(), v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage.c_str(), stdout);
      return kExitOk;
    } else if (a == "--search") {
      search = true;
    } else if (a == "--allow-large-session") {
      allow_large_session = true;
    } else if (a == "--search-schemes") {
      if (!args.value(a, &search_schemes) || split_commas(search_schemes).empty()) {
        return usage_error("quantize", "--search-schemes needs a comma-separated list of --pos settings",
                           kUsage.c_str());
      }
    } else if (a == "--verify-seed") {
      int64_t s = 0;
      if (!args.value(a, &v) || !parse_int(v, 1, INT64_MAX, &s))
        return usage_error("quantize", "--verify-seed needs an integer > 0", kUsage.c_str());
      gates.seed = static_cast<uint64_t>(s);
      verify_flags_given = true;
    } else if (a == "--pos") {
      if (!args.value(a, &o.pos)) return usage_error("quantize", args.error, kUsage.c_str());
    } else if (a == "--rope-scaling") {
      if (!args.value(a, &o.rope_scaling)) return usage_error("quantize", args.error, kUsage.c_str());
    } else if (a == "--context") {
      if (!args.value(a, &v) || !parse_int(v, 1, 1 << 24, &o.context))
        return usage_error("quantize", "--context needs an integer in [1, 2^24]", kUsage.c_str());
    } else if (a == "--weights") {
      if (!args.value(a, &o.weights)) return usage_error("quantize", args.error, kUsage.c_str());
    } else if (a == "--seed") {
      int64_t s = 0;
      if (!args.value(a, &v) || !parse_int(v, 1, INT64_MAX, &s))
        return usage_error("quantize", "--seed needs an integer > 0", kUsage.c_str());
      o.seed = static_cast<uint64_t>(s);
    } else if (!a.empty() && a[0] == '-') {
      const FlagParse f = parse_verify_flag(args, a, &gates);
      if (f == FlagParse::kError) return usage_error("quantize", args.error, kUsage.c_str());
      if (f == FlagParse::kNotMine) return usage_error("quantize", "unknown option " + a, kUsage.c_str());
      verify_flags_given = true;
    } else {
      paths.push_back(a);
    }
  }
  if (paths.size() != 2) return usage_error("quantize", "needs IN and OUT", kUsage.c_str());
  if (search && !o.pos.empty())
    return usage_error("quantize", "--search chooses the scheme: drop --pos", kUsage.c_str());
  if (!search && (verify_flags_given || !search_schemes.empty())) {
    return usage_error("quantize", "verify options, gates and --search-schemes apply only with --search",
                       kUsage.c_str());
  }
  if (search) quantize::apply_default_search_gates(&gates);
  if (!search && o.pos.empty() && o.weights == "keep")
    return usage_error("quantize", "nothing to do: give --pos and/or --weights", kUsage.c_str());

  auto model = Model::load(paths[0]);
  if (!model.ok()) {
    std::fprintf(stderr, "ordinal quantize: %s\n", printable(model.status().to_string()).c_str());
    return kExitUsage;
  }
  modelio::ModelSpec spec = modelio::spec_from_model(model.value()->data());
  if (search) {
    const std::vector<std::string> schemes =
        search_schemes.empty() ? quantize::search_candidates(spec) : split_commas(search_schemes);
    auto chosen = run_search(spec, paths[0], paths[1], schemes, o, gates);
    if (!chosen.ok()) return usage_error("quantize", chosen.status().message(), kUsage.c_str());
    if (chosen.value().empty()) {
      std::fprintf(stderr, "ordinal quantize: --search: no setting passed the gates; nothing written\n");
      return kExitFailed;
    }
    o.pos = chosen.value();
  }
  const quantize::Components before = quantize::components(spec);
  quantize::TableReport table;
  if (!o.pos.empty()) {
    auto r = quantize::apply_positional(spec, o);
    if (!r.ok()) return usage_error("quantize", r.status().message(), kUsage.c_str());
    table = std::move(r).value();
  }
  auto werr = quantize::convert_model_weights(spec, o.weights);
  if (!werr.ok()) return usage_error("quantize", werr.status().message(), kUsage.c_str());
  spec.metadata.push_back(
      {"quantized", "pos=" + (o.pos.empty() ? std::string("unchanged") : o.pos) + " weights=" + o.weights});
  if (!allow_large_session) {
    Status plan = quantize::check_default_session(spec, kMaxDefaultSessionBytes);
    if (!plan.ok()) {
      std::fprintf(stderr, "ordinal quantize: %s; nothing written (--allow-large-session writes it anyway)\n",
                   printable(plan.to_string()).c_str());
      return kExitUsage;
    }
  }
  Status st = modelio::write_model(spec, paths[1]);
  if (!st.ok()) {
    std::fprintf(stderr, "ordinal quantize: %s\n", printable(st.to_string()).c_str());
    return kExitFailed;
  }
  auto check = Model::load(paths[1]);
  if (!check.ok()) {
    std::fprintf(stderr, "ordinal quantize: written model does not verify: %s\n",
                 printable(check.status().to_string()).c_str());
    return kExitFailed;
  }
  const quantize::Components after = quantize::components(spec);
  auto row = [](const char* name, uint64_t b, uint64_t a) {
    char note[64] = "";
    if (a < b && a > 0)
      std::snprintf(note, sizeof note, "x%.2f smaller", static_cast<double>(b) / static_cast<double>(a));
    if (a == 0 && b > 0) std::snprintf(note, sizeof note, "removed");
    if (a > b) std::snprintf(note, sizeof note, "+%" PRIu64 " bytes", a - b);
    if (a == b && b > 0) std::snprintf(note, sizeof note, "=");
    std::printf("  %-18s %12" PRIu64 " %12" PRIu64 "   %s\n", name, b, a, note);
  };

  std::printf("%s -> %s  (positional %s -> %s)\n", paths[0].c_str(), paths[1].c_str(),
              positional_scheme_name(model.value()->positional_scheme()),
              positional_scheme_name(check.value()->positional_scheme()));
  std::printf("  %-18s %12s %12s\n", "component", "bytes before", "bytes after");
  row("token embedding", before.embedding, after.embedding);
  row("positional", before.positional, after.positional);
  row("attention", before.attention, after.attention);
  row("mlp", before.mlp, after.mlp);
  row("norms", before.norms, after.norms);
  row("classifier", before.classifier, after.classifier);
  row("file total", model.value()->file_bytes(), check.value()->file_bytes());
  if (!table.original.empty()) {
    const quant::TableMetrics& m = table.metrics;
    std::printf("reconstruction of the %s: max |err| %.3g, mean |err| %.3g, rms %.3g, %.2f bytes/position\n",
                table.is_bias_table ? "relative-bias table" : "position table", m.max_abs_error,
                m.mean_abs_error, m.rms_error, m.bytes_per_position);
    if (!table.is_bias_table) {
      std::printf(
          "position identity: nearest-neighbour recovery %.2f%%, min distance between positions %.3g, "
          "collapsed pairs %" PRId64 "%s\n",
          100.0 * m.nn_recovery_rate, m.min_pair_distance, m.collapsed_pairs,
          m.shares_positions_by_design
              ? " (positions shared by design)"
              : (m.collapse_flagged ? "  <-- WARNING: distinct positions collapsed" : ""));
      if (table.metrics_sampled) {
        std::printf("  (recovery, distance and collapsed pairs over %" PRId64 " evenly spaced of %" PRId64
                    " positions)\n",
                    quantize::kExactTablePositions, m.positions);
      }
    }
    if (table.energy_kept > 0) std::printf("low-rank energy kept: %.6f\n", table.energy_kept);
  }
  if (o.weights != "keep") {
    const quantize::WeightConversion& w = werr.value();
    std::printf("weights %s: max |err| %.3g, worst rms(err)/rms(w) %.3g over %d tensors", o.weights.c_str(),
                w.max_abs_error, w.max_rel_rms, w.tensors);
    if (w.per_row_fallbacks > 0)
      std::printf(" (%d stored per-row int8: columns not a multiple of the group)", w.per_row_fallbacks);
    std::printf("\n");
  }
  return kExitOk;
}

}  // namespace ordinal::cli
