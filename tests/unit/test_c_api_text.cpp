// Lossless text through the C API: ord_token_text gives every token's raw bytes (byte-fallback pieces
// their one byte), ord_detokenizer streams them without splitting UTF-8 sequences, "café 😀" and every
// byte-fallback token round-trip; ord_generate streams the same bytes; buffers report the size needed;
// models load from a file descriptor + offset and from unaligned buffers.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "ordinal/ordinal.h"
#include "support/session_helpers.hpp"

using namespace ordinal;
using namespace ordinal::testing;

namespace {

const std::string& model_path() {
  static const std::string path = [] {
    const std::string p = temp_path("c_api_text.ordinal");
    Status st = modelio::write_model(make_synthetic_model(SyntheticOptions()), p);
    REQUIRE_MESSAGE(st.ok(), st.to_string());
    return p;
  }();
  return path;
}

ord_model* load() {
  ord_model* m = nullptr;
  REQUIRE_MESSAGE(ord_model_load(model_path().c_str(), &m) == ORD_OK, ord_last_error());
  return m;
}

std::vector<int32_t> tokenize(ord_model* m, const std::string& text, int bos) {
  size_t n = 0;
  CHECK(ord_tokenize_n(m, text.data(), text.size(), bos, nullptr, 0, &n) == ORD_CAPACITY_EXCEEDED);
  std::vector<int32_t> ids(n);
  REQUIRE(ord_tokenize_n(m, text.data(), text.size(), bos, ids.data(), ids.size(), &n) == ORD_OK);
  return ids;
}

std::string token_bytes(ord_model* m, int32_t prev, int32_t token) {
  size_t len = 0;
  REQUIRE(ord_token_text(m, prev, token, nullptr, 0, &len) == ORD_CAPACITY_EXCEEDED);
  std::string buf(len + 1, '\x7f');
  size_t got = 0;
  REQUIRE(ord_token_text(m, prev, token, &buf[0], buf.size(), &got) == ORD_OK);
  CHECK(got == len);
  CHECK(buf[len] == '\0');
  buf.resize(len);
  return buf;
}

// Pushes tokens one at a time through a detokenizer with exactly-sized buffers.
std::string detokenize(ord_model* m, const std::vector<int32_t>& ids, int32_t prev,
                       std::vector<size_t>* sizes) {
  ord_detokenizer* d = nullptr;
  REQUIRE(ord_detokenizer_create(m, &d) == ORD_OK);
  REQUIRE(ord_detokenizer_reset(d, prev) == ORD_OK);
  std::string out;
  for (int32_t t : ids) {
    // Ask with no buffer: ORD_OK when the token completes nothing (then it is taken), else the size needed.
    size_t need = 0;
    std::string buf;
    const ord_status st = ord_detokenizer_push(d, t, nullptr, 0, &need);
    if (st == ORD_OK) {
      CHECK(need == 0);
    } else {
      REQUIRE(st == ORD_CAPACITY_EXCEEDED);
      REQUIRE(need > 0);
      buf.assign(need, '\0');
      size_t len = 99;
      REQUIRE(ord_detokenizer_push(d, t, &buf[0], need, &len) == ORD_OK);
      CHECK(len == need);
    }
    out += buf;
    if (sizes) sizes->push_back(need);
  }
  char tail[4];
  size_t len = 0;
  REQUIRE(ord_detokenizer_flush(d, tail, sizeof tail, &len) == ORD_OK);
  out.append(tail, len);
  ord_detokenizer_free(d);
  return out;
}

// True when s is a sequence of complete UTF-8 characters (lead byte then its continuation bytes).
bool whole_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

}  // namespace

