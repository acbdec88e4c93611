#include "session_state.hpp"

#include <cstring>
#include <string>

#include "positional/encoder.hpp"

namespace ordinal::detail {

namespace {

constexpr char kMagic[4] = {'O', 'R', 'D', 'S'};
constexpr size_t kHeaderBytes = 4 + 4 + 4 + 4 + 8 * 4 + 8 + 8 + 8 + 8;  // 80
constexpr size_t kTrailerBytes = 8;

uint64_t fnv1a64(const uint8_t* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

struct Header {
  uint32_t version, header_bytes, kv_type;
  uint32_t identity[8];
  uint64_t file_bytes, cached;
  int64_t offset;
  uint64_t payload_bytes;
};

void identity_of(const SessionStateRefs& s, uint32_t* id) {
  const ModelConfig& c = *s.config;
  const uint32_t v[8] = {c.dim,        c.hidden_dim, c.n_layers,   c.n_heads,
                         c.n_kv_heads, c.head_dim,   c.vocab_size, static_cast<uint32_t>(s.scheme)};
  std::memcpy(id, v, sizeof v);
}

template <typename T>
void put(uint8_t*& out, T v) {
  std::memcpy(out, &v, sizeof v);
  out += sizeof v;
}
template <typename T>
T get(const uint8_t*& in) {
  T v;
  std::memcpy(&v, in, sizeof v);
  in += sizeof v;
  return v;
}

Status bad(const std::string& what) {
  return invalid_argument("session state: " + what);
}

}  // namespace

size_t session_state_bytes(const SessionStateRefs& s) {
  return kHeaderBytes + s.logits->size() * sizeof(float) + *s.cached * s.kv->slot_bytes() + kTrailerBytes;
}

size_t session_state_bytes_full(const SessionStateRefs& s) {
  return kHeaderBytes + s.logits->size() * sizeof(float) + s.capacity * s.kv->slot_bytes() + kTrailerBytes;
}

Status save_session_state(const SessionStateRefs& s, void* buffer, size_t size) {
  if (*s.unusable) return Status(ErrorCode::kSessionUnusable, "session state: the session needs reset()");
  const size_t need = session_state_bytes(s);
  if (buffer == nullptr || size < need) {
    return capacity_exceeded("session state needs " + std::to_string(need) + " bytes, buffer holds " +
                             std::to_string(buffer == nullptr ? 0 : size));
  }
  uint8_t* const start = static_cast<uint8_t*>(buffer);
  uint8_t* out = start;
  std::memcpy(out, kMagic, 4);
  out += 4;
  put<uint32_t>(out, kSessionStateVersion);
  put<uint32_t>(out, static_cast<uint32_t>(kHeaderBytes));
  put<uint32_t>(out, static_cast<uint32_t>(s.kv->type()));
  uint32_t id[8];
  identity_of(s, id);
  for (uint32_t v : id) put<uint32_t>(out, v);
  put<uint64_t>(out, s.model_file_bytes);
  put<uint64_t>(out, *s.cached);
  put<int64_t>(out, *s.offset);
  put<uint64_t>(out, need - kHeaderBytes - kTrailerBytes);
  std::memcpy(out, s.logits->data(), s.logits->size() * sizeof(float));
  out += s.logits->size() * sizeof(float);
  s.kv->save_slots(*s.cached, out);
  out += *s.cached * s.kv->slot_bytes();
  put<uint64_t>(out, fnv1a64(start, static_cast<size_t>(out - start)));
  return Status::Ok();
}

Status load_session_state(const SessionStateRefs& s, const void* data, size_t size) {
  if (data == nullptr) return invalid_argument("session state: null buffer");
  const uint8_t* const start = static_cast<const uint8_t*>(data);
  if (size < kHeaderBytes + kTrailerBytes) {
    return bad("truncated: " + std::to_string(size) + " bytes, a state has at least " +
               std::to_string(kHeaderBytes + kTrailerBytes));
  }
  if (std::memcmp(start, kMagic, 4) != 0) return bad("not a session state (magic 'ORDS' missing)");
  const uint8_t* in = start + 4;
  Header h;
  h.version = get<uint32_t>(in);
  h.header_bytes = get<uint32_t>(in);
  h.kv_type = get<uint32_t>(in);
  for (uint32_t& v : h.identity) v = get<uint32_t>(in);
  h.file_bytes = get<uint64_t>(in);
  h.cached = get<uint64_t>(in);
  h.offset = get<int64_t>(in);
  h.payload_bytes = get<uint64_t>(in);
  if (h.version != kSessionStateVersion) {
    return Status(ErrorCode::kUnsupported, "session state: format version " + std::to_string(h.version) +
                                               ", this runtime reads version " +
                                               std::to_string(kSessionStateVersion));
  }
  if (h.header_bytes != kHeaderBytes)
    return bad("header size " + std::to_string(h.header_bytes) + " is not " + std::to_string(kHeaderBytes));
  // Sizes before the checksum, so that a truncated state is named as such.
  if (h.payload_bytes != size - kHeaderBytes - kTrailerBytes) {
    return bad("payload of " + std::to_string(h.payload_bytes) + " bytes does not match the " +
               std::to_string(size) + "-byte state (truncated or padded)");
  }
  const uint8_t* trailer = start + size - kTrailerBytes;
  uint64_t stored;
  std::memcpy(&stored, trailer, sizeof stored);
  if (fnv1a64(start, size - kTrailerBytes) != stored) return bad("checksum mismatch (corrupted)");
  // Semantic checks: a well-formed state of another model or session shape is refused too.
  uint32_t id[8];
  identity_of(s, id);
  static const char* const kNames[8] = {"dim",        "hidden_dim", "n_layers",   "n_heads",
                                        "n_kv_heads", "head_dim",   "vocab_size", "positional scheme"};
  for (int i = 0; i < 8; ++i) {
    if (h.identity[i] != id[i]) {
      return bad(std::string("saved from another model: ") + kNames[i] + " " + std::to_string(h.identity[i]) +
                 ", this session's model has " + std::to_string(id[i]));
    }
  }
  if (h.file_bytes != s.model_file_bytes) {
    return bad("saved from another model file (" + std::to_string(h.file_bytes) + " bytes, this one has " +
               std::to_string(s.model_file_bytes) + ")");
  }
  if (h.kv_type != static_cast<uint32_t>(s.kv->type())) {
    return bad(std::string("KV cache type ") +
               (h.kv_type == 1   ? "int8"
                : h.kv_type == 0 ? "f32"
                                 : "unknown") +
               " differs from this session's " + kv_cache_type_name(s.kv->type()));
  }
  if (h.cached > s.capacity) {
    return bad(std::to_string(h.cached) + " cached tokens exceed this session's capacity of " +
               std::to_string(s.capacity));
  }
  if (h.offset < 0) return bad("position offset " + std::to_string(h.offset) + " is negative");
  Status pos = s.positions->check_position(h.offset);
  if (pos.ok() && h.cached > 0)
    pos = s.positions->check_position(h.offset + static_cast<int64_t>(h.cached) - 1);
  if (!pos.ok()) return bad("positions: " + pos.message());
  const size_t logit_bytes = s.logits->size() * sizeof(float);
  if (h.payload_bytes != logit_bytes + h.cached * s.kv->slot_bytes()) {
    return bad("payload of " + std::to_string(h.payload_bytes) + " bytes does not hold " +
               std::to_string(h.cached) + " cached tokens");
  }
  const uint8_t* payload = start + kHeaderBytes;
  std::memcpy(s.logits->data(), payload, logit_bytes);
  s.kv->load_slots(static_cast<size_t>(h.cached), payload + logit_bytes);
  *s.cached = static_cast<size_t>(h.cached);
  *s.offset = h.offset;
  *s.unusable = false;
  return Status::Ok();
}

}  // namespace ordinal::detail
