// Writes a small synthetic llama-style model to argv[1] (test fixture for the C API test).
#include <cstdio>

#include "support/synthetic_model.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_test_model OUT.ordinal\n");
    return 2;
  }
  std::string cmd = std::string("mkdir -p \"$(dirname '") + argv[1] + "')\"";
  if (std::system(cmd.c_str()) != 0) return 1;
  ordinal::testing::SyntheticOptions o;
  ordinal::Status st = ordinal::modelio::write_model(ordinal::testing::make_synthetic_model(o), argv[1]);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    return 1;
  }
  return 0;
}
