// Self-contained HTML report: inline CSS and inline SVG plots of KL and top-1 agreement against
// position (64-position bins), then the position pictures (position_pictures.cpp: per-position curves and
// position-similarity maps). No scripts, no external resources.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "report/text_format.hpp"
#include "verify/verify.hpp"

namespace ordinal::verify {

namespace {
using report::appendf;
using report::html_escape;

// Line plot of value(bin) against bin start position; y from y0 to y1.
std::string plot(const std::vector<BucketStats>& bins, const char* title, double (*value)(const BucketStats&),
                 double y0, double y1, const char* color, int64_t ctx) {
  const double W = 640, H = 220, L = 64, R = 16, T = 28, B = 36;
  std::string s;
  appendf(&s, "<svg width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" role=\"img\">\n", W, H, W, H);
  appendf(&s, "<text x=\"%g\" y=\"18\" class=\"t\">%s</text>\n", L, html_escape(title).c_str());
  appendf(&s, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#999\"/>\n", L, T,
          W - L - R, H - T - B);
  int64_t xmax = 1;
  for (const BucketStats& b : bins) xmax = std::max(xmax, b.hi);
  if (y1 <= y0) y1 = y0 + 1;
  auto X = [&](double p) { return L + (W - L - R) * p / static_cast<double>(xmax); };
  auto Y = [&](double v) {
    return T + (H - T - B) * (1.0 - (std::min(std::max(v, y0), y1) - y0) / (y1 - y0));
  };
  for (int i = 0; i <= 4; ++i) {
    const double v = y0 + (y1 - y0) * i / 4.0;
    appendf(&s, "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#eee\"/>", L, Y(v), W - R, Y(v));
    appendf(&s, "<text x=\"%g\" y=\"%.1f\" class=\"a\" text-anchor=\"end\">%.3g</text>\n", L - 4, Y(v) + 4,
            v);
  }
  for (int i = 0; i <= 4; ++i) {
    const double p = static_cast<double>(xmax) * i / 4.0;
    appendf(&s, "<text x=\"%.1f\" y=\"%g\" class=\"a\" text-anchor=\"middle\">%.0f</text>", X(p), H - B + 14,
            p);
  }
  appendf(&s, "<text x=\"%g\" y=\"%g\" class=\"a\" text-anchor=\"middle\">position</text>\n", (L + W - R) / 2,
          H - 4);
  if (ctx > 0 && ctx < xmax) {
    appendf(&s,
            "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" stroke=\"#c00\" stroke-dasharray=\"4 3\"/>\n",
            X(ctx), T, X(ctx), H - B);
  }
  std::string pts;
  for (const BucketStats& b : bins) {
    if (b.positions == 0) continue;
    appendf(&pts, "%.1f,%.1f ", X(0.5 * static_cast<double>(b.lo + b.hi)), Y(value(b)));
  }
  appendf(&s, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>\n", color,
          pts.c_str());
  for (const BucketStats& b : bins) {
    if (b.positions == 0) continue;
    appendf(&s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s: %.6g</title></circle>",
            X(0.5 * static_cast<double>(b.lo + b.hi)), Y(value(b)), color, b.label().c_str(), value(b));
  }
  s += "\n</svg>\n";
  return s;
}
}  // namespace

std::string report_html(const Report& r) {
  std::string s =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>ordinal verify</title>\n<style>\n"
      "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}"
      "td.l,th.l{text-align:left}.fail{color:#b00;font-weight:bold}.pass{color:#070}"
      "svg .t{font-size:14px;font-weight:bold}svg "
      ".a{font-size:11px;fill:#555}.row{display:flex;flex-wrap:wrap;gap:12px}\n"
      "</style></head><body>\n";
  size_t failed = 0;
  for (const GateResult& g : r.gates) failed += g.passed ? 0 : 1;
  appendf(&s, "<h1>ordinal verify: <span class=\"%s\">%s</span></h1>\n", failed ? "fail" : "pass",
          failed ? "FAIL" : "PASS");
  appendf(
      &s,
      "<p>reference <code>%s</code> (%s)<br>candidate <code>%s</code> (%s)<br>input: %s<br>"
      "%" PRId64 " positions evaluated (cap %" PRId64 "), %" PRId64 " sequences, training context %u</p>\n",
      html_escape(r.options.ref_path).c_str(), html_escape(r.ref_cost.scheme).c_str(),
      html_escape(r.options.cand_path).c_str(), html_escape(r.cand_cost.scheme).c_str(),
      html_escape(r.source).c_str(), r.positions_evaluated, r.options.max_positions, r.sequences, r.context);

  double klmax = 0.0, tmin = 1.0;
  for (const BucketStats& b : r.bins) {
    if (b.positions == 0) continue;
    klmax = std::max(klmax, b.kl_mean);
    tmin = std::min(tmin, b.top1);
  }
  s += "<h2>Agreement against position</h2>\n";
  s += plot(
      r.bins, "mean KL(ref || cand) per 64 positions", [](const BucketStats& b) { return b.kl_mean; }, 0.0,
      klmax > 0 ? klmax * 1.1 : 1e-6, "#1f5fbf", r.context);
  s += plot(
      r.bins, "top-1 agreement per 64 positions", [](const BucketStats& b) { return b.top1; },
      std::floor(tmin * 10.0) / 10.0 - (tmin >= 1.0 ? 0.1 : 0.0), 1.0, "#2a8a2a", r.context);

  s += "<table><tr><th class=\"l\">bucket</th><th>positions</th><th>top1</th><th>KL mean</th><th>KL p99</th>"
       "<th>ppl ref</th><th>ppl cand</th><th>delta</th></tr>\n";
  auto row = [&](const std::string& label, const BucketStats& b) {
    if (!b.supported) {
      appendf(&s, "<tr><td class=\"l\">%s</td><td colspan=\"7\" class=\"l\">%s</td></tr>\n",
              html_escape(label).c_str(), html_escape(b.note).c_str());
      return;
    }
    appendf(&s,
            "<tr><td class=\"l\">%s</td><td>%" PRId64
            "</td><td>%.4f</td><td>%.3e</td><td>%.3e</td>"
            "<td>%.4f</td><td>%.4f</td><td>%+.3e</td></tr>\n",
            html_escape(label).c_str(), b.positions, b.top1, b.kl_mean, b.kl_p99, b.ppl_ref, b.ppl_cand,
            b.ppl_delta);
  };
  for (const BucketStats& b : r.buckets) row(b.label(), b);
  row("all", r.overall);
  s += "</table>\n";
  s += position_pictures_html(r.pictures, r.context);

  s += "<h2>Order probes</h2>\n";
  if (r.order.ran) {
    appendf(&s,
            "<p>%s: reference gap %.4f (ppl %.4f &rarr; %.4f), candidate gap %.4f (ppl %.4f &rarr; %.4f), "
            "gap ratio <b>%.4f</b></p>\n",
            html_escape(r.order.note).c_str(), r.order.gap_ref(), r.order.ppl_ref, r.order.ppl_ref_shuffled,
            r.order.gap_cand(), r.order.ppl_cand, r.order.ppl_cand_shuffled, r.order.gap_ratio());
  } else {
    appendf(&s, "<p>word order: %s</p>\n", html_escape(r.order.note).c_str());
  }
  appendf(&s, "<p>swap probes: %" PRId64 " pairs, candidate agrees with the reference on <b>%.1f%%</b></p>\n",
          r.swap.pairs, 100.0 * r.swap.agreement());
  appendf(&s, "<p>position identity (%s): %s", html_escape(r.identity.kind).c_str(),
          html_escape(r.identity.note).c_str());
  if (r.identity.kind == "table") {
    appendf(&s, "; recovery <b>%.4f</b>%s, min distance %.4g", r.identity.recovery,
            r.identity.shared_by_design ? " (shared by design)" : "", r.identity.min_distance);
  } else if (r.identity.kind == "rope") {
    appendf(&s, "; shift-invariance error max %.3e", r.identity.shift_max_abs);
  }
  s += "</p>\n";

  if (!r.tasks.empty()) {
    s += "<h2>Tasks</h2><table><tr><th class=\"l\">task</th><th class=\"l\">regime</th><th>cases</th>"
         "<th>reference</th><th>candidate</th></tr>\n";
    for (const TaskResult& t : r.tasks) {
      auto acc = [](const TaskAccuracy& a) {
        char b[32];
        if (!a.supported) return std::string("unsupported");
        std::snprintf(b, sizeof b, "%.4f", a.accuracy());
        return std::string(b);
      };
      appendf(&s,
              "<tr><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%" PRId64
              "</td><td>%s</td><td>%s</td></tr>\n",
              html_escape(t.name).c_str(), html_escape(t.regime).c_str(), std::max(t.ref.cases, t.cand.cases),
              acc(t.ref).c_str(), acc(t.cand).c_str());
    }
    s += "</table>\n";
  }

  s += "<h2>Cost</h2><table><tr><th class=\"l\"></th><th>reference</th><th>candidate</th></tr>\n";
  appendf(&s, "<tr><td class=\"l\">positional bytes</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td></tr>\n",
          r.ref_cost.positional_bytes, r.cand_cost.positional_bytes);
  appendf(&s, "<tr><td class=\"l\">file bytes</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td></tr>\n",
          r.ref_cost.file_bytes, r.cand_cost.file_bytes);
  appendf(&s, "<tr><td class=\"l\">decode &micro;s/token</td><td>%.2f</td><td>%.2f</td></tr>\n",
          r.ref_cost.decode_us_per_token, r.cand_cost.decode_us_per_token);
  appendf(&s, "<tr><td class=\"l\">memory bytes/sequence</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td></tr>\n",
          r.ref_cost.memory_bytes, r.cand_cost.memory_bytes);
  s += "</table>\n";

  if (!r.gates.empty()) {
    s += "<h2>Gates</h2><ul>\n";
    for (const GateResult& g : r.gates) {
      appendf(&s, "<li class=\"%s\">%s</li>\n", g.passed ? "pass" : "fail", html_escape(g.line()).c_str());
    }
    s += "</ul>\n";
  }
  s += "</body></html>\n";
  return s;
}

}  // namespace ordinal::verify
