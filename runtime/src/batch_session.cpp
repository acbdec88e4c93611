// BatchSession: several sequences in one forward pass (ordinal/batch.hpp states the contract). The KV cache
// is one KvCache of max_sequences x context_length slots per layer; sequence s owns slots
// [s * ctx, (s + 1) * ctx), its token at cache index i sits in slot s * ctx + i at position offset_s + i.
// A forward call validates the whole batch first (into per-token bookkeeping planned at creation), then
// computes every real token together: embedding and positional hooks per token at its own position, the
// linear layers as one GEMM over all tokens, keys/values stored in each token's slot, and attention per
// token over its own sequence's slots up to its own (the per-sequence causal mask is the key range itself).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "batch_fault.hpp"
#include "kernels/attention.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/linear.hpp"
#include "kv_cache.hpp"
#include "large_buffer.hpp"
#include "memory_plan.hpp"
#include "model_data.hpp"
#include "ordinal/batch.hpp"
#include "positional/encoder.hpp"
#include "positional/rope_shift.hpp"
#include "threads.hpp"
#include "weight_plan.hpp"

namespace ordinal::detail {

namespace {

struct SequenceState {
  bool open;
  bool failed;      // non-finite logits: refused until reset
  bool has_logits;  // sequence_logits() holds a row
  int64_t offset;   // position of cache index 0
  uint64_t cached;  // tokens in the cache
};

struct BatchAttentionJob {
  const BatchSessionImpl* session;
  uint32_t layer;
  size_t first;   // the group's first token
  size_t tokens;  // in the group
  size_t tasks;
};

void batch_attention_task(void* context, size_t task);

}  // namespace

class BatchSessionImpl {
 public:
  static Result<std::unique_ptr<BatchSessionImpl>> create(std::shared_ptr<const Model> model,
                                                          const BatchOptions& opt);

  Result<int32_t> open_sequence(int64_t offset);
  Status close_sequence(int32_t s);
  Status reset_sequence(int32_t s, int64_t offset);
  Status shift_sequence(int32_t s, size_t drop, size_t keep);
  bool is_open(int32_t s) const { return valid_id(s) && seq_[static_cast<size_t>(s)].open; }

  Status forward(const Batch& b);
  Status forward_padded(const int32_t* tokens, const uint8_t* real, size_t rows, size_t cols,
                        const int32_t* row_sequences);

  const float* logits(size_t index) const {
    if (index >= last_count_ || out_index_[index] < 0) return nullptr;
    return logits_.data() + static_cast<size_t>(out_index_[index]) * cfg_.vocab_size;
  }
  const float* sequence_logits(int32_t s) const {
    if (!is_open(s) || !seq_[static_cast<size_t>(s)].has_logits) return nullptr;
    return seq_logits_.data() + static_cast<size_t>(s) * cfg_.vocab_size;
  }
  size_t vocab() const { return cfg_.vocab_size; }
  int64_t position(int32_t s) const {
    if (!is_open(s)) return -1;
    const SequenceState& q = seq_[static_cast<size_t>(s)];
    return q.offset + static_cast<int64_t>(q.cached);
  }
  size_t cached(int32_t s) const { return is_open(s) ? seq_[static_cast<size_t>(s)].cached : 0; }
  size_t capacity() const { return ctx_; }
  uint32_t max_sequences() const { return seqs_; }
  uint32_t threads() const { return threads_; }
  size_t memory_bytes() const;
  size_t kv_bytes() const { return kv_.bytes(); }
  double padding_attention_ratio() const { return audited_ > 0 ? padding_mass_ / audited_ : 0.0; }
  const Model& model() const { return *model_; }
  void set_fault(BatchFault f) { fault_ = f; }

  void attention_tokens(uint32_t layer, size_t begin, size_t end, size_t task) const;
  Status forward_group(size_t group);

