// `ordinal profile`'s report: one self-contained HTML page (inline CSS, inline SVG, one inline script that
// draws the heatmaps on canvases from an inline JSON block; no external resources) with, per layer and
// head, the attention heatmap over the first positions, the attention mass by relative distance, entropy
// and padding mass (AttentionProfile).
#pragma once

#include <string>
#include <vector>

#include "ordinal/attention_profile.hpp"

namespace ordinal::profile {

struct ProfileInput {
  std::string model_path;
  std::string scheme;               // positional_scheme_name
  std::string text_path;            // the profiled text
  std::vector<std::string> pieces;  // the tokens' text, in order (axis labels of the heatmaps)
  size_t tokens = 0;                // tokens profiled
};

// Distances drawn in the curves: the tracked distances, at most the tokens profiled.
uint32_t curve_distances(const AttentionProfile& p, size_t tokens);

std::string profile_html(const ProfileInput& in, const AttentionProfile& p);
// The per-head table as plain text (stdout of `ordinal profile`).
std::string profile_text(const ProfileInput& in, const AttentionProfile& p);

}  // namespace ordinal::profile
