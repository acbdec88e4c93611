#include "verify/position_pictures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "introspect/model_introspection.hpp"
#include "positional/encoder.hpp"
#include "report/text_format.hpp"
#include "verify/verify.hpp"

namespace ordinal::verify {

namespace {

using report::appendf;

// Makes the vector of position `pos` (see position_pictures.hpp) into out (width() floats).
class PositionVectors {
 public:
  static PositionVectors of(const Model& m) {
    PositionVectors v;
    auto enc = introspect::positional_encoder(m);
    if (!enc.ok()) {
      v.why = "positional module unavailable: " + enc.status().message();
      return v;
    }
    v.enc_ = std::move(enc).value();
    const ModelConfig& c = m.config();
    if (v.enc_.adds_to_embedding()) {
      v.width_ = c.dim;
      v.kind = "vectors added to the embedding";
    } else if (v.enc_.rotates()) {
      v.width_ = c.head_dim;
      v.kind = "RoPE rotations of the all-ones head vector";
    } else {
      v.why = std::string("no position vectors (") + positional_scheme_name(m.positional_scheme()) + ")";
    }
    v.scratch_.assign(std::max<size_t>(v.enc_.scratch_floats(), 1), 0.0f);
    return v;
  }
  uint32_t width() const { return width_; }
  void at(int64_t pos, float* out) {
    if (enc_.adds_to_embedding()) {
      std::fill(out, out + width_, 0.0f);
      enc_.add_to_embedding(pos, out, scratch_.data());
    } else {
      std::fill(out, out + width_, 1.0f);
      enc_.rotate(pos, out, 1);
    }
  }
  std::string kind, why;

 private:
  positional::PositionalEncoder enc_;
  uint32_t width_ = 0;
  std::vector<float> scratch_;
};

// Diverging colour for a cosine in [-1, 1]: blue, white at 0, red.
std::string cos_colour(double c) {
  c = std::max(-1.0, std::min(1.0, c));
  const int fade = static_cast<int>(std::lround(255.0 * (1.0 - std::fabs(c))));
  char b[8];
  if (c >= 0) {
    std::snprintf(b, sizeof b, "#%02x%02x%02x", 200 + fade * 55 / 255, fade, fade);
  } else {
    std::snprintf(b, sizeof b, "#%02x%02x%02x", fade, fade, 200 + fade * 55 / 255);
  }
  return b;
}

// White (0) to black (max).
std::string grey(double v, double max) {
  const double f = max > 0 ? std::min(1.0, v / max) : 0.0;
  const int g = static_cast<int>(std::lround(255.0 * (1.0 - f)));
  char b[8];
  std::snprintf(b, sizeof b, "#%02x%02x%02x", g, g, g);
  return b;
}

// An n x n map of colours, one rect per cell in a viewBox the page scales; positions on the axes.
std::string heatmap_svg(const char* title, const std::vector<uint32_t>& pos,
                        const std::function<std::string(size_t, size_t)>& colour, const char* id) {
  const size_t n = pos.size();
  const double side = 300, L = 40, T = 24, cell = side / static_cast<double>(n);
  std::string s;
  appendf(&s,
          "<svg class=\"posmap\" id=\"%s\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" role=\"img\">\n",
          id, L + side + 8, T + side + 30, L + side + 8, T + side + 30);
  appendf(&s, "<text x=\"%g\" y=\"16\" class=\"t\">%s</text>\n", L, title);
  appendf(&s, "<g transform=\"translate(%g %g) scale(%.6g)\" shape-rendering=\"crispEdges\">\n", L, T, cell);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      appendf(&s, "<rect x=\"%zu\" y=\"%zu\" width=\"1\" height=\"1\" fill=\"%s\"/>", j, i,
              colour(i, j).c_str());
    }
    s += "\n";
  }
  s += "</g>\n";
  appendf(&s, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#999\"/>\n", L, T,
          side, side);
  for (int k = 0; k <= 4; ++k) {
    const size_t i = std::min(n - 1, static_cast<size_t>(k * (n - 1) / 4));
    const double at = (static_cast<double>(i) + 0.5) * cell;
    appendf(&s, "<text x=\"%.1f\" y=\"%g\" class=\"a\" text-anchor=\"middle\">%u</text>", L + at,
            T + side + 13, pos[i]);
    appendf(&s, "<text x=\"%g\" y=\"%.1f\" class=\"a\" text-anchor=\"end\">%u</text>", L - 3, T + at + 4,
            pos[i]);
  }
  appendf(&s, "<text x=\"%g\" y=\"%g\" class=\"a\" text-anchor=\"middle\">position</text>\n", L + side / 2,
          T + side + 27);
  s += "</svg>\n";
  return s;
}

