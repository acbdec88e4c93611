// The C API is a thin layer over the C++ one: handles wrap the C++ objects, errors become codes plus a
// thread-local message.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "c_api_handles.hpp"
#include "ordinal/detokenizer.hpp"
#include "ordinal/ordinal.h"
#include "ordinal/runtime.hpp"
#include "ordinal/sampler.hpp"

struct ord_session {
  std::unique_ptr<ordinal::Session> session;
  alignas(void*) unsigned char abort_thunk[2 * sizeof(void*)];     // the C abort callback + its user data
  alignas(void*) unsigned char progress_thunk[2 * sizeof(void*)];  // the C progress callback + its user data
  alignas(void*) unsigned char observer_thunk[2 * sizeof(void*)];  // the C attention observer + its user data
};
struct ord_sampler {
  ordinal::Sampler sampler;
};
struct ord_detokenizer {
  std::shared_ptr<const ordinal::Model> model;  // keeps the tokenizer alive
  ordinal::Detokenizer detok;
};

namespace {

thread_local std::string g_last_error;

// The message alone: apps print ord_status_name() beside it.
ord_status fail(const ordinal::Status& st) {
  g_last_error = st.message();
  return static_cast<ord_status>(static_cast<int>(st.code()));
}

ord_status no_memory(const char* fn, const char* what) {
  g_last_error = std::string(fn) + ": cannot allocate " + what;
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
  if (options->prefill_chunk != 0) so->prefill_chunk = options->prefill_chunk;
  so->check_numerics = options->check_numerics != 0;
  return ordinal::Status::Ok();
}

ord_status null_arg(const char* fn, const char* what) {
  g_last_error = std::string(fn) + ": " + what + " is null";
  return ORD_INVALID_ARGUMENT;
}

ord_status too_small(const char* fn, size_t need, size_t have) {
  g_last_error =
      std::string(fn) + ": buffer of " + std::to_string(have) + " bytes, " + std::to_string(need) + " needed";
  return ORD_CAPACITY_EXCEEDED;
}

}  // namespace

// For the C API's other files (c_api_batch.cpp): the same error reporting.
namespace ordinal::detail {
ord_status c_api_fail(const Status& st) {
  return fail(st);
}
ord_status c_api_null_arg(const char* fn, const char* what) {
  return null_arg(fn, what);
}
ord_status c_api_no_memory(const char* fn, const char* what) {
  return no_memory(fn, what);
}
}  // namespace ordinal::detail

extern "C" {

const char* ord_version(void) {
  return ORD_VERSION_STRING;
}

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
  auto r = reinterpret_cast<uintptr_t>(data) % 64 == 0 ? ordinal::Model::load_from_buffer(data, size)
                                                       : ordinal::Model::load_copy(data, size);
  if (!r.ok()) return fail(r.status());
  *out = new (std::nothrow) ord_model{std::move(r).value()};
  return *out ? ORD_OK : no_memory(__func__, "the model handle");
}

ord_status ord_model_load_buffer_copy(const void* data, size_t size, ord_model** out) {
  if (!out) return null_arg(__func__, "out");
  *out = nullptr;
  if (!data) return null_arg(__func__, "data");
  auto r = ordinal::Model::load_copy(data, size);
  if (!r.ok()) return fail(r.status());
  *out = new (std::nothrow) ord_model{std::move(r).value()};
  return *out ? ORD_OK : no_memory(__func__, "the model handle");
}

ord_status ord_model_load_fd(int fd, int64_t offset, size_t size, ord_model** out) {
  if (!out) return null_arg(__func__, "out");
  *out = nullptr;
  auto r = ordinal::Model::load_from_fd(fd, offset, size);
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
  if (!text) return null_arg(__func__, "text");
  return ord_tokenize_n(model, text, std::strlen(text), add_bos, tokens, capacity, count);
}

ord_status ord_tokenize_n(const ord_model* model, const char* text, size_t text_len, int add_bos,
                          int32_t* tokens, size_t capacity, size_t* count) {
  if (!model) return null_arg(__func__, "model");
  if (!text && text_len > 0) return null_arg(__func__, "text");
  if (!count) return null_arg(__func__, "count");
  std::vector<int32_t> ids;
  ordinal::Status st = model->model->tokenizer().encode(std::string_view(text ? text : "", text_len),
                                                        add_bos != 0, false, &ids);
  if (!st.ok()) return fail(st);
  *count = ids.size();
  if (ids.size() > capacity || (!tokens && !ids.empty())) {
    g_last_error =
        "ord_tokenize: " + std::to_string(ids.size()) + " tokens, buffer holds " + std::to_string(capacity);
    return ORD_CAPACITY_EXCEEDED;
  }
  if (!ids.empty()) std::memcpy(tokens, ids.data(), ids.size() * sizeof(int32_t));
  return ORD_OK;
}

