// Attention observer and profiler (issue 15): the rows the observer reports are the attention the model
// computed (checked where it is known in closed form: zero queries give softmax of the positional bias
// alone), an observer never changes logits, AttentionProfile's statistics match a double-precision
// reference over the same rows, and `ordinal profile` writes a well-formed, self-contained HTML page whose
// numbers are the profile's.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ordinal/attention_profile.hpp"
#include "ordinal/ordinal.h"
#include "support/html_check.hpp"
#include "support/session_helpers.hpp"

#ifdef ORDINAL_HAVE_TOOL_LIB
#include "profile/profile_report.hpp"
#endif

using namespace ordinal;
using namespace ordinal::testing;

namespace {

const std::vector<int32_t> kPrompt = {1, 84, 104, 101, 32, 100, 111, 103, 33, 70};

struct RecordedRow {
  uint32_t layer, head;
  int64_t query, first_key;
  std::vector<float> p;
};

void record(const AttentionRow& row, void* user) {
  static_cast<std::vector<RecordedRow>*>(user)->push_back(
      {row.layer, row.head, row.query_position, row.first_key_position,
       std::vector<float>(row.probabilities, row.probabilities + row.keys)});
}

// A model whose queries are zero (wq = 0): every score is the positional bias alone.
modelio::ModelSpec zero_query_model(PositionalScheme scheme) {
  SyntheticOptions o;
  o.scheme = scheme;
  modelio::ModelSpec spec = make_synthetic_model(o);
  for (modelio::HostLayer& layer : spec.layers) std::fill(layer.wq.data.begin(), layer.wq.data.end(), 0);
  return spec;
}

}  // namespace

TEST_CASE("attention observer: zero queries give softmax of the ALiBi bias (closed form)") {
  const modelio::ModelSpec spec = zero_query_model(PositionalScheme::kAlibi);
  auto m = load_spec(spec, "prof_alibi_zero_q.ordinal");
  SessionOptions so;
  so.position_offset = 5;
  auto s = session_for(m, so);
  std::vector<RecordedRow> rows;
  REQUIRE(s->set_attention_observer(record, &rows).ok());
  REQUIRE(s->prefill(kPrompt.data(), 6).ok());
  REQUIRE(s->decode(97).ok());
  const ModelConfig& c = m->config();
  REQUIRE(rows.size() == size_t{7} * c.n_layers * c.n_heads);
  for (const RecordedRow& r : rows) {
    CAPTURE(r.layer);
    CAPTURE(r.head);
    CAPTURE(r.query);
    CHECK(r.first_key == 5);
    REQUIRE(r.p.size() == static_cast<size_t>(r.query - 5 + 1));
    const double slope = static_cast<double>(spec.positional.slopes_q32[r.head]) / 4294967296.0;
    std::vector<double> e(r.p.size());
    double sum = 0.0;
    for (size_t t = 0; t < e.size(); ++t) {
      const double dist = static_cast<double>(r.query - (r.first_key + static_cast<int64_t>(t)));
      e[t] = std::exp(-slope * dist);
      sum += e[t];
    }
    for (size_t t = 0; t < e.size(); ++t) CHECK(std::fabs(r.p[t] - e[t] / sum) < 2e-6);
  }
  // Queries in order: the decode's rows come last, at position 11.
  CHECK(rows.back().query == 11);
}

TEST_CASE("attention observer: zero queries without a bias attend uniformly (RoPE, none)") {
  for (PositionalScheme scheme : {PositionalScheme::kRope, PositionalScheme::kNone}) {
    auto m = load_spec(zero_query_model(scheme),
                       std::string("prof_uniform_") + positional_scheme_name(scheme) + ".ordinal");
    for (KvCacheType kv : {KvCacheType::kF32, KvCacheType::kInt8}) {
      SessionOptions so;
      so.kv_cache = kv;
      auto s = session_for(m, so);
      std::vector<RecordedRow> rows;
      REQUIRE(s->set_attention_observer(record, &rows).ok());
      REQUIRE(s->prefill(kPrompt.data(), kPrompt.size()).ok());
      REQUIRE(!rows.empty());
      for (const RecordedRow& r : rows) {
        for (float p : r.p) CHECK(std::fabs(p - 1.0 / static_cast<double>(r.p.size())) < 1e-6);
      }
    }
  }
}

