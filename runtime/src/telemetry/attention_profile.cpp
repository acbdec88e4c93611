#include "ordinal/attention_profile.hpp"

#include <cmath>
#include <new>

#include "large_buffer.hpp"

namespace ordinal {

struct AttentionProfile::Data {
  uint32_t layers = 0, heads = 0, distances = 0, map_positions = 0;
  // Per (layer, head): rows, and sums over rows of entropy, log2(keys), mean distance, padding mass.
  detail::LargeBuffer<uint64_t> rows;
  detail::LargeBuffer<double> entropy, uniform, distance, padding;
  detail::LargeBuffer<double> by_distance;  // [layer, head, distances]
  detail::LargeBuffer<double> map;          // [layer, head, query, key]
  detail::LargeBuffer<uint64_t> map_rows;   // [layer, head, query]

  size_t lh(uint32_t layer, uint32_t head) const { return size_t{layer} * heads + head; }
};

AttentionProfile::AttentionProfile(std::unique_ptr<Data> data) : d_(std::move(data)) {}
AttentionProfile::~AttentionProfile() = default;

Result<std::unique_ptr<AttentionProfile>> AttentionProfile::create(uint32_t layers, uint32_t heads,
                                                                   uint32_t distances,
                                                                   uint32_t map_positions) {
  if (layers == 0 || heads == 0) return invalid_argument("AttentionProfile: layers and heads must be >= 1");
  if (distances == 0) return invalid_argument("AttentionProfile: distances must be >= 1");
  if (distances > (1u << 24) || map_positions > 4096) {
    return invalid_argument("AttentionProfile: distances above 2^24 or map_positions above 4096");
  }
  std::unique_ptr<Data> d(new (std::nothrow) Data());
  if (!d) return out_of_memory("AttentionProfile: cannot allocate its state");
  d->layers = layers;
  d->heads = heads;
  d->distances = distances;
  d->map_positions = map_positions;
  const uint64_t lh = uint64_t{layers} * heads;
  const uint64_t m = map_positions;
  ORDINAL_RETURN_IF_ERROR(d->rows.allocate(lh, "attention profile rows"));
  ORDINAL_RETURN_IF_ERROR(d->entropy.allocate(lh, "attention profile entropy"));
  ORDINAL_RETURN_IF_ERROR(d->uniform.allocate(lh, "attention profile entropy"));
  ORDINAL_RETURN_IF_ERROR(d->distance.allocate(lh, "attention profile distance"));
  ORDINAL_RETURN_IF_ERROR(d->padding.allocate(lh, "attention profile padding"));
  ORDINAL_RETURN_IF_ERROR(d->by_distance.allocate(lh * distances, "attention profile distance bins"));
  ORDINAL_RETURN_IF_ERROR(d->map.allocate(lh * m * m, "attention profile map"));
  ORDINAL_RETURN_IF_ERROR(d->map_rows.allocate(lh * m, "attention profile map rows"));
  std::unique_ptr<AttentionProfile> p(new (std::nothrow) AttentionProfile(std::move(d)));
  if (!p) return out_of_memory("AttentionProfile: cannot allocate");
  return p;
}

void AttentionProfile::observe(const AttentionRow& row, void* profile) {
  static_cast<AttentionProfile*>(profile)->add(row);
}

void AttentionProfile::add(const AttentionRow& row) {
  Data& d = *d_;
  if (row.layer >= d.layers || row.head >= d.heads || row.keys == 0 || row.probabilities == nullptr) return;
  const size_t lh = d.lh(row.layer, row.head);
  double* bins = d.by_distance.data() + lh * d.distances;
  double entropy = 0.0, distance = 0.0, padding = 0.0;
  const bool in_map = row.query_position >= 0 && row.query_position < d.map_positions;
  double* map_row = in_map ? d.map.data() + (lh * d.map_positions + static_cast<size_t>(row.query_position)) *
                                                d.map_positions
                           : nullptr;
  for (size_t t = 0; t < row.keys; ++t) {
    const double p = row.probabilities[t];
    const int64_t key = row.first_key_position + static_cast<int64_t>(t);
    if (p > 0.0) entropy -= p * std::log2(p);
    int64_t dist = row.query_position - key;
    if (dist < 0) dist = -dist;  // bidirectional models attend forward too
    distance += p * static_cast<double>(dist);
    const uint64_t bin =
        static_cast<uint64_t>(dist) < d.distances ? static_cast<uint64_t>(dist) : d.distances - 1;
    bins[bin] += p;
    if (row.padding != nullptr && row.padding[t] != 0) padding += p;
    if (map_row != nullptr && key >= 0 && key < d.map_positions) map_row[key] += p;
  }
  d.rows.data()[lh] += 1;
  d.entropy.data()[lh] += entropy;
  d.uniform.data()[lh] += std::log2(static_cast<double>(row.keys));
  d.distance.data()[lh] += distance;
  d.padding.data()[lh] += padding;
  if (in_map) d.map_rows.data()[lh * d.map_positions + static_cast<size_t>(row.query_position)] += 1;
}

void AttentionProfile::clear() {
  Data& d = *d_;
  auto zero = [](auto& buf) {
    for (size_t i = 0; i < buf.size(); ++i) buf.data()[i] = 0;
  };
  zero(d.rows);
  zero(d.entropy);
  zero(d.uniform);
  zero(d.distance);
  zero(d.padding);
  zero(d.by_distance);
  zero(d.map);
  zero(d.map_rows);
}

uint32_t AttentionProfile::layers() const {
  return d_->layers;
}
uint32_t AttentionProfile::heads() const {
  return d_->heads;
}
uint32_t AttentionProfile::distances() const {
  return d_->distances;
}
uint32_t AttentionProfile::map_positions() const {
  return d_->map_positions;
}

uint64_t AttentionProfile::queries(uint32_t layer, uint32_t head) const {
  return d_->rows.data()[d_->lh(layer, head)];
}

namespace {
double mean(const double* sums, const uint64_t* rows, size_t i) {
  return rows[i] ? sums[i] / static_cast<double>(rows[i]) : 0.0;
}
}  // namespace

double AttentionProfile::mean_entropy_bits(uint32_t layer, uint32_t head) const {
  return mean(d_->entropy.data(), d_->rows.data(), d_->lh(layer, head));
}
double AttentionProfile::mean_uniform_entropy_bits(uint32_t layer, uint32_t head) const {
  return mean(d_->uniform.data(), d_->rows.data(), d_->lh(layer, head));
}
double AttentionProfile::mean_distance(uint32_t layer, uint32_t head) const {
  return mean(d_->distance.data(), d_->rows.data(), d_->lh(layer, head));
}
double AttentionProfile::padding_mass(uint32_t layer, uint32_t head) const {
  return mean(d_->padding.data(), d_->rows.data(), d_->lh(layer, head));
}
double AttentionProfile::distance_mass(uint32_t layer, uint32_t head, uint32_t dist) const {
  const size_t lh = d_->lh(layer, head);
  const uint64_t rows = d_->rows.data()[lh];
  return rows ? d_->by_distance.data()[lh * d_->distances + dist] / static_cast<double>(rows) : 0.0;
}
double AttentionProfile::map(uint32_t layer, uint32_t head, uint32_t query, uint32_t key) const {
  const size_t lh = d_->lh(layer, head);
  const uint64_t rows = d_->map_rows.data()[lh * d_->map_positions + query];
  if (rows == 0) return 0.0;
  return d_->map.data()[(lh * d_->map_positions + query) * d_->map_positions + key] /
         static_cast<double>(rows);
}

}  // namespace ordinal