ord_status ord_token_text(const ord_model* model, int32_t prev, int32_t token, char* buf, size_t buf_size,
                          size_t* length) {
  if (!model) return null_arg(__func__, "model");
  if (!buf && buf_size > 0) return null_arg(__func__, "buf");
  const ordinal::Tokenizer& tok = model->model->tokenizer();
  if (token < 0 || static_cast<size_t>(token) >= tok.vocab_size()) {
    return fail(
        ordinal::invalid_argument("ord_token_text: token id " + std::to_string(token) + " out of range"));
  }
  const std::string_view piece = tok.decode(prev, token);
  if (length) *length = piece.size();
  if (!buf || piece.size() + 1 > buf_size) return too_small(__func__, piece.size() + 1, buf_size);
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
  o.prefill_chunk = ordinal::SessionOptions().prefill_chunk;
  o.check_numerics = 1;
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
  *out = new (std::nothrow) ord_session{std::move(r).value(), {}, {}, {}};
  return *out ? ORD_OK : no_memory(__func__, "the session handle");
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
  *token = sampler->sampler.sample(session->session->logits());
  return ORD_OK;
}

// ==== App integration (issue 17) =================================================================

int32_t ord_model_bos(const ord_model* model) {
  return model ? model->model->tokenizer().bos_id() : -1;
}
int32_t ord_model_eos(const ord_model* model) {
  return model ? model->model->tokenizer().eos_id() : -1;
}
int ord_model_is_eog(const ord_model* model, int32_t token) {
  if (!model) return 0;
  const ordinal::Tokenizer& t = model->model->tokenizer();
  return token == t.eos_id() || token == t.bos_id();
}
int64_t ord_model_position_limit(const ord_model* model) {
  return model ? model->model->position_limit() : 0;
}

uint32_t ord_session_vocab_size(const ord_session* session) {
  return session ? static_cast<uint32_t>(session->session->vocab_size()) : 0;
}
size_t ord_session_capacity(const ord_session* session) {
  return session ? session->session->capacity() : 0;
}
uint32_t ord_session_threads(const ord_session* session) {
  return session ? session->session->threads() : 0;
}
size_t ord_session_memory_bytes(const ord_session* session) {
  return session ? session->session->memory_bytes() : 0;
}

// ---- streaming detokenizer ----

ord_status ord_detokenizer_create(const ord_model* model, ord_detokenizer** out) {
  if (!out) return null_arg(__func__, "out");
  *out = nullptr;
  if (!model) return null_arg(__func__, "model");
  *out = new (std::nothrow) ord_detokenizer{model->model, ordinal::Detokenizer(model->model->tokenizer())};
  if (!*out) return no_memory(__func__, "the detokenizer handle");
  return ORD_OK;
}
void ord_detokenizer_free(ord_detokenizer* detok) {
  delete detok;
}
ord_status ord_detokenizer_reset(ord_detokenizer* detok, int32_t prev) {
  if (!detok) return null_arg(__func__, "detok");
  detok->detok.reset(prev);
  return ORD_OK;
}
ord_status ord_detokenizer_push(ord_detokenizer* detok, int32_t token, char* buf, size_t buf_size,
                                size_t* length) {
  if (!detok) return null_arg(__func__, "detok");
  if (!length) return null_arg(__func__, "length");
  if (!buf && buf_size > 0) return null_arg(__func__, "buf");
  const size_t vocab = detok->model->tokenizer().vocab_size();
  if (token < 0 || static_cast<size_t>(token) >= vocab) {
    return fail(ordinal::invalid_argument("ord_detokenizer_push: token id " + std::to_string(token) +
                                          " outside the vocabulary [0, " + std::to_string(vocab) + ")"));
  }
  const size_t need = detok->detok.peek(token);
  *length = need;
  if (need > buf_size || (!buf && need > 0)) return too_small(__func__, need, buf_size);
  *length = detok->detok.push(token, buf, buf_size);
  return ORD_OK;
}
ord_status ord_detokenizer_flush(ord_detokenizer* detok, char* buf, size_t buf_size, size_t* length) {
  if (!detok) return null_arg(__func__, "detok");
  if (!length) return null_arg(__func__, "length");
  const size_t need = detok->detok.held();
  *length = need;
  if (need > buf_size || (!buf && need > 0)) return too_small(__func__, need, buf_size);
  *length = detok->detok.flush(buf, buf_size);
  return ORD_OK;
}

