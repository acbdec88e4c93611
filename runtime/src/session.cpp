// Session: KV cache, scratch plan and the decoder forward pass. Everything is sized in create(); prefill
// and decode only compute into those buffers (a test counts allocations over 100 decode steps).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/attention.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/linear.hpp"
#include "kv_cache.hpp"
#include "large_buffer.hpp"
#include "memory_plan.hpp"
#include "model_data.hpp"
#include "model_internals.hpp"
#include "model_norm.hpp"
#include "ordinal/runtime.hpp"
#include "positional/encoder.hpp"
#include "positional/rope_shift.hpp"
#include "session_state.hpp"
#include "telemetry/attention_probe.hpp"
#include "telemetry/session_telemetry.hpp"
#include "threads.hpp"
#include "weight_plan.hpp"

namespace ordinal {
namespace detail {

class SessionImpl;

namespace {

// Work shared by the attention tasks of one layer; task i takes KV heads [i * kv / tasks, (i+1) * kv /
// tasks).
struct AttentionJob {
  const class SessionImpl* session;
  uint32_t layer;
  size_t first_slot;  // cache slot of the chunk's first token
  size_t tokens;      // tokens in the chunk
  size_t tasks;       // one per thread that takes part; 1 runs every head in one kernel call per token
};

}  // namespace

class SessionImpl {
 public:
  // Plans and allocates everything the session needs into `s` (Session::create allocates the object).
  static Status init(SessionImpl* s, std::shared_ptr<const Model> model, const SessionOptions& opt);

  Status prefill(const int32_t* tokens, size_t count) { return measured(tokens, count, false); }
  Status decode(int32_t token) { return measured(&token, 1, true); }
  Status reset(int64_t offset);
  Status shift(size_t drop, size_t keep);

  const float* logits() const { return logits_.data(); }
  size_t vocab() const { return cfg_.vocab_size; }
  int64_t position() const { return offset_ + static_cast<int64_t>(cached_); }
  size_t cached() const { return cached_; }
  size_t capacity() const { return ctx_; }
  uint32_t threads() const { return threads_; }
  size_t memory_bytes() const;
  size_t kv_bytes() const { return kv_.bytes(); }
  KvCacheType kv_type() const { return kv_.type(); }
  size_t weight_bytes_per_token() const;
  const Model& model() const { return *model_; }
  void set_abort(Session::AbortCallback fn, void* user) {
    abort_fn_ = fn;
    abort_user_ = user;
  }
  void set_progress(Session::ProgressCallback fn, void* user) {
    progress_fn_ = fn;
    progress_user_ = user;
  }
  SessionStateRefs state() {
    return SessionStateRefs{&cfg_,
                            md_->positional.scheme,
                            model_->file_bytes(),
                            &pos_,
                            &kv_,
                            &logits_,
                            &cached_,
                            &offset_,
                            ctx_,
                            &unusable_};
  }

  void attention_heads(const AttentionJob& job, uint32_t kv_begin, uint32_t kv_end) const;

  SessionStats stats() const { return telemetry_.snapshot(cached_); }
  void reset_stats() { telemetry_.clear(); }
  const LatencyHistogram& decode_latency() const { return telemetry_.decode_latency(); }
  Status set_attention_observer(AttentionObserver fn, void* user) {
    return probe_.set(fn, user, ctx_, cfg_.head_dim);
  }

 protected:
  SessionImpl() = default;

 private:
  // prefill_tokens timed and counted (telemetry_).
  Status measured(const int32_t* tokens, size_t count, bool decoding);
  Status prefill_tokens(const int32_t* tokens, size_t count);
  Status validate_tokens(const int32_t* tokens, size_t count) const;
  Status forward_chunk(const int32_t* tokens, size_t n, bool want_logits);
  void embed(int32_t token, float* out) const;

  std::shared_ptr<const Model> model_;
  const ModelData* md_ = nullptr;
  ModelConfig cfg_;
  SessionOptions opt_;
  threads::PoolPtr pool_;
  uint32_t threads_ = 1;
  positional::PositionalEncoder pos_;
  const WeightPlan* plan_ = nullptr;  // the model's linear layers (shared, read-only)

