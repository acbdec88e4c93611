// Serialisation of a ModelSpec. Two passes: the FlatBuffer is built with every scalar written
// (force_defaults), so its size does not depend on the tensor offsets it records; the first pass
// measures it, the second writes offsets into the data segment that follows it.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "format/loader.hpp"
#include "format/schema_enums.hpp"
#include "introspect/model_introspection.hpp"
#include "modelio/host_scheme.hpp"
#include "modelio/model_spec.hpp"
#include "modelio/tensor_writer.hpp"
#include "numerics/half.hpp"
#include "ordinal_generated.h"

namespace ordinal::modelio {

namespace fb = ::ordinal::schema;

uint64_t HostTensor::elements() const {
  uint64_t n = 1;
  for (uint32_t d : shape) n *= d;
  return shape.empty() ? 0 : n;
}

HostTensor HostTensor::f32(std::string name, std::vector<uint32_t> shape, const float* values) {
  HostTensor t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.dtype = format::DType::kF32;
  t.data.resize(t.elements() * 4);
  if (!t.data.empty()) std::memcpy(t.data.data(), values, t.data.size());
  return t;
}

HostTensor HostTensor::from_view(const format::TensorView& v) {
  HostTensor t;
  if (!v.present()) return t;
  t.name = v.name;
  t.dtype = v.dtype;
  t.shape.assign(v.shape, v.shape + v.rank);
  t.data.assign(v.data, v.data + v.bytes);
  t.granularity = v.quant.granularity;
  t.group_size = v.quant.group_size;
  t.scale_dtype = v.quant.scale_dtype;
  if (v.quant.scales) {
    t.scales.assign(v.quant.scales,
                    v.quant.scales + format::dtype_storage_bytes(v.quant.scale_dtype, v.quant.scale_count));
  }
  if (v.quant.zero_points)
    t.zero_points.assign(v.quant.zero_points, v.quant.zero_points + v.quant.scale_count);
  return t;
}

std::vector<float> HostTensor::to_f32() const {
  const uint64_t n = elements();
  std::vector<float> out(n, 0.0f);
  const uint32_t rows = shape.empty() ? 0 : shape[0];
  const uint64_t cols = rows ? n / rows : 0;
  auto scale = [this](uint64_t i) {
    if (scale_dtype == format::DType::kF16) {
      uint16_t h;
      std::memcpy(&h, scales.data() + 2 * i, 2);
      return numerics::half_to_float(h);
    }
    float f;
    std::memcpy(&f, scales.data() + 4 * i, 4);
    return f;
  };
  auto scale_index = [&](uint64_t r, uint64_t c) -> uint64_t {
    switch (granularity) {
      case format::QuantGranularity::kPerRow:
        return r;
      case format::QuantGranularity::kPerColumn:
        return c;
      case format::QuantGranularity::kPerGroup:
        return r * (cols / group_size) + c / group_size;
      default:
        return 0;
    }
  };
  for (uint64_t r = 0; r < rows; ++r) {
    for (uint64_t c = 0; c < cols; ++c) {
      const uint64_t i = r * cols + c;
      switch (dtype) {
        case format::DType::kF32:
          std::memcpy(&out[i], data.data() + 4 * i, 4);
          break;
        case format::DType::kF16: {
          uint16_t h;
          std::memcpy(&h, data.data() + 2 * i, 2);
          out[i] = numerics::half_to_float(h);
          break;
        }
        case format::DType::kI8:
          out[i] = static_cast<float>(static_cast<int8_t>(data[i])) * scale(scale_index(r, c));
          break;
        case format::DType::kI4: {
          const uint64_t row_bytes = (cols + 1) / 2;
          const uint8_t byte = data[r * row_bytes + c / 2];
          const uint8_t nib = (c % 2 == 0) ? (byte & 0x0F) : (byte >> 4);
          const uint64_t si = scale_index(r, c);
          int q = zero_points.empty() ? ((nib ^ 8) - 8) : static_cast<int>(nib) - zero_points[si];
          out[i] = static_cast<float>(q) * scale(si);
          break;
        }
        case format::DType::kU8:
          out[i] = data[i];
          break;
        case format::DType::kU16:
          out[i] = static_cast<float>(data[2 * i] | (data[2 * i + 1] << 8));
          break;
        default:
          break;
      }
    }
  }
  return out;
}

uint64_t HostPositional::bytes() const {
  return table.total_bytes() + codebook.total_bytes() + indices.total_bytes() + low_a.total_bytes() +
         low_b.total_bytes() + frequencies.size() * 8 + slopes_q32.size() * 4;
}

namespace {

constexpr uint64_t kAlign = format::kTensorAlignment;
uint64_t align_up(uint64_t v) {
  return (v + kAlign - 1) / kAlign * kAlign;
}

fb::DType to_fb(format::DType t) {
  return static_cast<fb::DType>(static_cast<uint8_t>(t));
}

}  // namespace

uint64_t TensorWriter::place(const std::vector<uint8_t>& bytes) {
  const uint64_t off = align_up(cursor_);
  chunks_.push_back({off, &bytes});
  cursor_ = off + bytes.size();
  return off;
}

flatbuffers::Offset<fb::Tensor> TensorWriter::write(flatbuffers::FlatBufferBuilder& b, const HostTensor& t) {
  if (!t.present()) return 0;
  auto name = b.CreateString(t.name);
  auto shape = b.CreateVector(t.shape);
  uint64_t off = place(t.data);
  auto data = fb::CreateTensorData(b, off, t.data.size());
  flatbuffers::Offset<fb::Quantization> quant = 0;
  if (t.granularity != format::QuantGranularity::kNone) {
    uint64_t soff = place(t.scales);
    auto scales = fb::CreateTensorData(b, soff, t.scales.size());
    flatbuffers::Offset<fb::TensorData> zps = 0;
    if (!t.zero_points.empty()) {
      uint64_t zoff = place(t.zero_points);
      zps = fb::CreateTensorData(b, zoff, t.zero_points.size());
    }
    quant = fb::CreateQuantization(b, static_cast<fb::QuantGranularity>(t.granularity), t.group_size,
                                   to_fb(t.scale_dtype), scales, zps);
  }
  return fb::CreateTensor(b, name, to_fb(t.dtype), shape, data, quant);
}

namespace {

// Builds the FlatBuffer with the data segment starting at `data_start`; returns the finished builder.
Status build(const ModelSpec& s, uint64_t data_start, flatbuffers::FlatBufferBuilder& b,
             TensorWriter& layout) {
  b.ForceDefaults(true);
  const ModelConfig& c = s.config;
  auto config = fb::CreateConfig(
      b, static_cast<fb::Architecture>(c.architecture), c.dim, c.hidden_dim, c.n_layers, c.n_heads,
      c.n_kv_heads, c.head_dim, c.vocab_size, c.max_positions, static_cast<fb::NormType>(c.norm), c.norm_eps,
      static_cast<fb::Activation>(c.activation), c.tied_classifier, c.attention_bias, c.mlp_bias);
  auto emb = layout.write(b, s.token_embedding);
  const HostSchemeModule* scheme = find_host_scheme(s.positional.scheme);
  if (scheme == nullptr) return invalid_argument("model writer: positional scheme has no host module");
  const PositionalBlock positional = scheme->write(b, layout, s.positional);
  std::vector<flatbuffers::Offset<fb::Layer>> layers;
  for (const HostLayer& l : s.layers) {
    auto an = layout.write(b, l.attn_norm);
    auto anb = layout.write(b, l.attn_norm_bias);
    auto wq = layout.write(b, l.wq);
    auto wk = layout.write(b, l.wk);
    auto wv = layout.write(b, l.wv);
    auto wo = layout.write(b, l.wo);
    auto bq = layout.write(b, l.bq);
    auto bk = layout.write(b, l.bk);
    auto bv = layout.write(b, l.bv);
    auto bo = layout.write(b, l.bo);
    auto fn = layout.write(b, l.ffn_norm);
    auto fnb = layout.write(b, l.ffn_norm_bias);
    auto w1 = layout.write(b, l.w1);
    auto w2 = layout.write(b, l.w2);
    auto w3 = layout.write(b, l.w3);
    auto b1 = layout.write(b, l.b1);
    auto b2 = layout.write(b, l.b2);
    layers.push_back(
        fb::CreateLayer(b, an, anb, wq, wk, wv, wo, bq, bk, bv, bo, fn, fnb, w1, w2, w3, b1, b2));
  }
  auto layers_vec = b.CreateVector(layers);
  auto fnorm = layout.write(b, s.final_norm);
  auto fnorm_b = layout.write(b, s.final_norm_bias);
  auto cls = layout.write(b, s.classifier);
  // Tokenizer: pieces concatenated + offsets.
  std::vector<uint8_t> pieces;
  std::vector<uint32_t> offsets;
  offsets.reserve(s.tokenizer.pieces.size() + 1);
  for (const std::string& p : s.tokenizer.pieces) {
    offsets.push_back(static_cast<uint32_t>(pieces.size()));
    pieces.insert(pieces.end(), p.begin(), p.end());
  }
  offsets.push_back(static_cast<uint32_t>(pieces.size()));
  // GPT-2 byte-level BPE merges as (left, right) id pairs; absent for the llama2.c kind.
  flatbuffers::Offset<flatbuffers::Vector<uint32_t>> merges = 0;
  if (!s.tokenizer.merges.empty()) {
    std::vector<uint32_t> ids;
    ids.reserve(s.tokenizer.merges.size() * 2);
    for (const auto& [l, r] : s.tokenizer.merges) {
      ids.push_back(static_cast<uint32_t>(l));
      ids.push_back(static_cast<uint32_t>(r));
    }
    merges = b.CreateVector(ids);
  }
  auto tok = fb::CreateTokenizer(b, static_cast<fb::TokenizerKind>(s.tokenizer.kind), b.CreateVector(pieces),
                                 b.CreateVector(offsets), b.CreateVector(s.tokenizer.scores),
                                 s.tokenizer.bos_id, s.tokenizer.eos_id, s.tokenizer.unk_id,
                                 s.tokenizer.byte_fallback_base, s.tokenizer.add_dummy_prefix, merges);
  std::vector<flatbuffers::Offset<fb::KeyValue>> meta;
  for (const auto& kv : s.metadata)
    meta.push_back(fb::CreateKeyValue(b, b.CreateString(kv.first), b.CreateString(kv.second)));
  auto meta_vec = b.CreateVector(meta);
  auto task = s.task_spec.empty() ? 0 : b.CreateString(s.task_spec);
  auto model = fb::CreateModel(b, format::kFormatVersion, config, positional.first, positional.second, emb,
                               layers_vec, fnorm, fnorm_b, cls, tok, meta_vec, task);
  fb::FinishSizePrefixedModelBuffer(b, model);
  return Status::Ok();
}

}  // namespace

Result<std::vector<uint8_t>> serialize_model(const ModelSpec& spec) {
  uint64_t data_start = 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    flatbuffers::FlatBufferBuilder b(1 << 16);
    TensorWriter layout(data_start);
    ORDINAL_RETURN_IF_ERROR(build(spec, data_start, b, layout));
    const uint64_t header = b.GetSize();
    if (align_up(header) <= data_start) {
      std::vector<uint8_t> out(layout.end(), 0);
      std::memcpy(out.data(), b.GetBufferPointer(), header);
      for (const auto& [off, bytes] : layout.chunks()) {
        if (!bytes->empty()) std::memcpy(out.data() + off, bytes->data(), bytes->size());
      }
      if (out.size() < align_up(header)) out.resize(align_up(header));
      return out;
    }
    data_start = align_up(header);
  }
  return internal_error("model writer: FlatBuffer size did not converge");
}

