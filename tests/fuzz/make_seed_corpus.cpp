// Writes the fuzzer's seed corpus into DIR: small valid models (a few KiB to ~30 KiB, under libFuzzer's
// -max_len) covering both architectures, every positional scheme and storage format the loader accepts,
// each out-of-range policy, scaled RoPE and quantized weights. Usage: make_seed_corpus DIR
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ordinal/quantize.hpp"
#include "support/synthetic_model.hpp"

using namespace ordinal;

namespace {

modelio::ModelSpec base(PositionalScheme scheme, Architecture arch) {
  testing::SyntheticOptions o;
  o.dim = 16;
  o.hidden = 24;
  o.layers = 1;
  o.heads = 2;
  o.kv_heads = arch == Architecture::kLlama ? 1 : 2;
  o.context = 16;
  o.scheme = scheme;
  o.arch = arch;
  o.seed = static_cast<uint64_t>(scheme) * 2 + static_cast<uint64_t>(arch) + 1;
  return testing::make_synthetic_model(o);
}

struct Seed {
  std::string name;
  modelio::ModelSpec spec;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seed_corpus DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  if (std::system(("mkdir -p '" + dir + "'").c_str()) != 0) return 1;
  std::vector<Seed> seeds;
  seeds.push_back({"llama-rope-f32", base(PositionalScheme::kRope, Architecture::kLlama)});
  seeds.push_back({"gpt2-learned-f32", base(PositionalScheme::kLearnedTable, Architecture::kGPT2)});
  seeds.push_back({"gpt2-none", base(PositionalScheme::kNone, Architecture::kGPT2)});
  seeds.push_back({"gpt2-sinusoidal-f32", base(PositionalScheme::kSinusoidal, Architecture::kGPT2)});
  {
    modelio::ModelSpec s = base(PositionalScheme::kLearnedTable, Architecture::kGPT2);
    s.positional.policy = detail::OutOfRangePolicy::kClamp;
    seeds.push_back({"gpt2-learned-clamp", s});
    s.positional.policy = detail::OutOfRangePolicy::kInterpolate;
    s.positional.interpolation_factor = 2.0f;
    seeds.push_back({"gpt2-learned-interpolate", s});
  }
  {
    modelio::ModelSpec s = base(PositionalScheme::kAlibi, Architecture::kGPT2);
    s.positional.slopes_q32 = {1u << 31, 1u << 30};
    seeds.push_back({"gpt2-alibi", s});
    s.positional.alibi_form = detail::AlibiFormKind::kSymmetric;
    seeds.push_back({"gpt2-alibi-symmetric", s});
  }
  {
    modelio::ModelSpec s = base(PositionalScheme::kRelativeBias, Architecture::kGPT2);
    testing::TestRng rng(5);
    s.positional.table =
        modelio::HostTensor::f32("relative_attention_bias", {8, 2}, testing::random_values(rng, 16, 1.0f));
    s.positional.num_buckets = 8;
    s.positional.max_distance = 32;
    seeds.push_back({"gpt2-relbias-f32", s});
  }
  // Derived seeds: what `ordinal quantize` produces from the base models.
  struct Derived {
    const char* from;
    const char* pos;
    const char* rope_scaling;
    const char* weights;
  };
  const Derived derived[] = {
      {"llama-rope-f32", "rope-q15", "", ""},
      {"llama-rope-f32", "rope-q31", "", ""},
      {"llama-rope-f32", "rope-q31", "yarn:4,16", ""},
      {"llama-rope-f32", "rope-f32", "ntk:2", ""},
      {"llama-rope-f32", "", "", "f16"},
      {"llama-rope-f32", "", "", "int8"},
      {"gpt2-learned-f32", "f16", "", ""},
      {"gpt2-learned-f32", "int8-row", "", ""},
      {"gpt2-learned-f32", "int8-row-f32", "", ""},
      {"gpt2-learned-f32", "int8-col", "", ""},
      {"gpt2-learned-f32", "int4-g16", "", ""},
      {"gpt2-learned-f32", "int4-g16-zp", "", ""},
      {"gpt2-learned-f32", "codebook-4", "", ""},
      {"gpt2-learned-f32", "codebook-4-int8", "", ""},
      {"gpt2-learned-f32", "bucket-stride-2", "", ""},
      {"gpt2-learned-f32", "bucket-t5-8", "", ""},
      {"gpt2-learned-f32", "lowrank-4", "", ""},
      {"gpt2-learned-f32", "lowrank-4-int8", "", ""},
      {"gpt2-learned-f32", "", "", "int8"},
      {"gpt2-sinusoidal-f32", "sin-q15", "", ""},
      {"gpt2-sinusoidal-f32", "sin-q31", "", ""},
      {"gpt2-relbias-f32", "int8", "", ""},
  };
  const size_t originals = seeds.size();
  for (const Derived& d : derived) {
    const Seed* from = nullptr;
    for (size_t i = 0; i < originals; ++i) {
      if (seeds[i].name == d.from) from = &seeds[i];
    }
    if (from == nullptr) continue;
    modelio::ModelSpec s = from->spec;
    std::string name = std::string(d.from);
    if (*d.pos || *d.rope_scaling) {
      cli::quantize::Options o;
      o.pos = d.pos;
      o.rope_scaling = d.rope_scaling;
      auto r = cli::quantize::apply_positional(s, o);
      if (!r.ok()) {
        std::fprintf(stderr, "make_seed_corpus: skipping %s --pos %s: %s\n", d.from, d.pos,
                     r.status().to_string().c_str());
        continue;
      }
      name += std::string("-") + d.pos + (*d.rope_scaling ? std::string("-") + d.rope_scaling : "");
    }
    if (*d.weights) {
      auto r = cli::quantize::convert_weights(s, d.weights);
      if (!r.ok()) {
        std::fprintf(stderr, "make_seed_corpus: skipping %s --weights %s: %s\n", d.from, d.weights,
                     r.status().to_string().c_str());
        continue;
      }
      name += std::string("-weights-") + d.weights;
    }
    for (char& c : name) {
      if (c == ':' || c == ',') c = '_';
    }
    seeds.push_back({name, s});
  }
  int written = 0;
  for (const Seed& seed : seeds) {
    const std::string path = dir + "/seed-" + seed.name + ".ordinal";
    Status st = modelio::write_model(seed.spec, path);
    if (!st.ok()) {
      std::fprintf(stderr, "make_seed_corpus: %s: %s\n", seed.name.c_str(), st.to_string().c_str());
      return 1;
    }
    // A seed the runtime rejects would only teach the fuzzer the rejection paths.
    auto m = Model::load(path);
    if (!m.ok()) {
      std::fprintf(stderr, "make_seed_corpus: %s does not load: %s\n", seed.name.c_str(),
                   m.status().to_string().c_str());
      return 1;
    }
    ++written;
  }
  std::printf("make_seed_corpus: %d seeds in %s\n", written, dir.c_str());
  return 0;
}
