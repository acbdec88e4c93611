// Helpers for tests that drive sessions: write a spec and load it, make a 1-thread session, copy logits.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "ordinal/runtime.hpp"
#include "support/synthetic_model.hpp"

namespace ordinal::testing {

inline std::shared_ptr<const Model> load_spec(const modelio::ModelSpec& spec, const std::string& name) {
  const std::string path = temp_path(name);
  Status st = modelio::write_model(spec, path);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  auto m = Model::load(path);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  return m.value();
}

// One thread unless the options say otherwise.
inline std::unique_ptr<Session> session_for(const std::shared_ptr<const Model>& m, SessionOptions so = {}) {
  if (so.threads == 0) so.threads = 1;
  auto s = Session::create(m, so);
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  return std::move(s).value();
}

inline std::vector<float> logits_of(const Session& s) {
  return std::vector<float>(s.logits(), s.logits() + s.vocab_size());
}

inline bool all_finite(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// Logits after `prompt` placed at `offset`, from a fresh session.
inline std::vector<float> logits_after(const std::shared_ptr<const Model>& m,
                                       const std::vector<int32_t>& prompt, int64_t offset = 0,
                                       uint32_t context = 0) {
  SessionOptions so;
  so.position_offset = offset;
  so.context_length = context;
  auto s = session_for(m, so);
  Status st = s->prefill(prompt.data(), prompt.size());
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  return logits_of(*s);
}

}  // namespace ordinal::testing