// A per-position curve (index = position); points with seen[i] == 0 (when given) are skipped.
std::string curve_svg(const char* title, const std::vector<double>& v, const std::vector<int64_t>* seen,
                      double y0, double y1, const char* colour, int64_t context, const char* id) {
  const double W = 640, H = 220, L = 64, R = 16, T = 28, B = 36;
  std::string s;
  appendf(
      &s,
      "<svg class=\"poscurve\" id=\"%s\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" role=\"img\">\n",
      id, W, H, W, H);
  appendf(&s, "<text x=\"%g\" y=\"18\" class=\"t\">%s</text>\n", L, title);
  appendf(&s, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#999\"/>\n", L, T,
          W - L - R, H - T - B);
  if (y1 <= y0) y1 = y0 + 1;
  const double xmax = std::max<double>(1.0, static_cast<double>(v.size()));
  auto X = [&](double p) { return L + (W - L - R) * p / xmax; };
  auto Y = [&](double y) {
    return T + (H - T - B) * (1.0 - (std::min(std::max(y, y0), y1) - y0) / (y1 - y0));
  };
  for (int i = 0; i <= 4; ++i) {
    const double y = y0 + (y1 - y0) * i / 4.0;
    appendf(&s, "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#eee\"/>", L, Y(y), W - R, Y(y));
    appendf(&s, "<text x=\"%g\" y=\"%.1f\" class=\"a\" text-anchor=\"end\">%.3g</text>\n", L - 4, Y(y) + 4,
            y);
  }
  for (int i = 0; i <= 4; ++i) {
    const double p = xmax * i / 4.0;
    appendf(&s, "<text x=\"%.1f\" y=\"%g\" class=\"a\" text-anchor=\"middle\">%.0f</text>", X(p), H - B + 14,
            p);
  }
  appendf(&s, "<text x=\"%g\" y=\"%g\" class=\"a\" text-anchor=\"middle\">position</text>\n", (L + W - R) / 2,
          H - 4);
  if (context > 0 && context < xmax) {
    appendf(&s,
            "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" stroke=\"#c00\" stroke-dasharray=\"4 3\"/>\n",
            X(static_cast<double>(context)), T, X(static_cast<double>(context)), H - B);
  }
  std::string pts;
  for (size_t i = 0; i < v.size(); ++i) {
    if (seen && (*seen)[i] == 0) continue;
    appendf(&pts, "%.1f,%.1f ", X(static_cast<double>(i)), Y(v[i]));
  }
  appendf(&s, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.3\" points=\"", colour);
  s += pts;
  s += "\"/>\n</svg>\n";
  return s;
}

}  // namespace

double cosine(const float* a, const float* b, uint32_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (uint32_t i = 0; i < n; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

PositionPictures position_pictures(const Model& ref, const Model& cand,
                                   const std::vector<PositionSample>& samples, int64_t eval_length) {
  PositionPictures p;
  // Per-position agreement.
  const size_t n_eval = static_cast<size_t>(std::max<int64_t>(eval_length, 0));
  p.kl_mean.assign(n_eval, 0.0);
  p.top1.assign(n_eval, 0.0);
  p.seen.assign(n_eval, 0);
  for (const PositionSample& s : samples) {
    if (s.position < 0 || static_cast<size_t>(s.position) >= n_eval) continue;
    const size_t i = static_cast<size_t>(s.position);
    p.kl_mean[i] += s.kl;
    p.top1[i] += s.agree ? 1.0 : 0.0;
    ++p.seen[i];
  }
  for (size_t i = 0; i < n_eval; ++i) {
    if (p.seen[i] == 0) continue;
    p.kl_mean[i] /= static_cast<double>(p.seen[i]);
    p.top1[i] /= static_cast<double>(p.seen[i]);
  }

  PositionVectors rv = PositionVectors::of(ref), cv = PositionVectors::of(cand);
  if (!cv.why.empty()) {
    p.note = "candidate: " + cv.why;
    return p;
  }
  if (!rv.why.empty() || rv.width() != cv.width() || rv.kind != cv.kind) {
    p.note = "the reference's positions are not comparable with the candidate's (" +
             (rv.why.empty() ? rv.kind : rv.why) + " vs " + cv.kind + ")";
    return p;
  }
  const int64_t limit = std::min({ref.position_limit(), cand.position_limit(),
                                  static_cast<int64_t>(std::max<uint32_t>(ref.config().max_positions, 1)),
                                  static_cast<int64_t>(kPictureErrorPositions)});
  if (limit < 2) {
    p.note = "fewer than two positions to compare";
    return p;
  }
  p.span = static_cast<uint32_t>(limit);
  p.vectors = true;
  p.note = cv.kind + ", positions 0.." + std::to_string(p.span - 1);
  const uint32_t w = cv.width();
  std::vector<float> r(w), c(w);
  p.rel_error.resize(p.span);
  p.self_cos.resize(p.span);
  for (uint32_t pos = 0; pos < p.span; ++pos) {
    rv.at(pos, r.data());
    cv.at(pos, c.data());
    double err = 0, norm = 0;
    for (uint32_t i = 0; i < w; ++i) {
      const double d = static_cast<double>(c[i]) - r[i];
      err += d * d;
      norm += static_cast<double>(r[i]) * r[i];
    }
    p.rel_error[pos] = norm > 0 ? std::sqrt(err / norm) : std::sqrt(err);
    p.self_cos[pos] = cosine(c.data(), r.data(), w);
  }
  const uint32_t n = std::min(p.span, kPictureMapPositions);
  for (uint32_t i = 0; i < n; ++i) {
    p.sampled.push_back(n == 1 ? 0 : static_cast<uint32_t>(uint64_t{i} * (p.span - 1) / (n - 1)));
  }
  std::vector<float> rows_r(size_t{n} * w), rows_c(size_t{n} * w);
  for (uint32_t i = 0; i < n; ++i) {
    rv.at(p.sampled[i], &rows_r[size_t{i} * w]);
    cv.at(p.sampled[i], &rows_c[size_t{i} * w]);
  }
  p.ref_cos.resize(size_t{n} * n);
  p.cand_cos.resize(size_t{n} * n);
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t j = 0; j < n; ++j) {
      p.ref_cos[size_t{i} * n + j] =
          static_cast<float>(cosine(&rows_r[size_t{i} * w], &rows_r[size_t{j} * w], w));
      p.cand_cos[size_t{i} * n + j] =
          static_cast<float>(cosine(&rows_c[size_t{i} * w], &rows_c[size_t{j} * w], w));
    }
  }
  return p;
}

