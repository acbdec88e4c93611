// Task accuracy for task models (models/train/TASKS.md): parse the spec the model carries, draw seeded
// cases with the spec's distributions (own PRNG: numbers agree with the Python evaluation statistically,
// not case by case), and score greedy decoding after <sep> by exact match.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "numerics/prng.hpp"
#include "ordinal/sampler.hpp"
#include "verify/verify.hpp"

namespace ordinal::verify {

namespace {
void id_range(const nlohmann::json& j, const char* key, int32_t* lo, int32_t* hi, int32_t dlo, int32_t dhi) {
  if (j.contains(key) && j[key].is_array() && j[key].size() == 2) {
    *lo = j[key][0].get<int32_t>();
    *hi = j[key][1].get<int32_t>();
  } else {
    *lo = dlo;
    *hi = dhi;
  }
}
}  // namespace

Result<TaskSpec> parse_task_spec(const std::string& text) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (j.contains("ordinal_task")) j = j["ordinal_task"];
    if (!j.is_object() || !j.contains("tasks") || !j["tasks"].is_array()) {
      return invalid_argument("task spec: no \"tasks\" array");
    }
    TaskSpec s;
    s.bos = j.value("bos_id", 1);
    s.eos = j.value("eos_id", 2);
    s.sep = j.value("sep_id", 8);
    id_range(j, "symbol_ids", &s.sym_lo, &s.sym_hi, 9, 24);
    if (s.sym_lo > s.sym_hi) return invalid_argument("task spec: symbol_ids range is empty");
    for (const auto& t : j["tasks"]) {
      TaskDef d;
      d.name = t.value("name", std::string());
      d.prefix_id = t.value("prefix_id", 0);
      d.min_len = t.value("min_len", int64_t{4});
      d.max_len = t.value("max_len", int64_t{16});
      d.offset = t.value("offset", int64_t{0});
      d.key_len = t.value("key_len", int64_t{5});
      id_range(t, "filler_ids", &d.filler_lo, &d.filler_hi, s.sym_lo, s.sym_hi);
      if (t.contains("key_ids")) {
        id_range(t, "key_ids", &d.key_lo, &d.key_hi, 25, 34);
      } else {
        id_range(j, "digit_ids", &d.key_lo, &d.key_hi, 25, 34);
      }
      if (d.min_len < 1 || d.max_len < d.min_len)
        return invalid_argument("task spec: bad lengths for " + d.name);
      s.tasks.push_back(d);
    }
    return s;
  } catch (const std::exception& e) {
    return invalid_argument(std::string("task spec is not valid JSON: ") + e.what());
  }
}

TaskCase make_task_case(const TaskSpec& spec, const TaskDef& task, int64_t n, uint64_t* state) {
  numerics::SplitMix64 rng(*state);
  TaskCase c;
  if (n <= 0) n = rng.between(task.min_len, task.max_len);
  std::vector<int32_t> x(static_cast<size_t>(n)), y;
  auto sym = [&] { return static_cast<int32_t>(rng.between(spec.sym_lo, spec.sym_hi)); };
  if (task.name == "passkey") {
    const int64_t kl = std::min(task.key_len, n);
    for (auto& v : x) v = static_cast<int32_t>(rng.between(task.filler_lo, task.filler_hi));
    std::vector<int32_t> key(static_cast<size_t>(kl));
    for (auto& v : key) v = static_cast<int32_t>(rng.between(task.key_lo, task.key_hi));
    const int64_t s = rng.between(0, n - kl);
    for (int64_t i = 0; i < kl; ++i) x[static_cast<size_t>(s + i)] = key[static_cast<size_t>(i)];
    y = key;
  } else {
    for (auto& v : x) v = sym();
    y = x;
    if (task.name == "reverse") {
      std::reverse(y.begin(), y.end());
    } else if (task.name == "sort") {
      std::sort(y.begin(), y.end());
    } else if (task.name == "copy_offset") {
      for (int64_t i = 0; i < n; ++i)
        y[static_cast<size_t>(i)] = x[static_cast<size_t>((i + task.offset) % n)];
    }  // unknown tasks are filtered by the caller
  }
  c.prompt.push_back(spec.bos);
  c.prompt.push_back(task.prefix_id);
  c.prompt.insert(c.prompt.end(), x.begin(), x.end());
  c.prompt.push_back(spec.sep);
  c.answer = y;
  c.answer.push_back(spec.eos);
  *state = rng.next();
  return c;
}

Result<bool> score_task_case(Session& s, const TaskCase& c, std::vector<float>* scratch) {
  ORDINAL_RETURN_IF_ERROR(s.reset(0));
  ORDINAL_RETURN_IF_ERROR(s.prefill(c.prompt.data(), c.prompt.size()));
  // Greedy decoding reproduces the answer iff every argmax along the teacher-forced answer matches
  // (the first mismatch is where greedy output would diverge), so stop at the first miss.
  for (size_t j = 0; j < c.answer.size(); ++j) {
    if (Sampler::argmax(s.logits(), s.vocab_size()) != c.answer[j]) return false;
    if (j + 1 < c.answer.size()) ORDINAL_RETURN_IF_ERROR(s.decode(c.answer[j]));
  }
  return true;
}

}  // namespace ordinal::verify