TEST_CASE("attention observer: logits are bit-identical with and without it, for every scheme and cache") {
  for (const SyntheticPositional& b : kSyntheticPositionals) {
    CAPTURE(positional_scheme_name(b.scheme));
    SyntheticOptions o;
    o.scheme = b.scheme;
    auto m = load_spec(make_synthetic_model(o),
                       std::string("prof_bits_") + positional_scheme_name(b.scheme) + ".ordinal");
    for (KvCacheType kv : {KvCacheType::kF32, KvCacheType::kInt8}) {
      SessionOptions so;
      so.kv_cache = kv;
      so.prefill_chunk = 4;  // several chunks: the observer runs between them
      auto plain = session_for(m, so);
      auto observed = session_for(m, so);
      std::vector<RecordedRow> rows;
      REQUIRE(observed->set_attention_observer(record, &rows).ok());
      REQUIRE(plain->prefill(kPrompt.data(), kPrompt.size()).ok());
      REQUIRE(observed->prefill(kPrompt.data(), kPrompt.size()).ok());
      CHECK(logits_of(*plain) == logits_of(*observed));
      REQUIRE(plain->decode(97).ok());
      REQUIRE(observed->decode(97).ok());
      CHECK(logits_of(*plain) == logits_of(*observed));
      const ModelConfig& c = m->config();
      CHECK(rows.size() == (kPrompt.size() + 1) * c.n_layers * c.n_heads);
      for (const RecordedRow& r : rows) {
        double sum = 0.0;
        for (float p : r.p) {
          CHECK(p >= 0.0f);
          sum += p;
        }
        CHECK(std::fabs(sum - 1.0) < 1e-5);
      }
      // Removing the observer stops the rows.
      REQUIRE(observed->set_attention_observer(nullptr, nullptr).ok());
      const size_t seen = rows.size();
      REQUIRE(observed->decode(98).ok());
      CHECK(rows.size() == seen);
    }
  }
}

TEST_CASE("attention observer: the int8 cache's rows track the f32 cache's") {
  SyntheticOptions o;
  auto m = load_spec(make_synthetic_model(o), "prof_int8.ordinal");
  std::vector<RecordedRow> f, q;
  for (KvCacheType kv : {KvCacheType::kF32, KvCacheType::kInt8}) {
    SessionOptions so;
    so.kv_cache = kv;
    auto s = session_for(m, so);
    REQUIRE(s->set_attention_observer(record, kv == KvCacheType::kF32 ? &f : &q).ok());
    REQUIRE(s->prefill(kPrompt.data(), kPrompt.size()).ok());
  }
  REQUIRE(f.size() == q.size());
  double worst = 0.0;
  bool differs = false;
  for (size_t i = 0; i < f.size(); ++i) {
    REQUIRE(f[i].p.size() == q[i].p.size());
    for (size_t t = 0; t < f[i].p.size(); ++t) {
      worst = std::max(worst, std::fabs(static_cast<double>(f[i].p[t]) - q[i].p[t]));
      differs = differs || f[i].p[t] != q[i].p[t];
    }
  }
  CHECK(worst < 0.02);
  CHECK(differs);  // the int8 path really read int8 keys
}

TEST_CASE("C API: the attention observer reports the same rows") {
  SyntheticOptions o;
  const std::string path = temp_path("prof_c_api.ordinal");
  REQUIRE(modelio::write_model(make_synthetic_model(o), path).ok());
  ord_model* model = nullptr;
  REQUIRE(ord_model_load(path.c_str(), &model) == ORD_OK);
  ord_session_options opt = ord_session_default_options();
  opt.threads = 1;
  ord_session* session = nullptr;
  REQUIRE(ord_session_create(model, &opt, &session) == ORD_OK);
  struct Seen {
    size_t rows = 0;
    double mass = 0.0;
    int64_t last_query = -1;
  } seen;
  auto observer = [](const ord_attention_row* row, void* user) {
    Seen* s = static_cast<Seen*>(user);
    ++s->rows;
    for (size_t t = 0; t < row->keys; ++t) s->mass += row->probabilities[t];
    s->last_query = row->query_position;
    CHECK(row->padding == nullptr);
  };
  REQUIRE(ord_session_set_attention_observer(session, observer, &seen) == ORD_OK);
  REQUIRE(ord_session_prefill(session, kPrompt.data(), 4) == ORD_OK);
  const size_t per_token = size_t{2} * 4;  // layers x heads of the synthetic model
  CHECK(seen.rows == 4 * per_token);
  CHECK(std::fabs(seen.mass - static_cast<double>(seen.rows)) < 1e-4);
  CHECK(seen.last_query == 3);
  REQUIRE(ord_session_set_attention_observer(session, nullptr, nullptr) == ORD_OK);
  REQUIRE(ord_session_decode(session, 97) == ORD_OK);
  CHECK(seen.rows == 4 * per_token);
  CHECK(ord_session_set_attention_observer(nullptr, observer, &seen) == ORD_INVALID_ARGUMENT);
  ord_session_free(session);
  ord_model_free(model);
}