TEST_CASE("\"café 😀\" round-trips through the C API, and the detokenizer never splits a character") {
  ord_model* m = load();
  const std::string text = "caf\xC3\xA9 \xF0\x9F\x98\x80";  // 10 bytes
  REQUIRE(text.size() == 10);
  const std::vector<int32_t> ids = tokenize(m, text, 1);
  REQUIRE(ids.front() == ord_model_bos(m));
  std::string joined;
  for (size_t i = 1; i < ids.size(); ++i) joined += token_bytes(m, ids[i - 1], ids[i]);
  CHECK(joined == text);

  std::vector<size_t> sizes;
  const std::vector<int32_t> body(ids.begin() + 1, ids.end());
  CHECK(detokenize(m, body, ids.front(), &sizes) == text);
  // é and 😀 are byte-fallback tokens here: each piece of the stream is whole UTF-8.
  size_t at = 0;
  for (size_t n : sizes) {
    CHECK_MESSAGE(whole_utf8(text.substr(at, n)), "a piece ends inside a character");
    at += n;
  }
  CHECK(at == text.size());
  // The 😀 bytes arrive as four tokens: the first three emit nothing.
  REQUIRE(sizes.size() >= 4);
  CHECK(sizes[sizes.size() - 4] == 0);
  CHECK(sizes[sizes.size() - 3] == 0);
  CHECK(sizes[sizes.size() - 2] == 0);
  CHECK(sizes.back() == 4);
  ord_model_free(m);
}

TEST_CASE("every byte-fallback token gives its byte, alone and streamed") {
  ord_model* m = load();
  const int32_t base = 3;  // the synthetic vocabulary's <0x00> (llama2.c layout)
  std::vector<int32_t> all;
  std::string expected;
  for (int b = 0; b < 256; ++b) {
    const std::string one = token_bytes(m, 70, base + b);
    CHECK(one.size() == 1);
    CHECK(static_cast<unsigned char>(one[0]) == b);
    all.push_back(base + b);
    expected.push_back(static_cast<char>(b));
  }
  // In order, then every byte after a 4-byte lead (held, then released by the next byte).
  CHECK(detokenize(m, all, 70, nullptr) == expected);
  for (int b = 0; b < 256; ++b) {
    std::string want = "\xF0";
    want.push_back(static_cast<char>(b));
    CHECK(detokenize(m, {base + 0xF0, base + b}, 70, nullptr) == want);
  }
  // An incomplete sequence at the end comes out of flush.
  CHECK(detokenize(m, {base + 0xE2, base + 0x82}, 70, nullptr) == "\xE2\x82");
  ord_model_free(m);
}

TEST_CASE("short buffers report the size needed and change nothing") {
  ord_model* m = load();
  ord_detokenizer* d = nullptr;
  REQUIRE(ord_detokenizer_create(m, &d) == ORD_OK);
  const std::vector<int32_t> ids = tokenize(m, "the", 0);
  char buf[64];
  size_t len = 0;
  REQUIRE(ord_detokenizer_push(d, 3 + 0xC3, buf, sizeof buf, &len) == ORD_OK);  // a held lead byte
  CHECK(len == 0);
  const int32_t a_tok = 3 + 256 + ('a' - 32);
  CHECK(ord_detokenizer_push(d, a_tok, buf, 1, &len) == ORD_CAPACITY_EXCEEDED);
  CHECK(len == 2);  // the held byte + "a"
  CHECK(ord_detokenizer_push(d, a_tok, buf, 2, &len) == ORD_OK);
  CHECK(std::string(buf, len) ==
        "\xC3"
        "a");
  CHECK(ord_detokenizer_push(d, -1, buf, sizeof buf, &len) == ORD_INVALID_ARGUMENT);
  CHECK(ord_detokenizer_push(nullptr, 5, buf, sizeof buf, &len) == ORD_INVALID_ARGUMENT);
  ord_detokenizer_free(d);

  ord_session* s = nullptr;
  ord_session_options o = ord_session_default_options();
  o.threads = 1;
  REQUIRE(ord_session_create(m, &o, &s) == ORD_OK);
  REQUIRE(ord_session_prefill(s, ids.data(), ids.size()) == ORD_OK);
  size_t need = 0, written = 0;
  REQUIRE(ord_session_state_size(s, &need) == ORD_OK);
  std::vector<char> state(need);
  CHECK(ord_session_save_state(s, state.data(), need - 1, &written) == ORD_CAPACITY_EXCEEDED);
  CHECK(written == need);
  CHECK(ord_session_save_state(s, state.data(), need, &written) == ORD_OK);
  ord_session_free(s);
  ord_model_free(m);
}

