// Host side of the computed schemes: sinusoidal and RoPE (frequencies are host-computed uint64 turn
// fractions, quant/rope_frequencies), ALiBi (Q0.32 slopes) and the T5 relative-bias table.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "modelio/host_scheme.hpp"
#include "quant/rope_frequencies.hpp"

namespace ordinal::modelio {

namespace fb = ::ordinal::schema;

namespace {

// A whole string as a finite number in [lo, hi] (the CLI's parse_float rules, kept here so the model I/O
// layer does not depend on the CLI).
bool number_in(const std::string& text, double lo, double hi, double* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(v) || v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool integer_in(const std::string& text, int64_t lo, int64_t hi, int64_t* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

PositionalBlock write_sinusoidal(flatbuffers::FlatBufferBuilder& b, TensorWriter&, const HostPositional& p) {
  auto f = p.frequencies.empty() ? 0 : b.CreateVector(p.frequencies);
  return {fb::Positional::Sinusoidal,
          fb::CreateSinusoidal(b, p.base, static_cast<fb::TrigPrecision>(p.precision), f).Union()};
}

std::string describe_sinusoidal(const detail::PositionalParams& p, const ModelConfig&) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "base %g, %s", p.base, detail::trig_precision_name(p.precision));
  return buf;
}

PositionalBlock write_rope(flatbuffers::FlatBufferBuilder& b, TensorWriter&, const HostPositional& p) {
  // The fields in CreateRopeScaling's order; the Llama3 band edges only when used, so the files of every
  // other model stay byte-identical to those of writers that predate them.
  fb::RopeScalingBuilder rs(b);
  if (p.scaling == detail::RopeScalingKind::kLlama3) {
    rs.add_high_freq_factor(p.high_freq_factor);
    rs.add_low_freq_factor(p.low_freq_factor);
  }
  rs.add_attention_factor(p.attention_factor);
  rs.add_beta_slow(p.beta_slow);
  rs.add_beta_fast(p.beta_fast);
  rs.add_original_context(p.original_context);
  rs.add_factor(p.scaling_factor);
  rs.add_type(static_cast<fb::RopeScalingType>(p.scaling));
  const auto scaling = rs.Finish();
  auto f = p.frequencies.empty() ? 0 : b.CreateVector(p.frequencies);
  return {fb::Positional::Rope,
          fb::CreateRope(b, p.base, p.rotary_dims, static_cast<fb::RopeLayout>(p.rope_layout),
                         static_cast<fb::TrigPrecision>(p.precision), scaling, f)
              .Union()};
}

std::string describe_rope(const detail::PositionalParams& p, const ModelConfig& c) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "base %g, rotary dims %u of %u, %s layout, %s, scaling %d x%g", p.base,
                p.rotary_dims, c.head_dim,
                p.rope_layout == detail::RopeLayoutKind::kInterleaved ? "interleaved" : "split-half",
                detail::trig_precision_name(p.precision), static_cast<int>(p.scaling), p.scaling_factor);
  std::string s = buf;
  if (p.scaling == detail::RopeScalingKind::kLlama3) {
    std::snprintf(buf, sizeof buf, " (llama3: low_freq_factor %g, high_freq_factor %g, original context %u)",
                  p.low_freq_factor, p.high_freq_factor, p.original_context);
    s += buf;
  }
  return s;
}

PositionalBlock write_alibi(flatbuffers::FlatBufferBuilder& b, TensorWriter&, const HostPositional& p) {
  auto s = b.CreateVector(p.slopes_q32);
  return {fb::Positional::Alibi, fb::CreateAlibi(b, static_cast<fb::AlibiForm>(p.alibi_form), s).Union()};
}

std::string describe_alibi(const detail::PositionalParams& p, const ModelConfig& c) {
  return std::string(p.alibi_form == detail::AlibiFormKind::kCausal ? "causal" : "symmetric") + ", " +
         std::to_string(c.n_heads) + " slopes (Q0.32)";
}

PositionalBlock write_relative_bias(flatbuffers::FlatBufferBuilder& b, TensorWriter& w,
                                    const HostPositional& p) {
  auto t = w.write(b, p.table);
  return {fb::Positional::RelativeBias,
          fb::CreateRelativeBias(b, p.num_buckets, p.max_distance, p.bidirectional, t).Union()};
}