  size_t ctx_ = 0, chunk_ = 0, q_dim_ = 0, kv_dim_ = 0;
  // Sized by the model and the options: calloc-backed, a failed allocation is kOutOfMemory (memory_plan).
  LargeBuffer<float> x_, xb_, xb2_, q_, hb_, hb2_, logits_;
  std::vector<float> pos_scratch_;
  mutable LargeBuffer<float> att_;           // [n_heads, ctx] scores per head (tasks own disjoint rows)
  mutable LargeBuffer<float> att_partials_;  // kernels::attention_partials_floats(n_heads, head_dim)
  KvCache kv_;                               // [layer, slot, kv_dim], f32 or int8
  LargeBuffer<float> k_stage_, v_stage_;     // int8 cache: a chunk's keys/values before quantization
  kernels::LinearInput in_;                  // the activations the next linear layers read
  std::unique_ptr<positional::RopeShift> rope_shift_;  // RoPE models: re-rotation for shift()
  size_t cached_ = 0;
  int64_t offset_ = 0;
  bool unusable_ = false;
  std::string unusable_reason_;
  Session::AbortCallback abort_fn_ = nullptr;  // asked between chunks and layers
  void* abort_user_ = nullptr;
  Session::ProgressCallback progress_fn_ = nullptr;  // told after each prefill chunk
  void* progress_user_ = nullptr;
  SessionTelemetry telemetry_;  // counters of Session::stats()
  AttentionProbe probe_;        // the opt-in attention observer
};

Status SessionImpl::init(SessionImpl* s, std::shared_ptr<const Model> model, const SessionOptions& opt) {
  if (!model) return invalid_argument("Session::create: null model");
  s->model_ = model;
  s->md_ = &model_data(*model);
  s->cfg_ = model->config();
  s->opt_ = opt;
  const ModelConfig& c = s->cfg_;
  // Everything this function allocates is planned first and refused as a whole when over budget.
  ORDINAL_ASSIGN_OR_RETURN(const SessionMemoryPlan plan, plan_session_memory(*s->md_, opt));
  ORDINAL_RETURN_IF_ERROR(check_memory_budget(plan, opt));
  if (opt.prefill_chunk == 0) return invalid_argument("SessionOptions.prefill_chunk must be at least 1");
  s->ctx_ = opt.context_length == 0 ? c.max_positions : opt.context_length;
  if (s->ctx_ > (1u << 24)) return invalid_argument("SessionOptions.context_length exceeds 2^24");
  s->chunk_ = std::min<size_t>(opt.prefill_chunk, s->ctx_);
  ORDINAL_ASSIGN_OR_RETURN(s->pos_, positional::PositionalEncoder::create(*s->md_));
  ORDINAL_RETURN_IF_ERROR(s->reset(opt.position_offset));

  uint32_t actual = 1;
  ORDINAL_ASSIGN_OR_RETURN(threads::Pool * pool, threads::create_pool(opt.threads, &actual));
  s->pool_.reset(pool);
  s->threads_ = actual;

  // The linear layers were planned once at load and are shared: no weight work here.
  if (!s->md_->weight_plan) return s->md_->weight_plan_status;
  s->plan_ = s->md_->weight_plan.get();

  s->q_dim_ = size_t{c.n_heads} * c.head_dim;
  s->kv_dim_ = size_t{c.n_kv_heads} * c.head_dim;
  const size_t n = s->chunk_;
  const uint64_t n64 = n;
  ORDINAL_RETURN_IF_ERROR(s->x_.allocate(n64 * c.dim, "activations x"));
  ORDINAL_RETURN_IF_ERROR(s->xb_.allocate(n64 * std::max<size_t>(c.dim, s->q_dim_), "activations xb"));
  ORDINAL_RETURN_IF_ERROR(s->xb2_.allocate(n64 * c.dim, "activations xb2"));
  ORDINAL_RETURN_IF_ERROR(s->q_.allocate(n64 * s->q_dim_, "queries"));
  ORDINAL_RETURN_IF_ERROR(s->hb_.allocate(n64 * c.hidden_dim, "feed-forward activations"));
  ORDINAL_RETURN_IF_ERROR(s->hb2_.allocate(n64 * c.hidden_dim, "feed-forward activations"));
  ORDINAL_RETURN_IF_ERROR(s->logits_.allocate(c.vocab_size, "logits"));
  s->pos_scratch_.assign(std::max<size_t>(s->pos_.scratch_floats(), 1), 0.0f);
  // Scores and positional bias per head.
  ORDINAL_RETURN_IF_ERROR(s->att_.allocate(uint64_t{c.n_heads} * s->ctx_ * 2, "attention scores"));
  ORDINAL_RETURN_IF_ERROR(s->att_partials_.allocate(kernels::attention_partials_floats(c.n_heads, c.head_dim),
                                                    "attention partial sums"));
  ORDINAL_RETURN_IF_ERROR(s->kv_.init(opt.kv_cache, c.n_layers, s->ctx_, c.n_kv_heads, c.head_dim));
  if (s->pos_.rotates()) {
    ORDINAL_ASSIGN_OR_RETURN(
        positional::RopeShift rs,
        positional::RopeShift::create(s->md_->positional, c.head_dim, s->pos_.f32_frequencies()));
    s->rope_shift_.reset(new positional::RopeShift(std::move(rs)));
    s->kv_.set_rope_pairs(s->rope_shift_->pair_first(), s->rope_shift_->pair_second());
  }
  if (s->kv_.is_int8()) {
    ORDINAL_RETURN_IF_ERROR(s->k_stage_.allocate(n64 * s->kv_dim_, "int8 KV staging (keys)"));
    ORDINAL_RETURN_IF_ERROR(s->v_stage_.allocate(n64 * s->kv_dim_, "int8 KV staging (values)"));
  }
  ORDINAL_RETURN_IF_ERROR(s->in_.reserve(n, std::max<size_t>({c.dim, s->q_dim_, c.hidden_dim})));
  s->telemetry_.configure(s->pos_.has_stored_rows() ? s->pos_.stored_positions() : 0, s->kv_.slot_bytes(),
                          s->memory_bytes());
  return Status::Ok();
}

Status SessionImpl::reset(int64_t offset) {
  if (offset < 0) return invalid_argument("position offset " + std::to_string(offset) + " is negative");
  ORDINAL_RETURN_IF_ERROR(pos_.check_position(offset));
  offset_ = offset;
  cached_ = 0;
  unusable_ = false;
  unusable_reason_.clear();
  telemetry_.on_reset();
  return Status::Ok();
}

Status SessionImpl::shift(size_t drop, size_t keep) {
  if (unusable_) {
    return Status(ErrorCode::kSessionUnusable,
                  "session is unusable after an earlier error (" + unusable_reason_ + "); call reset()");
  }
  if (drop == 0) return invalid_argument("shift: drop must be at least 1 token");
  if (keep > cached_ || drop > cached_ - keep) {
    return invalid_argument("shift: keep " + std::to_string(keep) + " + drop " + std::to_string(drop) +
                            " exceeds the " + std::to_string(cached_) + " cached tokens");
  }
  if (pos_.adds_to_embedding()) {
    return unsupported(
        std::string("shift: ") + positional_scheme_name(md_->positional.scheme) +
        " adds absolute positions to the embedding, so cached keys and values cannot be moved to "
        "new positions; reset() and prefill the tokens to keep instead");
  }
  const size_t moved = cached_ - keep - drop;
  kv_.move(keep + drop, keep, moved);
  if (rope_shift_) kv_.rotate_keys(keep, moved, -static_cast<int64_t>(drop), *rope_shift_);
  cached_ -= drop;
  return Status::Ok();
}

size_t SessionImpl::memory_bytes() const {
  size_t floats = x_.size() + xb_.size() + xb2_.size() + q_.size() + hb_.size() + hb2_.size() +
                  logits_.size() + pos_scratch_.size() + att_.size() + att_partials_.size() +
                  k_stage_.size() + v_stage_.size();
  // No weights: the model's plan (weight_plan.hpp) is shared by all its sessions.
  return floats * sizeof(float) + kv_.bytes() + in_.bytes() + pos_.table_bytes();
}

size_t SessionImpl::weight_bytes_per_token() const {
  size_t b = plan_->weight_bytes_per_token() + md_->token_embedding.row_bytes();
  const format::QuantView& eq = md_->token_embedding.quant;
  if (eq.granularity == format::QuantGranularity::kPerRow) b += eq.scale_dtype == format::DType::kF16 ? 2 : 4;
  if (eq.granularity == format::QuantGranularity::kPerGroup) {
    const size_t groups = md_->token_embedding.cols() / eq.group_size;
    b += groups * (eq.scale_dtype == format::DType::kF16 ? 2 : 4) + (eq.zero_points ? groups : 0);
  }
  return b;
}

Status SessionImpl::validate_tokens(const int32_t* tokens, size_t count) const {
  if (unusable_) {
    return Status(ErrorCode::kSessionUnusable,
                  "session is unusable after an earlier error (" + unusable_reason_ + "); call reset()");
  }
  if (count == 0) return invalid_argument("no tokens given (empty prompt)");
  if (tokens == nullptr) return invalid_argument("tokens pointer is null");
  for (size_t i = 0; i < count; ++i) {
    if (tokens[i] < 0 || static_cast<uint32_t>(tokens[i]) >= cfg_.vocab_size) {
      return invalid_argument("token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                              " is outside the vocabulary [0, " + std::to_string(cfg_.vocab_size) + ")");
    }
  }
  if (count > ctx_ - cached_) {
    return capacity_exceeded("KV cache full: " + std::to_string(cached_) + " of " + std::to_string(ctx_) +
                             " slots used, " + std::to_string(count) + " more tokens do not fit");
  }
  const int64_t last = position() + static_cast<int64_t>(count) - 1;
  return pos_.check_position(last);
}

Status SessionImpl::measured(const int32_t* tokens, size_t count, bool decoding) {
  const int64_t first_position = position();
  const uint64_t t0 = SessionTelemetry::now_ns();
  telemetry_.begin(t0);
  const Status st = prefill_tokens(tokens, count);
  telemetry_.end(decoding, t0, st, first_position, count, cached_);
  return st;
}

Status SessionImpl::prefill_tokens(const int32_t* tokens, size_t count) {
  ORDINAL_RETURN_IF_ERROR(validate_tokens(tokens, count));
  const size_t cached_before = cached_;
  for (size_t done = 0; done < count;) {
    const size_t n = std::min(chunk_, count - done);
    Status st = forward_chunk(tokens + done, n, done + n == count);
    if (st.code() == ErrorCode::kAborted) {
      // Slots past cached_before hold partial work and are overwritten later; logits are only written
      // after the last layer of the last chunk, so they are still the previous call's.
      cached_ = cached_before;
      return st;
    }
    if (!st.ok()) {
      unusable_ = true;
      unusable_reason_ = st.message();
      return st;
    }
    done += n;
    if (progress_fn_) progress_fn_(done, count, progress_user_);
  }
  return Status::Ok();
}

void SessionImpl::embed(int32_t token, float* out) const {
  kernels::dequantize_row(md_->token_embedding, static_cast<uint32_t>(token), out);
}

// The query heads of KV heads [kv_begin, kv_end) over the chunk's tokens: the positional bias rows, then one
// kernel call per token (kernels/attention.hpp states the arithmetic; the int8 cache's scale rule is in
// kv_cache.hpp).
void SessionImpl::attention_heads(const AttentionJob& job, uint32_t kv_begin, uint32_t kv_end) const {
  const uint32_t hd = cfg_.head_dim;
  const uint32_t group = cfg_.n_heads / cfg_.n_kv_heads;
  const uint32_t h0 = kv_begin * group, heads = (kv_end - kv_begin) * group;
  const uint32_t kv_head = kv_begin;
  float* att = att_.data() + size_t{h0} * ctx_ * 2;  // per head: ctx scores, then ctx bias
  kernels::AttentionArgs a;
  a.head_dim = hd;
  a.heads = heads;
  a.group = group;
  a.partials = att_partials_.data() + kernels::attention_partials_floats(h0, hd);
  a.kv_stride = kv_dim_;
  a.scores = att;
  a.scores_stride = ctx_ * 2;
  a.bias_stride = ctx_ * 2;
  kernels::AttentionF32 f;
  kernels::AttentionI8 q8;
  if (kv_.is_int8()) {
    q8.k = kv_.key_i8(job.layer, 0) + size_t{kv_head} * hd;
    q8.v = kv_.value_i8(job.layer, 0) + size_t{kv_head} * hd;
    q8.k_scales = kv_.key_scales(job.layer, 0) + kv_head;
    q8.v_scales = kv_.value_scales(job.layer, 0) + kv_head;
    q8.scale_stride = cfg_.n_kv_heads;
    q8.logit = pos_.logit_scale() / sqrtf(static_cast<float>(hd));
  } else {
    f.k = kv_.key_f32(job.layer, 0) + size_t{kv_head} * hd;
    f.v = kv_.value_f32(job.layer, 0) + size_t{kv_head} * hd;
    f.logit = pos_.logit_scale() / sqrtf(static_cast<float>(hd));
  }
  for (size_t i = 0; i < job.tokens; ++i) {
    const size_t slot = job.first_slot + i;
    a.keys = slot + 1;  // causal: the token sees itself and everything before
    a.q = q_.data() + i * q_dim_ + size_t{h0} * hd;
    a.out = const_cast<float*>(xb_.data()) + i * q_dim_ + size_t{h0} * hd;
    a.bias = nullptr;
    if (pos_.biases_attention()) {
      for (uint32_t g = 0; g < heads; ++g) {
        float* bias = att + size_t{g} * ctx_ * 2 + ctx_;
        pos_.attention_bias(h0 + g, offset_ + static_cast<int64_t>(slot), offset_, a.keys, bias);
      }
      a.bias = att + ctx_;
    }
    if (kv_.is_int8()) {
      kernels::attention_i8(a, q8);
    } else {
      kernels::attention_f32(a, f);
    }
  }
}

namespace {
void attention_task(void* context, size_t task) {
  const AttentionJob* job = static_cast<const AttentionJob*>(context);
  const size_t kv = job->session->model().config().n_kv_heads;
  job->session->attention_heads(*job, static_cast<uint32_t>(task * kv / job->tasks),
                                static_cast<uint32_t>((task + 1) * kv / job->tasks));
}
}  // namespace

Status SessionImpl::forward_chunk(const int32_t* tokens, size_t n, bool want_logits) {
  const ModelConfig& c = cfg_;
  const size_t dim = c.dim;
  const size_t first = cached_;
  threads::Pool* pool = pool_.get();
  for (size_t i = 0; i < n; ++i) {
    float* x = x_.data() + i * dim;
    embed(tokens[i], x);
    if (pos_.adds_to_embedding()) {
      pos_.add_to_embedding(offset_ + static_cast<int64_t>(first + i), x, pos_scratch_.data());
    }
  }
  for (uint32_t l = 0; l < c.n_layers; ++l) {
    if (abort_fn_ && abort_fn_(abort_user_)) {
      return aborted("abort callback stopped the call at position " + std::to_string(position()) +
                     ", layer " + std::to_string(l));
    }
    const LayerWeights& w = md_->layers[l];
    const LayerLinears& o = plan_->layer(l);
    // f32 cache: k/v are written in place; int8 cache: staged, rotated, then quantized into the cache.
    float* kslot = kv_.is_int8() ? k_stage_.data() : kv_.key_f32(l, first);
    float* vslot = kv_.is_int8() ? v_stage_.data() : kv_.value_f32(l, first);
    for (size_t i = 0; i < n; ++i)
      apply_norm(cfg_, w.attn_norm, w.attn_norm_bias, x_.data() + i * dim, xb_.data() + i * dim);
    kernels::LinearInput& attn_in = in_.bind(xb_.data(), n, dim);
    const kernels::LinearOutput qkv[] = {{&o.wq, q_.data()}, {&o.wk, kslot}, {&o.wv, vslot}};
    ORDINAL_RETURN_IF_ERROR(kernels::run_linear_group(attn_in, qkv, 3, pool));
    if (pos_.rotates()) {
      for (size_t i = 0; i < n; ++i) {
        const int64_t p = offset_ + static_cast<int64_t>(first + i);
        pos_.rotate(p, q_.data() + i * q_dim_, c.n_heads);
        pos_.rotate(p, kslot + i * kv_dim_, c.n_kv_heads);
      }
    }
    if (kv_.is_int8()) kv_.store_int8(l, first, n, kslot, vslot);
    const size_t attention_macs = n * (first + n) * q_dim_ * 2;
    threads::Pool* attention_pool = attention_macs >= kernels::kParallelMinMacs ? pool : nullptr;
    AttentionJob job{this, l, first, n, attention_pool ? std::min<size_t>(threads_, c.n_kv_heads) : 1};
    threads::parallelize_1d(attention_pool, attention_task, &job, job.tasks);
    if (probe_.armed()) probe_.observe(c, kv_, pos_, l, q_.data(), first, n, offset_);
    ORDINAL_RETURN_IF_ERROR(o.wo.run(in_.bind(xb_.data(), n, q_dim_), xb2_.data(), pool));
    kernels::add_inplace(x_.data(), xb2_.data(), n * dim);

    for (size_t i = 0; i < n; ++i)
      apply_norm(cfg_, w.ffn_norm, w.ffn_norm_bias, x_.data() + i * dim, xb_.data() + i * dim);
    kernels::LinearInput& ffn_in = in_.bind(xb_.data(), n, dim);
    if (c.activation == Activation::kSwiGLU) {
      const kernels::LinearOutput gate_up[] = {{&o.w1, hb_.data()}, {&o.w3, hb2_.data()}};
      ORDINAL_RETURN_IF_ERROR(kernels::run_linear_group(ffn_in, gate_up, 2, pool));
      kernels::swiglu(hb_.data(), hb2_.data(), n * c.hidden_dim);
    } else {
      ORDINAL_RETURN_IF_ERROR(o.w1.run(ffn_in, hb_.data(), pool));
      kernels::gelu_tanh(hb_.data(), n * c.hidden_dim);
    }
    ORDINAL_RETURN_IF_ERROR(o.w2.run(in_.bind(hb_.data(), n, c.hidden_dim), xb2_.data(), pool));
    kernels::add_inplace(x_.data(), xb2_.data(), n * dim);
  }
  cached_ += n;
  if (!want_logits) return Status::Ok();
  const float* last = x_.data() + (n - 1) * dim;
  apply_norm(cfg_, md_->final_norm, md_->final_norm_bias, last, xb_.data());
  ORDINAL_RETURN_IF_ERROR(plan_->classifier().run(in_.bind(xb_.data(), 1, dim), logits_.data(), pool));
  if (opt_.check_numerics && !kernels::all_finite(logits_.data(), logits_.size())) {
    return numeric_error("non-finite logits at position " + std::to_string(position() - 1) +
                         " (NaN/Inf in activations)");
  }
  return Status::Ok();
}

}  // namespace detail

// ---- public Session -------------------------------------------------------------------------------

// The public Session's opaque implementation is the decoder session above.
class Session::Impl final : public detail::SessionImpl {};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const Model> model,
                                                 const SessionOptions& options) {
  std::unique_ptr<Impl> impl(new Impl());
  ORDINAL_RETURN_IF_ERROR(detail::SessionImpl::init(impl.get(), std::move(model), options));
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Status Session::prefill(const int32_t* tokens, size_t count) {
  return impl_->prefill(tokens, count);
}
Status Session::decode(int32_t token) {
  return impl_->decode(token);
}
const float* Session::logits() const {
  return impl_->logits();
}
size_t Session::vocab_size() const {
  return impl_->vocab();
}
int64_t Session::position() const {
  return impl_->position();
}
size_t Session::cached_tokens() const {
  return impl_->cached();
}
size_t Session::capacity() const {
  return impl_->capacity();
}
Status Session::reset(int64_t position_offset) {
  return impl_->reset(position_offset);
}
Status Session::shift(size_t drop, size_t keep) {
  return impl_->shift(drop, keep);
}
uint32_t Session::threads() const {
  return impl_->threads();
}
size_t Session::memory_bytes() const {
  return impl_->memory_bytes();
}
size_t Session::kv_cache_bytes() const {
  return impl_->kv_bytes();
}
KvCacheType Session::kv_cache_type() const {
  return impl_->kv_type();
}
size_t Session::weight_bytes_per_token() const {
  return impl_->weight_bytes_per_token();
}

const char* kv_cache_type_name(KvCacheType type) {
  switch (type) {
    case KvCacheType::kF32:
      return "f32";
    case KvCacheType::kInt8:
      return "int8";
  }
  return "unknown";
}
const Model& Session::model() const {
  return impl_->model();
}
void Session::set_abort_callback(AbortCallback fn, void* user) {
  impl_->set_abort(fn, user);
}
void Session::set_progress_callback(ProgressCallback fn, void* user) {
  impl_->set_progress(fn, user);
}
size_t Session::state_size() const {
  return detail::session_state_bytes(impl_->state());
}
size_t Session::max_state_size() const {
  return detail::session_state_bytes_full(impl_->state());
}
Status Session::save_state(void* buffer, size_t size) const {
  return detail::save_session_state(impl_->state(), buffer, size);
}
Status Session::load_state(const void* data, size_t size) {
  return detail::load_session_state(impl_->state(), data, size);
}
SessionStats Session::stats() const {
  return impl_->stats();
}
void Session::reset_stats() {
  impl_->reset_stats();
}
const LatencyHistogram& Session::decode_latency() const {
  return impl_->decode_latency();
}
Status Session::set_attention_observer(AttentionObserver fn, void* user) {
  return impl_->set_attention_observer(fn, user);
}

}  // namespace ordinal