 private:
  BatchSessionImpl() = default;
  bool valid_id(int32_t s) const { return s >= 0 && static_cast<uint32_t>(s) < seqs_; }
  Status check_open(int32_t s, const char* what) const;
  Status validate(const Batch& b);
  Status compute(size_t n);
  void plan_groups(size_t n);
  Status forward_tokens(size_t task, size_t b, size_t e, size_t ob, size_t oe, threads::Pool* pool);
  void norm(const format::TensorView& w, const format::TensorView& b, const float* x, float* out) const;
  void audit_token(uint32_t layer, const float* q, size_t key_base, size_t keys, const float* att,
                   double* sums) const;

  std::shared_ptr<const Model> model_;
  const ModelData* md_ = nullptr;
  ModelConfig cfg_;
  BatchOptions opt_;
  threads::PoolPtr pool_;
  uint32_t threads_ = 1;
  positional::PositionalEncoder pos_;
  const WeightPlan* plan_ = nullptr;
  std::unique_ptr<positional::RopeShift> rope_shift_;

  size_t ctx_ = 0, max_tokens_ = 0, max_outputs_ = 0, q_dim_ = 0, kv_dim_ = 0, tasks_ = 1;
  uint32_t seqs_ = 0;
  float logit_ = 1.0f;  // fl(logit_scale / sqrt(head_dim)), as the Session passes it

  KvCache kv_;
  LargeBuffer<uint8_t> slot_padding_;  // per slot: 1 when it holds a padding token (BatchFault only)
  LargeBuffer<float> x_, xb_, xb2_, q_, hb_, hb2_, k_stage_, v_stage_, logits_, seq_logits_, pos_scratch_;
  mutable LargeBuffer<float> att_;               // per task: [n_heads, 2 * ctx] scores, then bias
  mutable LargeBuffer<float> att_partials_;      // per task: attention_partials_floats(n_heads, head_dim)
  mutable LargeBuffer<double> audit_;            // per task: padding mass, query-heads audited
  std::unique_ptr<kernels::LinearInput[]> ins_;  // one per thread: a group quantizes its own inputs
  std::unique_ptr<Status[]> group_status_;       // one per thread
  size_t pos_scratch_floats_ = 1;                // per thread
  LargeBuffer<float> ao_, out_x_;                // attention outputs [n, q_dim]; final-normed outputs
  // Groups of the call (plan_groups): tokens [group_begin_[g], group_begin_[g + 1]) and output rows
  // [out_begin_[g], out_begin_[g + 1]) run on one thread each; groups_ == 1: all tokens, rows over the pool.
  size_t groups_ = 1;
  LargeBuffer<uint64_t> group_begin_, out_begin_, fill_;
  LargeBuffer<int32_t> group_of_seq_;
  // Spare token bookkeeping plan_groups sorts into.
  LargeBuffer<int32_t> alt_id_, alt_seq_, alt_out_, alt_index_;
  LargeBuffer<uint64_t> alt_slot_;
  LargeBuffer<int64_t> alt_pos_;
  LargeBuffer<uint8_t> alt_pad_;

  LargeBuffer<SequenceState> seq_;
  // Validation scratch per sequence: cached count and offset as the batch would leave them.
  LargeBuffer<uint64_t> pend_cached_;
  LargeBuffer<int64_t> pend_offset_;
  LargeBuffer<int32_t> last_token_;  // compact index of the sequence's last real token in the call
  // Per real token of the call (compact order): id, sequence, slot, position, output row, padding flag.
  LargeBuffer<int32_t> tok_id_, tok_seq_, tok_out_;
  LargeBuffer<uint64_t> tok_slot_;
  LargeBuffer<int64_t> tok_pos_;
  LargeBuffer<uint8_t> tok_pad_;
  LargeBuffer<int32_t> tok_index_;  // the batch index it came from
  LargeBuffer<int32_t> out_index_;  // batch index -> output row, -1 none
  LargeBuffer<int32_t> out_token_;  // output row -> compact token
  // forward_padded's translation into a Batch.
  LargeBuffer<int32_t> pad_seq_, pad_owner_;
  LargeBuffer<uint8_t> pad_want_;
  const int32_t* padding_owner_ = nullptr;  // row sequence of each padding token (forward_padded)