namespace {
struct Collected {
  std::vector<int32_t> tokens;
  std::string text;
  int stop_after = -1;
};
int collect(int32_t token, const char* text, size_t length, void* user) {
  Collected* c = static_cast<Collected*>(user);
  if (token >= 0) c->tokens.push_back(token);
  c->text.append(text, length);
  return c->stop_after >= 0 && static_cast<int>(c->tokens.size()) >= c->stop_after;
}
}  // namespace

TEST_CASE("ord_generate streams what sampling and decoding by hand give") {
  ord_model* m = load();
  ord_session_options o = ord_session_default_options();
  o.threads = 1;
  ord_session *a = nullptr, *b = nullptr;
  REQUIRE(ord_session_create(m, &o, &a) == ORD_OK);
  REQUIRE(ord_session_create(m, &o, &b) == ORD_OK);
  ord_sampler_params p = ord_sampler_default_params();
  p.temperature = 0.8f;
  p.top_k = 20;
  p.repetition_penalty = 1.3f;
  ord_sampler *sa = nullptr, *sb = nullptr;
  REQUIRE(ord_sampler_create_chain(ord_model_vocab_size(m), &p, &sa) == ORD_OK);
  REQUIRE(ord_sampler_create_chain(ord_model_vocab_size(m), &p, &sb) == ORD_OK);
  const std::vector<int32_t> prompt = tokenize(m, "Once the", 1);

  Collected got;
  size_t generated = 0;
  REQUIRE(ord_generate(a, sa, prompt.data(), prompt.size(), 20, collect, &got, &generated) == ORD_OK);
  CHECK(generated == got.tokens.size());

  // By hand: prefill, accept the prompt, sample/accept/decode.
  REQUIRE(ord_session_prefill(b, prompt.data(), prompt.size()) == ORD_OK);
  for (int32_t t : prompt) REQUIRE(ord_sampler_accept(sb, t) == ORD_OK);
  std::vector<int32_t> by_hand;
  std::string by_hand_text;
  int32_t prev = prompt.back();
  for (size_t i = 0; i < 20; ++i) {
    int32_t t = -1;
    REQUIRE(ord_sampler_sample(sb, b, &t) == ORD_OK);
    if (ord_model_is_eog(m, t)) break;
    by_hand.push_back(t);
    by_hand_text += token_bytes(m, prev, t);
    prev = t;
    REQUIRE(ord_sampler_accept(sb, t) == ORD_OK);
    REQUIRE(ord_session_decode(b, t) == ORD_OK);
  }
  CHECK(got.tokens == by_hand);
  CHECK(got.text == by_hand_text);
  CHECK(ord_session_position(a) == ord_session_position(b));
  CHECK(std::memcmp(ord_session_logits(a), ord_session_logits(b),
                    ord_session_vocab_size(a) * sizeof(float)) == 0);

  // The callback stops it; an empty prompt continues from the session.
  Collected two;
  two.stop_after = 2;
  CHECK(ord_generate(a, sa, nullptr, 0, 20, collect, &two, &generated) == ORD_OK);
  CHECK(generated == 2);
  CHECK(ord_generate(a, sa, nullptr, 0, 5, nullptr, nullptr, &generated) == ORD_INVALID_ARGUMENT);
  ord_sampler_free(sa);
  ord_sampler_free(sb);
  ord_session_free(a);
  ord_session_free(b);
  ord_model_free(m);
}