// ---- sampler chain ----

ord_sampler_params ord_sampler_default_params(void) {
  const ordinal::SamplerParams d;
  ord_sampler_params p;
  p.temperature = d.temperature;
  p.top_p = d.top_p;
  p.top_k = d.top_k;
  p.min_p = d.min_p;
  p.repetition_penalty = d.repetition_penalty;
  p.frequency_penalty = d.frequency_penalty;
  p.presence_penalty = d.presence_penalty;
  p.penalty_window = d.penalty_window;
  p.seed = d.seed;
  return p;
}

ord_status ord_sampler_create_chain(size_t vocab_size, const ord_sampler_params* params, ord_sampler** out) {
  if (!out) return null_arg(__func__, "out");
  *out = nullptr;
  if (!params) return null_arg(__func__, "params");
  ordinal::SamplerParams p;
  p.temperature = params->temperature;
  p.top_p = params->top_p;
  p.top_k = params->top_k;
  p.min_p = params->min_p;
  p.repetition_penalty = params->repetition_penalty;
  p.frequency_penalty = params->frequency_penalty;
  p.presence_penalty = params->presence_penalty;
  p.penalty_window = params->penalty_window;
  p.seed = params->seed;
  auto r = ordinal::Sampler::create(vocab_size, p);
  if (!r.ok()) return fail(r.status());
  *out = new (std::nothrow) ord_sampler{std::move(r).value()};
  if (!*out) return no_memory(__func__, "the sampler handle");
  return ORD_OK;
}

ord_status ord_sampler_set_logit_bias(ord_sampler* sampler, int32_t token, float bias) {
  if (!sampler) return null_arg(__func__, "sampler");
  ordinal::Status st = sampler->sampler.set_logit_bias(token, bias);
  return st.ok() ? ORD_OK : fail(st);
}

ord_status ord_sampler_accept(ord_sampler* sampler, int32_t token) {
  if (!sampler) return null_arg(__func__, "sampler");
  if (token < 0 || static_cast<size_t>(token) >= sampler->sampler.vocab_size()) {
    return fail(ordinal::invalid_argument("ord_sampler_accept: token id " + std::to_string(token) +
                                          " outside the vocabulary"));
  }
  sampler->sampler.accept(token);
  return ORD_OK;
}

ord_status ord_sampler_reset(ord_sampler* sampler) {
  if (!sampler) return null_arg(__func__, "sampler");
  sampler->sampler.reset_history();
  return ORD_OK;
}

ord_status ord_sampler_sample_logits(ord_sampler* sampler, const float* logits, int32_t* token) {
  if (!sampler) return null_arg(__func__, "sampler");
  if (!logits) return null_arg(__func__, "logits");
  if (!token) return null_arg(__func__, "token");
  *token = sampler->sampler.sample(logits);
  return ORD_OK;
}

// ---- abort ----

namespace {
struct AbortThunk {
  ord_abort_callback fn;
  void* user;
};
bool call_abort(void* p) {
  const AbortThunk* t = static_cast<const AbortThunk*>(p);
  return t->fn(t->user) != 0;
}
}  // namespace

ord_status ord_session_set_abort_callback(ord_session* session, ord_abort_callback callback,
                                          void* user_data) {
  if (!session) return null_arg(__func__, "session");
  if (!callback) {
    session->session->set_abort_callback(nullptr, nullptr);
    return ORD_OK;
  }
  // The thunk lives in the session handle: the C++ callback takes a plain function pointer.
  static_assert(sizeof(AbortThunk) <= sizeof(session->abort_thunk), "abort thunk storage");
  AbortThunk t{callback, user_data};
  std::memcpy(session->abort_thunk, &t, sizeof t);
  session->session->set_abort_callback(call_abort, session->abort_thunk);
  return ORD_OK;
}

namespace {
struct ProgressThunk {
  ord_progress_callback fn;
  void* user;
};
void call_progress(size_t done, size_t total, void* p) {
  const ProgressThunk* t = static_cast<const ProgressThunk*>(p);
  t->fn(done, total, t->user);
}
}  // namespace

ord_status ord_session_set_progress_callback(ord_session* session, ord_progress_callback callback,
                                             void* user_data) {
  if (!session) return null_arg(__func__, "session");
  if (!callback) {
    session->session->set_progress_callback(nullptr, nullptr);
    return ORD_OK;
  }
  static_assert(sizeof(ProgressThunk) <= sizeof(session->progress_thunk), "progress thunk storage");
  ProgressThunk t{callback, user_data};
  std::memcpy(session->progress_thunk, &t, sizeof t);
  session->session->set_progress_callback(call_progress, session->progress_thunk);
  return ORD_OK;
}

