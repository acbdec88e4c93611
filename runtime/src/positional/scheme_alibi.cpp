// ALiBi: a per-head linear bias on attention logits, slopes stored as Q32 (exact integer bias rows).
#include "positional/alibi.hpp"
#include "positional/scheme.hpp"

namespace ordinal::positional {

namespace {

AlibiForm form_of(detail::AlibiFormKind k) {
  return k == detail::AlibiFormKind::kCausal ? AlibiForm::kCausal : AlibiForm::kSymmetric;
}

Status load(const format::Ctx&, const schema::Model& m, const ModelConfig& cfg, detail::PositionalParams* p) {
  const auto* t = m.positional_as_Alibi();
  if (static_cast<uint8_t>(t->form()) > 1) return invalid_model("alibi: unknown form");
  if (t->slopes_q32() == nullptr || t->slopes_q32()->size() != cfg.n_heads) {
    return invalid_model("alibi: needs one slope per head (" + std::to_string(cfg.n_heads) + ")");
  }
  p->alibi_form = static_cast<detail::AlibiFormKind>(t->form());
  p->slopes_q32 = t->slopes_q32()->data();
  p->bytes = uint64_t{cfg.n_heads} * 4;
  return Status::Ok();
}

int64_t position_limit(const detail::PositionalParams&) {
  return format::kComputedPositionLimit;
}

Status prepare(const detail::ModelData& model, EncoderState*) {
  if (model.positional.slopes_q32 == nullptr) return invalid_argument("alibi: slopes are missing");
  return Status::Ok();
}

void attention_bias(const EncoderState& s, uint32_t head, int64_t query_pos, int64_t key_pos0, size_t n,
                    float* bias) {
  alibi_bias_row(s.p->slopes_q32[head], query_pos, key_pos0, static_cast<int>(n), form_of(s.p->alibi_form),
                 bias);
}

}  // namespace

const SchemeModule kAlibiModule = {
    PositionalScheme::kAlibi,
    schema::Positional::Alibi,
    "alibi",
    load,
    position_limit,
    prepare,
    nullptr,
    nullptr,
    attention_bias,
    nullptr,
};

}  // namespace ordinal::positional
