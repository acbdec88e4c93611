// ordinal-benchmodel: writes the synthetic benchmark checkpoints (see benchmodel/synthetic_model.hpp).
//   ordinal-benchmodel NAME OUT_DIR [--seed N]
// llama2.c shapes write OUT_DIR/NAME.bin and OUT_DIR/NAME.tokenizer.bin; gpt2-small writes the directory
// OUT_DIR/NAME/ (model.safetensors, config.json, tokenizer.json). `ordinal-benchmodel --list` prints the
// presets with their weight bytes.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "benchmodel/synthetic_model.hpp"

namespace {

int usage() {
  std::fprintf(stderr, "usage: ordinal-benchmodel NAME OUT_DIR [--seed N] | --list\n");
  return 2;
}

bool make_dir(const std::string& path) {
  return ::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ordinal::benchmodel;
  if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
    for (const Shape& s : preset_shapes()) {
      std::printf("%s\t%s\tdim %u hidden %u layers %u heads %u/%u vocab %u seq %u\t%llu weight bytes\n",
                  s.name.c_str(), s.family == Family::kGpt2 ? "safetensors" : "llama2c", s.dim, s.hidden_dim,
                  s.n_layers, s.n_heads, s.n_kv_heads, s.vocab_size, s.seq_len,
                  static_cast<unsigned long long>(weight_bytes(s)));
    }
    return 0;
  }
  if (argc != 3 && argc != 5) return usage();
  uint64_t seed = 1;
  if (argc == 5) {
    if (std::strcmp(argv[3], "--seed") != 0) return usage();
    char* end = nullptr;
    errno = 0;
    seed = std::strtoull(argv[4], &end, 10);
    if (errno != 0 || end == argv[4] || *end != '\0') {
      std::fprintf(stderr, "ordinal-benchmodel: --seed '%s' is not an unsigned integer\n", argv[4]);
      return 2;
    }
  }
  ordinal::Result<Shape> shape = find_preset(argv[1]);
  if (!shape.ok()) {
    std::fprintf(stderr, "ordinal-benchmodel: %s\n", shape.status().message().c_str());
    return 2;
  }
  const std::string out = argv[2];
  if (!make_dir(out)) {
    std::fprintf(stderr, "ordinal-benchmodel: cannot create %s (%s)\n", out.c_str(), std::strerror(errno));
    return 1;
  }
  const Shape& s = shape.value();
  ordinal::Status st;
  if (s.family == Family::kGpt2) {
    const std::string dir = out + "/" + s.name;
    if (!make_dir(dir)) {
      std::fprintf(stderr, "ordinal-benchmodel: cannot create %s (%s)\n", dir.c_str(), std::strerror(errno));
      return 1;
    }
    st = write_gpt2_safetensors(s, seed, dir);
  } else {
    st = write_llama2c(s, seed, out + "/" + s.name + ".bin", out + "/" + s.name + ".tokenizer.bin");
  }
  if (!st.ok()) {
    std::fprintf(stderr, "ordinal-benchmodel: %s\n", st.message().c_str());
    return 1;
  }
  return 0;
}