TEST_CASE("AttentionProfile: entropy, distance mass, padding and maps against a double reference") {
  const uint32_t layers = 2, heads = 3, distances = 5, map_n = 6;
  auto created = AttentionProfile::create(layers, heads, distances, map_n);
  REQUIRE(created.ok());
  AttentionProfile& prof = *created.value();
  TestRng rng(11);
  struct Ref {
    uint64_t rows = 0;
    double entropy = 0, uniform = 0, distance = 0, padding = 0;
    std::vector<double> bins = std::vector<double>(5, 0.0);
    std::map<std::pair<int64_t, int64_t>, std::pair<double, int>> cells;
  };
  std::vector<Ref> ref(layers * heads);
  std::vector<std::vector<int>> map_rows(layers * heads, std::vector<int>(map_n, 0));
  for (int i = 0; i < 300; ++i) {
    const uint32_t l = static_cast<uint32_t>(rng.next() % layers),
                   h = static_cast<uint32_t>(rng.next() % heads);
    const int64_t first = static_cast<int64_t>(rng.next() % 3);
    const size_t keys = 1 + rng.next() % 12;
    const int64_t query = first + static_cast<int64_t>(keys) - 1;
    std::vector<float> p(keys);
    std::vector<uint8_t> pad(keys);
    double sum = 0;
    for (size_t t = 0; t < keys; ++t) {
      p[t] = (rng.next() % 4 == 0) ? 0.0f : rng.uniform();  // some exact zeros (0 log 0 = 0)
      sum += p[t];
      pad[t] = rng.next() % 5 == 0;
    }
    if (sum == 0) p[0] = 1.0f, sum = 1.0;
    for (float& x : p) x = static_cast<float>(x / sum);
    AttentionRow row;
    row.layer = l;
    row.head = h;
    row.query_position = query;
    row.first_key_position = first;
    row.keys = keys;
    row.probabilities = p.data();
    row.padding = i % 2 ? pad.data() : nullptr;
    AttentionProfile::observe(row, &prof);

    Ref& r = ref[l * heads + h];
    ++r.rows;
    r.uniform += std::log2(static_cast<double>(keys));
    for (size_t t = 0; t < keys; ++t) {
      const double q = p[t];
      const int64_t key = first + static_cast<int64_t>(t);
      if (q > 0) r.entropy -= q * std::log(q) / std::log(2.0);
      r.distance += q * static_cast<double>(query - key);
      r.bins[std::min<int64_t>(query - key, distances - 1)] += q;
      if (row.padding && pad[t]) r.padding += q;
      if (query < map_n && key < map_n) r.cells[{query, key}].first += q;
    }
    if (query < map_n) ++map_rows[l * heads + h][static_cast<size_t>(query)];
  }
  // Rows outside the profile's shape are ignored.
  const float one = 1.0f;
  AttentionRow outside;
  outside.layer = layers;
  outside.keys = 1;
  outside.probabilities = &one;
  prof.add(outside);

  for (uint32_t l = 0; l < layers; ++l) {
    for (uint32_t h = 0; h < heads; ++h) {
      const Ref& r = ref[l * heads + h];
      REQUIRE(r.rows > 0);
      const double n = static_cast<double>(r.rows);
      CHECK(prof.queries(l, h) == r.rows);
      CHECK(prof.mean_entropy_bits(l, h) == doctest::Approx(r.entropy / n).epsilon(1e-12));
      CHECK(prof.mean_uniform_entropy_bits(l, h) == doctest::Approx(r.uniform / n).epsilon(1e-12));
      CHECK(prof.mean_distance(l, h) == doctest::Approx(r.distance / n).epsilon(1e-12));
      CHECK(prof.padding_mass(l, h) == doctest::Approx(r.padding / n).epsilon(1e-12));
      double total = 0;
      for (uint32_t d = 0; d < distances; ++d) {
        CHECK(prof.distance_mass(l, h, d) == doctest::Approx(r.bins[d] / n).epsilon(1e-12));
        total += prof.distance_mass(l, h, d);
      }
      CHECK(total == doctest::Approx(1.0).epsilon(1e-6));
      for (uint32_t q = 0; q < map_n; ++q) {
        for (uint32_t k = 0; k < map_n; ++k) {
          auto it = r.cells.find({q, k});
          const int rows = map_rows[l * heads + h][q];
          const double want = (it == r.cells.end() || rows == 0) ? 0.0 : it->second.first / rows;
          CHECK(prof.map(l, h, q, k) == doctest::Approx(want).epsilon(1e-12));
        }
      }
    }
  }
  prof.clear();
  CHECK(prof.queries(0, 0) == 0);
  CHECK(prof.mean_entropy_bits(0, 0) == 0.0);
  CHECK(!AttentionProfile::create(0, 1, 1, 1).ok());
  CHECK(!AttentionProfile::create(1, 1, 0, 1).ok());
}

