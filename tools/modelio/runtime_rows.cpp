// Host-side tables through the runtime's arithmetic: views of a spec's arrays handed to the positional
// module that sessions use, so quantize's error report and verify's identity check see exactly the vectors
// a session adds (one arithmetic; no host re-implementation of the dequantization).
#include <algorithm>

#include "modelio/host_scheme.hpp"
#include "positional/encoder.hpp"
#include "positional/relative_bias.hpp"

namespace ordinal::modelio {

format::TensorView view_of(const HostTensor& t) {
  format::TensorView v;
  if (!t.present()) return v;
  v.name = t.name;
  v.dtype = t.dtype;
  v.rank = static_cast<uint32_t>(std::min<size_t>(t.shape.size(), 4));
  for (uint32_t i = 0; i < v.rank; ++i) v.shape[i] = t.shape[i];
  v.data = t.data.data();
  v.bytes = t.data.size();
  v.quant.granularity = t.granularity;
  v.quant.group_size = t.group_size;
  v.quant.scale_dtype = t.scale_dtype;
  if (!t.scales.empty()) {
    v.quant.scales = t.scales.data();
    v.quant.scale_count = t.scales.size() / (t.scale_dtype == format::DType::kF16 ? 2 : 4);
  }
  if (!t.zero_points.empty()) v.quant.zero_points = t.zero_points.data();
  return v;
}

Result<std::vector<float>> runtime_position_rows(const ModelSpec& spec) {
  const HostSchemeModule* host = find_host_scheme(spec.positional.scheme);
  const positional::SchemeModule* device = positional::find_scheme(spec.positional.scheme);
  if (host == nullptr || device == nullptr || host->view == nullptr) {
    return invalid_argument(std::string("positional scheme '") +
                            positional_scheme_name(spec.positional.scheme) +
                            "' has no stored position table");
  }
  detail::ModelData md;
  md.config = spec.config;
  static_cast<detail::PositionalSettings&>(md.positional) = spec.positional;
  host->view(spec.positional, &md.positional);
  md.position_limit = device->position_limit(md.positional);
  ORDINAL_ASSIGN_OR_RETURN(positional::PositionalEncoder enc, positional::PositionalEncoder::create(md));
  const uint32_t dim = spec.config.dim;
  std::vector<float> rows(size_t{enc.stored_positions()} * dim);
  std::vector<float> scratch(std::max<size_t>(enc.scratch_floats(), 1));
  for (uint32_t r = 0; r < enc.stored_positions(); ++r)
    enc.stored_row(r, &rows[size_t{r} * dim], scratch.data());
  return rows;
}

Result<std::vector<float>> runtime_relative_bias_table(const ModelSpec& spec) {
  const HostPositional& hp = spec.positional;
  if (hp.scheme != PositionalScheme::kRelativeBias || !hp.table.present()) {
    return invalid_argument(std::string("positional scheme '") + positional_scheme_name(hp.scheme) +
                            "' has no relative-bias table");
  }
  const positional::SchemeModule* device = positional::find_scheme(hp.scheme);
  if (device == nullptr) return internal_error("relative bias: no runtime module");
  detail::ModelData md;
  md.config = spec.config;
  static_cast<detail::PositionalSettings&>(md.positional) = hp;
  md.positional.table = view_of(hp.table);
  md.position_limit = device->position_limit(md.positional);
  ORDINAL_ASSIGN_OR_RETURN(positional::PositionalEncoder enc, positional::PositionalEncoder::create(md));
  // One relative position per bucket (the runtime's own bucket function), then the bias the module gives a
  // query/key pair that far apart, for every head.
  ORDINAL_ASSIGN_OR_RETURN(
      positional::T5BucketTable buckets,
      positional::make_t5_bucket_table(static_cast<int>(hp.num_buckets), hp.max_distance, hp.bidirectional));
  const uint32_t nb = hp.num_buckets, heads = spec.config.n_heads;
  const int64_t reach = int64_t{hp.max_distance} + 1;
  std::vector<int64_t> relative(nb, 0);
  std::vector<bool> found(nb, false);
  uint32_t remaining = nb;
  for (int64_t d = 0; d <= reach && remaining > 0; ++d) {
    for (const int64_t r : {-d, d}) {
      const int b = positional::t5_relative_position_bucket(buckets, r);
      if (b >= 0 && static_cast<uint32_t>(b) < nb && !found[static_cast<size_t>(b)]) {
        found[static_cast<size_t>(b)] = true;
        relative[static_cast<size_t>(b)] = r;
        --remaining;
      }
    }
  }
  if (remaining > 0) {
    return invalid_argument("relative bias: " + std::to_string(remaining) +
                            " buckets are reached by no relative position within max_distance");
  }
  std::vector<float> table(size_t{nb} * heads);
  for (uint32_t b = 0; b < nb; ++b) {
    for (uint32_t h = 0; h < heads; ++h)
      enc.attention_bias(h, reach, reach + relative[b], 1, &table[size_t{b} * heads + h]);
  }
  return table;
}

}  // namespace ordinal::modelio