// ---- generation loop ----

ord_status ord_generate(ord_session* session, ord_sampler* sampler, const int32_t* prompt, size_t count,
                        size_t max_tokens, ord_token_callback callback, void* user_data, size_t* generated) {
  if (generated) *generated = 0;
  if (!session) return null_arg(__func__, "session");
  if (!sampler) return null_arg(__func__, "sampler");
  if (!callback) return null_arg(__func__, "callback");
  if (!prompt && count > 0) return null_arg(__func__, "prompt");
  ordinal::Session& s = *session->session;
  if (sampler->sampler.vocab_size() != s.vocab_size()) {
    return fail(ordinal::invalid_argument("ord_generate: sampler and session vocabularies differ"));
  }
  if (count == 0 && s.cached_tokens() == 0) {
    return fail(ordinal::invalid_argument("ord_generate: empty prompt and nothing cached to continue from"));
  }
  const ordinal::Model& model = s.model();
  const ordinal::Tokenizer& tok = model.tokenizer();
  if (count > 0) {
    ordinal::Status st = s.prefill(prompt, count);
    if (!st.ok()) return fail(st);
    for (size_t i = 0; i < count; ++i) sampler->sampler.accept(prompt[i]);
  }
  ordinal::Detokenizer detok(tok);
  detok.reset(count > 0 ? prompt[count - 1] : -1);
  std::string text;  // one token's text; reserved once, so the loop does not allocate after warm-up
  size_t made = 0;
  for (; made < max_tokens; ++made) {
    const int32_t token = sampler->sampler.sample(s.logits());
    if (token == tok.eos_id() || token == tok.bos_id()) break;
    text.resize(detok.peek(token));
    text.resize(detok.push(token, &text[0], text.size()));
    sampler->sampler.accept(token);
    const int stop = callback(token, text.data(), text.size(), user_data);
    ordinal::Status st = s.decode(token);
    if (!st.ok()) {
      if (generated) *generated = made + 1;
      return fail(st);
    }
    if (stop) {
      ++made;
      break;
    }
  }
  if (generated) *generated = made;
  char tail[4];
  const size_t n = detok.flush(tail, sizeof tail);
  if (n > 0) callback(-1, tail, n, user_data);
  return ORD_OK;
}

// ---- session state ----

ord_status ord_session_state_size(const ord_session* session, size_t* size) {
  if (!session) return null_arg(__func__, "session");
  if (!size) return null_arg(__func__, "size");
  *size = session->session->state_size();
  return ORD_OK;
}

ord_status ord_session_save_state(const ord_session* session, void* buf, size_t buf_size, size_t* written) {
  if (!session) return null_arg(__func__, "session");
  const size_t need = session->session->state_size();
  if (written) *written = need;
  if (!buf || buf_size < need) return too_small(__func__, need, buf ? buf_size : 0);
  ordinal::Status st = session->session->save_state(buf, buf_size);
  return st.ok() ? ORD_OK : fail(st);
}

ord_status ord_session_load_state(ord_session* session, const void* data, size_t size) {
  if (!session) return null_arg(__func__, "session");
  if (!data) return null_arg(__func__, "data");
  ordinal::Status st = session->session->load_state(data, size);
  return st.ok() ? ORD_OK : fail(st);
}

ord_status ord_session_save_state_file(const ord_session* session, const char* path) {
  if (!session) return null_arg(__func__, "session");
  if (!path) return null_arg(__func__, "path");
  std::vector<uint8_t> bytes(session->session->state_size());
  ordinal::Status st = session->session->save_state(bytes.data(), bytes.size());
  if (!st.ok()) return fail(st);
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail(ordinal::io_error("cannot create '" + std::string(path) + "': " + std::strerror(errno)));
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return fail(ordinal::io_error("cannot write '" + std::string(path) + "': " + std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    return fail(ordinal::io_error("cannot write '" + std::string(path) + "': " + std::strerror(errno)));
  }
  return ORD_OK;
}

ord_status ord_session_load_state_file(ord_session* session, const char* path) {
  if (!session) return null_arg(__func__, "session");
  if (!path) return null_arg(__func__, "path");
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(ordinal::io_error("cannot open '" + std::string(path) + "': " + std::strerror(errno)));
  // A state is never larger than one of a full cache: larger files are refused before reading them.
  const off_t end = ::lseek(fd, 0, SEEK_END);
  if (end > 0 && static_cast<uint64_t>(end) > session->session->max_state_size()) {
    ::close(fd);
    return fail(ordinal::invalid_argument("'" + std::string(path) + "': " + std::to_string(end) +
                                          " bytes exceed the largest state this session can hold (" +
                                          std::to_string(session->session->max_state_size()) + ")"));
  }
  if (end < 0 || ::lseek(fd, 0, SEEK_SET) != 0) {
    const int err = errno;
    ::close(fd);
    return fail(ordinal::io_error("cannot seek '" + std::string(path) + "': " + std::strerror(err)));
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(end));
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : 0;
      ::close(fd);
      return fail(ordinal::io_error("cannot read '" + std::string(path) + "'" +
                                    (err ? std::string(": ") + std::strerror(err) : " (file shrank)")));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  static const uint8_t kEmpty = 0;  // an empty file is a truncated state, not a null buffer
  ordinal::Status st = session->session->load_state(bytes.empty() ? &kEmpty : bytes.data(), bytes.size());
  if (!st.ok()) return fail(ordinal::Status(st.code(), "'" + std::string(path) + "': " + st.message()));
  return ORD_OK;
}

}  // extern "C"

