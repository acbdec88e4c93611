// The batch part of the C API (ordinal.h): a thin layer over BatchSession, errors as in c_api.cpp.
#include <memory>
#include <new>
#include <string>

#include "c_api_handles.hpp"
#include "ordinal/batch.hpp"
#include "ordinal/ordinal.h"
#include "ordinal/runtime.hpp"

struct ord_batch_session {
  std::unique_ptr<ordinal::BatchSession> session;
};

namespace ordinal::detail {
ord_status c_api_fail(const Status& st);
ord_status c_api_null_arg(const char* fn, const char* what);
ord_status c_api_no_memory(const char* fn, const char* what);
}  // namespace ordinal::detail

namespace {

using ordinal::detail::c_api_fail;
using ordinal::detail::c_api_null_arg;

ordinal::Status batch_options(const ord_batch_options* o, const char* fn, ordinal::BatchOptions* bo) {
  if (!o) return ordinal::Status::Ok();
  if (o->kv_cache != ORD_KV_F32 && o->kv_cache != ORD_KV_INT8) {
    return ordinal::invalid_argument(std::string(fn) + ": kv_cache " + std::to_string(o->kv_cache) +
                                     " is not ORD_KV_F32 (0) or ORD_KV_INT8 (1)");
  }
  bo->threads = o->threads;
  bo->max_sequences = o->max_sequences;
  bo->context_length = o->context_length;
  bo->max_batch_tokens = o->max_batch_tokens;
  bo->max_outputs = o->max_outputs;
  bo->kv_cache = o->kv_cache == ORD_KV_INT8 ? ordinal::KvCacheType::kInt8 : ordinal::KvCacheType::kF32;
  bo->memory_budget = o->memory_budget;
  bo->check_numerics = o->check_numerics != 0;
  bo->audit_padding_attention = o->audit_padding_attention != 0;
  return ordinal::Status::Ok();
}

ord_status status_of(const ordinal::Status& st) {
  return st.ok() ? ORD_OK : c_api_fail(st);
}

}  // namespace

extern "C" {

ord_batch_options ord_batch_default_options(void) {
  const ordinal::BatchOptions d;
  ord_batch_options o;
  o.threads = d.threads;
  o.max_sequences = d.max_sequences;
  o.context_length = d.context_length;
  o.max_batch_tokens = d.max_batch_tokens;
  o.max_outputs = d.max_outputs;
  o.kv_cache = ORD_KV_F32;
  o.memory_budget = d.memory_budget;
  o.check_numerics = d.check_numerics ? 1 : 0;
  o.audit_padding_attention = d.audit_padding_attention ? 1 : 0;
  return o;
}

ord_status ord_batch_session_bytes(const ord_model* model, const ord_batch_options* options,
                                   uint64_t* bytes) {
  if (!bytes) return c_api_null_arg(__func__, "bytes");
  *bytes = 0;
  if (!model) return c_api_null_arg(__func__, "model");
  ordinal::BatchOptions bo;
  ordinal::Status st = batch_options(options, __func__, &bo);
  if (!st.ok()) return c_api_fail(st);
  auto r = model->model->session_bytes(bo);
  if (!r.ok()) return c_api_fail(r.status());
  *bytes = r.value();
  return ORD_OK;
}

ord_status ord_batch_session_create(const ord_model* model, const ord_batch_options* options,
                                    ord_batch_session** out) {
  if (!out) return c_api_null_arg(__func__, "out");
  *out = nullptr;
  if (!model) return c_api_null_arg(__func__, "model");
  ordinal::BatchOptions bo;
  ordinal::Status st = batch_options(options, __func__, &bo);
  if (!st.ok()) return c_api_fail(st);
  auto r = ordinal::BatchSession::create(model->model, bo);
  if (!r.ok()) return c_api_fail(r.status());
  *out = new (std::nothrow) ord_batch_session{std::move(r).value()};
  return *out ? ORD_OK : ordinal::detail::c_api_no_memory(__func__, "the batch session handle");
}

void ord_batch_session_free(ord_batch_session* session) {
  delete session;
}

ord_status ord_batch_open_sequence(ord_batch_session* session, int64_t position_offset, int32_t* sequence) {
  if (!sequence) return c_api_null_arg(__func__, "sequence");
  *sequence = -1;
  if (!session) return c_api_null_arg(__func__, "session");
  auto r = session->session->open_sequence(position_offset);
  if (!r.ok()) return c_api_fail(r.status());
  *sequence = r.value();
  return ORD_OK;
}

ord_status ord_batch_close_sequence(ord_batch_session* session, int32_t sequence) {
  if (!session) return c_api_null_arg(__func__, "session");
  return status_of(session->session->close_sequence(sequence));
}

ord_status ord_batch_reset_sequence(ord_batch_session* session, int32_t sequence, int64_t position_offset) {
  if (!session) return c_api_null_arg(__func__, "session");
  return status_of(session->session->reset_sequence(sequence, position_offset));
}

ord_status ord_batch_shift_sequence(ord_batch_session* session, int32_t sequence, size_t drop, size_t keep) {
  if (!session) return c_api_null_arg(__func__, "session");
  return status_of(session->session->shift_sequence(sequence, drop, keep));
}

ord_status ord_batch_forward(ord_batch_session* session, const ord_batch* batch) {
  if (!session) return c_api_null_arg(__func__, "session");
  if (!batch) return c_api_null_arg(__func__, "batch");
  ordinal::Batch b;
  b.tokens = batch->tokens;
  b.sequences = batch->sequences;
  b.positions = batch->positions;
  b.want_logits = batch->want_logits;
  b.count = batch->count;
  return status_of(session->session->forward(b));
}

ord_status ord_batch_forward_padded(ord_batch_session* session, const int32_t* tokens, const uint8_t* real,
                                    size_t rows, size_t cols, const int32_t* row_sequences) {
  if (!session) return c_api_null_arg(__func__, "session");
  return status_of(session->session->forward_padded(tokens, real, rows, cols, row_sequences));
}

const float* ord_batch_logits(const ord_batch_session* session, size_t index) {
  return session ? session->session->logits(index) : nullptr;
}

const float* ord_batch_sequence_logits(const ord_batch_session* session, int32_t sequence) {
  return session ? session->session->sequence_logits(sequence) : nullptr;
}

int64_t ord_batch_position(const ord_batch_session* session, int32_t sequence) {
  return session ? session->session->position(sequence) : -1;
}

size_t ord_batch_cached_tokens(const ord_batch_session* session, int32_t sequence) {
  return session ? session->session->cached_tokens(sequence) : 0;
}

uint32_t ord_batch_vocab_size(const ord_batch_session* session) {
  return session ? static_cast<uint32_t>(session->session->vocab_size()) : 0;
}

size_t ord_batch_memory_bytes(const ord_batch_session* session) {
  return session ? session->session->memory_bytes() : 0;
}

double ord_batch_padding_attention_ratio(const ord_batch_session* session) {
  return session ? session->session->padding_attention_ratio() : 0.0;
}

}  // extern "C"
