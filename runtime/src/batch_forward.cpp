// The forward pass of a validated batch call (batch_session_impl.hpp): tokens grouped per thread, every
// layer per group (embedding and positional hooks per token at its own position, the linear layers as one
// GEMM over the group's tokens, keys/values stored in each token's slot, attention per token over its own
// sequence's slots up to its own: the per-sequence causal mask is the key range itself), the logits of the
// requested tokens, and the opt-in padding audit.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "batch_session_impl.hpp"
#include "kernels/attention.hpp"
#include "kernels/elementwise.hpp"
#include "model_norm.hpp"

namespace ordinal::detail {

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
// Attention of a group's tokens split over the pool (one group: the call's only sequence).
struct BatchAttentionJob {
  const BatchSessionImpl* session;
  uint32_t layer;
  size_t first;   // the group's first token
  size_t tokens;  // in the group
  size_t tasks;
};

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
    for (size_t i = 0; i < n; ++i) apply_norm(cfg_, w.attn_norm, w.attn_norm_bias, x + i * dim, xb + i * dim);
    kernels::LinearInput& attn_in = in.bind(xb, n, dim);
    // One pool job for q, k and v (input quantized once), as the session's forward pass does.
    const kernels::LinearOutput qkv[] = {{&o.wq, q}, {&o.wk, ks}, {&o.wv, vs}};
    ORDINAL_RETURN_IF_ERROR(kernels::run_linear_group(attn_in, qkv, 3, pool));
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

    for (size_t i = 0; i < n; ++i) apply_norm(cfg_, w.ffn_norm, w.ffn_norm_bias, x + i * dim, xb + i * dim);
    kernels::LinearInput& ffn_in = in.bind(xb, n, dim);
    if (c.activation == Activation::kSwiGLU) {
      const kernels::LinearOutput gate_up[] = {{&o.w1, hb}, {&o.w3, hb2}};
      ORDINAL_RETURN_IF_ERROR(kernels::run_linear_group(ffn_in, gate_up, 2, pool));
      kernels::swiglu(hb, hb2, n * hidden);
    } else {
      ORDINAL_RETURN_IF_ERROR(o.w1.run(ffn_in, hb, pool));
      kernels::gelu_tanh(hb, n * hidden);
    }
    ORDINAL_RETURN_IF_ERROR(o.w2.run(in.bind(hb, n, hidden), xb2, pool));
    kernels::add_inplace(x, xb2, n * dim);
  }
  if (oe == ob) return Status::Ok();
  for (size_t r = ob; r < oe; ++r) {
    const size_t j = static_cast<size_t>(out_token_[r]);
    apply_norm(cfg_, md_->final_norm, md_->final_norm_bias, x_.data() + j * dim, out_x_.data() + r * dim);
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

}  // namespace ordinal::detail
