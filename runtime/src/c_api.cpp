// The C API is a thin layer over the C++ one: handles wrap the C++ objects, errors become codes plus a
// thread-local message.
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "large_buffer.hpp"
#include "ordinal/ordinal.h"
#include "ordinal/runtime.hpp"
#include "ordinal/sampler.hpp"

struct ord_model {
  std::shared_ptr<const ordinal::Model> model;
};
struct ord_session {
  std::unique_ptr<ordinal::Session> session;
  ordinal::detail::LargeBuffer<float> scratch;  // logits copy the sampler may modify
};
struct ord_sampler {
  ordinal::Sampler sampler;
};

namespace {

thread_local std::string g_last_error;

ord_status fail(const ordinal::Status& st) {
  g_last_error = st.to_string();
  return static_cast<ord_status>(static_cast<int>(st.code()));
}

ord_status no_memory(const char* fn, const char* what) {
  g_last_error = std::string("out-of-memory: ") + fn + ": cannot allocate " + what;
  return ORD_OUT_OF_MEMORY;
}

// ord_session_options -> SessionOptions; kInvalidArgument for an unknown cache type.
ordinal::Status session_options(const ord_session_options* options, const char* fn,
                                ordinal::SessionOptions* so) {
  if (!options) return ordinal::Status::Ok();
  so->threads = options->threads;
  so->context_length = options->context_length;
  so->position_offset = options->position_offset;
  so->memory_budget = options->memory_budget;
  if (options->kv_cache != ORD_KV_F32 && options->kv_cache != ORD_KV_INT8) {
    return ordinal::invalid_argument(std::string(fn) + ": kv_cache " + std::to_string(options->kv_cache) +
                                     " is not ORD_KV_F32 (0) or ORD_KV_INT8 (1)");
  }
  so->kv_cache = options->kv_cache == ORD_KV_INT8 ? ordinal::KvCacheType::kInt8 : ordinal::KvCacheType::kF32;
  return ordinal::Status::Ok();
}

ord_status null_arg(const char* fn, const char* what) {
  g_last_error = std::string("invalid-argument: ") + fn + ": " + what + " is null";
  return ORD_INVALID_ARGUMENT;
}

}  // namespace

