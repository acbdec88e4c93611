// BatchSession: several sequences in one forward pass (ordinal/batch.hpp states the contract). This file:
// creation (every buffer planned by plan_batch_memory), the sequence calls, the validation of a call into
// per-token bookkeeping, and the public wrappers; batch_forward.cpp runs the validated call.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "batch_session_impl.hpp"
#include "kernels/attention.hpp"
#include "kernels/elementwise.hpp"
#include "memory_plan.hpp"
#include "model_internals.hpp"

namespace ordinal::detail {

Result<std::unique_ptr<BatchSessionImpl>> BatchSessionImpl::create(std::shared_ptr<const Model> model,
                                                                   const BatchOptions& opt) {
  if (!model) return invalid_argument("BatchSession::create: null model");
  std::unique_ptr<BatchSessionImpl> s(new BatchSessionImpl());
  s->model_ = model;
  s->md_ = &detail::model_data(*model);
  s->cfg_ = model->config();
  s->opt_ = opt;
  const ModelConfig& c = s->cfg_;
  uint32_t actual = 1;
  ORDINAL_ASSIGN_OR_RETURN(threads::Pool * pool, threads::create_pool(opt.threads, &actual));
  s->pool_.reset(pool);
  s->threads_ = actual;
  // Everything below is planned first and refused as a whole when over budget.
  ORDINAL_ASSIGN_OR_RETURN(const SessionMemoryPlan plan, plan_batch_memory(*s->md_, opt, actual));
  ORDINAL_RETURN_IF_ERROR(check_memory_budget(plan, opt.memory_budget));
  if (!s->md_->weight_plan) return s->md_->weight_plan_status;
  s->plan_ = s->md_->weight_plan.get();
  ORDINAL_ASSIGN_OR_RETURN(s->pos_, positional::PositionalEncoder::create(*s->md_));

  s->ctx_ = plan.context_length;
  s->seqs_ = opt.max_sequences;
  s->max_tokens_ = opt.max_batch_tokens;
  s->max_outputs_ = opt.max_outputs == 0 ? std::min<size_t>(s->seqs_, s->max_tokens_) : opt.max_outputs;
  s->tasks_ = actual;
  s->q_dim_ = size_t{c.n_heads} * c.head_dim;
  s->kv_dim_ = size_t{c.n_kv_heads} * c.head_dim;
  s->logit_ = s->pos_.logit_scale() / sqrtf(static_cast<float>(c.head_dim));
  const uint64_t n = s->max_tokens_, seqs = s->seqs_, slots = seqs * s->ctx_;

  ORDINAL_RETURN_IF_ERROR(
      s->kv_.init(opt.kv_cache, c.n_layers, static_cast<size_t>(slots), c.n_kv_heads, c.head_dim));
  if (s->pos_.rotates()) {
    ORDINAL_ASSIGN_OR_RETURN(
        positional::RopeShift rs,
        positional::RopeShift::create(s->md_->positional, c.head_dim, s->pos_.f32_frequencies()));
    s->rope_shift_.reset(new positional::RopeShift(std::move(rs)));
    s->kv_.set_rope_pairs(s->rope_shift_->pair_first(), s->rope_shift_->pair_second());
  }
  ORDINAL_RETURN_IF_ERROR(s->slot_padding_.allocate(slots, "padding tags"));
  ORDINAL_RETURN_IF_ERROR(s->x_.allocate(n * c.dim, "activations x"));
  ORDINAL_RETURN_IF_ERROR(s->xb_.allocate(n * c.dim, "activations xb"));
  ORDINAL_RETURN_IF_ERROR(s->xb2_.allocate(n * c.dim, "activations xb2"));
  ORDINAL_RETURN_IF_ERROR(s->q_.allocate(n * s->q_dim_, "queries"));
  ORDINAL_RETURN_IF_ERROR(s->hb_.allocate(n * c.hidden_dim, "feed-forward activations"));
  ORDINAL_RETURN_IF_ERROR(s->hb2_.allocate(n * c.hidden_dim, "feed-forward activations"));
  ORDINAL_RETURN_IF_ERROR(s->k_stage_.allocate(n * s->kv_dim_, "staged keys"));
  ORDINAL_RETURN_IF_ERROR(s->v_stage_.allocate(n * s->kv_dim_, "staged values"));
  ORDINAL_RETURN_IF_ERROR(s->logits_.allocate(uint64_t{s->max_outputs_} * c.vocab_size, "logits"));
  ORDINAL_RETURN_IF_ERROR(s->seq_logits_.allocate(seqs * c.vocab_size, "sequence logits"));
  const uint64_t tasks = s->tasks_;
  s->pos_scratch_floats_ = std::max<size_t>(s->pos_.scratch_floats(), 1);
  ORDINAL_RETURN_IF_ERROR(s->pos_scratch_.allocate(tasks * s->pos_scratch_floats_, "positional scratch"));
  ORDINAL_RETURN_IF_ERROR(s->ao_.allocate(n * s->q_dim_, "attention outputs"));
  ORDINAL_RETURN_IF_ERROR(s->out_x_.allocate(uint64_t{s->max_outputs_} * c.dim, "output activations"));
  ORDINAL_RETURN_IF_ERROR(s->group_begin_.allocate(tasks + 1, "batch groups"));
  ORDINAL_RETURN_IF_ERROR(s->out_begin_.allocate(tasks + 1, "batch groups"));
  ORDINAL_RETURN_IF_ERROR(s->fill_.allocate(tasks, "batch groups"));
  ORDINAL_RETURN_IF_ERROR(s->group_of_seq_.allocate(seqs, "batch groups"));
  s->ins_.reset(new (std::nothrow) kernels::LinearInput[tasks]);
  s->group_status_.reset(new (std::nothrow) Status[tasks]);
  if (!s->ins_ || !s->group_status_) return out_of_memory("batch session: per-thread linear inputs");
  for (uint64_t t = 0; t < tasks; ++t) {
    ORDINAL_RETURN_IF_ERROR(
        s->ins_[t].reserve(static_cast<size_t>(n), std::max<size_t>({c.dim, s->q_dim_, c.hidden_dim})));
  }
  ORDINAL_RETURN_IF_ERROR(s->att_.allocate(tasks * c.n_heads * s->ctx_ * 2, "attention scores"));
  ORDINAL_RETURN_IF_ERROR(s->att_partials_.allocate(
      tasks * kernels::attention_partials_floats(c.n_heads, c.head_dim), "attention partial sums"));
  ORDINAL_RETURN_IF_ERROR(s->audit_.allocate(tasks * 2, "padding audit sums"));
  ORDINAL_RETURN_IF_ERROR(s->seq_.allocate(seqs, "sequence states"));
  ORDINAL_RETURN_IF_ERROR(s->pend_cached_.allocate(seqs, "batch validation"));
  ORDINAL_RETURN_IF_ERROR(s->pend_offset_.allocate(seqs, "batch validation"));
  ORDINAL_RETURN_IF_ERROR(s->last_token_.allocate(seqs, "batch validation"));
  ORDINAL_RETURN_IF_ERROR(s->tok_id_.allocate(n, "batch tokens"));
  ORDINAL_RETURN_IF_ERROR(s->tok_seq_.allocate(n, "batch tokens"));
  ORDINAL_RETURN_IF_ERROR(s->tok_out_.allocate(n, "batch tokens"));
  ORDINAL_RETURN_IF_ERROR(s->tok_slot_.allocate(n, "batch tokens"));
  ORDINAL_RETURN_IF_ERROR(s->tok_pos_.allocate(n, "batch tokens"));
  ORDINAL_RETURN_IF_ERROR(s->tok_pad_.allocate(n, "batch tokens"));
  ORDINAL_RETURN_IF_ERROR(s->tok_index_.allocate(n, "batch tokens"));
  ORDINAL_RETURN_IF_ERROR(s->out_index_.allocate(n, "batch outputs"));
  ORDINAL_RETURN_IF_ERROR(s->out_token_.allocate(n, "batch outputs"));
  ORDINAL_RETURN_IF_ERROR(s->pad_seq_.allocate(n, "padded batch"));
  ORDINAL_RETURN_IF_ERROR(s->pad_owner_.allocate(n, "padded batch"));
  ORDINAL_RETURN_IF_ERROR(s->pad_want_.allocate(n, "padded batch"));
  ORDINAL_RETURN_IF_ERROR(s->alt_id_.allocate(n, "batch tokens"));
  ORDINAL_RETURN_IF_ERROR(s->alt_seq_.allocate(n, "batch tokens"));
  ORDINAL_RETURN_IF_ERROR(s->alt_out_.allocate(n, "batch tokens"));
  ORDINAL_RETURN_IF_ERROR(s->alt_index_.allocate(n, "batch tokens"));
  ORDINAL_RETURN_IF_ERROR(s->alt_slot_.allocate(n, "batch tokens"));
  ORDINAL_RETURN_IF_ERROR(s->alt_pos_.allocate(n, "batch tokens"));
  ORDINAL_RETURN_IF_ERROR(s->alt_pad_.allocate(n, "batch tokens"));
  return s;
}

size_t BatchSessionImpl::memory_bytes() const {
  const size_t floats = x_.size() + xb_.size() + xb2_.size() + q_.size() + ao_.size() + hb_.size() +
                        hb2_.size() + k_stage_.size() + v_stage_.size() + logits_.size() +
                        seq_logits_.size() + out_x_.size() + pos_scratch_.size() + att_.size() +
                        att_partials_.size();
  const size_t int32s = last_token_.size() + group_of_seq_.size() + tok_id_.size() + tok_seq_.size() +
                        tok_out_.size() + tok_index_.size() + out_index_.size() + out_token_.size() +
                        pad_seq_.size() + pad_owner_.size() + alt_id_.size() + alt_seq_.size() +
                        alt_out_.size() + alt_index_.size();
  const size_t int64s = pend_cached_.size() + pend_offset_.size() + tok_slot_.size() + tok_pos_.size() +
                        alt_slot_.size() + alt_pos_.size() + group_begin_.size() + out_begin_.size() +
                        fill_.size();
  const size_t bytes = tok_pad_.size() + pad_want_.size() + alt_pad_.size() + slot_padding_.size();
  size_t inputs = 0;
  for (size_t t = 0; t < tasks_; ++t) inputs += ins_[t].bytes();
  return floats * sizeof(float) + kv_.bytes() + inputs + int32s * 4 + int64s * 8 + bytes +
         audit_.size() * sizeof(double) + seq_.size() * sizeof(SequenceState) + tasks_ * sizeof(Status) +
         pos_.table_bytes();
}

Status BatchSessionImpl::check_open(int32_t s, const char* what) const {
  if (!valid_id(s)) {
    return invalid_argument(std::string(what) + ": sequence id " + std::to_string(s) + " is outside [0, " +
                            std::to_string(seqs_) + ")");
  }
  if (!seq_[static_cast<size_t>(s)].open) {
    return invalid_argument(std::string(what) + ": sequence " + std::to_string(s) + " is not open");
  }
  return Status::Ok();
}

Result<int32_t> BatchSessionImpl::open_sequence(int64_t offset) {
  if (offset < 0) return invalid_argument("position offset " + std::to_string(offset) + " is negative");
  ORDINAL_RETURN_IF_ERROR(pos_.check_position(offset));
  for (uint32_t i = 0; i < seqs_; ++i) {
    SequenceState& q = seq_[i];
    if (q.open) continue;
    q = SequenceState{true, false, false, offset, 0};
    return static_cast<int32_t>(i);
  }
  return capacity_exceeded("all " + std::to_string(seqs_) +
                           " sequences are open (BatchOptions.max_sequences); close one first");
}

Status BatchSessionImpl::close_sequence(int32_t s) {
  ORDINAL_RETURN_IF_ERROR(check_open(s, "close_sequence"));
  seq_[static_cast<size_t>(s)] = SequenceState{false, false, false, 0, 0};
  return Status::Ok();
}

Status BatchSessionImpl::reset_sequence(int32_t s, int64_t offset) {
  ORDINAL_RETURN_IF_ERROR(check_open(s, "reset_sequence"));
  if (offset < 0) return invalid_argument("position offset " + std::to_string(offset) + " is negative");
  ORDINAL_RETURN_IF_ERROR(pos_.check_position(offset));
  seq_[static_cast<size_t>(s)] = SequenceState{true, false, false, offset, 0};
  return Status::Ok();
}

Status BatchSessionImpl::shift_sequence(int32_t s, size_t drop, size_t keep) {
  ORDINAL_RETURN_IF_ERROR(check_open(s, "shift_sequence"));
  SequenceState& q = seq_[static_cast<size_t>(s)];
  if (unusable_ || q.failed) {
    return Status(ErrorCode::kSessionUnusable,
                  "shift_sequence: sequence " + std::to_string(s) + " needs reset_sequence() after an error");
  }
  if (drop == 0) return invalid_argument("shift: drop must be at least 1 token");
  if (keep > q.cached || drop > q.cached - keep) {
    return invalid_argument("shift: keep " + std::to_string(keep) + " + drop " + std::to_string(drop) +
                            " exceeds the " + std::to_string(q.cached) + " cached tokens of sequence " +
                            std::to_string(s));
  }
  if (pos_.adds_to_embedding()) {
    return unsupported(std::string("shift: ") + positional_scheme_name(md_->positional.scheme) +
                       " adds absolute positions to the embedding, so cached keys and values cannot be "
                       "moved to new positions; reset the sequence and prefill the tokens to keep instead");
  }
  const size_t base = static_cast<size_t>(s) * ctx_;
  const size_t moved = q.cached - keep - drop;
  kv_.move(base + keep + drop, base + keep, moved);
  if (moved > 0) {
    std::memmove(slot_padding_.data() + base + keep, slot_padding_.data() + base + keep + drop, moved);
  }
  if (rope_shift_) kv_.rotate_keys(base + keep, moved, -static_cast<int64_t>(drop), *rope_shift_);
  q.cached -= drop;
  return Status::Ok();
}

Status BatchSessionImpl::validate(const Batch& b) {
  if (unusable_) {
    return Status(ErrorCode::kSessionUnusable, "batch session is unusable after an earlier error (" +
                                                   unusable_reason_ + "); create a new one");
  }
  if (b.count == 0) return invalid_argument("batch: no tokens given");
  if (b.tokens == nullptr || b.sequences == nullptr)
    return invalid_argument("batch: null tokens or sequences");
  if (b.count > max_tokens_) {
    return capacity_exceeded("batch of " + std::to_string(b.count) + " tokens exceeds max_batch_tokens " +
                             std::to_string(max_tokens_));
  }
  for (uint32_t s = 0; s < seqs_; ++s) {
    pend_cached_[s] = seq_[s].cached;
    pend_offset_[s] = seq_[s].offset;
    last_token_[s] = -1;
  }
  size_t n = 0, outputs = 0;
  for (size_t i = 0; i < b.count; ++i) {
    out_index_[i] = -1;
    const int32_t t = b.tokens[i];
    if (t < 0 || static_cast<uint32_t>(t) >= cfg_.vocab_size) {
      return invalid_argument("batch: token id " + std::to_string(t) + " at index " + std::to_string(i) +
                              " is outside the vocabulary [0, " + std::to_string(cfg_.vocab_size) + ")");
    }
    int32_t s = b.sequences[i];
    bool stored_padding = false;
    if (s == kPaddingSequence) {
      if (fault_ != BatchFault::kPaddingAttended || padding_owner_ == nullptr || padding_owner_[i] < 0)
        continue;
      s = padding_owner_[i];
      stored_padding = true;
    }
    if (!valid_id(s)) {
      return invalid_argument("batch: sequence id " + std::to_string(s) + " at index " + std::to_string(i) +
                              " is outside [0, " + std::to_string(seqs_) + ") and not kPaddingSequence");
    }
    const SequenceState& q = seq_[static_cast<size_t>(s)];
    if (!q.open) {
      return invalid_argument("batch: sequence " + std::to_string(s) + " (token index " + std::to_string(i) +
                              ") is not open");
    }
    if (q.failed) {
      return Status(ErrorCode::kSessionUnusable, "batch: sequence " + std::to_string(s) +
                                                     " had non-finite logits; reset_sequence() it first");
    }
    if (pend_cached_[s] >= ctx_) {
      return capacity_exceeded("batch: KV cache of sequence " + std::to_string(s) +
                               " full: " + std::to_string(ctx_) + " slots, token index " + std::to_string(i) +
                               " does not fit");
    }
    int64_t next = pend_offset_[s] + static_cast<int64_t>(pend_cached_[s]);
    if (b.positions != nullptr && !stored_padding && b.positions[i] != next) {
      const int64_t p = b.positions[i];
      if (pend_cached_[s] != 0 || p < 0) {
        return invalid_argument("batch: position " + std::to_string(p) + " of token index " +
                                std::to_string(i) + " in sequence " + std::to_string(s) + ": its next is " +
                                std::to_string(next));
      }
      pend_offset_[s] = p;  // an empty sequence starts where its first token says
      next = p;
    }
    ORDINAL_RETURN_IF_ERROR(pos_.check_position(next));
    tok_id_[n] = t;
    tok_seq_[n] = s;
    tok_slot_[n] = static_cast<uint64_t>(s) * ctx_ + pend_cached_[s];
    tok_pos_[n] = fault_ == BatchFault::kBatchIndexPositions ? static_cast<int64_t>(n) : next;
    tok_pad_[n] = stored_padding ? 1 : 0;
    tok_out_[n] = -1;
    tok_index_[n] = static_cast<int32_t>(i);
    ++pend_cached_[s];
    if (!stored_padding) {
      last_token_[s] = static_cast<int32_t>(n);
      if (b.want_logits != nullptr && b.want_logits[i] != 0) {
        if (outputs == max_outputs_) {
          return capacity_exceeded("batch: more than max_outputs " + std::to_string(max_outputs_) +
                                   " tokens request logits");
        }
        tok_out_[n] = static_cast<int32_t>(outputs);
        out_token_[outputs] = static_cast<int32_t>(n);
        ++outputs;
      }
    }
    ++n;
  }
  if (b.want_logits == nullptr) {
    for (uint32_t s = 0; s < seqs_; ++s) {
      if (last_token_[s] < 0) continue;
      if (outputs == max_outputs_) {
        return capacity_exceeded("batch: more than max_outputs " + std::to_string(max_outputs_) +
                                 " sequences in one call");
      }
      tok_out_[last_token_[s]] = static_cast<int32_t>(outputs);
      out_token_[outputs] = last_token_[s];
      ++outputs;
    }
  }
  for (size_t r = 0; r < outputs; ++r) {
    out_index_[static_cast<size_t>(tok_index_[static_cast<size_t>(out_token_[r])])] = static_cast<int32_t>(r);
  }
  n_outputs_ = outputs;
  last_count_ = b.count;
  return Status::Ok();
}

Status BatchSessionImpl::forward(const Batch& b) {
  last_count_ = 0;
  ORDINAL_RETURN_IF_ERROR(validate(b));
  size_t n = 0;
  for (uint32_t s = 0; s < seqs_; ++s) {
    n += static_cast<size_t>(pend_cached_[s] - seq_[s].cached);
  }
  if (n == 0) return Status::Ok();  // only padding
  Status st = compute(n);
  if (!st.ok()) {
    unusable_ = true;
    unusable_reason_ = st.message();
    last_count_ = 0;
    return st;
  }
  for (uint32_t s = 0; s < seqs_; ++s) {
    seq_[s].cached = pend_cached_[s];
    seq_[s].offset = pend_offset_[s];
  }
  std::string bad;
  for (size_t r = 0; r < n_outputs_; ++r) {
    const float* row = logits_.data() + r * cfg_.vocab_size;
    const size_t s = static_cast<size_t>(tok_seq_[static_cast<size_t>(out_token_[r])]);
    if (opt_.check_numerics && !kernels::all_finite(row, cfg_.vocab_size)) {
      seq_[s].failed = true;
      if (bad.empty()) bad = "sequence " + std::to_string(s);
      continue;
    }
    std::memcpy(seq_logits_.data() + s * cfg_.vocab_size, row, cfg_.vocab_size * sizeof(float));
    seq_[s].has_logits = true;
  }
  if (!bad.empty()) {
    return numeric_error("non-finite logits in " + bad + " (NaN/Inf in activations); reset_sequence() it");
  }
  return Status::Ok();
}

Status BatchSessionImpl::forward_padded(const int32_t* tokens, const uint8_t* real, size_t rows, size_t cols,
                                        const int32_t* row_sequences) {
  if (tokens == nullptr || real == nullptr || row_sequences == nullptr) {
    return invalid_argument("forward_padded: null tokens, mask or row sequences");
  }
  if (rows == 0 || cols == 0) return invalid_argument("forward_padded: empty batch");
  if (cols > max_tokens_ || rows > max_tokens_ / cols) {
    return capacity_exceeded("forward_padded: " + std::to_string(rows) + " x " + std::to_string(cols) +
                             " tokens exceed max_batch_tokens " + std::to_string(max_tokens_));
  }
  for (size_t r = 0; r < rows; ++r) {
    size_t last = cols;
    for (size_t c = 0; c < cols; ++c) {
      const size_t i = r * cols + c;
      pad_seq_[i] = real[i] != 0 ? row_sequences[r] : kPaddingSequence;
      pad_owner_[i] = real[i] != 0 ? -1 : row_sequences[r];
      pad_want_[i] = 0;
      if (real[i] != 0) last = i;
    }
    if (last != cols) pad_want_[last] = 1;
  }
  Batch b;
  b.tokens = tokens;
  b.sequences = pad_seq_.data();
  b.want_logits = pad_want_.data();
  b.count = rows * cols;
  padding_owner_ = pad_owner_.data();
  const Status st = forward(b);
  padding_owner_ = nullptr;
  return st;
}

}  // namespace ordinal::detail

