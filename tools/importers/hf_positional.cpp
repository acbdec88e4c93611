// The positional component of an HF directory: `ordinal_positional` for GPT-2 bodies (learned, sinusoidal,
// ALiBi, relative bias, none) and the RoPE block of Llama bodies (rope_theta, partial rotary, Llama-3.1
// scaling, layout), with the exact frequencies the runtime reads.
#include <cmath>
#include <map>
#include <set>

#include "importers/safetensors_internal.hpp"
#include "modelio/host_scheme.hpp"
#include "positional/alibi.hpp"

namespace ordinal::importers::hf {

namespace {

std::vector<uint32_t> alibi_slopes(uint32_t n_heads) {
  std::vector<uint32_t> slopes(n_heads);
  // The runtime's own construction (BLOOM's get_slopes in exact integer Q0.32): one definition of the slopes.
  Status st = positional::alibi_slopes_q32(static_cast<int>(n_heads), slopes.data());
  if (!st.ok()) fail("alibi: " + st.message());
  return slopes;
}

}  // namespace

// `ordinal_positional` with only the keys its scheme defines.
json positional_config(const json& config, const std::string& path, const std::string& fallback_scheme) {
  if (!config.contains("ordinal_positional")) {
    if (fallback_scheme.empty()) fail(path + ": missing key 'ordinal_positional'");
    return json{{"scheme", fallback_scheme}};
  }
  const json& p = config["ordinal_positional"];
  if (!p.is_object() || !p.contains("scheme") || !p["scheme"].is_string()) {
    fail(path + ": 'ordinal_positional' must be an object with a string 'scheme'");
  }
  const std::string scheme = p["scheme"].get<std::string>();
  static const std::map<std::string, std::set<std::string>> kKeys = {
      {"learned", {}},
      {"sinusoidal", {"base"}},
      {"rope", {"layout"}},
      {"alibi", {"form"}},
      {"relative_bias", {"num_buckets", "max_distance", "bidirectional"}},
      {"none", {}},
  };
  auto known = kKeys.find(scheme);
  if (known == kKeys.end()) {
    fail(path + ": ordinal_positional.scheme '" + scheme +
         "' is unknown (learned, sinusoidal, rope, alibi, relative_bias, none)");
  }
  for (auto it = p.begin(); it != p.end(); ++it) {
    if (it.key() != "scheme" && known->second.count(it.key()) == 0) {
      fail(path + ": ordinal_positional key '" + it.key() + "' is not defined for scheme '" + scheme + "'");
    }
  }
  return p;
}

void gpt2_positional(const json& pos, const Config& c, TensorSource& src, uint32_t H, uint32_t d, uint32_t P,
                     modelio::HostPositional* out) {
  modelio::HostPositional& p = *out;
  const std::string scheme = pos["scheme"].get<std::string>();
  if (scheme == "learned") {
    p.scheme = PositionalScheme::kLearnedTable;
    p.policy = detail::OutOfRangePolicy::kError;
    p.table = host("transformer.wpe.weight", src.take("transformer.wpe.weight", {P, d}, true));
  } else if (scheme == "sinusoidal") {
    p.scheme = PositionalScheme::kSinusoidal;
    Config pc(pos, c.path() + ": ordinal_positional");
    p.base = pc.number_or("base", 10000.0);
    if (!(p.base > 1.0)) fail(c.path() + ": ordinal_positional.base must be > 1");
    if (d % 2 != 0) fail(c.path() + ": sinusoidal positions need an even n_embd");
    p.precision = detail::TrigPrecision::kF32;
  } else if (scheme == "alibi") {
    p.scheme = PositionalScheme::kAlibi;
    Config pc(pos, c.path() + ": ordinal_positional");
    const std::string form = pc.string_or("form", "causal");
    if (form == "causal") {
      p.alibi_form = detail::AlibiFormKind::kCausal;
    } else if (form == "symmetric") {
      p.alibi_form = detail::AlibiFormKind::kSymmetric;
    } else {
      fail(c.path() + ": ordinal_positional.form '" + form + "' is unknown (causal, symmetric)");
    }
    p.slopes_q32 = alibi_slopes(H);
  } else if (scheme == "relative_bias") {
    p.scheme = PositionalScheme::kRelativeBias;
    Config pc(pos, c.path() + ": ordinal_positional");
    p.num_buckets = pc.u32("num_buckets", 2, 4096);
    p.max_distance = pc.u32("max_distance", 1, 1u << 24);
    p.bidirectional = pc.boolean_or("bidirectional", false);
    p.table = host("transformer.relative_attention_bias.weight",
                   src.take("transformer.relative_attention_bias.weight", {p.num_buckets, H}, false));
  } else {  // none
    p.scheme = PositionalScheme::kNone;
  }
}

void llama_rope(const json& j, const Config& c, const std::string& layout, uint32_t hd,
                modelio::HostPositional* out) {
  modelio::HostPositional& p = *out;
  p.scheme = PositionalScheme::kRope;
  p.base = c.number_or("rope_theta", 10000.0);
  if (!(p.base > 1.0)) fail(c.path() + ": 'rope_theta' must be > 1");
  p.rotary_dims = hd;
  // Partial rotary (HF partial_rotary_factor, GPT-NeoX rotary_pct): only the first int(head_dim * factor)
  // dims of each head rotate; HF computes inv_freq over that many dims, as rope_frequencies does.
  if (c.has("partial_rotary_factor")) {
    const double f = c.number_or("partial_rotary_factor", 1.0);
    const double rot = std::floor(static_cast<double>(hd) * f);
    if (!(f > 0.0 && f <= 1.0) || rot < 2 || static_cast<uint32_t>(rot) % 2 != 0) {
      fail(c.path() + ": 'partial_rotary_factor' " + std::to_string(f) + " gives " + std::to_string(rot) +
           " rotary dims of head_dim " + std::to_string(hd) + " (needs an even count >= 2)");
    }
    p.rotary_dims = static_cast<uint32_t>(rot);
  }
  p.rope_layout =
      layout == "split_half" ? detail::RopeLayoutKind::kSplitHalf : detail::RopeLayoutKind::kInterleaved;
  p.precision = detail::TrigPrecision::kF32;
  if (c.has("rope_scaling")) {
    if (!j["rope_scaling"].is_object()) fail(c.path() + ": 'rope_scaling' must be an object");
    const Config rs(j["rope_scaling"], c.path() + ": rope_scaling");
    const std::string type = rs.has("rope_type") ? rs.string("rope_type") : rs.string_or("type", "default");
    if (type == "llama3") {
      // Llama 3.1: factor, low/high_freq_factor, original_max_position_embeddings (HF names).
      p.scaling = detail::RopeScalingKind::kLlama3;
      p.scaling_factor = static_cast<float>(rs.number_or("factor", 0.0));
      p.low_freq_factor = static_cast<float>(rs.number_or("low_freq_factor", 1.0));
      p.high_freq_factor = static_cast<float>(rs.number_or("high_freq_factor", 4.0));
      p.original_context = rs.u32("original_max_position_embeddings", 1, 1u << 24);
      if (!(p.scaling_factor >= 1.0f && p.scaling_factor <= 1024.0f) || !(p.low_freq_factor > 0.0f) ||
          !(p.high_freq_factor > p.low_freq_factor)) {
        fail(c.path() +
             ": rope_scaling llama3 needs factor in [1, 1024] and 0 < low_freq_factor < "
             "high_freq_factor");
      }
    } else if (type != "default") {
      fail(c.path() + ": rope_scaling type '" + type + "' is not supported by this importer (llama3)");
    }
  }
  // Scaled RoPE stores its exact frequencies (the runtime never re-derives a scaling).
  Status freqs = modelio::compute_rope_frequencies(hd, &p);
  if (!freqs.ok()) fail(c.path() + ": " + freqs.message());
}

}  // namespace ordinal::importers::hf
