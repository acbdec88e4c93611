#include "profile/profile_report.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "report/text_format.hpp"

namespace ordinal::profile {

namespace {

using report::appendf;
using report::html_escape;

// A JSON string literal that is also safe inside <script>: '<' is escaped, so no "</script>" can close it.
std::string json_string(const std::string& in) {
  std::string out = "\"";
  for (unsigned char c : in) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Distinct colours for up to 12 heads (then they repeat).
const char* head_colour(uint32_t h) {
  static const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79", "#637939"};
  return kColours[h % 12];
}

// One layer's distance curves: mass at distance d, one polyline per head; x on a log2(1 + d) scale, since
// most heads put their mass within a few tokens and a few look far back.
std::string distance_svg(const AttentionProfile& p, uint32_t layer, uint32_t shown) {
  const double W = 560, H = 240, L = 56, R = 110, T = 26, B = 36;
  double ymax = 0.0;
  for (uint32_t h = 0; h < p.heads(); ++h)
    for (uint32_t d = 0; d < shown; ++d) ymax = std::max(ymax, p.distance_mass(layer, h, d));
  if (ymax <= 0.0) ymax = 1.0;
  const double xmax = std::max(1.0, std::log2(static_cast<double>(shown)));
  auto X = [&](double d) { return L + (W - L - R) * std::log2(1.0 + d) / xmax; };
  auto Y = [&](double v) { return T + (H - T - B) * (1.0 - v / ymax); };
  std::string s;
  appendf(&s, "<svg class=\"curve\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" role=\"img\">\n", W, H,
          W, H);
  appendf(&s, "<text x=\"%g\" y=\"16\" class=\"t\">layer %u: attention mass by distance</text>\n", L, layer);
  appendf(&s, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#999\"/>\n", L, T,
          W - L - R, H - T - B);
  for (int i = 0; i <= 4; ++i) {
    const double v = ymax * i / 4.0;
    appendf(&s, "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#eee\"/>", L, Y(v), W - R, Y(v));
    appendf(&s, "<text x=\"%g\" y=\"%.1f\" class=\"a\" text-anchor=\"end\">%.3g</text>\n", L - 4, Y(v) + 4,
            v);
  }
  for (uint32_t d = 0; d < shown; d = 2 * d + 1) {  // 0, 1, 3, 7, 15, ...
    appendf(&s, "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" stroke=\"#eee\"/>", X(d), T, X(d), H - B);
    appendf(&s, "<text x=\"%.1f\" y=\"%g\" class=\"a\" text-anchor=\"middle\">%u</text>", X(d), H - B + 14,
            d);
  }
  appendf(&s,
          "<text x=\"%g\" y=\"%g\" class=\"a\" text-anchor=\"middle\">query &#8722; key (tokens back, log "
          "scale)</text>\n",
          (L + W - R) / 2, H - 4);
  for (uint32_t h = 0; h < p.heads(); ++h) {
    // Built piece by piece: the point list is longer than appendf's buffer.
    std::string pts;
    for (uint32_t d = 0; d < shown; ++d) appendf(&pts, "%.1f,%.1f ", X(d), Y(p.distance_mass(layer, h, d)));
    appendf(&s,
            "<polyline class=\"head\" data-head=\"%u\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" "
            "points=\"",
            h, head_colour(h));
    s += pts;
    appendf(&s, "\"><title>layer %u head %u</title></polyline>\n", layer, h);
    appendf(&s, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" stroke-width=\"3\"/>",
            W - R + 10, T + 8 + 14.0 * h, W - R + 28, T + 8 + 14.0 * h, head_colour(h));
    appendf(&s, "<text x=\"%g\" y=\"%g\" class=\"a\">head %u</text>\n", W - R + 32, T + 12 + 14.0 * h, h);
  }
  s += "</svg>\n";
  return s;
}

const char* kScript = R"JS(
(function () {
  var data = JSON.parse(document.getElementById('profile-data').textContent);
  var n = data.n, tip = document.getElementById('tip');
  // White -> blue -> near black, on sqrt(p) so that weak but structured attention stays visible.
  function colour(p) {
    var v = Math.sqrt(Math.max(0, Math.min(1, p)));
    var r = Math.round(255 * (1 - v) * (1 - 0.6 * v)), g = Math.round(255 * (1 - v) * (1 - 0.3 * v) + 40 * v * (1 - v)),
        b = Math.round(255 - 135 * v);
    return 'rgb(' + r + ',' + g + ',' + b + ')';
  }
  var canvases = document.querySelectorAll('canvas.heat');
  for (var i = 0; i < canvases.length; ++i) {
    (function (cv) {
      var idx = +cv.dataset.layer * data.heads + +cv.dataset.head, m = data.maps[idx], cell = cv.width / n;
      var ctx = cv.getContext('2d');
      ctx.fillStyle = '#f6f6f6';
      ctx.fillRect(0, 0, cv.width, cv.height);
      for (var q = 0; q < n; ++q)
        for (var k = 0; k < n; ++k) {
          var p = m[q * n + k];
          if (k > q && p === 0) continue;  // causal: keys after the query are never attended
          ctx.fillStyle = colour(p);
          ctx.fillRect(k * cell, q * cell, Math.ceil(cell), Math.ceil(cell));
        }
      cv.addEventListener('mousemove', function (e) {
        var r = cv.getBoundingClientRect(), k = Math.floor((e.clientX - r.left) / r.width * n),
            q = Math.floor((e.clientY - r.top) / r.height * n);
        if (q < 0 || k < 0 || q >= n || k >= n) return;
        tip.style.display = 'block';
        tip.style.left = (e.pageX + 12) + 'px';
        tip.style.top = (e.pageY + 12) + 'px';
        tip.textContent = 'layer ' + cv.dataset.layer + ' head ' + cv.dataset.head + ': query ' + q + ' ' +
            JSON.stringify(data.tokens[q] || '') + ' -> key ' + k + ' ' + JSON.stringify(data.tokens[k] || '') +
            ': ' + m[q * n + k].toFixed(4);
      });
      cv.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
    })(canvases[i]);
  }
  var legend = document.getElementById('legend');
  if (legend) {
    var lc = legend.getContext('2d');
    for (var x = 0; x < legend.width; ++x) {
      lc.fillStyle = colour(x / (legend.width - 1));
      lc.fillRect(x, 0, 1, legend.height);
    }
  }
})();
)JS";

}  // namespace

uint32_t curve_distances(const AttentionProfile& p, size_t tokens) {
  return static_cast<uint32_t>(std::max<size_t>(1, std::min<size_t>(p.distances(), tokens)));
}

std::string profile_text(const ProfileInput& in, const AttentionProfile& p) {
  std::string s;
  appendf(&s, "attention profile of %s (%s), %zu tokens of %s\n", in.model_path.c_str(), in.scheme.c_str(),
          in.tokens, in.text_path.c_str());
  s += "layer head  queries  entropy(bits)  uniform(bits)  mean distance  mass d=0  padding mass\n";
  for (uint32_t l = 0; l < p.layers(); ++l) {
    for (uint32_t h = 0; h < p.heads(); ++h) {
      appendf(&s, "%5u %4u %8" PRIu64 " %14.4f %14.4f %14.3f %9.4f %13.4f\n", l, h, p.queries(l, h),
              p.mean_entropy_bits(l, h), p.mean_uniform_entropy_bits(l, h), p.mean_distance(l, h),
              p.distance_mass(l, h, 0), p.padding_mass(l, h));
    }
  }
  return s;
}

std::string profile_html(const ProfileInput& in, const AttentionProfile& p) {
  const uint32_t n = static_cast<uint32_t>(std::min<size_t>(p.map_positions(), in.tokens));
  const uint32_t shown = curve_distances(p, in.tokens);
  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ordinal "
      "profile</title>\n<style>\n"
      "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}"
      "td.l,th.l{text-align:left}.heads{display:flex;flex-wrap:wrap;gap:14px;margin:0.5em 0 1.5em}"
      "figure{margin:0}figcaption{font-size:12px;color:#555;text-align:center}"
      "canvas.heat{border:1px solid #bbb;image-rendering:pixelated}"
      "#tip{position:absolute;display:none;background:#ffe;border:1px solid #999;padding:2px "
      "6px;font-size:12px;"
      "pointer-events:none}svg .t{font-size:14px;font-weight:bold}svg .a{font-size:11px;fill:#555}"
      ".tokens{font-family:monospace;font-size:12px;white-space:pre-wrap;background:#f8f8f8;padding:6px}\n"
      "</style></head><body>\n<div id=\"tip\"></div>\n";
  appendf(&s,
          "<h1>ordinal profile</h1>\n<p>model <code>%s</code> (%s), %u layers &times; %u heads<br>"
          "text <code>%s</code>: %zu tokens profiled; heatmaps cover the first %u positions</p>\n",
          html_escape(in.model_path).c_str(), html_escape(in.scheme).c_str(), p.layers(), p.heads(),
          html_escape(in.text_path).c_str(), in.tokens, n);

  // Summary: entropy per head, shaded by how close to uniform (white) or peaked (dark) it is.
  s += "<h2>Attention entropy per head</h2>\n<p>Mean entropy of each query's attention in bits (shade: "
       "fraction of "
       "the entropy uniform attention over the same keys would have; darker = more focused).</p>\n";
  s += "<table id=\"entropy\"><tr><th class=\"l\">layer</th>";
  for (uint32_t h = 0; h < p.heads(); ++h) appendf(&s, "<th>head %u</th>", h);
  s += "</tr>\n";
  for (uint32_t l = 0; l < p.layers(); ++l) {
    appendf(&s, "<tr><td class=\"l\">%u</td>", l);
    for (uint32_t h = 0; h < p.heads(); ++h) {
      const double u = p.mean_uniform_entropy_bits(l, h);
      const double f = u > 0 ? std::min(1.0, p.mean_entropy_bits(l, h) / u) : 1.0;
      const int shade = static_cast<int>(std::lround(120 + 135 * f));
      appendf(&s, "<td style=\"background:rgb(%d,%d,255)\">%.4f</td>", shade, shade,
              p.mean_entropy_bits(l, h));
    }
    s += "</tr>\n";
  }
  s += "</table>\n";

  s += "<h2>Attention heatmaps</h2>\n<p>Row = query position, column = key position (causal: the upper "
       "triangle is never attended). Colour: probability on a square-root scale, white 0 to dark 1 "
       "<canvas id=\"legend\" width=\"160\" height=\"12\"></canvas>. Hover a cell for the tokens.</p>\n";
  const uint32_t cell = n ? std::max<uint32_t>(2, 144 / n) : 2;
  for (uint32_t l = 0; l < p.layers(); ++l) {
    appendf(&s, "<h3>layer %u</h3>\n<div class=\"heads\">\n", l);
    for (uint32_t h = 0; h < p.heads(); ++h) {
      appendf(&s,
              "<figure><canvas class=\"heat\" data-layer=\"%u\" data-head=\"%u\" width=\"%u\" height=\"%u\">"
              "</canvas><figcaption>head %u &middot; %.2f bits<br>query &darr; key "
              "&rarr;</figcaption></figure>\n",
              l, h, n * cell, n * cell, h, p.mean_entropy_bits(l, h));
    }
    s += "</div>\n";
  }

  s += "<h2>Attention mass by relative distance</h2>\n<p>Mean over queries of the attention on the key "
       "<i>d</i> tokens back; each head's curve sums to 1";
  if (shown < p.distances()) appendf(&s, " (distances up to %u shown)", shown - 1);
  if (shown == p.distances()) appendf(&s, " (the last point holds every distance &ge; %u)", shown - 1);
  s += ".</p>\n";
  for (uint32_t l = 0; l < p.layers(); ++l) s += distance_svg(p, l, shown);

  s += "<h2>Per head</h2>\n<table id=\"heads\"><tr><th>layer</th><th>head</th><th>queries</th>"
       "<th>entropy (bits)</th><th>uniform (bits)</th><th>mean distance</th><th>mass at distance 0</th>"
       "<th>padding mass</th></tr>\n";
  for (uint32_t l = 0; l < p.layers(); ++l) {
    for (uint32_t h = 0; h < p.heads(); ++h) {
      appendf(&s,
              "<tr class=\"head\" data-layer=\"%u\" data-head=\"%u\"><td>%u</td><td>%u</td><td>%" PRIu64
              "</td><td>%.4f</td><td>%.4f</td><td>%.3f</td><td>%.4f</td><td>%.4f</td></tr>\n",
              l, h, l, h, p.queries(l, h), p.mean_entropy_bits(l, h), p.mean_uniform_entropy_bits(l, h),
              p.mean_distance(l, h), p.distance_mass(l, h, 0), p.padding_mass(l, h));
    }
  }
  s += "</table>\n";

  s += "<h2>Tokens</h2>\n<div class=\"tokens\">";
  for (size_t i = 0; i < in.pieces.size() && i < in.tokens; ++i) {
    appendf(&s, "<span title=\"position %zu\">%s</span>", i, html_escape(in.pieces[i]).c_str());
  }
  s += "</div>\n";

  // The heatmaps' data: probabilities to 4 decimals (enough for the colour and the tooltip).
  s += "<script type=\"application/json\" id=\"profile-data\">";
  appendf(&s, "{\"layers\":%u,\"heads\":%u,\"n\":%u,\"tokens\":[", p.layers(), p.heads(), n);
  for (uint32_t i = 0; i < n && i < in.pieces.size(); ++i) s += (i ? "," : "") + json_string(in.pieces[i]);
  s += "],\"maps\":[";
  for (uint32_t l = 0; l < p.layers(); ++l) {
    for (uint32_t h = 0; h < p.heads(); ++h) {
      s += (l || h) ? ",[" : "[";
      for (uint32_t q = 0; q < n; ++q) {
        for (uint32_t k = 0; k < n; ++k) {
          const double v = p.map(l, h, q, k);
          if (v == 0.0) {
            s += (q || k) ? ",0" : "0";
          } else {
            appendf(&s, (q || k) ? ",%.4g" : "%.4g", v);
          }
        }
      }
      s += "]";
    }
  }
  s += "]}</script>\n<script>";
  s += kScript;
  s += "</script>\n</body></html>\n";
  return s;
}

}  // namespace ordinal::profile
