// Hostile-input model loader. Order of checks: size prefix -> FlatBuffers verifier (structure, bounds of
// every table/vector/string) -> config sanity -> every tensor (shape vs config, dtype allowed for its
// role, data range inside the file and after the FlatBuffer, alignment, exact byte size, quantization
// parameters) -> tokenizer -> positional block. The first failure is returned with the field's name.
// The checks live by concern: tensor_checks.cpp (container), config_checks.cpp, layer_checks.cpp
// (per-architecture weights), tokenizer_checks.cpp, positional_checks.cpp; this file orders them.
#include "format/loader.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <vector>

#include "format/json_limits.hpp"
#include "format/load_checks.hpp"
#include "format/model_checks.hpp"
#include "format/schema_enums.hpp"
#include "ordinal_generated.h"

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
