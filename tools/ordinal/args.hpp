// Strict command-line parsing for the ordinal verbs: every value is validated, and anything
// malformed is a usage error (exit code 2) with a message naming the flag.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ordinal::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;  // the command ran and a check failed (verify gates)
constexpr int kExitUsage = 2;   // bad arguments, unreadable or invalid input

class Args {
 public:
  Args(int argc, char** argv, int first);
  bool empty() const { return pos_ >= items_.size(); }
  const std::string& peek() const { return items_[pos_]; }
  std::string take() { return items_[pos_++]; }
  // For "--flag VALUE": returns false (and sets error) when VALUE is missing.
  bool value(const std::string& flag, std::string* out);
  std::string error;

 private:
  std::vector<std::string> items_;
  size_t pos_ = 0;
};

bool parse_int(const std::string& s, int64_t lo, int64_t hi, int64_t* out);
bool parse_float(const std::string& s, double lo, double hi, double* out);  // finite only

// Prints "ordinal VERB: MESSAGE" and the verb's usage to stderr; returns kExitUsage.
int usage_error(const char* verb, const std::string& message, const char* usage);

}  // namespace ordinal::cli