Status write_model(const ModelSpec& spec, const std::string& path) {
  ORDINAL_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, serialize_model(spec));
  // O_NONBLOCK: a FIFO without a reader is refused (ENXIO) instead of blocking the tool forever; then the
  // descriptor goes back to blocking writes.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0) {
    const int err = errno;
    return io_error("cannot create '" + path + "': " +
                    (err == ENXIO ? std::string("a FIFO with no reader") : std::string(std::strerror(err))));
  }
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = ::close(fd) == 0 && done == bytes.size();
  if (!ok) return io_error("cannot write '" + path + "'");
  return Status::Ok();
}

ModelSpec spec_from_model(const Model& model) {
  const detail::ModelData& m = introspect::contents(model);
  ModelSpec s;
  s.config = m.config;
  s.token_embedding = HostTensor::from_view(m.token_embedding);
  for (const detail::LayerWeights& w : m.layers) {
    HostLayer l;
    l.attn_norm = HostTensor::from_view(w.attn_norm);
    l.attn_norm_bias = HostTensor::from_view(w.attn_norm_bias);
    l.wq = HostTensor::from_view(w.wq);
    l.wk = HostTensor::from_view(w.wk);
    l.wv = HostTensor::from_view(w.wv);
    l.wo = HostTensor::from_view(w.wo);
    l.bq = HostTensor::from_view(w.bq);
    l.bk = HostTensor::from_view(w.bk);
    l.bv = HostTensor::from_view(w.bv);
    l.bo = HostTensor::from_view(w.bo);
    l.ffn_norm = HostTensor::from_view(w.ffn_norm);
    l.ffn_norm_bias = HostTensor::from_view(w.ffn_norm_bias);
    l.w1 = HostTensor::from_view(w.w1);
    l.w2 = HostTensor::from_view(w.w2);
    l.w3 = HostTensor::from_view(w.w3);
    l.b1 = HostTensor::from_view(w.b1);
    l.b2 = HostTensor::from_view(w.b2);
    s.layers.push_back(std::move(l));
  }
  s.final_norm = HostTensor::from_view(m.final_norm);
  s.final_norm_bias = HostTensor::from_view(m.final_norm_bias);
  s.classifier = HostTensor::from_view(m.classifier);
  const detail::PositionalParams& p = m.positional;
  HostPositional& hp = s.positional;
  static_cast<detail::PositionalSettings&>(hp) = p;
  hp.table = HostTensor::from_view(p.table);
  hp.codebook = HostTensor::from_view(p.codebook);
  hp.indices = HostTensor::from_view(p.indices);
  hp.low_a = HostTensor::from_view(p.low_a);
  hp.low_b = HostTensor::from_view(p.low_b);
  hp.positions = p.stored_positions;
  if (p.frequencies) hp.frequencies.assign(p.frequencies, p.frequencies + p.frequency_count);
  if (p.slopes_q32) hp.slopes_q32.assign(p.slopes_q32, p.slopes_q32 + m.config.n_heads);
  s.tokenizer = m.tokenizer.spec();
  s.metadata = m.metadata;
  s.task_spec = m.task_spec;
  return s;
}

}  // namespace ordinal::modelio