// ---- telemetry and attention observer (issue 15) ----

ord_status ord_session_get_stats(const ord_session* session, ord_session_stats* out) {
  if (!session) return null_arg(__func__, "session");
  if (!out) return null_arg(__func__, "out");
  const ordinal::SessionStats s = session->session->stats();
  out->prefill_calls = s.prefill_calls;
  out->tokens_prefilled = s.tokens_prefilled;
  out->tokens_decoded = s.tokens_decoded;
  out->prefill_ns = s.prefill_ns;
  out->decode_ns = s.decode_ns;
  out->time_to_first_token_ns = s.time_to_first_token_ns;
  out->decode_p50_ns = s.decode_p50_ns;
  out->decode_p95_ns = s.decode_p95_ns;
  out->decode_p99_ns = s.decode_p99_ns;
  out->decode_min_ns = s.decode_min_ns;
  out->decode_max_ns = s.decode_max_ns;
  out->decode_mean_ns = s.decode_mean_ns;
  out->memory_bytes = s.memory_bytes;
  out->kv_bytes_in_use = s.kv_bytes_in_use;
  out->kv_bytes_peak = s.kv_bytes_peak;
  out->highest_position = s.highest_position;
  out->out_of_table_tokens = s.out_of_table_tokens;
  out->positions_refused = s.positions_refused;
  out->numeric_errors = s.numeric_errors;
  out->failed_calls = s.failed_calls;
  return ORD_OK;
}

ord_status ord_session_reset_stats(ord_session* session) {
  if (!session) return null_arg(__func__, "session");
  session->session->reset_stats();
  return ORD_OK;
}

ord_status ord_session_decode_latency_percentile(const ord_session* session, double p, uint64_t* ns) {
  if (!session) return null_arg(__func__, "session");
  if (!ns) return null_arg(__func__, "ns");
  if (!(p >= 0.0 && p <= 100.0)) {
    g_last_error = std::string(__func__) + ": percentile " + std::to_string(p) + " is outside [0, 100]";
    return ORD_INVALID_ARGUMENT;
  }
  *ns = session->session->decode_latency().percentile(p);
  return ORD_OK;
}

namespace {
struct ObserverThunk {
  ord_attention_observer fn;
  void* user;
};
void call_observer(const ordinal::AttentionRow& row, void* p) {
  const ObserverThunk* t = static_cast<const ObserverThunk*>(p);
  const ord_attention_row c{row.layer, row.head,          row.query_position, row.first_key_position,
                            row.keys,  row.probabilities, row.padding};
  t->fn(&c, t->user);
}
}  // namespace

ord_status ord_session_set_attention_observer(ord_session* session, ord_attention_observer observer,
                                              void* user_data) {
  if (!session) return null_arg(__func__, "session");
  ordinal::Status st;
  if (!observer) {
    st = session->session->set_attention_observer(nullptr, nullptr);
  } else {
    static_assert(sizeof(ObserverThunk) <= sizeof(session->observer_thunk), "observer thunk storage");
    // Set first, then publish the thunk: a failed set leaves the previous observer and its thunk intact.
    unsigned char previous[sizeof session->observer_thunk];
    std::memcpy(previous, session->observer_thunk, sizeof previous);
    ObserverThunk t{observer, user_data};
    std::memcpy(session->observer_thunk, &t, sizeof t);
    st = session->session->set_attention_observer(call_observer, session->observer_thunk);
    if (!st.ok()) std::memcpy(session->observer_thunk, previous, sizeof previous);
  }
  return st.ok() ? ORD_OK : fail(st);
}
