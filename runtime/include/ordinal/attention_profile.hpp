// Attention profiler: accumulates a session's attention rows (Session::set_attention_observer with
// AttentionProfile::observe) into per-layer, per-head statistics: attention entropy, attention mass by
// relative distance, mass on padding keys, and a query x key map of the first positions for heatmaps.
// Opt-in: a session without an observer never computes any of this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "ordinal/export.h"
#include "ordinal/status.hpp"
#include "ordinal/telemetry.hpp"

namespace ordinal {

class ORD_API AttentionProfile {
 public:
  // distances: relative distances tracked one by one (query - key = 0 .. distances - 1; farther keys count
  // in the last bin). map_positions: queries and keys at absolute positions below this are kept as a map.
  // Everything is allocated here (kOutOfMemory when that fails); add() never allocates.
  static Result<std::unique_ptr<AttentionProfile>> create(uint32_t layers, uint32_t heads, uint32_t distances,
                                                          uint32_t map_positions);
  ~AttentionProfile();
  AttentionProfile(const AttentionProfile&) = delete;
  AttentionProfile& operator=(const AttentionProfile&) = delete;

  // An AttentionObserver: `profile` is the AttentionProfile*. Rows of layers/heads outside the profile's
  // shape are ignored.
  static void observe(const AttentionRow& row, void* profile);
  void add(const AttentionRow& row);
  void clear();

  uint32_t layers() const;
  uint32_t heads() const;
  uint32_t distances() const;
  uint32_t map_positions() const;

  // Per (layer, head), means over the rows (queries) seen:
  uint64_t queries(uint32_t layer, uint32_t head) const;
  // Entropy of the row, -sum p log2 p, in bits.
  double mean_entropy_bits(uint32_t layer, uint32_t head) const;
  // log2(keys): the entropy uniform attention over the same rows would have.
  double mean_uniform_entropy_bits(uint32_t layer, uint32_t head) const;
  // Mass at relative distance d (query position - key position); the last bin holds d >= distances() - 1.
  // Sums to 1 over d.
  double distance_mass(uint32_t layer, uint32_t head, uint32_t d) const;
  // sum_t p_t * (query - key): how far back the head looks.
  double mean_distance(uint32_t layer, uint32_t head) const;
  // Mass on keys flagged as padding (0 for unpadded input).
  double padding_mass(uint32_t layer, uint32_t head) const;
  // Mean probability of key position `key` for query position `query` (both < map_positions(); rows seen
  // for that query, 0 when none).
  double map(uint32_t layer, uint32_t head, uint32_t query, uint32_t key) const;

 private:
  struct Data;
  explicit AttentionProfile(std::unique_ptr<Data> data);
  std::unique_ptr<Data> d_;
};

}  // namespace ordinal
