// Hostile-input model loader. Order of checks: size prefix -> FlatBuffers verifier (structure, bounds of
// every table/vector/string) -> config sanity -> every tensor (shape vs config, dtype allowed for its
// role, data range inside the file and after the FlatBuffer, alignment, exact byte size, quantization
// parameters) -> tokenizer -> positional block. The first failure is returned with the field's name.
#include "format/loader.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <vector>

#include "format/json_limits.hpp"
#include "format/load_checks.hpp"
#include "format/schema_enums.hpp"
#include "ordinal_generated.h"
#include "positional/scheme.hpp"

namespace ordinal::format {

namespace fb = ::ordinal::schema;

namespace {

static_assert(sizeof(float) == 4, "float must be IEEE binary32");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "Ordinal model files are little-endian; big-endian hosts are not supported"
#endif

// Text the host tools read from a model (task spec JSON, metadata) is bounded here, so no tool can be
// made to parse or print an unbounded or unboundedly nested value.
constexpr uint64_t kMaxTaskSpecBytes = uint64_t{1} << 20;
constexpr uint32_t kMaxMetadataEntries = 1024;
constexpr uint64_t kMaxMetadataKeyBytes = 256;
constexpr uint64_t kMaxMetadataValueBytes = uint64_t{1} << 20;

DType to_dtype(fb::DType t) {
  return static_cast<DType>(static_cast<uint8_t>(t));
}

bool known_dtype(fb::DType t) {
  return static_cast<uint8_t>(t) <= static_cast<uint8_t>(fb::DType::U64);
}

std::string dims_string(std::initializer_list<uint32_t> dims) {
  std::string s = "[";
  bool first = true;
  for (uint32_t d : dims) {
    if (!first) s += ",";
    s += std::to_string(d);
    first = false;
  }
  return s + "]";
}

Status check_range(const Ctx& ctx, const fb::TensorData* d, uint64_t expected_size, const std::string& what) {
  if (d == nullptr) return invalid_model(what + ": missing data range");
  uint64_t off = d->offset(), size = d->size();
  if (off % kTensorAlignment != 0) {
    return invalid_model(what + ": data offset " + std::to_string(off) + " is not " +
                         std::to_string(kTensorAlignment) + "-byte aligned");
  }
  if (off < ctx.flatbuffer_end) {
    return invalid_model(what + ": data offset " + std::to_string(off) +
                         " overlaps the model header (ends at " + std::to_string(ctx.flatbuffer_end) + ")");
  }
  if (off > ctx.file_size || size > ctx.file_size - off) {
    return invalid_model(what + ": data [" + std::to_string(off) + ", +" + std::to_string(size) +
                         ") lies outside the file of " + std::to_string(ctx.file_size) + " bytes");
  }
  if (size != expected_size) {
    return invalid_model(what + ": data is " + std::to_string(size) + " bytes, expected " +
                         std::to_string(expected_size));
  }
  if (size > 0) ctx.claimed->push_back({off, size, what});
  return Status::Ok();
}

// Two tensors that share bytes would let one tensor's quantized codes be read as another's scales or
// weights (and a rewrite of one change both); no writer produces that, so it is refused.
Status check_no_overlap(std::vector<ClaimedRange>* claimed) {
  std::sort(claimed->begin(), claimed->end(),
            [](const ClaimedRange& a, const ClaimedRange& b) { return a.offset < b.offset; });
  for (size_t i = 1; i < claimed->size(); ++i) {
    const ClaimedRange& a = (*claimed)[i - 1];
    const ClaimedRange& b = (*claimed)[i];
    if (b.offset < a.offset + a.size) {
      return invalid_model(b.what + ": data [" + std::to_string(b.offset) + ", +" + std::to_string(b.size) +
                           ") overlaps " + a.what + " [" + std::to_string(a.offset) + ", +" +
                           std::to_string(a.size) + ")");
    }
  }
  return Status::Ok();
}

bool allowed(uint32_t allow, DType t) {
  switch (t) {
    case DType::kF32:
      return allow & kAllowF32;
    case DType::kF16:
      return allow & kAllowF16;
    case DType::kI8:
      return allow & kAllowI8;
    case DType::kI4:
      return allow & kAllowI4;
    case DType::kU8:
      return allow & kAllowU8;
    case DType::kU16:
      return allow & kAllowU16;
    default:
      return false;
  }
}

Status check_quant(const Ctx& ctx, const fb::Quantization* q, TensorView* v, const std::string& what) {
  const bool quantized = v->dtype == DType::kI8 || v->dtype == DType::kI4;
  if (!quantized) {
    if (q != nullptr && q->granularity() != fb::QuantGranularity::None) {
      return invalid_model(what + ": " + dtype_name(v->dtype) + " tensor must not carry quantization scales");
    }
    return Status::Ok();
  }
  if (q == nullptr || q->granularity() == fb::QuantGranularity::None) {
    return invalid_model(what + ": " + std::string(dtype_name(v->dtype)) +
                         " tensor has no quantization scales");
  }
  const uint32_t rows = v->rows(), cols = v->cols();
  uint64_t count = 0;
  QuantView& qv = v->quant;
  switch (q->granularity()) {
    case fb::QuantGranularity::PerTensor:
      qv.granularity = QuantGranularity::kPerTensor;
      count = 1;
      break;
    case fb::QuantGranularity::PerRow:
      qv.granularity = QuantGranularity::kPerRow;
      count = rows;
      break;
    case fb::QuantGranularity::PerColumn:
      qv.granularity = QuantGranularity::kPerColumn;
      count = cols;
      break;
    case fb::QuantGranularity::PerGroup: {
      qv.granularity = QuantGranularity::kPerGroup;
      uint32_t g = q->group_size();
      if (g == 0 || g % 2 != 0 || cols % g != 0) {
        return invalid_model(what + ": group size " + std::to_string(g) + " must be even and divide " +
                             std::to_string(cols) + " columns");
      }
      qv.group_size = g;
      count = uint64_t{rows} * (cols / g);
      break;
    }
    default:
      return invalid_model(what + ": unknown quantization granularity");
  }
  if (q->scale_dtype() != fb::DType::F32 && q->scale_dtype() != fb::DType::F16) {
    return invalid_model(what + ": scales must be f32 or f16");
  }
  qv.scale_dtype = to_dtype(q->scale_dtype());
  uint64_t scale_bytes = dtype_storage_bytes(qv.scale_dtype, count);
  ORDINAL_RETURN_IF_ERROR(check_range(ctx, q->scales(), scale_bytes, what + " scales"));
  qv.scales = ctx.base + q->scales()->offset();
  qv.scale_count = count;
  for (uint64_t i = 0; i < count; ++i) {
    float s = scale_at(qv, i);
    if (!std::isfinite(s) || s < 0.0f) {
      return invalid_model(what + ": scale " + std::to_string(i) + " is not a finite non-negative number");
    }
  }
  if (q->zero_points() != nullptr) {
    if (v->dtype != DType::kI4 || qv.granularity != QuantGranularity::kPerGroup) {
      return invalid_model(what + ": zero points are only supported for int4 group quantization");
    }
    ORDINAL_RETURN_IF_ERROR(check_range(ctx, q->zero_points(), count, what + " zero points"));
    qv.zero_points = ctx.base + q->zero_points()->offset();
    for (uint64_t i = 0; i < count; ++i) {
      if (qv.zero_points[i] > 15) {
        return invalid_model(what + ": zero point " + std::to_string(i) + " exceeds the int4 range");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status check_tensor(const Ctx& ctx, const fb::Tensor* t, const std::string& role,
                    std::initializer_list<uint32_t> expected_shape, uint32_t allow, bool required,
                    TensorView* out) {
  *out = TensorView();
  if (t == nullptr) {
    if (required) return invalid_model("tensor '" + role + "' is missing");
    return Status::Ok();
  }
  const std::string what = "tensor '" + role + "' (" + t->name()->str() + ")";
  if (!known_dtype(t->dtype())) return invalid_model(what + ": unknown dtype");
  out->name = t->name()->str();
  out->dtype = to_dtype(t->dtype());
  const auto* shape = t->shape();
  if (shape->size() != expected_shape.size()) {
    return invalid_model(what + ": rank " + std::to_string(shape->size()) + ", expected shape " +
                         dims_string(expected_shape));
  }
  out->rank = shape->size();
  size_t i = 0;
  for (uint32_t d : expected_shape) {
    if (shape->Get(static_cast<uint32_t>(i)) != d) {
      std::string got = "[";
      for (uint32_t j = 0; j < shape->size(); ++j) got += (j ? "," : "") + std::to_string(shape->Get(j));
      return invalid_model(what + ": shape " + got + "] does not match expected " +
                           dims_string(expected_shape));
    }
    out->shape[i++] = d;
  }
  if (!allowed(allow, out->dtype)) {
    return invalid_model(what + ": dtype " + dtype_name(out->dtype) + " is not allowed for this tensor");
  }
  // Shapes were checked against config values bounded by kMax*, so these products cannot overflow.
  uint64_t expected_bytes = out->dtype == DType::kI4 ? uint64_t{out->rows()} * out->row_bytes()
                                                     : dtype_storage_bytes(out->dtype, out->elements());
  ORDINAL_RETURN_IF_ERROR(check_range(ctx, t->data(), expected_bytes, what));
  out->data = ctx.base + t->data()->offset();
  out->bytes = expected_bytes;
  // Symmetric int8 is [-127, 127] (every writer clamps there); -128 has no negation and breaks the
  // kernels' and the re-rotation's bounds.
  if (out->dtype == DType::kI8) {
    const void* at = std::memchr(out->data, 0x80, static_cast<size_t>(expected_bytes));
    if (at != nullptr) {
      return invalid_model(what + ": int8 value -128 at byte " +
                           std::to_string(static_cast<const uint8_t*>(at) - out->data) +
                           " (int8 tensors hold [-127, 127])");
    }
  }
  return check_quant(ctx, t->quant(), out, what);
}

uint64_t stored_bytes(const TensorView& v) {
  uint64_t b = v.bytes;
  if (v.quant.scales) b += dtype_storage_bytes(v.quant.scale_dtype, v.quant.scale_count);
  if (v.quant.zero_points) b += v.quant.scale_count;
  return b;
}

namespace {

Status check_config(const fb::Config* c, ModelConfig* cfg) {
  auto bad = [](const std::string& m) { return invalid_model("config: " + m); };
  if (static_cast<uint8_t>(c->architecture()) > static_cast<uint8_t>(fb::Architecture::GPT2)) {
    return bad("unknown architecture");
  }
  if (static_cast<uint8_t>(c->norm()) > static_cast<uint8_t>(fb::NormType::LayerNorm))
    return bad("unknown norm");
  if (static_cast<uint8_t>(c->activation()) > static_cast<uint8_t>(fb::Activation::GELU)) {
    return bad("unknown activation");
  }
  cfg->architecture = static_cast<Architecture>(c->architecture());
  cfg->norm = static_cast<NormType>(c->norm());
  cfg->activation = static_cast<Activation>(c->activation());
  cfg->dim = c->dim();
  cfg->hidden_dim = c->hidden_dim();
  cfg->n_layers = c->n_layers();
  cfg->n_heads = c->n_heads();
  cfg->n_kv_heads = c->n_kv_heads();
  cfg->head_dim = c->head_dim();
  cfg->vocab_size = c->vocab_size();
  cfg->max_positions = c->max_positions();
  cfg->norm_eps = c->norm_eps();
  cfg->tied_classifier = c->tied_classifier();
  cfg->attention_bias = c->attention_bias();
  cfg->mlp_bias = c->mlp_bias();
  auto in = [](uint32_t v, uint32_t lo, uint32_t hi) { return v >= lo && v <= hi; };
  if (!in(cfg->dim, 1, kMaxDim)) return bad("dim " + std::to_string(cfg->dim) + " out of range [1, 65536]");
  if (!in(cfg->hidden_dim, 1, 4 * kMaxDim))
    return bad("hidden_dim " + std::to_string(cfg->hidden_dim) + " out of range");
  if (!in(cfg->n_layers, 1, kMaxLayers))
    return bad("n_layers " + std::to_string(cfg->n_layers) + " out of range");
  if (!in(cfg->n_heads, 1, kMaxDim)) return bad("n_heads " + std::to_string(cfg->n_heads) + " out of range");
  if (!in(cfg->n_kv_heads, 1, cfg->n_heads) || cfg->n_heads % cfg->n_kv_heads != 0) {
    return bad("n_kv_heads " + std::to_string(cfg->n_kv_heads) + " must divide n_heads " +
               std::to_string(cfg->n_heads));
  }
  if (!in(cfg->head_dim, 1, kMaxDim) || uint64_t{cfg->head_dim} * cfg->n_heads != cfg->dim) {
    return bad("head_dim " + std::to_string(cfg->head_dim) + " x n_heads " + std::to_string(cfg->n_heads) +
               " must equal dim " + std::to_string(cfg->dim));
  }
  if (!in(cfg->vocab_size, 1, kMaxVocab))
    return bad("vocab_size " + std::to_string(cfg->vocab_size) + " out of range");
  if (!in(cfg->max_positions, 1, kMaxPositions)) {
    return bad("max_positions " + std::to_string(cfg->max_positions) + " out of range");
  }
  if (!std::isfinite(cfg->norm_eps) || cfg->norm_eps <= 0.0f || cfg->norm_eps > 1.0f) {
    return bad("norm_eps must be a finite number in (0, 1]");
  }
  return Status::Ok();
}

Status check_tokenizer(const fb::Tokenizer* t, uint32_t vocab, Tokenizer* out) {
  if (static_cast<uint8_t>(t->kind()) > static_cast<uint8_t>(fb::TokenizerKind::Gpt2ByteBpe)) {
    return invalid_model("tokenizer: unknown kind");
  }
  const auto* offsets = t->piece_offsets();
  const auto* pieces = t->pieces();
  const auto* scores = t->scores();
  if (offsets->size() != uint64_t{vocab} + 1) {
    return invalid_model("tokenizer: " + std::to_string(offsets->size()) +
                         " piece offsets, expected vocab_size+1 = " + std::to_string(uint64_t{vocab} + 1));
  }
  if (scores->size() != vocab) {
    return invalid_model("tokenizer: " + std::to_string(scores->size()) + " scores, expected " +
                         std::to_string(vocab));
  }
  Tokenizer::Spec spec;
  spec.pieces.reserve(vocab);
  spec.scores.reserve(vocab);
  for (uint32_t i = 0; i < vocab; ++i) {
    uint32_t a = offsets->Get(i), b = offsets->Get(i + 1);
    if (a > b || b > pieces->size()) {
      return invalid_model("tokenizer: piece " + std::to_string(i) + " has offsets [" + std::to_string(a) +
                           ", " + std::to_string(b) + ") outside the " + std::to_string(pieces->size()) +
                           "-byte piece table");
    }
    if (b - a > 256)
      return invalid_model("tokenizer: piece " + std::to_string(i) + " is longer than 256 bytes");
    spec.pieces.emplace_back(reinterpret_cast<const char*>(pieces->data()) + a, b - a);
    float s = scores->Get(i);
    if (!std::isfinite(s))
      return invalid_model("tokenizer: score of piece " + std::to_string(i) + " is not finite");
    spec.scores.push_back(s);
  }
  spec.bos_id = t->bos_id();
  spec.eos_id = t->eos_id();
  spec.unk_id = t->unk_id();
  spec.byte_fallback_base = t->byte_fallback_base();
  spec.add_dummy_prefix = t->add_dummy_prefix();
  spec.kind = static_cast<Tokenizer::Kind>(t->kind());
  if (const auto* merges = t->merges()) {
    // Pairs of ids; Tokenizer::create checks each id and that the merged piece exists.
    if (merges->size() % 2 != 0) return invalid_model("tokenizer: merges hold an odd number of ids");
    spec.merges.reserve(merges->size() / 2);
    for (uint32_t i = 0; i + 1 < merges->size(); i += 2) {
      const uint32_t l = merges->Get(i), r = merges->Get(i + 1);
      if (l >= vocab || r >= vocab) {
        return invalid_model("tokenizer: merge " + std::to_string(i / 2) + " names a token out of range");
      }
      spec.merges.emplace_back(static_cast<int32_t>(l), static_cast<int32_t>(r));
    }
  }
  ORDINAL_ASSIGN_OR_RETURN(*out, Tokenizer::create(std::move(spec)));
  return Status::Ok();
}

// The positional block belongs to its scheme's module (positional/scheme.hpp): it checks its own fields
// against the config and says which positions the model can address.
Status check_positional(const Ctx& ctx, const fb::Model* m, detail::ModelData* md) {
  const positional::SchemeModule* module = positional::find_scheme_for_block(m->positional_type());
  if (module == nullptr) return invalid_model("positional: unknown or missing scheme");
  md->positional = detail::PositionalParams();
  md->positional.scheme = module->scheme;
  ORDINAL_RETURN_IF_ERROR(module->load(ctx, *m, md->config, &md->positional));
  md->position_limit = module->position_limit(md->positional);
  return Status::Ok();
}

// What the linear kernels run (kernels/linear.hpp): int8 per row or per tensor (f32/f16 scales), or
// group-wise int8/int4 with f16 scales per group of a multiple of 32 columns (kernels/group_gemm.hpp:
// activations are quantized in blocks of 32, and the scales are read in place as f16). Group-wise int8 takes
// the whole
// [-128, 127] range (GGUF Q8_0 files may hold -128); int4 zero points were range-checked by check_quant.
Status check_linear_weight(const format::TensorView& v) {
  if (!v.present() || (v.dtype != DType::kI8 && v.dtype != DType::kI4)) return Status::Ok();
  const QuantGranularity g = v.quant.granularity;
  if (v.dtype == DType::kI8 && (g == QuantGranularity::kPerRow || g == QuantGranularity::kPerTensor)) {
    return Status::Ok();
  }
  if (g != QuantGranularity::kPerGroup) {
    return invalid_model("tensor '" + v.name + "': " +
                         (v.dtype == DType::kI8 ? "int8 weights need per-row, per-tensor or per-group scales"
                                                : "int4 weights need per-group scales"));
  }
  if (v.quant.scale_dtype != DType::kF16) {
    return invalid_model("tensor '" + v.name + "': group-wise weights need f16 scales");
  }
  if (v.quant.group_size % 32 != 0) {
    return invalid_model("tensor '" + v.name + "': group size " + std::to_string(v.quant.group_size) +
                         " of a linear weight must be a multiple of 32");
  }
  return Status::Ok();
}

Status check_layers(const Ctx& ctx, const fb::Model* m, detail::ModelData* md) {
  const ModelConfig& c = md->config;
  const auto* layers = m->layers();
  if (layers->size() != c.n_layers) {
    return invalid_model("model has " + std::to_string(layers->size()) + " layers, config says " +
                         std::to_string(c.n_layers));
  }
  const uint32_t q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;
  const bool layer_norm = c.norm == NormType::kLayerNorm;
  const bool swiglu = c.activation == Activation::kSwiGLU;
  md->layers.resize(c.n_layers);
  for (uint32_t l = 0; l < c.n_layers; ++l) {
    const fb::Layer* fl = layers->Get(l);
    detail::LayerWeights& w = md->layers[l];
    const std::string pre = "layers[" + std::to_string(l) + "].";
    ORDINAL_RETURN_IF_ERROR(
        check_tensor(ctx, fl->attn_norm(), pre + "attn_norm", {c.dim}, kFloatOnly, true, &w.attn_norm));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->attn_norm_bias(), pre + "attn_norm_bias", {c.dim},
                                         kFloatOnly, layer_norm, &w.attn_norm_bias));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->wq(), pre + "wq", {q_dim, c.dim}, kWeight, true, &w.wq));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->wk(), pre + "wk", {kv_dim, c.dim}, kWeight, true, &w.wk));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->wv(), pre + "wv", {kv_dim, c.dim}, kWeight, true, &w.wv));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->wo(), pre + "wo", {c.dim, q_dim}, kWeight, true, &w.wo));
    const bool ab = c.attention_bias;
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->bq(), pre + "bq", {q_dim}, kFloatOnly, ab, &w.bq));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->bk(), pre + "bk", {kv_dim}, kFloatOnly, ab, &w.bk));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->bv(), pre + "bv", {kv_dim}, kFloatOnly, ab, &w.bv));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->bo(), pre + "bo", {c.dim}, kFloatOnly, ab, &w.bo));
    ORDINAL_RETURN_IF_ERROR(
        check_tensor(ctx, fl->ffn_norm(), pre + "ffn_norm", {c.dim}, kFloatOnly, true, &w.ffn_norm));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->ffn_norm_bias(), pre + "ffn_norm_bias", {c.dim}, kFloatOnly,
                                         layer_norm, &w.ffn_norm_bias));
    ORDINAL_RETURN_IF_ERROR(
        check_tensor(ctx, fl->w1(), pre + "w1", {c.hidden_dim, c.dim}, kWeight, true, &w.w1));
    ORDINAL_RETURN_IF_ERROR(
        check_tensor(ctx, fl->w2(), pre + "w2", {c.dim, c.hidden_dim}, kWeight, true, &w.w2));
    ORDINAL_RETURN_IF_ERROR(
        check_tensor(ctx, fl->w3(), pre + "w3", {c.hidden_dim, c.dim}, kWeight, swiglu, &w.w3));
    const bool mb = c.mlp_bias;
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->b1(), pre + "b1", {c.hidden_dim}, kFloatOnly, mb, &w.b1));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->b2(), pre + "b2", {c.dim}, kFloatOnly, mb, &w.b2));
    // Optional tensors the config does not call for would be silently ignored: refuse them instead.
    if ((!ab && (fl->bq() || fl->bk() || fl->bv() || fl->bo())) || (!mb && (fl->b1() || fl->b2())) ||
        (!layer_norm && (fl->attn_norm_bias() || fl->ffn_norm_bias())) || (!swiglu && fl->w3())) {
      return invalid_model(pre + ": carries bias/w3 tensors that the config does not use");
    }
    for (const format::TensorView* v : {&w.wq, &w.wk, &w.wv, &w.wo, &w.w1, &w.w2, &w.w3}) {
      ORDINAL_RETURN_IF_ERROR(check_linear_weight(*v));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<detail::ModelData>> load_model_data(std::unique_ptr<MappedFile> file) {
  const uint8_t* base = file->data();
  const uint64_t size = file->size();
  const std::string origin = file->origin();
  auto fail = [&origin](const Status& s) { return Status(s.code(), origin + ": " + s.message()); };
  if (size < 8)
    return fail(invalid_model("file of " + std::to_string(size) + " bytes is too small to be a model"));
  if (reinterpret_cast<uintptr_t>(base) % kTensorAlignment != 0) {
    return fail(invalid_argument("model buffer must be 64-byte aligned"));
  }
  uint32_t prefix;
  std::memcpy(&prefix, base, 4);
  if (!flatbuffers::BufferHasIdentifier(base, fb::ModelIdentifier(), /*size_prefixed=*/true)) {
    return fail(invalid_model("not an Ordinal model (file identifier 'ORDL' missing)"));
  }
  if (prefix > size - 4) {
    return fail(invalid_model("header claims " + std::to_string(prefix) + " bytes but the file has " +
                              std::to_string(size) + " (truncated?)"));
  }
  flatbuffers::Verifier::Options opts;
  opts.max_depth = 64;
  opts.max_tables = 1u << 20;
  flatbuffers::Verifier verifier(base, static_cast<size_t>(prefix) + 4, opts);
  if (!fb::VerifySizePrefixedModelBuffer(verifier)) {
    return fail(invalid_model("FlatBuffers verification failed (corrupt or truncated header)"));
  }
  const fb::Model* m = fb::GetSizePrefixedModel(base);

  auto md = std::make_unique<detail::ModelData>();
  md->format_version = m->format_version();
  if (md->format_version == 0 || md->format_version > kFormatVersion) {
    return fail(invalid_model("format version " + std::to_string(md->format_version) +
                              " is not supported (this runtime reads 1.." + std::to_string(kFormatVersion) +
                              ")"));
  }
  std::vector<ClaimedRange> claimed;
  Ctx ctx{base, size, uint64_t{prefix} + 4, &claimed};
  Status st = check_config(m->config(), &md->config);
  if (!st.ok()) return fail(st);
  const ModelConfig& c = md->config;
  st = check_tensor(ctx, m->token_embedding(), "token_embedding", {c.vocab_size, c.dim}, kWeight, true,
                    &md->token_embedding);
  if (!st.ok()) return fail(st);
  // Embedding rows are dequantized one at a time (kernels::dequantize_row): int8 per row or per group, int4
  // per group (any even group dividing dim). A tied embedding is also the classifier: checked below.
  if (md->token_embedding.dtype == DType::kI8 &&
      md->token_embedding.quant.granularity != QuantGranularity::kPerRow &&
      md->token_embedding.quant.granularity != QuantGranularity::kPerGroup) {
    return fail(invalid_model("tensor 'token_embedding': int8 embeddings need per-row or per-group scales"));
  }
  if (md->token_embedding.dtype == DType::kI4 &&
      md->token_embedding.quant.granularity != QuantGranularity::kPerGroup) {
    return fail(invalid_model("tensor 'token_embedding': int4 embeddings need per-group scales"));
  }
  st = check_layers(ctx, m, md.get());
  if (!st.ok()) return fail(st);
  const bool layer_norm = c.norm == NormType::kLayerNorm;
  st = check_tensor(ctx, m->final_norm(), "final_norm", {c.dim}, kFloatOnly, true, &md->final_norm);
  if (!st.ok()) return fail(st);
  st = check_tensor(ctx, m->final_norm_bias(), "final_norm_bias", {c.dim}, kFloatOnly, layer_norm,
                    &md->final_norm_bias);
  if (!st.ok()) return fail(st);
  if (c.tied_classifier && m->classifier() != nullptr) {
    return fail(invalid_model("tensor 'classifier' present but config says the classifier is tied"));
  }
  st = check_tensor(ctx, m->classifier(), "classifier", {c.vocab_size, c.dim}, kWeight, !c.tied_classifier,
                    &md->classifier);
  if (!st.ok()) return fail(st);
  {
    const format::TensorView& cls = c.tied_classifier ? md->token_embedding : md->classifier;
    if (cls.present() && cls.dtype == DType::kI8 && cls.quant.granularity == QuantGranularity::kPerTensor) {
      return fail(
          invalid_model("tensor '" + cls.name + "': an int8 classifier needs per-row or per-group scales"));
    }
    st = check_linear_weight(cls);
    if (!st.ok())
      return fail(Status(st.code(), st.message() + (c.tied_classifier ? " (tied classifier)" : "")));
  }
  st = check_tokenizer(m->tokenizer(), c.vocab_size, &md->tokenizer);
  if (!st.ok()) return fail(st);
  st = check_positional(ctx, m, md.get());
  if (!st.ok()) return fail(st);
  st = check_no_overlap(&claimed);
  if (!st.ok()) return fail(st);
  if (m->task_spec()) {
    md->task_spec = m->task_spec()->str();
    st = check_json_limits(md->task_spec, kMaxTaskSpecBytes, kMaxJsonDepth, "task spec");
    if (!st.ok()) return fail(invalid_model(st.message()));
  }
  if (m->metadata()) {
    if (m->metadata()->size() > kMaxMetadataEntries) {
      return fail(invalid_model("metadata: " + std::to_string(m->metadata()->size()) +
                                " entries, over the limit of " + std::to_string(kMaxMetadataEntries)));
    }
    for (const auto* kv : *m->metadata()) {
      std::string key = kv->key()->str(), value = kv->value() ? kv->value()->str() : "";
      if (key.size() > kMaxMetadataKeyBytes || value.size() > kMaxMetadataValueBytes) {
        return fail(invalid_model("metadata entry " + std::to_string(md->metadata.size()) +
                                  ": key or value over the limit of " + std::to_string(kMaxMetadataKeyBytes) +
                                  " / " + std::to_string(kMaxMetadataValueBytes) + " bytes"));
      }
      // Values such as ordinal_positional are JSON that tools parse.
      st = check_json_limits(value, kMaxMetadataValueBytes, kMaxJsonDepth,
                             "metadata entry " + std::to_string(md->metadata.size()));
      if (!st.ok()) return fail(invalid_model(st.message()));
      md->metadata.emplace_back(std::move(key), std::move(value));
    }
  }
  md->file = std::move(file);
  return md;
}

}  // namespace ordinal::format