TEST_CASE(
    "AttentionProfile on a session: unpadded input has zero padding mass; uniform rows have log2(keys) "
    "bits") {
  auto m = load_spec(zero_query_model(PositionalScheme::kRope), "prof_session.ordinal");
  auto s = session_for(m);
  const ModelConfig& c = m->config();
  auto prof = AttentionProfile::create(c.n_layers, c.n_heads, 16, 8);
  REQUIRE(prof.ok());
  REQUIRE(s->set_attention_observer(AttentionProfile::observe, prof.value().get()).ok());
  REQUIRE(s->prefill(kPrompt.data(), kPrompt.size()).ok());
  double want = 0;
  for (size_t k = 1; k <= kPrompt.size(); ++k) want += std::log2(static_cast<double>(k));
  want /= static_cast<double>(kPrompt.size());
  for (uint32_t l = 0; l < c.n_layers; ++l) {
    for (uint32_t h = 0; h < c.n_heads; ++h) {
      CHECK(prof.value()->queries(l, h) == kPrompt.size());
      CHECK(prof.value()->padding_mass(l, h) == 0.0);
      CHECK(prof.value()->mean_entropy_bits(l, h) == doctest::Approx(want).epsilon(1e-5));
      // Uniform over q + 1 keys: the map's row q is 1 / (q + 1) up to the diagonal.
      CHECK(prof.value()->map(l, h, 3, 2) == doctest::Approx(0.25).epsilon(1e-5));
      CHECK(prof.value()->map(l, h, 3, 4) == 0.0);
    }
  }
}

TEST_CASE("sessions on several threads, each with its own observer, profile and counters (TSan)") {
  SyntheticOptions o;
  auto m = load_spec(make_synthetic_model(o), "prof_threads.ordinal");
  const ModelConfig& c = m->config();
  std::vector<float> alone;
  {
    auto s = session_for(m);
    REQUIRE(s->prefill(kPrompt.data(), kPrompt.size()).ok());
    alone = logits_of(*s);
  }
  constexpr int kThreads = 4;
  std::vector<std::unique_ptr<AttentionProfile>> profiles(kThreads);
  std::vector<SessionStats> stats(kThreads);
  std::vector<std::vector<float>> logits(kThreads);
  std::vector<int> ok(kThreads, 0);
  for (int i = 0; i < kThreads; ++i) {
    auto p = AttentionProfile::create(c.n_layers, c.n_heads, 16, 8);
    REQUIRE(p.ok());
    profiles[i] = std::move(p).value();
  }
  std::vector<std::thread> workers;
  for (int i = 0; i < kThreads; ++i) {
    workers.emplace_back([&, i] {
      SessionOptions so;
      so.threads = 1 + i % 2;  // half of them with a worker pool inside
      auto s = Session::create(m, so);
      if (!s.ok()) return;
      Session& session = *s.value();
      if (!session.set_attention_observer(AttentionProfile::observe, profiles[i].get()).ok()) return;
      if (!session.prefill(kPrompt.data(), kPrompt.size()).ok()) return;
      logits[i].assign(session.logits(), session.logits() + session.vocab_size());
      for (int32_t t : {97, 98, 99}) {
        if (!session.decode(t).ok()) return;
      }
      stats[i] = session.stats();
      ok[i] = 1;
    });
  }
  for (std::thread& t : workers) t.join();
  for (int i = 0; i < kThreads; ++i) {
    CAPTURE(i);
    REQUIRE(ok[i] == 1);
    CHECK(logits[i] == alone);
    CHECK(stats[i].tokens_prefilled == kPrompt.size());
    CHECK(stats[i].tokens_decoded == 3);
    CHECK(profiles[i]->queries(c.n_layers - 1, c.n_heads - 1) == kPrompt.size() + 3);
    CHECK(profiles[i]->mean_entropy_bits(0, 0) == profiles[0]->mean_entropy_bits(0, 0));
  }
}