namespace ordinal {

// The public BatchSession's opaque implementation owns the batch session state above.
class BatchSession::Impl {
 public:
  std::unique_ptr<detail::BatchSessionImpl> state;
};

class BatchSessionInternals {
 public:
  static detail::BatchSessionImpl& state(BatchSession& session) { return *session.impl_->state; }
};

namespace detail {
void set_batch_fault(BatchSession& session, BatchFault fault) {
  BatchSessionInternals::state(session).set_fault(fault);
}
}  // namespace detail

BatchSession::BatchSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BatchSession::~BatchSession() = default;

Result<std::unique_ptr<BatchSession>> BatchSession::create(std::shared_ptr<const Model> model,
                                                           const BatchOptions& options) {
  ORDINAL_ASSIGN_OR_RETURN(auto state, detail::BatchSessionImpl::create(std::move(model), options));
  std::unique_ptr<Impl> impl(new (std::nothrow) Impl());
  if (!impl) return out_of_memory("BatchSession::create: cannot allocate the session object");
  impl->state = std::move(state);
  return std::unique_ptr<BatchSession>(new BatchSession(std::move(impl)));
}

Result<int32_t> BatchSession::open_sequence(int64_t position_offset) {
  return impl_->state->open_sequence(position_offset);
}
Status BatchSession::close_sequence(int32_t sequence) {
  return impl_->state->close_sequence(sequence);
}
Status BatchSession::reset_sequence(int32_t sequence, int64_t position_offset) {
  return impl_->state->reset_sequence(sequence, position_offset);
}
Status BatchSession::shift_sequence(int32_t sequence, size_t drop, size_t keep) {
  return impl_->state->shift_sequence(sequence, drop, keep);
}
bool BatchSession::is_open(int32_t sequence) const {
  return impl_->state->is_open(sequence);
}
Status BatchSession::forward(const Batch& batch) {
  return impl_->state->forward(batch);
}
Status BatchSession::forward_padded(const int32_t* tokens, const uint8_t* real, size_t rows, size_t cols,
                                    const int32_t* row_sequences) {
  return impl_->state->forward_padded(tokens, real, rows, cols, row_sequences);
}
const float* BatchSession::logits(size_t index) const {
  return impl_->state->logits(index);
}
const float* BatchSession::sequence_logits(int32_t sequence) const {
  return impl_->state->sequence_logits(sequence);
}
size_t BatchSession::vocab_size() const {
  return impl_->state->vocab();
}
int64_t BatchSession::position(int32_t sequence) const {
  return impl_->state->position(sequence);
}
size_t BatchSession::cached_tokens(int32_t sequence) const {
  return impl_->state->cached(sequence);
}
size_t BatchSession::capacity() const {
  return impl_->state->capacity();
}
uint32_t BatchSession::max_sequences() const {
  return impl_->state->max_sequences();
}
uint32_t BatchSession::threads() const {
  return impl_->state->threads();
}
size_t BatchSession::memory_bytes() const {
  return impl_->state->memory_bytes();
}
size_t BatchSession::kv_cache_bytes() const {
  return impl_->state->kv_bytes();
}
double BatchSession::padding_attention_ratio() const {
  return impl_->state->padding_attention_ratio();
}
const Model& BatchSession::model() const {
  return impl_->state->model();
}

Result<uint64_t> Model::session_bytes(const BatchOptions& options) const {
  const uint32_t threads = options.threads == 0 ? threads::available_cores() : options.threads;
  ORDINAL_ASSIGN_OR_RETURN(const detail::SessionMemoryPlan plan,
                           detail::plan_batch_memory(*impl_->data, options, threads));
  return plan.total;
}

}  // namespace ordinal