std::string describe_relative_bias(const detail::PositionalParams& p, const ModelConfig&) {
  return std::to_string(p.num_buckets) + " buckets, max distance " + std::to_string(p.max_distance) +
         (p.bidirectional ? ", bidirectional" : ", causal");
}

}  // namespace

const char* const kRopeScalingGrammar = "linear:F | ntk:F | yarn:F,ORIG | llama3:F,LOW,HIGH,ORIG";

Status parse_rope_scaling(const std::string& text, detail::PositionalSettings* s) {
  const size_t colon = text.find(':');
  const std::string name = text.substr(0, colon);
  const std::string args = colon == std::string::npos ? "" : text.substr(colon + 1);
  double factor = 0;
  if (!number_in(args.substr(0, args.find(',')), 1.0, 1024.0, &factor)) {
    return invalid_argument("--rope-scaling " + text + ": factor must be a number in [1, 1024]");
  }
  detail::PositionalSettings out = *s;
  out.scaling_factor = static_cast<float>(factor);
  out.original_context = 0;
  if (name == "linear") {
    out.scaling = detail::RopeScalingKind::kLinear;
  } else if (name == "ntk") {
    out.scaling = detail::RopeScalingKind::kNTK;
  } else if (name == "yarn") {
    out.scaling = detail::RopeScalingKind::kYaRN;
    int64_t orig = 0;
    const size_t comma = args.find(',');
    if (comma == std::string::npos || !integer_in(args.substr(comma + 1), 1, 1 << 24, &orig)) {
      return invalid_argument("--rope-scaling yarn:F,ORIG needs the original context length");
    }
    out.original_context = static_cast<uint32_t>(orig);
  } else if (name == "llama3") {
    // Llama 3.1: llama3:8,1,4,8192 is factor 8, low_freq_factor 1, high_freq_factor 4, original context 8192.
    out.scaling = detail::RopeScalingKind::kLlama3;
    const size_t c1 = args.find(','), c2 = c1 == std::string::npos ? c1 : args.find(',', c1 + 1),
                 c3 = c2 == std::string::npos ? c2 : args.find(',', c2 + 1);
    double low = 0, high = 0;
    int64_t orig = 0;
    if (c3 == std::string::npos || !number_in(args.substr(c1 + 1, c2 - c1 - 1), 1e-6, 1e6, &low) ||
        !number_in(args.substr(c2 + 1, c3 - c2 - 1), 1e-6, 1e6, &high) || !(high > low) ||
        !integer_in(args.substr(c3 + 1), 1, 1 << 24, &orig)) {
      return invalid_argument(
          "--rope-scaling " + text +
          ": llama3:F,LOW,HIGH,ORIG needs 0 < LOW < HIGH and the original context length");
    }
    out.low_freq_factor = static_cast<float>(low);
    out.high_freq_factor = static_cast<float>(high);
    out.original_context = static_cast<uint32_t>(orig);
  } else {
    return invalid_argument("--rope-scaling: unknown kind '" + name + "' (" + kRopeScalingGrammar + ")");
  }
  *s = out;
  return Status::Ok();
}

Status compute_rope_frequencies(uint32_t head_dim, HostPositional* p) {
  if (p->precision == detail::TrigPrecision::kF32 && p->scaling == detail::RopeScalingKind::kNone) {
    p->frequencies.clear();  // llama2.c / HF float angles
    return Status::Ok();
  }
  detail::PositionalSettings settings = *p;
  if (settings.rotary_dims == 0) settings.rotary_dims = head_dim;
  ORDINAL_ASSIGN_OR_RETURN(quant::RopeFrequencies f, quant::rope_frequencies(settings));
  p->frequencies = f.turns;
  p->attention_factor = static_cast<float>(f.attention_factor);
  return Status::Ok();
}

const HostSchemeModule kHostSinusoidal = {PositionalScheme::kSinusoidal, write_sinusoidal,
                                          describe_sinusoidal, nullptr};
const HostSchemeModule kHostRope = {PositionalScheme::kRope, write_rope, describe_rope, nullptr};
const HostSchemeModule kHostAlibi = {PositionalScheme::kAlibi, write_alibi, describe_alibi, nullptr};
const HostSchemeModule kHostRelativeBias = {PositionalScheme::kRelativeBias, write_relative_bias,
                                            describe_relative_bias, nullptr};

}  // namespace ordinal::modelio
