// The positional transforms behind `ordinal quantize` (ordinal/quantize.hpp): learned tables to their
// quantized, codebook, bucketed and low-rank forms, RoPE/sinusoidal precision and scaling, relative-bias
// tables; the reported reconstruction is the runtime's own (modelio::runtime_position_rows). The verb
// (cmd_quantize.cpp) only parses flags and prints; the settings are the --pos grammar's (pos_grammar.hpp).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "model_data.hpp"
#include "modelio/host_scheme.hpp"
#include "modelio/model_spec.hpp"
#include "ordinal/hybrid_quantize.hpp"
#include "ordinal/pos_grammar.hpp"
#include "ordinal/position_search.hpp"
#include "ordinal/quantize.hpp"
#include "ordinal/runtime.hpp"
#include "quant/bucketed.hpp"
#include "quant/codebook.hpp"
#include "quant/lowrank.hpp"
#include "quant/metrics.hpp"
#include "quant/rope_frequencies.hpp"
#include "quant/table_quantizers.hpp"

namespace ordinal::cli {

namespace quantize {

using modelio::HostTensor;

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
    case quant::RowFormat::kF32:
      t.dtype = format::DType::kF32;
      break;
    case quant::RowFormat::kF16:
      t.dtype = format::DType::kF16;
      break;
    case quant::RowFormat::kInt8RowF32Scale:
    case quant::RowFormat::kInt8RowF16Scale:
      t.dtype = format::DType::kI8;
      t.granularity = format::QuantGranularity::kPerRow;
      t.scale_dtype =
          q.format == quant::RowFormat::kInt8RowF16Scale ? format::DType::kF16 : format::DType::kF32;
      t.scales = q.scales;
      break;
    case quant::RowFormat::kInt8Col:
      t.dtype = format::DType::kI8;
      t.granularity = format::QuantGranularity::kPerColumn;
      t.scale_dtype = format::DType::kF32;
      t.scales = q.scales;
      break;
    case quant::RowFormat::kInt4Group:
    case quant::RowFormat::kInt4GroupZpU8:
    case quant::RowFormat::kInt4GroupZpU4:
      t.dtype = format::DType::kI4;
      t.granularity = format::QuantGranularity::kPerGroup;
      t.group_size = static_cast<uint32_t>(q.group);
      t.scale_dtype = format::DType::kF16;
      t.scales = q.scales;
      if (q.format == quant::RowFormat::kInt4GroupZpU8) t.zero_points = q.zero_points;
      if (q.format == quant::RowFormat::kInt4GroupZpU4) {
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
  ORDINAL_ASSIGN_OR_RETURN(const PosSetting setting, parse_pos(PositionalScheme::kLearnedTable, scheme));
  const int64_t n = setting.n;
  auto plain = [&](quant::RowFormat fmt, int group) -> Status {
    ORDINAL_ASSIGN_OR_RETURN(quant::QuantizedTable q, quant::quantize_table(table.data(), P, D, fmt, group));
    HostTensor t = tensor_from_quantized("positional.table", q);
    p.table = std::move(t);
    return Status::Ok();
  };
  const PosKind kind = setting.kind;
  if (kind == PosKind::kTableF32) {
    ORDINAL_RETURN_IF_ERROR(plain(quant::RowFormat::kF32, 0));
  } else if (kind == PosKind::kTableF16) {
    ORDINAL_RETURN_IF_ERROR(plain(quant::RowFormat::kF16, 0));
  } else if (kind == PosKind::kTableInt8Row) {
    ORDINAL_RETURN_IF_ERROR(plain(quant::RowFormat::kInt8RowF16Scale, 0));
  } else if (kind == PosKind::kTableInt8RowF32) {
    ORDINAL_RETURN_IF_ERROR(plain(quant::RowFormat::kInt8RowF32Scale, 0));
  } else if (kind == PosKind::kTableInt8Col) {
    ORDINAL_RETURN_IF_ERROR(plain(quant::RowFormat::kInt8Col, 0));
  } else if (kind == PosKind::kTableInt4Group) {
    if (D % n != 0)
      return invalid_argument("--pos " + scheme + ": group " + std::to_string(n) + " does not divide dim " +
                              std::to_string(D));
    ORDINAL_RETURN_IF_ERROR(
        plain(setting.variant ? quant::RowFormat::kInt4GroupZpU8 : quant::RowFormat::kInt4Group,
              static_cast<int>(n)));
  } else if (kind == PosKind::kCodebook) {
    quant::CodebookOptions o;
    o.k = static_cast<int>(n);
    o.seed = seed;
    o.codebook_format = setting.variant ? quant::RowFormat::kInt8RowF16Scale : quant::RowFormat::kF32;
    ORDINAL_ASSIGN_OR_RETURN(quant::Codebook cb, quant::build_codebook(table.data(), P, D, o));
    const quant::CodebookTable v = cb.view();
    quant::QuantizedTable stored;
    stored.format = v.codebook.format;
    stored.rows = v.codebook.rows;
    stored.cols = v.codebook.cols;
    const uint64_t row_bytes =
        v.codebook.format == quant::RowFormat::kF32 ? 4ull * D : static_cast<uint64_t>(D);
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
  } else if (kind == PosKind::kBucketStride) {
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
  } else if (kind == PosKind::kBucketT5) {
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
  } else if (kind == PosKind::kLowRank) {
    if (n > D) return invalid_argument("--pos " + scheme + ": rank exceeds dim " + std::to_string(D));
    ORDINAL_ASSIGN_OR_RETURN(quant::LowRankFactors f,
                             quant::lowrank_factorize(table.data(), P, D, static_cast<int>(n)));
    const bool int8 = setting.variant;
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
  } else if (kind == PosKind::kHybrid) {
    ORDINAL_RETURN_IF_ERROR(apply_hybrid_table(spec, table, P, D, scheme));
  } else {
    return internal_error("--pos " + scheme + ": parsed as a setting of another scheme");
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
  ORDINAL_ASSIGN_OR_RETURN(const PosSetting setting, parse_pos(PositionalScheme::kRope, scheme));
  p.precision = setting.kind == PosKind::kRopeQ15   ? detail::TrigPrecision::kQ15
                : setting.kind == PosKind::kRopeQ31 ? detail::TrigPrecision::kQ31
                                                    : detail::TrigPrecision::kF32;
  ORDINAL_RETURN_IF_ERROR(modelio::compute_rope_frequencies(spec.config.head_dim, &p));
  if (context > 0) spec.config.max_positions = static_cast<uint32_t>(context);
  return Status::Ok();
}

Status apply_sinusoidal(modelio::ModelSpec& spec, const std::string& scheme) {
  modelio::HostPositional& p = spec.positional;
  if (p.scheme != PositionalScheme::kSinusoidal)
    return invalid_argument("--pos " + scheme + " needs a sinusoidal model");
  ORDINAL_ASSIGN_OR_RETURN(const PosSetting setting, parse_pos(PositionalScheme::kSinusoidal, scheme));
  if (setting.kind == PosKind::kSinF32) {
    p.precision = detail::TrigPrecision::kF32;
    p.frequencies.clear();
    return Status::Ok();
  }
  p.precision = setting.kind == PosKind::kSinQ15 ? detail::TrigPrecision::kQ15 : detail::TrigPrecision::kQ31;
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
  ORDINAL_ASSIGN_OR_RETURN(const PosSetting setting, parse_pos(PositionalScheme::kRelativeBias, scheme));
  ORDINAL_RETURN_IF_ERROR(check_finite_rows(table, cols, "relative-bias table"));
  TableReport report;
  report.original = table;
  report.positions = rows;
  report.cols = cols;
  ORDINAL_ASSIGN_OR_RETURN(quant::QuantizedTable q, quant::quantize_table(table.data(), rows, cols,
                                                                          setting.kind == PosKind::kBiasInt8
                                                                              ? quant::RowFormat::kInt8Col
                                                                              : quant::RowFormat::kF32));
  p.table = tensor_from_quantized("positional.relative_bias", q);
  // The table as the runtime's module reads it (one arithmetic with what attention adds).
  ORDINAL_ASSIGN_OR_RETURN(report.reconstructed, modelio::runtime_relative_bias_table(spec));
  report.bytes = static_cast<int64_t>(p.bytes());
  report.metrics =
      quant::compare_tables(table.data(), report.reconstructed.data(), rows, cols, report.bytes, true);
  report.is_bias_table = true;
  return report;
}

// What `quantize --pos` does per scheme: one row per scheme (the transform; the settings it accepts and
// the order --search tries them in are the --pos grammar's, pos_grammar.hpp). apply_positional looks rows
// up here instead of switching over the scheme.
struct PositionalQuantizer {
  PositionalScheme scheme;
  Result<TableReport> (*apply)(modelio::ModelSpec& spec, const Options& o);
};

const PositionalQuantizer kQuantizers[] = {
    {PositionalScheme::kLearnedTable,
     [](modelio::ModelSpec& spec, const Options& o) {
       return quantize_positional_table(spec, o.pos, o.seed);
     }},
    {PositionalScheme::kRope,
     [](modelio::ModelSpec& spec, const Options& o) -> Result<TableReport> {
       ORDINAL_RETURN_IF_ERROR(apply_rope(spec, o.pos, o.rope_scaling, 0));
       return TableReport();
     }},
    {PositionalScheme::kSinusoidal,
     [](modelio::ModelSpec& spec, const Options& o) -> Result<TableReport> {
       ORDINAL_RETURN_IF_ERROR(apply_sinusoidal(spec, o.pos));
       return TableReport();
     }},
    {PositionalScheme::kRelativeBias,
     [](modelio::ModelSpec& spec, const Options& o) -> Result<TableReport> {
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
  return pos_candidates(spec.positional.scheme);
}

}  // namespace quantize

}  // namespace ordinal::cli