std::string position_pictures_html(const PositionPictures& p, int64_t context) {
  std::string s = "<h2 id=\"positions\">Where order information was lost</h2>\n";
  if (!p.kl_mean.empty()) {
    double klmax = 0;
    for (size_t i = 0; i < p.kl_mean.size(); ++i)
      if (p.seen[i]) klmax = std::max(klmax, p.kl_mean[i]);
    s += "<p>Per position (no binning): the two models' disagreement at each position, averaged over the "
         "evaluated sequences.</p>\n<div class=\"row\">\n";
    s += curve_svg("mean KL(ref || cand) at each position", p.kl_mean, &p.seen, 0.0,
                   klmax > 0 ? klmax * 1.1 : 1e-6, "#1f5fbf", context, "kl-per-position");
    s += curve_svg("top-1 agreement at each position", p.top1, &p.seen, 0.0, 1.0, "#2a8a2a", context,
                   "top1-per-position");
    s += "</div>\n";
  }
  if (!p.vectors) {
    s += "<p>Position vectors: " + p.note + ".</p>\n";
    return s;
  }
  const size_t n = p.sampled.size();
  double diff_max = 0;
  for (size_t i = 0; i < n * n; ++i)
    diff_max = std::max(diff_max, std::fabs(static_cast<double>(p.cand_cos[i]) - p.ref_cos[i]));
  appendf(
      &s,
      "<p>Position vectors (%s). Cosine similarity between positions, %zu positions sampled evenly: a sharp "
      "diagonal means every position is distinct; where the candidate's map blurs or its difference map "
      "darkens, positions became alike. Colour: blue &minus;1, white 0, red +1; difference: white 0 to "
      "black %.3g.</p>\n<div class=\"row\">\n",
      p.note.c_str(), n, diff_max);
  s += heatmap_svg(
      "reference", p.sampled, [&](size_t i, size_t j) { return cos_colour(p.ref_cos[i * n + j]); },
      "cos-ref");
  s += heatmap_svg(
      "candidate", p.sampled, [&](size_t i, size_t j) { return cos_colour(p.cand_cos[i * n + j]); },
      "cos-cand");
  s += heatmap_svg(
      "|candidate &#8722; reference|", p.sampled,
      [&](size_t i, size_t j) {
        return grey(std::fabs(static_cast<double>(p.cand_cos[i * n + j]) - p.ref_cos[i * n + j]), diff_max);
      },
      "cos-diff");
  s += "</div>\n<div class=\"row\">\n";
  double emax = 0, cmin = 1;
  for (double e : p.rel_error) emax = std::max(emax, e);
  for (double c : p.self_cos) cmin = std::min(cmin, c);
  s += curve_svg("relative error of each position's vector", p.rel_error, nullptr, 0.0,
                 emax > 0 ? emax * 1.1 : 1e-6, "#b5522b", context, "vector-error");
  s += curve_svg("cosine(candidate, reference) of each position's vector", p.self_cos, nullptr,
                 std::min(0.0, std::floor(cmin * 10) / 10), 1.0, "#6a3d9a", context, "vector-cosine");
  s += "</div>\n";
  return s;
}

}  // namespace ordinal::verify
