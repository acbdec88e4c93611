// A C++ app on the installed Ordinal's C++ API: loads a model, generates greedily from BOS and streams the
// text through a Detokenizer, as llama2.c's `run -t 0 -n STEPS` does (STEPS forward passes from BOS, so up
// to STEPS tokens; stop at BOS/EOS; a newline at the end). Usage: generate_cpp MODEL [STEPS].
#include <ordinal/ordinal.h>

#include <cstdio>
#include <cstdlib>
#include <ordinal/detokenizer.hpp>
#include <ordinal/runtime.hpp>
#include <ordinal/sampler.hpp>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL [STEPS]\n", argv[0]);
    return 2;
  }
  const long steps = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 256;
  auto model = ordinal::Model::load(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "generate_cpp: %s\n", model.status().to_string().c_str());
    return 1;
  }
  auto session = ordinal::Session::create(model.value());
  ordinal::SamplerParams params;
  params.temperature = 0.0f;  // greedy
  auto sampler = ordinal::Sampler::create(model.value()->config().vocab_size, params);
  if (!session.ok() || !sampler.ok()) {
    std::fprintf(stderr, "generate_cpp: %s\n",
                 (session.ok() ? sampler.status() : session.status()).to_string().c_str());
    return 1;
  }
  ordinal::Session& s = *session.value();
  const ordinal::Tokenizer& tok = model.value()->tokenizer();
  ordinal::Detokenizer detok(tok);

  int32_t token = tok.bos_id();
  detok.reset(token);
  ordinal::Status st = s.prefill(&token, 1);
  std::string text;
  for (long step = 0; st.ok() && step < steps; ++step) {
    const int32_t next = sampler.value().sample(s.logits());  // reads the logits, never changes them
    if (next == tok.bos_id() || next == tok.eos_id()) break;
    text.resize(detok.peek(next));
    text.resize(detok.push(next, &text[0], text.size()));
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    token = next;
    st = s.decode(token);
  }
  char tail[4];
  std::fwrite(tail, 1, detok.flush(tail, sizeof tail), stdout);
  std::printf("\n");
  if (!st.ok()) {
    std::fprintf(stderr, "generate_cpp: %s\n", st.to_string().c_str());
    return 1;
  }
  std::fprintf(stderr, "generate_cpp: Ordinal %s (headers %s)\n", ord_version(), ORD_VERSION_STRING);
  return 0;
}