extern "C" {

const char* ord_last_error(void) {
  return g_last_error.c_str();
}

const char* ord_status_name(ord_status status) {
  return ordinal::error_code_name(static_cast<ordinal::ErrorCode>(static_cast<int>(status)));
}

ord_status ord_model_load(const char* path, ord_model** out) {
  if (!out) return null_arg(__func__, "out");
  *out = nullptr;
  if (!path) return null_arg(__func__, "path");
  auto r = ordinal::Model::load(path);
  if (!r.ok()) return fail(r.status());
  *out = new (std::nothrow) ord_model{std::move(r).value()};
  return *out ? ORD_OK : no_memory(__func__, "the model handle");
}

ord_status ord_model_load_buffer(const void* data, size_t size, ord_model** out) {
  if (!out) return null_arg(__func__, "out");
  *out = nullptr;
  if (!data) return null_arg(__func__, "data");
  auto r = ordinal::Model::load_from_buffer(data, size);
  if (!r.ok()) return fail(r.status());
  *out = new (std::nothrow) ord_model{std::move(r).value()};
  return *out ? ORD_OK : no_memory(__func__, "the model handle");
}

void ord_model_free(ord_model* model) {
  delete model;
}

uint32_t ord_model_vocab_size(const ord_model* model) {
  return model ? model->model->config().vocab_size : 0;
}
uint32_t ord_model_max_positions(const ord_model* model) {
  return model ? model->model->config().max_positions : 0;
}

ord_status ord_tokenize(const ord_model* model, const char* text, int add_bos, int32_t* tokens,
                        size_t capacity, size_t* count) {
  if (!model) return null_arg(__func__, "model");
  if (!text) return null_arg(__func__, "text");
  if (!count) return null_arg(__func__, "count");
  std::vector<int32_t> ids;
  ordinal::Status st = model->model->tokenizer().encode(text, add_bos != 0, false, &ids);
  if (!st.ok()) return fail(st);
  *count = ids.size();
  if (ids.size() > capacity || (!tokens && !ids.empty())) {
    g_last_error = "capacity-exceeded: ord_tokenize: " + std::to_string(ids.size()) +
                   " tokens, buffer holds " + std::to_string(capacity);
    return ORD_CAPACITY_EXCEEDED;
  }
  if (!ids.empty()) std::memcpy(tokens, ids.data(), ids.size() * sizeof(int32_t));
  return ORD_OK;
}

ord_status ord_token_text(const ord_model* model, int32_t prev, int32_t token, char* buf, size_t buf_size) {
  if (!model) return null_arg(__func__, "model");
  if (!buf || buf_size == 0) return null_arg(__func__, "buf");
  const ordinal::Tokenizer& tok = model->model->tokenizer();
  if (token < 0 || static_cast<size_t>(token) >= tok.vocab_size()) {
    return fail(
        ordinal::invalid_argument("ord_token_text: token id " + std::to_string(token) + " out of range"));
  }
  std::string_view piece = tok.decode(prev, token);
  if (!ordinal::Tokenizer::is_printable_piece(piece)) piece = {};
  if (piece.size() + 1 > buf_size) {
    g_last_error = "capacity-exceeded: ord_token_text: buffer too small";
    return ORD_CAPACITY_EXCEEDED;
  }
  std::memcpy(buf, piece.data(), piece.size());
  buf[piece.size()] = '\0';
  return ORD_OK;
}

ord_session_options ord_session_default_options(void) {
  ord_session_options o;
  o.threads = 0;
  o.context_length = 0;
  o.position_offset = 0;
  o.kv_cache = ORD_KV_F32;
  o.memory_budget = 0;
  return o;
}

ord_status ord_session_create(const ord_model* model, const ord_session_options* options, ord_session** out) {
  if (!out) return null_arg(__func__, "out");
  *out = nullptr;
  if (!model) return null_arg(__func__, "model");
  ordinal::SessionOptions so;
  ordinal::Status st = session_options(options, __func__, &so);
  if (!st.ok()) return fail(st);
  auto r = ordinal::Session::create(model->model, so);
  if (!r.ok()) return fail(r.status());
  std::unique_ptr<ord_session> s(new (std::nothrow) ord_session{std::move(r).value(), {}});
  if (!s) return no_memory(__func__, "the session handle");
  st = s->scratch.allocate(s->session->vocab_size(), "ord_session_create: sampler logits");
  if (!st.ok()) return fail(st);
  *out = s.release();
  return ORD_OK;
}

ord_status ord_session_bytes(const ord_model* model, const ord_session_options* options, uint64_t* bytes) {
  if (!bytes) return null_arg(__func__, "bytes");
  *bytes = 0;
  if (!model) return null_arg(__func__, "model");
  ordinal::SessionOptions so;
  ordinal::Status st = session_options(options, __func__, &so);
  if (!st.ok()) return fail(st);
  auto r = model->model->session_bytes(so);
  if (!r.ok()) return fail(r.status());
  *bytes = r.value();
  return ORD_OK;
}

void ord_session_free(ord_session* session) {
  delete session;
}

ord_status ord_session_prefill(ord_session* session, const int32_t* tokens, size_t count) {
  if (!session) return null_arg(__func__, "session");
  ordinal::Status st = session->session->prefill(tokens, count);
  return st.ok() ? ORD_OK : fail(st);
}

ord_status ord_session_decode(ord_session* session, int32_t token) {
  if (!session) return null_arg(__func__, "session");
  ordinal::Status st = session->session->decode(token);
  return st.ok() ? ORD_OK : fail(st);
}

const float* ord_session_logits(const ord_session* session) {
  return session ? session->session->logits() : nullptr;
}

int64_t ord_session_position(const ord_session* session) {
  return session ? session->session->position() : -1;
}

ord_status ord_session_reset(ord_session* session, int64_t position_offset) {
  if (!session) return null_arg(__func__, "session");
  ordinal::Status st = session->session->reset(position_offset);
  return st.ok() ? ORD_OK : fail(st);
}

ord_status ord_session_shift(ord_session* session, size_t drop, size_t keep) {
  if (!session) return null_arg(__func__, "session");
  ordinal::Status st = session->session->shift(drop, keep);
  return st.ok() ? ORD_OK : fail(st);
}

size_t ord_session_cached_tokens(const ord_session* session) {
  return session ? session->session->cached_tokens() : 0;
}

size_t ord_session_kv_cache_bytes(const ord_session* session) {
  return session ? session->session->kv_cache_bytes() : 0;
}

ord_status ord_sampler_create(size_t vocab_size, float temperature, float top_p, uint64_t seed,
                              ord_sampler** out) {
  if (!out) return null_arg(__func__, "out");
  *out = nullptr;
  auto r = ordinal::Sampler::create(vocab_size, temperature, top_p, seed);
  if (!r.ok()) return fail(r.status());
  *out = new (std::nothrow) ord_sampler{std::move(r).value()};
  return *out ? ORD_OK : no_memory(__func__, "the sampler");
}

void ord_sampler_free(ord_sampler* sampler) {
  delete sampler;
}

ord_status ord_sampler_sample(ord_sampler* sampler, ord_session* session, int32_t* token) {
  if (!sampler) return null_arg(__func__, "sampler");
  if (!session) return null_arg(__func__, "session");
  if (!token) return null_arg(__func__, "token");
  if (sampler->sampler.vocab_size() != session->session->vocab_size()) {
    return fail(ordinal::invalid_argument("ord_sampler_sample: sampler and session vocabularies differ"));
  }
  std::memcpy(session->scratch.data(), session->session->logits(), session->scratch.size() * sizeof(float));
  *token = sampler->sampler.sample(session->scratch.data());
  return ORD_OK;
}

}  // extern "C"