TEST_CASE("models load from a file descriptor + offset and from unaligned memory") {
  std::ifstream in(model_path(), std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(!bytes.empty());
  // An "APK": the model at a 4096-byte offset (mapped) and at a 100-byte offset (read).
  for (size_t offset : {size_t{4096}, size_t{100}}) {
    CAPTURE(offset);
    const std::string pack = temp_path("c_api_pack.bin");
    {
      std::ofstream out(pack, std::ios::binary);
      const std::vector<char> pad(offset, 'x');
      out.write(pad.data(), static_cast<std::streamsize>(pad.size()));
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      out.write("trailing", 8);
    }
    const int fd = ::open(pack.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    ord_model* m = nullptr;
    CHECK(ord_model_load_fd(fd, static_cast<int64_t>(offset), bytes.size(), &m) == ORD_OK);
    ::close(fd);  // the model does not need it
    REQUIRE(m != nullptr);
    CHECK(ord_model_vocab_size(m) > 256);
    ord_session* s = nullptr;
    REQUIRE(ord_session_create(m, nullptr, &s) == ORD_OK);
    const int32_t t[2] = {1, 70};
    CHECK(ord_session_prefill(s, t, 2) == ORD_OK);
    ord_session_free(s);
    ord_model_free(m);
    CHECK(ord_model_load_fd(-1, 0, bytes.size(), &m) == ORD_INVALID_ARGUMENT);
  }
  const int fd = ::open(model_path().c_str(), O_RDONLY);
  ord_model* m = nullptr;
  CHECK(ord_model_load_fd(fd, 0, bytes.size() + 1, &m) == ORD_IO_ERROR);  // past the end
  CHECK(m == nullptr);
  ::close(fd);

  // Unaligned memory is copied (and may be freed at once); the copying entry point takes any buffer.
  std::vector<char> unaligned(bytes.size() + 64);
  char* p = unaligned.data() + (64 - reinterpret_cast<uintptr_t>(unaligned.data()) % 64) % 64 + 16;
  std::memcpy(p, bytes.data(), bytes.size());
  CHECK(ord_model_load_buffer(p, bytes.size(), &m) == ORD_OK);
  std::memset(p, 0, bytes.size());
  REQUIRE(m != nullptr);
  CHECK(ord_model_vocab_size(m) > 256);
  ord_model_free(m);
  CHECK(ord_model_load_buffer_copy(bytes.data(), bytes.size(), &m) == ORD_OK);
  ord_model_free(m);
  CHECK(std::string(ord_version()) == ORD_VERSION_STRING);
}

TEST_CASE("session state files: round trip, empty, oversized and missing files") {
  ord_model* m = load();
  ord_session_options o = ord_session_default_options();
  o.threads = 1;
  o.context_length = 32;
  ord_session *a = nullptr, *b = nullptr;
  REQUIRE(ord_session_create(m, &o, &a) == ORD_OK);
  REQUIRE(ord_session_create(m, &o, &b) == ORD_OK);
  const int32_t prompt[5] = {1, 70, 71, 72, 300};
  REQUIRE(ord_session_prefill(a, prompt, 5) == ORD_OK);
  const std::string path = temp_path("c_api_state.ords");
  REQUIRE(ord_session_save_state_file(a, path.c_str()) == ORD_OK);
  REQUIRE_MESSAGE(ord_session_load_state_file(b, path.c_str()) == ORD_OK, ord_last_error());
  CHECK(ord_session_position(b) == 5);
  CHECK(std::memcmp(ord_session_logits(a), ord_session_logits(b),
                    ord_session_vocab_size(a) * sizeof(float)) == 0);

  const std::string empty = temp_path("c_api_state_empty.ords");
  { std::ofstream(empty, std::ios::binary); }
  CHECK(ord_session_load_state_file(b, empty.c_str()) == ORD_INVALID_ARGUMENT);
  CHECK(std::string(ord_last_error()).find("truncated") != std::string::npos);
  const std::string huge = temp_path("c_api_state_huge.ords");
  {
    std::ofstream out(huge, std::ios::binary);
    const std::vector<char> zeros(1 << 20, 0);  // larger than this session's full state
    out.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  CHECK(ord_session_load_state_file(b, huge.c_str()) == ORD_INVALID_ARGUMENT);
  CHECK(std::string(ord_last_error()).find("largest state") != std::string::npos);
  CHECK(ord_session_load_state_file(b, "/nonexistent/state.ords") == ORD_IO_ERROR);
  CHECK(ord_session_save_state_file(a, "/nonexistent/dir/state.ords") == ORD_IO_ERROR);
  CHECK(ord_session_position(b) == 5);  // refused loads changed nothing
  ord_session_free(a);
  ord_session_free(b);
  ord_model_free(m);
}
