// The verify report's pictures of where order information was lost: the cosine similarity between
// positions of the reference's and the candidate's position vectors (heatmaps), each position's vector
// error, and the per-position agreement of the two models (KL, top-1) from the evaluation.
//
// A position's vector is what the runtime applies for it, through the model's positional module: tables
// and sinusoidal add P(pos) to the embedding (the vector added to zeros); RoPE rotates q and k (the
// all-ones head vector rotated to pos, so the cosine between positions p and q is the mean of cos((p-q)
// theta_i) over the rotary pairs, the similarity RoPE gives a query and a key). ALiBi, relative bias and
// position-free models have no position vectors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ordinal/runtime.hpp"

namespace ordinal::verify {

struct PositionSample;

// Positions sampled for the heatmaps (evenly spaced over the compared span, both ends included).
constexpr uint32_t kPictureMapPositions = 96;
// Positions whose vector error is computed one by one.
constexpr uint32_t kPictureErrorPositions = 4096;

struct PositionPictures {
  bool vectors = false;                  // position vectors of both models were compared
  std::string note;                      // what the vectors are, or why there are none
  uint32_t span = 0;                     // positions 0 .. span-1 compared
  std::vector<uint32_t> sampled;         // the heatmaps' positions
  std::vector<float> ref_cos, cand_cos;  // sampled x sampled cosine similarities (row-major)
  std::vector<double> rel_error;         // per position < span: ||c_p - r_p|| / ||r_p||
  std::vector<double> self_cos;          // per position: cos(c_p, r_p)
  // From the evaluation, per position (index = position): mean KL(ref || cand), top-1 agreement, and how
  // many sequences reached it.
  std::vector<double> kl_mean, top1;
  std::vector<int64_t> seen;
};

// cos(a, b) in double; 0 when either vector is zero.
double cosine(const float* a, const float* b, uint32_t n);

PositionPictures position_pictures(const Model& ref, const Model& cand,
                                   const std::vector<PositionSample>& samples, int64_t eval_length);
// HTML section (inline SVG only): heatmaps of ref/cand/|difference| and the per-position curves.
std::string position_pictures_html(const PositionPictures& p, int64_t context);

}  // namespace ordinal::verify
