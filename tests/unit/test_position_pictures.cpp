// verify's position pictures (issue 15): the cosine-similarity maps of the reference's and candidate's
// position vectors against a double-precision reference computed here from the tables (and from RoPE's
// angles), the per-position vector error where a candidate collapsed positions, the per-position agreement
// curves, and the report section's structure; `ordinal verify --report` end to end.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "support/html_check.hpp"
#include "support/session_helpers.hpp"

#ifdef ORDINAL_HAVE_TOOL_LIB
#include "modelio/host_scheme.hpp"
#include "verify/verify.hpp"

using namespace ordinal;
using namespace ordinal::testing;

namespace {

float table_at(const modelio::HostTensor& t, size_t i) {
  float v;
  std::memcpy(&v, t.data.data() + 4 * i, 4);
  return v;
}

double cosine_ref(const std::vector<double>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  return ab / std::sqrt(aa * bb);
}

}  // namespace

TEST_CASE("position pictures: learned tables, a candidate that collapsed ten positions") {
  SyntheticOptions o;
  o.scheme = PositionalScheme::kLearnedTable;
  const modelio::ModelSpec ref_spec = make_synthetic_model(o);
  modelio::ModelSpec cand_spec = ref_spec;
  const uint32_t dim = ref_spec.config.dim;
  // Positions 11..19 take position 10's vector.
  for (uint32_t p = 11; p < 20; ++p) {
    std::memcpy(cand_spec.positional.table.data.data() + size_t{4} * p * dim,
                ref_spec.positional.table.data.data() + size_t{4} * 10 * dim, size_t{4} * dim);
  }
  auto ref = load_spec(ref_spec, "pics_ref.ordinal");
  auto cand = load_spec(cand_spec, "pics_cand.ordinal");
  std::vector<verify::PositionSample> samples;
  for (int rep = 0; rep < 2; ++rep) {
    for (int64_t p = 0; p < 64; ++p) {
      verify::PositionSample s;
      s.position = p;
      s.kl = 0.01 * static_cast<double>(p) + (rep ? 0.5 : -0.5);
      s.agree = p % 2 == 0;
      samples.push_back(s);
    }
  }
  const verify::PositionPictures pics = verify::position_pictures(*ref, *cand, samples, 64);
  REQUIRE(pics.vectors);
  CHECK(pics.span == 64);
  REQUIRE(pics.sampled.size() == 64);  // at most kPictureMapPositions: every position
  for (uint32_t i = 0; i < 64; ++i) CHECK(pics.sampled[i] == i);

  auto row = [&](const modelio::ModelSpec& s, uint32_t p) {
    std::vector<double> v(dim);
    for (uint32_t i = 0; i < dim; ++i) v[i] = table_at(s.positional.table, size_t{p} * dim + i);
    return v;
  };
  for (uint32_t i = 0; i < 64; ++i) {
    for (uint32_t j = 0; j < 64; ++j) {
      CHECK(pics.ref_cos[i * 64 + j] ==
            doctest::Approx(cosine_ref(row(ref_spec, i), row(ref_spec, j))).epsilon(1e-5));
      CHECK(pics.cand_cos[i * 64 + j] ==
            doctest::Approx(cosine_ref(row(cand_spec, i), row(cand_spec, j))).epsilon(1e-5));
    }
  }
  CHECK(pics.cand_cos[12 * 64 + 17] == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(pics.ref_cos[12 * 64 + 17] < 0.9);
  for (uint32_t p = 0; p < 64; ++p) {
    CAPTURE(p);
    if (p <= 10 || p >= 20) {
      CHECK(pics.rel_error[p] == 0.0);
      CHECK(pics.self_cos[p] == doctest::Approx(1.0).epsilon(1e-9));
    } else {
      const std::vector<double> r = row(ref_spec, p), c = row(ref_spec, 10);
      double err = 0, norm = 0;
      for (uint32_t i = 0; i < dim; ++i) err += (c[i] - r[i]) * (c[i] - r[i]), norm += r[i] * r[i];
      CHECK(pics.rel_error[p] == doctest::Approx(std::sqrt(err / norm)).epsilon(1e-6));
      CHECK(pics.self_cos[p] == doctest::Approx(cosine_ref(c, r)).epsilon(1e-6));
    }
    CHECK(pics.seen[p] == 2);
    CHECK(pics.kl_mean[p] == doctest::Approx(0.01 * p).epsilon(1e-12));
    CHECK(pics.top1[p] == (p % 2 == 0 ? 1.0 : 0.0));
  }

  const std::string html =
      "<!DOCTYPE html>\n<html><body>" + verify::position_pictures_html(pics, 64) + "</body></html>";
  std::string why;
  CHECK_MESSAGE(html_well_formed(html, &why), why);
  CHECK(self_contained(html));
  CHECK(count_of(html, "<svg class=\"posmap\"") == 3);
  CHECK(count_of(html, "width=\"1\" height=\"1\"") == 3 * 64 * 64);
  CHECK(count_of(html, "<svg class=\"poscurve\"") == 4);
}

TEST_CASE("position pictures: RoPE similarity is the mean of cos((p - q) theta) over the rotary pairs") {
  SyntheticOptions o;
  o.scheme = PositionalScheme::kRope;
  o.context = 200;
  modelio::ModelSpec ref_spec = make_synthetic_model(o);
  ref_spec.positional.precision = detail::TrigPrecision::kF32;
  modelio::ModelSpec cand_spec = ref_spec;
  cand_spec.positional.scaling = detail::RopeScalingKind::kLinear;
  cand_spec.positional.scaling_factor = 2.0f;
  REQUIRE(modelio::compute_rope_frequencies(cand_spec.config.head_dim, &cand_spec.positional).ok());
  auto ref = load_spec(ref_spec, "pics_rope_ref.ordinal");
  auto cand = load_spec(cand_spec, "pics_rope_cand.ordinal");
  const verify::PositionPictures pics = verify::position_pictures(*ref, *cand, {}, 0);
  REQUIRE(pics.vectors);
  CHECK(pics.span == 200);
  REQUIRE(pics.sampled.size() == verify::kPictureMapPositions);
  CHECK(pics.sampled.front() == 0);
  CHECK(pics.sampled.back() == 199);
  const uint32_t hd = ref_spec.config.head_dim;
  auto expected = [&](double p, double q, double scale) {
    double s = 0;
    for (uint32_t i = 0; i < hd / 2; ++i) {
      const double theta = std::pow(10000.0, -2.0 * i / hd) / scale;
      s += std::cos((p - q) * theta);
    }
    return s / (hd / 2);
  };
  const size_t n = pics.sampled.size();
  for (size_t i = 0; i < n; i += 7) {
    for (size_t j = 0; j < n; j += 5) {
      CHECK(pics.ref_cos[i * n + j] ==
            doctest::Approx(expected(pics.sampled[i], pics.sampled[j], 1.0)).epsilon(1e-4));
      CHECK(pics.cand_cos[i * n + j] ==
            doctest::Approx(expected(pics.sampled[i], pics.sampled[j], 2.0)).epsilon(1e-4));
    }
  }
  CHECK(pics.rel_error[0] == 0.0);  // position 0 is not rotated
  CHECK(pics.rel_error[150] > 0.1);
  CHECK(pics.kl_mean.empty());
}

TEST_CASE("position pictures: schemes without position vectors say so") {
  SyntheticOptions o;
  o.scheme = PositionalScheme::kAlibi;
  auto m = load_spec(make_synthetic_model(o), "pics_alibi.ordinal");
  const verify::PositionPictures pics = verify::position_pictures(*m, *m, {}, 8);
  CHECK(!pics.vectors);
  CHECK(pics.note.find("no position vectors") != std::string::npos);
  const std::string html = verify::position_pictures_html(pics, 8);
  CHECK(html.find("no position vectors") != std::string::npos);
  CHECK(count_of(html, "<svg class=\"posmap\"") == 0);
}

TEST_CASE(
    "ordinal verify --report: the page holds the position maps and curves, well-formed and self-contained") {
  SyntheticOptions o;
  o.scheme = PositionalScheme::kLearnedTable;
  const modelio::ModelSpec spec = make_synthetic_model(o);
  const std::string ref = temp_path("pics_cli_ref.ordinal"), report = temp_path("pics_cli.html");
  REQUIRE(modelio::write_model(spec, ref).ok());
  std::remove(report.c_str());
  const std::string cli = ORDINAL_CLI_PATH;
  const int rc =
      std::system(("'" + cli + "' verify '" + ref + "' '" + ref + "' --samples 2 --max-positions 64 " +
                   "--order-positions 32 --swap-pairs 2 --report '" + report + "' > /dev/null 2>&1")
                      .c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 0);
  std::ifstream f(report);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string html = ss.str();
  std::string why;
  CHECK_MESSAGE(html_well_formed(html, &why), why);
  CHECK(self_contained(html));
  CHECK(count_of(html, "<svg class=\"posmap\"") == 3);
  CHECK(html.find("id=\"kl-per-position\"") != std::string::npos);
  CHECK(html.find("id=\"vector-error\"") != std::string::npos);
}
#endif