  size_t n_outputs_ = 0, last_count_ = 0;
  double padding_mass_ = 0.0, audited_ = 0.0;
  bool unusable_ = false;
  std::string unusable_reason_;
  BatchFault fault_ = BatchFault::kNone;
};

Result<std::unique_ptr<BatchSessionImpl>> BatchSessionImpl::create(std::shared_ptr<const Model> model,
                                                                   const BatchOptions& opt) {
  if (!model) return invalid_argument("BatchSession::create: null model");
  std::unique_ptr<BatchSessionImpl> s(new BatchSessionImpl());
  s->model_ = model;
  s->md_ = &model->data();
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
         audit_.size() * sizeof(double) + seq_.size() * sizeof(SequenceState) + tasks_ * sizeof(Status);
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

void BatchSessionImpl::norm(const format::TensorView& w, const format::TensorView& b, const float* x,
                            float* out) const {
  const float* wp = reinterpret_cast<const float*>(w.data);
  if (cfg_.norm == NormType::kRMSNorm) {
    kernels::rmsnorm(out, x, wp, cfg_.dim, cfg_.norm_eps);
  } else {
    kernels::layernorm(out, x, wp, b.present() ? reinterpret_cast<const float*>(b.data) : nullptr, cfg_.dim,
                       cfg_.norm_eps);
  }
}

// The audit (opt-in): for each query head of token j, the softmax of its scores over the keys it attended,
// recomputed in double from the cache, and the probability on slots tagged as padding.
void BatchSessionImpl::audit_token(uint32_t layer, const float* q, size_t key_base, size_t keys,
                                   const float* att, double* sums) const {
  const uint32_t hd = cfg_.head_dim, group = cfg_.n_heads / cfg_.n_kv_heads;
  for (uint32_t h = 0; h < cfg_.n_heads; ++h) {
    const uint32_t kvh = h / group;
    const float* bias = pos_.biases_attention() ? att + size_t{h} * ctx_ * 2 + ctx_ : nullptr;
    auto score = [&](size_t t) {
      double dot = 0.0;
      const size_t slot = key_base + t;
      if (kv_.is_int8()) {
        const int8_t* k = kv_.key_i8(layer, slot) + size_t{kvh} * hd;
        const double sc = kv_scale_to_float(kv_.key_scales(layer, slot)[kvh]);
        for (uint32_t d = 0; d < hd; ++d) dot += static_cast<double>(q[size_t{h} * hd + d]) * k[d] * sc;
      } else {
        const float* k = kv_.key_f32(layer, slot) + size_t{kvh} * hd;
        for (uint32_t d = 0; d < hd; ++d) dot += static_cast<double>(q[size_t{h} * hd + d]) * k[d];
      }
      double s = dot * logit_;
      if (bias != nullptr) s += bias[t];
      return s;
    };
    double m = -INFINITY;
    for (size_t t = 0; t < keys; ++t) m = std::max(m, score(t));
    double total = 0.0, padding = 0.0;
    for (size_t t = 0; t < keys; ++t) {
      const double e = std::exp(score(t) - m);
      total += e;
      if (slot_padding_[key_base + t] != 0) padding += e;
    }
    sums[0] += total > 0.0 ? padding / total : 0.0;
    sums[1] += 1.0;
  }
}

void BatchSessionImpl::attention_tokens(uint32_t layer, size_t begin, size_t end, size_t task) const {
  const uint32_t hd = cfg_.head_dim;
  const uint32_t group = cfg_.n_heads / cfg_.n_kv_heads;
  float* att = att_.data() + task * size_t{cfg_.n_heads} * ctx_ * 2;
  kernels::AttentionArgs a;
  a.head_dim = hd;
  a.heads = cfg_.n_heads;
  a.group = group;
  a.partials = att_partials_.data() + task * kernels::attention_partials_floats(cfg_.n_heads, hd);
  a.kv_stride = kv_dim_;
  a.scores = att;
  a.scores_stride = ctx_ * 2;
  a.bias_stride = ctx_ * 2;
  double* sums = audit_.data() + task * 2;
  for (size_t j = begin; j < end; ++j) {
    const size_t s = static_cast<size_t>(tok_seq_[j]);
    const size_t base = s * ctx_;
    size_t keys = static_cast<size_t>(tok_slot_[j]) - base + 1;  // causal inside the sequence
    size_t key_base = base;                                      // nothing across sequences
    if (fault_ == BatchFault::kNoCausalMask) keys = static_cast<size_t>(pend_cached_[s]);
    if (fault_ == BatchFault::kCrossSequence) key_base = ((s + 1) % seqs_) * ctx_;
    a.keys = keys;
    a.q = q_.data() + j * q_dim_;
    a.out = const_cast<float*>(ao_.data()) + j * q_dim_;
    a.bias = nullptr;
    if (pos_.biases_attention()) {
      for (uint32_t h = 0; h < cfg_.n_heads; ++h) {
        pos_.attention_bias(h, tok_pos_[j], pend_offset_[s], keys, att + size_t{h} * ctx_ * 2 + ctx_);
      }
      a.bias = att + ctx_;
    }
    if (kv_.is_int8()) {
      kernels::AttentionI8 q8;
      q8.k = kv_.key_i8(layer, key_base);
      q8.v = kv_.value_i8(layer, key_base);
      q8.k_scales = kv_.key_scales(layer, key_base);
      q8.v_scales = kv_.value_scales(layer, key_base);
      q8.scale_stride = cfg_.n_kv_heads;
      q8.logit = logit_;
      kernels::attention_i8(a, q8);
    } else {
      kernels::AttentionF32 f;
      f.k = kv_.key_f32(layer, key_base);
      f.v = kv_.value_f32(layer, key_base);
      f.logit = logit_;
      kernels::attention_f32(a, f);
    }
    if (opt_.audit_padding_attention && tok_pad_[j] == 0) audit_token(layer, a.q, key_base, keys, att, sums);
  }
}

namespace {
void batch_attention_task(void* context, size_t task) {
  const BatchAttentionJob* job = static_cast<const BatchAttentionJob*>(context);
  const size_t begin = job->first + task * job->tokens / job->tasks;
  const size_t end = job->first + (task + 1) * job->tokens / job->tasks;
  job->session->attention_tokens(job->layer, begin, end, task);
}

struct GroupJob {
  BatchSessionImpl* session;
  Status* status;  // one per group
};

void batch_group_task(void* context, size_t group) {
  const GroupJob* job = static_cast<const GroupJob*>(context);
  job->status[group] = job->session->forward_group(group);
}
}  // namespace

// Orders the call's tokens by group so that each group's tokens (and output rows) are contiguous.
// Sequences are dealt to groups greedily by token count; a call whose sequences cannot be spread over the
// threads with the largest group under 1.5x the mean runs as one group whose layers split their rows over
// the pool instead. Either way a token's arithmetic is the same (same bits).
void BatchSessionImpl::plan_groups(size_t n) {
  size_t distinct = 0;
  for (uint32_t s = 0; s < seqs_; ++s) {
    const uint64_t count = pend_cached_[s] - seq_[s].cached;
    group_of_seq_[s] = -1;
    if (count > 0) ++distinct;
  }
  size_t groups = std::min<size_t>(tasks_, distinct);
  if (pool_ == nullptr || groups < 2) groups = 1;
  for (size_t g = 0; g <= tasks_; ++g) group_begin_[g] = 0;
  if (groups > 1) {
    for (uint32_t s = 0; s < seqs_; ++s) {
      const uint64_t count = pend_cached_[s] - seq_[s].cached;
      if (count == 0) continue;
      size_t best = 0;
      for (size_t g = 1; g < groups; ++g)
        if (group_begin_[g + 1] < group_begin_[best + 1]) best = g;
      group_of_seq_[s] = static_cast<int32_t>(best);
      group_begin_[best + 1] += count;
    }
    size_t largest = 0;
    for (size_t g = 0; g < groups; ++g) largest = std::max<size_t>(largest, group_begin_[g + 1]);
    if (2 * largest * groups > 3 * n) groups = 1;  // too uneven: one group, rows split over the pool
  }
  groups_ = groups;
  if (groups == 1) {
    group_begin_[0] = 0;
    group_begin_[1] = n;
    out_begin_[0] = 0;
    out_begin_[1] = n_outputs_;
    return;
  }
  for (size_t g = 0; g < groups; ++g) group_begin_[g + 1] += group_begin_[g];
  // Stable counting sort of the token bookkeeping into the spare arrays, then swap them in.
  for (size_t g = 0; g < groups; ++g) fill_[g] = group_begin_[g];
  for (size_t j = 0; j < n; ++j) {
    const size_t g = static_cast<size_t>(group_of_seq_[static_cast<size_t>(tok_seq_[j])]);
    const size_t to = static_cast<size_t>(fill_[g]++);
    alt_id_[to] = tok_id_[j];
    alt_seq_[to] = tok_seq_[j];
    alt_out_[to] = tok_out_[j];
    alt_index_[to] = tok_index_[j];
    alt_slot_[to] = tok_slot_[j];
    alt_pos_[to] = tok_pos_[j];
    alt_pad_[to] = tok_pad_[j];
  }
  std::swap(tok_id_, alt_id_);
  std::swap(tok_seq_, alt_seq_);
  std::swap(tok_out_, alt_out_);
  std::swap(tok_index_, alt_index_);
  std::swap(tok_slot_, alt_slot_);
  std::swap(tok_pos_, alt_pos_);
  std::swap(tok_pad_, alt_pad_);
  // Output rows renumbered in the new token order: each group's rows are contiguous.
  size_t r = 0;
  for (size_t g = 0; g < groups; ++g) {
    out_begin_[g] = r;
    for (size_t j = static_cast<size_t>(group_begin_[g]); j < static_cast<size_t>(group_begin_[g + 1]); ++j) {
      if (tok_out_[j] < 0) continue;
      tok_out_[j] = static_cast<int32_t>(r);
      out_token_[r] = static_cast<int32_t>(j);
      out_index_[static_cast<size_t>(tok_index_[j])] = static_cast<int32_t>(r);
      ++r;
    }
  }
  out_begin_[groups] = r;
}

Status BatchSessionImpl::forward_group(size_t group) {
  return forward_tokens(group, static_cast<size_t>(group_begin_[group]),
                        static_cast<size_t>(group_begin_[group + 1]), static_cast<size_t>(out_begin_[group]),
                        static_cast<size_t>(out_begin_[group + 1]), groups_ == 1 ? pool_.get() : nullptr);
}

// Every layer for tokens [b, e) (rows b.. of the activation buffers) and the logits of output rows
// [ob, oe). `pool` splits each layer's rows (one group) or is null (this group runs on one thread).
Status BatchSessionImpl::forward_tokens(size_t task, size_t b, size_t e, size_t ob, size_t oe,
                                        threads::Pool* pool) {
  const ModelConfig& c = cfg_;
  const size_t dim = c.dim, n = e - b, hidden = c.hidden_dim;
  kernels::LinearInput& in = ins_[task];
  float* x = x_.data() + b * dim;
  float* xb = xb_.data() + b * dim;
  float* xb2 = xb2_.data() + b * dim;
  float* ao = ao_.data() + b * q_dim_;
  float* q = q_.data() + b * q_dim_;
  float* ks = k_stage_.data() + b * kv_dim_;
  float* vs = v_stage_.data() + b * kv_dim_;
  float* hb = hb_.data() + b * hidden;
  float* hb2 = hb2_.data() + b * hidden;
  float* pos_scratch = pos_scratch_.data() + task * pos_scratch_floats_;
  for (size_t j = b; j < e; ++j) {
    float* xj = x_.data() + j * dim;
    kernels::dequantize_row(md_->token_embedding, static_cast<uint32_t>(tok_id_[j]), xj);
    if (pos_.adds_to_embedding()) pos_.add_to_embedding(tok_pos_[j], xj, pos_scratch);
    slot_padding_[static_cast<size_t>(tok_slot_[j])] = tok_pad_[j];
  }
  size_t attention_macs = 0;
  for (size_t j = b; j < e; ++j)
    attention_macs += (static_cast<size_t>(tok_slot_[j]) % ctx_ + 1) * q_dim_ * 2;
  threads::Pool* attention_pool = attention_macs >= kernels::kParallelMinMacs ? pool : nullptr;
  for (uint32_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& w = md_->layers[l];
    const LayerLinears& o = plan_->layer(l);
    for (size_t i = 0; i < n; ++i) norm(w.attn_norm, w.attn_norm_bias, x + i * dim, xb + i * dim);
    kernels::LinearInput& attn_in = in.bind(xb, n, dim);
    ORDINAL_RETURN_IF_ERROR(o.wq.run(attn_in, q, pool));
    ORDINAL_RETURN_IF_ERROR(o.wk.run(attn_in, ks, pool));
    ORDINAL_RETURN_IF_ERROR(o.wv.run(attn_in, vs, pool));
    for (size_t i = 0; i < n; ++i) {
      float* k = ks + i * kv_dim_;
      const size_t j = b + i;
      if (pos_.rotates()) {
        pos_.rotate(tok_pos_[j], q + i * q_dim_, c.n_heads);
        pos_.rotate(tok_pos_[j], k, c.n_kv_heads);
      }
      const size_t slot = static_cast<size_t>(tok_slot_[j]);
      if (kv_.is_int8()) {
        kv_.store_int8(l, slot, 1, k, vs + i * kv_dim_);
      } else {
        std::memcpy(kv_.key_f32(l, slot), k, kv_dim_ * sizeof(float));
        std::memcpy(kv_.value_f32(l, slot), vs + i * kv_dim_, kv_dim_ * sizeof(float));
      }
    }
    if (attention_pool != nullptr) {
      BatchAttentionJob job{this, l, b, n, std::min<size_t>(tasks_, n)};
      threads::parallelize_1d(attention_pool, batch_attention_task, &job, job.tasks);
    } else {
      attention_tokens(l, b, e, task);
    }
    ORDINAL_RETURN_IF_ERROR(o.wo.run(in.bind(ao, n, q_dim_), xb2, pool));
    kernels::add_inplace(x, xb2, n * dim);

    for (size_t i = 0; i < n; ++i) norm(w.ffn_norm, w.ffn_norm_bias, x + i * dim, xb + i * dim);
    kernels::LinearInput& ffn_in = in.bind(xb, n, dim);
    ORDINAL_RETURN_IF_ERROR(o.w1.run(ffn_in, hb, pool));
    if (c.activation == Activation::kSwiGLU) {
      ORDINAL_RETURN_IF_ERROR(o.w3.run(ffn_in, hb2, pool));
      kernels::swiglu(hb, hb2, n * hidden);
    } else {
      kernels::gelu_tanh(hb, n * hidden);
    }
    ORDINAL_RETURN_IF_ERROR(o.w2.run(in.bind(hb, n, hidden), xb2, pool));
    kernels::add_inplace(x, xb2, n * dim);
  }
  if (oe == ob) return Status::Ok();
  for (size_t r = ob; r < oe; ++r) {
    const size_t j = static_cast<size_t>(out_token_[r]);
    norm(md_->final_norm, md_->final_norm_bias, x_.data() + j * dim, out_x_.data() + r * dim);
  }
  return plan_->classifier().run(in.bind(out_x_.data() + ob * dim, oe - ob, dim),
                                 logits_.data() + ob * c.vocab_size, pool);
}

Status BatchSessionImpl::compute(size_t n) {
  for (size_t t = 0; t < audit_.size(); ++t) audit_[t] = 0.0;
  plan_groups(n);
  Status st;
  if (groups_ == 1) {
    st = forward_group(0);
  } else {
    for (size_t g = 0; g < groups_; ++g) group_status_[g] = Status::Ok();
    GroupJob job{this, group_status_.get()};
    threads::parallelize_1d(pool_.get(), batch_group_task, &job, groups_);
    for (size_t g = 0; g < groups_ && st.ok(); ++g) st = group_status_[g];
  }
  for (size_t t = 0; t + 1 < audit_.size(); t += 2) {
    padding_mass_ += audit_[t];
    audited_ += audit_[t + 1];
  }
  return st;
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

void set_batch_fault(BatchSession& session, BatchFault fault) {
  session.impl().set_fault(fault);
}

}  // namespace ordinal::detail

namespace ordinal {

BatchSession::BatchSession(std::unique_ptr<detail::BatchSessionImpl> impl) : impl_(std::move(impl)) {}
BatchSession::~BatchSession() = default;

Result<std::unique_ptr<BatchSession>> BatchSession::create(std::shared_ptr<const Model> model,
                                                           const BatchOptions& options) {
  ORDINAL_ASSIGN_OR_RETURN(auto impl, detail::BatchSessionImpl::create(std::move(model), options));
  return std::unique_ptr<BatchSession>(new BatchSession(std::move(impl)));
}

Result<int32_t> BatchSession::open_sequence(int64_t position_offset) {
  return impl_->open_sequence(position_offset);
}
Status BatchSession::close_sequence(int32_t sequence) {
  return impl_->close_sequence(sequence);
}
Status BatchSession::reset_sequence(int32_t sequence, int64_t position_offset) {
  return impl_->reset_sequence(sequence, position_offset);
}
Status BatchSession::shift_sequence(int32_t sequence, size_t drop, size_t keep) {
  return impl_->shift_sequence(sequence, drop, keep);
}
bool BatchSession::is_open(int32_t sequence) const {
  return impl_->is_open(sequence);
}
Status BatchSession::forward(const Batch& batch) {
  return impl_->forward(batch);
}
Status BatchSession::forward_padded(const int32_t* tokens, const uint8_t* real, size_t rows, size_t cols,
                                    const int32_t* row_sequences) {
  return impl_->forward_padded(tokens, real, rows, cols, row_sequences);
}
const float* BatchSession::logits(size_t index) const {
  return impl_->logits(index);
}
const float* BatchSession::sequence_logits(int32_t sequence) const {
  return impl_->sequence_logits(sequence);
}
size_t BatchSession::vocab_size() const {
  return impl_->vocab();
}
int64_t BatchSession::position(int32_t sequence) const {
  return impl_->position(sequence);
}
size_t BatchSession::cached_tokens(int32_t sequence) const {
  return impl_->cached(sequence);
}
size_t BatchSession::capacity() const {
  return impl_->capacity();
}
uint32_t BatchSession::max_sequences() const {
  return impl_->max_sequences();
}
uint32_t BatchSession::threads() const {
  return impl_->threads();
}
size_t BatchSession::memory_bytes() const {
  return impl_->memory_bytes();
}
size_t BatchSession::kv_cache_bytes() const {
  return impl_->kv_bytes();
}
double BatchSession::padding_attention_ratio() const {
  return impl_->padding_attention_ratio();
}
const Model& BatchSession::model() const {
  return impl_->model();
}

Result<uint64_t> Model::session_bytes(const BatchOptions& options) const {
  const uint32_t threads = options.threads == 0 ? threads::available_cores() : options.threads;
  ORDINAL_ASSIGN_OR_RETURN(const detail::SessionMemoryPlan plan,
                           detail::plan_batch_memory(*data_, options, threads));
  return plan.total;
}

}  // namespace ordinal
