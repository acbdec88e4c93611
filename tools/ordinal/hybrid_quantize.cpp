#include "ordinal/hybrid_quantize.hpp"

#include <cstdint>
#include <cstdlib>

#include "ordinal/args.hpp"
#include "quant/hybrid.hpp"

namespace ordinal::cli::quantize {

namespace {

constexpr const char* kPrefix = "hybrid-";

// "hybrid-K-lowrank-R" or "hybrid-K-lowrank-R-qkv".
bool parse_hybrid(const std::string& s, int64_t* k, int64_t* r, bool* qkv) {
  if (s.rfind(kPrefix, 0) != 0) return false;
  const std::string rest = s.substr(std::string(kPrefix).size());
  const size_t mid = rest.find("-lowrank-");
  if (mid == std::string::npos) return false;
  std::string rank = rest.substr(mid + 9);
  *qkv = false;
  const size_t dash = rank.find('-');
  if (dash != std::string::npos) {
    if (rank.substr(dash + 1) != "qkv") return false;
    *qkv = true;
    rank = rank.substr(0, dash);
  }
  return parse_int(rest.substr(0, mid), 1, 1 << 24, k) && parse_int(rank, 1, 4096, r);
}

}  // namespace

bool is_hybrid_setting(const std::string& scheme) {
  return scheme.rfind(kPrefix, 0) == 0;
}

bool parse_hybrid_setting(const std::string& scheme, PosSetting* out) {
  int64_t k = 0, r = 0;
  bool qkv = false;
  if (!parse_hybrid(scheme, &k, &r, &qkv)) return false;
  out->n = k;
  out->n2 = r;
  out->variant = qkv;
  return true;
}

std::vector<std::string> hybrid_search_values() {
  return hybrid_candidates(INT64_MAX);
}

std::vector<std::string> hybrid_candidates(int64_t positions) {
  std::vector<std::string> c;
  for (int64_t k : {4, 8, 16, 32, 64}) {
    if (k >= positions) continue;
    for (int r : {2, 4, 8, 16}) {
      const std::string base = "hybrid-" + std::to_string(k) + "-lowrank-" + std::to_string(r);
      c.push_back(base + "-qkv");
      c.push_back(base);
    }
  }
  return c;
}

Result<std::vector<double>> model_metric(const modelio::ModelSpec& spec) {
  if (spec.layers.empty()) return invalid_argument("the model has no layers to derive a metric from");
  const modelio::HostLayer& l = spec.layers[0];
  const size_t d = spec.config.dim;
  const std::vector<float> gain = l.attn_norm.to_f32();
  if (gain.size() != d) return invalid_argument("first norm gain has the wrong size");
  const bool centred = spec.config.norm == NormType::kLayerNorm;
  std::vector<double> g(d * d, 0.0);
  for (const modelio::HostTensor* w : {&l.wq, &l.wk, &l.wv}) {
    const std::vector<float> v = w->to_f32();
    if (v.size() % d != 0) return invalid_argument("first-layer projection has the wrong size");
    const size_t out = v.size() / d;
    for (size_t o = 0; o < out; ++o) {
      const float* row = &v[o * d];
      for (size_t i = 0; i < d; ++i) {
        const double ri = static_cast<double>(row[i]) * gain[i];
        for (size_t j = 0; j < d; ++j) g[i * d + j] += ri * row[j] * gain[j];
      }
    }
  }
  if (centred) {  // G <- C G C, C = I - 11^T/d
    std::vector<double> rmean(d, 0.0), cmean(d, 0.0);
    double all = 0;
    for (size_t i = 0; i < d; ++i)
      for (size_t j = 0; j < d; ++j) {
        rmean[i] += g[i * d + j] / d;
        cmean[j] += g[i * d + j] / d;
        all += g[i * d + j] / (static_cast<double>(d) * d);
      }
    for (size_t i = 0; i < d; ++i)
      for (size_t j = 0; j < d; ++j) g[i * d + j] += all - rmean[i] - cmean[j];
  }
  double trace = 0;
  for (size_t i = 0; i < d; ++i) trace += g[i * d + i];
  if (!(trace > 0)) return invalid_argument("first-layer projections are zero");
  for (size_t i = 0; i < d; ++i)
    for (size_t j = 0; j < d; ++j) g[i * d + j] = g[i * d + j] / trace + (i == j ? 1.0 / d : 0.0);
  return g;
}

Status apply_hybrid_table(modelio::ModelSpec& spec, const std::vector<float>& table, int64_t P, int D,
                          const std::string& scheme) {
  int64_t k = 0, r = 0;
  bool qkv = false;
  if (!parse_hybrid(scheme, &k, &r, &qkv))
    return invalid_argument("--pos " + scheme + ": expected hybrid-K-lowrank-R or hybrid-K-lowrank-R-qkv");
  quant::HybridOptions o;
  o.head_rows = k;
  o.rank = static_cast<int>(r);
  if (qkv) {
    ORDINAL_ASSIGN_OR_RETURN(o.metric, model_metric(spec));
  }
  ORDINAL_ASSIGN_OR_RETURN(quant::HybridTableFit fit, quant::build_hybrid(table.data(), P, D, o));
  modelio::HostPositional np;
  np.scheme = PositionalScheme::kHybridTable;
  np.table = tensor_from_quantized("positional.head", fit.head);
  np.low_a = tensor_from_quantized("positional.tail_a", fit.tail_a);
  np.low_b = tensor_from_quantized("positional.tail_b", fit.tail_b);
  spec.positional = std::move(np);
  return Status::Ok();
}

}  // namespace ordinal::cli::quantize
