// Task accuracy for task models (models/train/TASKS.md): parse the spec the model carries, draw seeded
// cases with the spec's distributions (own PRNG: numbers agree with the Python evaluation statistically,
// not case by case), and score greedy decoding after <sep> by exact match.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "format/json_limits.hpp"
#include "numerics/prng.hpp"
#include "ordinal/sampler.hpp"
#include "verify/verify.hpp"

namespace ordinal::verify {

namespace {

// Thrown inside parse_task_spec for a value out of its range; caught there and returned as a Status.
struct SpecError {
  std::string message;
};

// An integer field in [lo, hi] (the default when absent); anything else (a float, a string, out of range)
// is refused rather than converted.
int64_t int_field(const nlohmann::json& j, const char* key, int64_t dflt, int64_t lo, int64_t hi,
                  const std::string& where) {
  if (!j.contains(key)) {
    // A default outside the range another field set (max_len's 16 below a given min_len of 56) is refused
    // as a given value would be; taken as is, it drew a negative length (fuzz_task_spec found it).
    if (dflt < lo || dflt > hi) {
      throw SpecError{where + std::string(key) + " is missing and its default " + std::to_string(dflt) +
                      " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]"};
    }
    return dflt;
  }
  const nlohmann::json& v = j[key];
  bool in = false;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    in = hi >= 0 && u <= static_cast<uint64_t>(hi) && static_cast<int64_t>(u) >= lo;
  } else if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    in = x >= lo && x <= hi;
  }
  if (!in) {
    throw SpecError{where + std::string(key) + " must be an integer in [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]"};
  }
  return v.get<int64_t>();
}

// A [lo, hi] token-id range inside [0, id_limit): reversed or out-of-vocabulary ranges are refused (a
// reversed range divided by zero in the case generator).
void id_range(const nlohmann::json& j, const char* key, int32_t* lo, int32_t* hi, int32_t dlo, int32_t dhi,
              int64_t id_limit, const std::string& where) {
  if (j.contains(key)) {
    const nlohmann::json& r = j[key];
    if (!r.is_array() || r.size() != 2) throw SpecError{where + key + " must be a [first, last] pair"};
    nlohmann::json pair = {{"first", r[0]}, {"last", r[1]}};
    *lo = static_cast<int32_t>(int_field(pair, "first", 0, 0, id_limit - 1, where + key + " "));
    *hi = static_cast<int32_t>(int_field(pair, "last", 0, 0, id_limit - 1, where + key + " "));
  } else {
    *lo = dlo;
    *hi = dhi;
  }
  if (*lo > *hi || *lo < 0 || *hi >= id_limit) {
    throw SpecError{where + key + " [" + std::to_string(*lo) + ", " + std::to_string(*hi) +
                    "] must be a non-empty range of token ids below " + std::to_string(id_limit)};
  }
}

}  // namespace

Result<TaskSpec> parse_task_spec(const std::string& text, uint32_t vocab_size) {
  const int64_t id_limit = vocab_size > 0 ? int64_t{vocab_size} : int64_t{1} << 22;
  ORDINAL_RETURN_IF_ERROR(
      format::check_json_limits(text, kMaxTaskSpecBytes, format::kMaxJsonDepth, "task spec"));
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (j.contains("ordinal_task")) j = j["ordinal_task"];
    if (!j.is_object() || !j.contains("tasks") || !j["tasks"].is_array()) {
      return invalid_argument("task spec: no \"tasks\" array");
    }
    if (j["tasks"].size() > kMaxTasks) {
      return invalid_argument("task spec: " + std::to_string(j["tasks"].size()) +
                              " tasks, over the limit of " + std::to_string(kMaxTasks));
    }
    const std::string top = "task spec: ";
    TaskSpec s;
    s.bos = static_cast<int32_t>(int_field(j, "bos_id", 1, 0, id_limit - 1, top));
    s.eos = static_cast<int32_t>(int_field(j, "eos_id", 2, 0, id_limit - 1, top));
    s.sep = static_cast<int32_t>(int_field(j, "sep_id", 8, 0, id_limit - 1, top));
    id_range(j, "symbol_ids", &s.sym_lo, &s.sym_hi, 9, 24, id_limit, top);
    for (const auto& t : j["tasks"]) {
      if (!t.is_object()) return invalid_argument("task spec: every task must be an object");
      TaskDef d;
      if (t.contains("name") && !t["name"].is_string())
        return invalid_argument("task spec: name must be a string");
      d.name = t.value("name", std::string());
      if (d.name.size() > 64) return invalid_argument("task spec: task name longer than 64 bytes");
      const std::string where = "task spec: task '" + d.name + "': ";
      d.prefix_id = static_cast<int32_t>(int_field(t, "prefix_id", 0, 0, id_limit - 1, where));
      d.min_len = int_field(t, "min_len", 4, 1, kMaxTaskLength, where);
      d.max_len = int_field(t, "max_len", 16, d.min_len, kMaxTaskLength, where);
      // Any shift is a rotation by offset mod n; bounded so that i + offset cannot overflow.
      d.offset = int_field(t, "offset", 0, -kMaxTaskLength, kMaxTaskLength, where);
      d.key_len = int_field(t, "key_len", 5, 1, kMaxTaskLength, where);
      id_range(t, "filler_ids", &d.filler_lo, &d.filler_hi, s.sym_lo, s.sym_hi, id_limit, where);
      if (t.contains("key_ids")) {
        id_range(t, "key_ids", &d.key_lo, &d.key_hi, 25, 34, id_limit, where);
      } else {
        id_range(j, "digit_ids", &d.key_lo, &d.key_hi, 25, std::min<int64_t>(34, id_limit - 1), id_limit,
                 top);
      }
      s.tasks.push_back(d);
    }
    return s;
  } catch (const SpecError& e) {
    return invalid_argument(e.message);
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
        y[static_cast<size_t>(i)] = x[static_cast<size_t>(((i + task.offset % n) % n + n) % n)];
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