#ifdef ORDINAL_HAVE_TOOL_LIB
TEST_CASE("profile report: well-formed, self-contained, one heatmap per head, the profile's numbers") {
  SyntheticOptions o;
  auto m = load_spec(make_synthetic_model(o), "prof_report.ordinal");
  auto s = session_for(m);
  const ModelConfig& c = m->config();
  auto prof = AttentionProfile::create(c.n_layers, c.n_heads, 8, 6);
  REQUIRE(prof.ok());
  REQUIRE(s->set_attention_observer(AttentionProfile::observe, prof.value().get()).ok());
  REQUIRE(s->prefill(kPrompt.data(), kPrompt.size()).ok());
  profile::ProfileInput in;
  in.model_path = "m<&>.ordinal";
  in.scheme = "rope";
  in.text_path = "t.txt";
  in.tokens = kPrompt.size();
  for (size_t i = 0; i < kPrompt.size(); ++i) in.pieces.push_back(i == 3 ? "</script><b>" : "x\"y");
  const std::string html = profile::profile_html(in, *prof.value());
  std::string why;
  CHECK_MESSAGE(html_well_formed(html, &why), why);
  CHECK(self_contained(html));
  CHECK(html.find("m&lt;&amp;&gt;.ordinal") != std::string::npos);
  CHECK(count_of(html, "<canvas class=\"heat\"") == c.n_layers * c.n_heads);
  CHECK(count_of(html, "<polyline class=\"head\"") == c.n_layers * c.n_heads);
  CHECK(count_of(html, "<tr class=\"head\"") == c.n_layers * c.n_heads);
  // A token's text cannot end the data block early.
  CHECK(count_of(html, "</script>") == 2);
  for (uint32_t l = 0; l < c.n_layers; ++l) {
    for (uint32_t h = 0; h < c.n_heads; ++h) {
      char want[160];
      std::snprintf(want, sizeof want,
                    "<tr class=\"head\" data-layer=\"%u\" "
                    "data-head=\"%u\"><td>%u</td><td>%u</td><td>%zu</td><td>%.4f</td>",
                    l, h, l, h, kPrompt.size(), prof.value()->mean_entropy_bits(l, h));
      CHECK_MESSAGE(html.find(want) != std::string::npos, want);
    }
  }
}

TEST_CASE("ordinal profile: CLI writes the report and prints the per-head table") {
  SyntheticOptions o;
  const std::string model = temp_path("prof_cli.ordinal");
  REQUIRE(modelio::write_model(make_synthetic_model(o), model).ok());
  const std::string text = temp_path("prof_cli.txt"), report = temp_path("prof_cli.html"),
                    out = temp_path("prof_cli.out");
  {
    std::ofstream t(text);
    t << "The dog chased the cat. Then the cat chased the dog, and the dog ran home.\n";
  }
  std::remove(report.c_str());
  const std::string cli = ORDINAL_CLI_PATH;
  const int rc = std::system(("'" + cli + "' profile '" + model + "' --text '" + text + "' --report '" +
                              report + "' --tokens 16 --map 8 > '" + out + "' 2>/dev/null")
                                 .c_str());
  REQUIRE(rc == 0);
  std::ifstream h(report);
  std::stringstream ss;
  ss << h.rdbuf();
  const std::string html = ss.str();
  std::string why;
  CHECK_MESSAGE(html_well_formed(html, &why), why);
  CHECK(self_contained(html));
  CHECK(count_of(html, "<canvas class=\"heat\"") == 2 * 4);
  std::ifstream so(out);
  std::string line;
  int rows = 0;
  while (std::getline(so, line)) {
    unsigned layer, head, queries;
    if (std::sscanf(line.c_str(), "%u %u %u", &layer, &head, &queries) == 3) {
      ++rows;
      CHECK(queries == 16);
    }
  }
  CHECK(rows == 2 * 4);
  // Usage errors: exit 2.
  CHECK(WEXITSTATUS(
            std::system(("'" + cli + "' profile '" + model + "' --report x.html 2>/dev/null").c_str())) == 2);
  CHECK(WEXITSTATUS(std::system(("'" + cli + "' profile '" + model + "' --text '" + text +
                                 "' --report x.html --tokens 100000 2>/dev/null")
                                    .c_str())) == 2);
}
#endif
