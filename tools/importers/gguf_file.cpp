#include "importers/gguf_file.hpp"

#include <cstring>
#include <limits>
#include <set>
#include <utility>

namespace ordinal::importers::gguf {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kMaxDims = 4;         // GGML_MAX_DIMS
constexpr uint64_t kMaxAlignment = 1u << 16;
constexpr uint64_t kMaxExactDouble = 1ull << 53;

// Reads little-endian fields from [0, size) and never past it; the first failure sticks.
class Cursor {
 public:
  Cursor(const uint8_t* p, uint64_t size, const std::string& what) : p_(p), size_(size), what_(what) {}

  uint64_t at() const { return at_; }
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  void fail(const std::string& message) {
    if (status_.ok()) status_ = invalid_model(what_ + ": " + message);
  }

  bool bytes(void* dst, uint64_t n, const char* field) {
    if (!ok()) return false;
    if (size_ - at_ < n) {
      fail(std::string("truncated: ") + field + " needs " + std::to_string(n) + " bytes at offset " +
           std::to_string(at_) + ", the file has " + std::to_string(size_ - at_) + " left");
      return false;
    }
    std::memcpy(dst, p_ + at_, n);
    at_ += n;
    return true;
  }
  uint32_t u32(const char* field) {
    uint32_t v = 0;
    bytes(&v, 4, field);
    return v;
  }
  uint64_t u64(const char* field) {
    uint64_t v = 0;
    bytes(&v, 8, field);
    return v;
  }
  // u64 length + bytes, length bounded by `max`.
  std::string string(const char* field, uint64_t max) {
    const uint64_t n = u64(field);
    if (!ok()) return {};
    if (n > max) {
      fail(std::string(field) + " of " + std::to_string(n) + " bytes at offset " + std::to_string(at_ - 8) +
           " exceeds the limit of " + std::to_string(max));
      return {};
    }
    if (size_ - at_ < n) {
      fail(std::string("truncated: ") + field + " of " + std::to_string(n) + " bytes at offset " +
           std::to_string(at_) + ", the file has " + std::to_string(size_ - at_) + " left");
      return {};
    }
    std::string s(reinterpret_cast<const char*>(p_ + at_), static_cast<size_t>(n));
    at_ += n;
    return s;
  }

 private:
  const uint8_t* p_;
  uint64_t size_;
  uint64_t at_ = 0;
  const std::string& what_;
  Status status_;
};

uint64_t scalar_bytes(ValueType t) {
  switch (t) {
    case ValueType::kU8:
    case ValueType::kI8:
    case ValueType::kBool:
      return 1;
    case ValueType::kU16:
    case ValueType::kI16:
      return 2;
    case ValueType::kU32:
    case ValueType::kI32:
    case ValueType::kF32:
      return 4;
    case ValueType::kU64:
    case ValueType::kI64:
    case ValueType::kF64:
      return 8;
    default:
      return 0;
  }
}

// Decodes one fixed-size scalar into `v` (type already set).
void read_scalar(Cursor& c, ValueType t, Value* v, const std::string& key) {
  uint8_t raw[8] = {};
  if (!c.bytes(raw, scalar_bytes(t), "metadata value")) return;
  auto get = [&raw](auto zero) {
    decltype(zero) x;
    std::memcpy(&x, raw, sizeof x);
    return x;
  };
  switch (t) {
    case ValueType::kU8:
      v->u = get(uint8_t{});
      break;
    case ValueType::kBool: {
      const uint8_t b = get(uint8_t{});
      if (b > 1) c.fail("key '" + key + "': bool value " + std::to_string(b) + " is not 0 or 1");
      v->u = b;
      break;
    }
    case ValueType::kI8:
      v->i = get(int8_t{});
      break;
    case ValueType::kU16:
      v->u = get(uint16_t{});
      break;
    case ValueType::kI16:
      v->i = get(int16_t{});
      break;
    case ValueType::kU32:
      v->u = get(uint32_t{});
      break;
    case ValueType::kI32:
      v->i = get(int32_t{});
      break;
    case ValueType::kU64:
      v->u = get(uint64_t{});
      break;
    case ValueType::kI64:
      v->i = get(int64_t{});
      break;
    case ValueType::kF32:
      v->f = get(float{});
      break;
    case ValueType::kF64:
      v->f = get(double{});
      break;
    default:
      break;
  }
}

bool is_signed(ValueType t) {
  return t == ValueType::kI8 || t == ValueType::kI16 || t == ValueType::kI32 || t == ValueType::kI64;
}

bool known_value_type(uint32_t t) {
  return t <= static_cast<uint32_t>(ValueType::kF64);
}

}  // namespace

const char* value_type_name(ValueType t) {
  static const char* const kNames[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                       "bool", "string", "array", "u64", "i64", "f64"};
  const uint32_t i = static_cast<uint32_t>(t);
  return i < sizeof kNames / sizeof kNames[0] ? kNames[i] : "unknown";
}

bool Value::is_integer() const {
  return type != ValueType::kF32 && type != ValueType::kF64 && type != ValueType::kString &&
         type != ValueType::kArray && type != ValueType::kBool;
}

std::string tensor_type_name(uint32_t type) {
  static const char* const kNames[] = {"F32",
                                       "F16",
                                       "Q4_0",
                                       "Q4_1",
                                       "type 4 (Q4_2, removed)",
                                       "type 5 (Q4_3, removed)",
                                       "Q5_0",
                                       "Q5_1",
                                       "Q8_0",
                                       "Q8_1",
                                       "Q2_K",
                                       "Q3_K",
                                       "Q4_K",
                                       "Q5_K",
                                       "Q6_K",
                                       "Q8_K",
                                       "IQ2_XXS",
                                       "IQ2_XS",
                                       "IQ3_XXS",
                                       "IQ1_S",
                                       "IQ4_NL",
                                       "IQ3_S",
                                       "IQ2_S",
                                       "IQ4_XS",
                                       "I8",
                                       "I16",
                                       "I32",
                                       "I64",
                                       "F64",
                                       "IQ1_M",
                                       "BF16"};
  if (type < sizeof kNames / sizeof kNames[0]) return kNames[type];
  return "type " + std::to_string(type);
}

bool tensor_type_layout(uint32_t type, uint32_t* block_elements, uint32_t* block_bytes) {
  uint32_t n = 0, b = 0;
  switch (static_cast<TensorType>(type)) {
    case TensorType::kF32:
      n = 1, b = 4;
      break;
    case TensorType::kF16:
    case TensorType::kBF16:
      n = 1, b = 2;
      break;
    case TensorType::kQ4_0:
      n = 32, b = 18;
      break;
    case TensorType::kQ4_1:
      n = 32, b = 20;
      break;
    case TensorType::kQ5_0:
      n = 32, b = 22;
      break;
    case TensorType::kQ5_1:
      n = 32, b = 24;
      break;
    case TensorType::kQ8_0:
      n = 32, b = 34;
      break;
    case TensorType::kQ4_K:
      n = 256, b = 144;
      break;
    case TensorType::kQ5_K:
      n = 256, b = 176;
      break;
    case TensorType::kQ6_K:
      n = 256, b = 210;
      break;
    default:
      return false;
  }
  *block_elements = n;
  *block_bytes = b;
  return true;
}

uint64_t TensorInfo::elements() const {
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;  // parse() checked that the product does not overflow
  return n;
}

const Value* File::find(const std::string& key) const {
  auto it = kv.find(key);
  return it == kv.end() ? nullptr : &it->second;
}

const TensorInfo* File::tensor(const std::string& name) const {
  for (const TensorInfo& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

Result<File> parse(const uint8_t* bytes, uint64_t size, const std::string& what, const Limits& limits) {
  Cursor c(bytes, size, what);
  File f;
  f.base = bytes;
  f.size = size;
  const uint32_t magic = c.u32("magic");
  if (!c.ok()) return c.status();
  if (magic != kMagic) return invalid_model(what + ": not a GGUF file (bad magic)");
  f.version = c.u32("version");
  if (!c.ok()) return c.status();
  if (f.version != 2 && f.version != 3) {
    return invalid_model(what + ": GGUF version " + std::to_string(f.version) + " is not supported (2, 3)");
  }
  const uint64_t n_tensors = c.u64("tensor_count");
  const uint64_t n_kv = c.u64("kv_count");
  if (!c.ok()) return c.status();
  if (n_tensors > limits.max_tensors) {
    return invalid_model(what + ": tensor_count " + std::to_string(n_tensors) + " exceeds the limit of " +
                         std::to_string(limits.max_tensors));
  }
  if (n_kv > limits.max_kv) {
    return invalid_model(what + ": kv_count " + std::to_string(n_kv) + " exceeds the limit of " +
                         std::to_string(limits.max_kv));
  }

  uint64_t metadata_bytes = 0;  // decoded bytes held in memory, bounded by limits.max_metadata_bytes
  auto charge = [&](uint64_t n, const std::string& key) {
    metadata_bytes += n;
    if (metadata_bytes > limits.max_metadata_bytes) {
      c.fail("metadata exceeds " + std::to_string(limits.max_metadata_bytes) + " bytes at key '" + key + "'");
      return false;
    }
    return true;
  };
  for (uint64_t k = 0; k < n_kv && c.ok(); ++k) {
    std::string key = c.string("metadata key", limits.max_string_bytes);
    if (!c.ok()) break;
    if (key.empty()) {
      c.fail("metadata key " + std::to_string(k) + " is empty");
      break;
    }
    if (f.kv.count(key)) {
      c.fail("metadata key '" + key + "' appears twice");
      break;
    }
    const uint32_t type = c.u32("metadata value type");
    if (!c.ok()) break;
    if (!known_value_type(type)) {
      c.fail("key '" + key + "': unknown value type " + std::to_string(type));
      break;
    }
    Value v;
    v.type = static_cast<ValueType>(type);
    if (v.type == ValueType::kString) {
      v.s = c.string("string value", limits.max_string_bytes);
      charge(v.s.size(), key);
    } else if (v.type == ValueType::kArray) {
      const uint32_t et = c.u32("array element type");
      const uint64_t n = c.u64("array length");
      if (!c.ok()) break;
      if (!known_value_type(et)) {
        c.fail("key '" + key + "': unknown array element type " + std::to_string(et));
        break;
      }
      v.element_type = static_cast<ValueType>(et);
      if (v.element_type == ValueType::kArray) {
        c.fail("key '" + key + "': arrays of arrays are not supported");
        break;
      }
      if (n > limits.max_array_elements) {
        c.fail("key '" + key + "': array of " + std::to_string(n) + " elements exceeds the limit of " +
               std::to_string(limits.max_array_elements));
        break;
      }
      if (v.element_type == ValueType::kString) {
        // Each string needs at least its 8-byte length: refuse counts the file cannot hold before reserving.
        if (n > (size - c.at()) / 8) {
          c.fail("truncated: key '" + key + "' declares " + std::to_string(n) + " strings");
          break;
        }
        if (!charge(n * sizeof(std::string), key)) break;
        v.strings.reserve(static_cast<size_t>(n));
        for (uint64_t i = 0; i < n && c.ok(); ++i) {
          v.strings.push_back(c.string("array string", limits.max_string_bytes));
          charge(v.strings.back().size(), key);
        }
      } else {
        const uint64_t esize = scalar_bytes(v.element_type);
        if (n > (size - c.at()) / esize) {
          c.fail("truncated: key '" + key + "' declares " + std::to_string(n) + " " +
                 value_type_name(v.element_type) + " elements, the file has " +
                 std::to_string(size - c.at()) + " bytes left");
          break;
        }
        if (!charge(n * sizeof(double), key)) break;
        v.numbers.reserve(static_cast<size_t>(n));
        for (uint64_t i = 0; i < n && c.ok(); ++i) {
          Value e;
          e.type = v.element_type;
          read_scalar(c, e.type, &e, key);
          if (e.is_float()) {
            v.numbers.push_back(e.f);
          } else if (is_signed(e.type)) {
            if (e.i > static_cast<int64_t>(kMaxExactDouble) || e.i < -static_cast<int64_t>(kMaxExactDouble)) {
              c.fail("key '" + key + "': array element " + std::to_string(i) + " is out of range");
            }
            v.numbers.push_back(static_cast<double>(e.i));
          } else {
            if (e.u > kMaxExactDouble) {
              c.fail("key '" + key + "': array element " + std::to_string(i) + " is out of range");
            }
            v.numbers.push_back(static_cast<double>(e.u));
          }
        }
      }
    } else {
      read_scalar(c, v.type, &v, key);
    }
    if (!c.ok()) break;
    f.kv.emplace(std::move(key), std::move(v));
  }
  if (!c.ok()) return c.status();

  if (const Value* a = f.find("general.alignment")) {
    if (a->type != ValueType::kU32) {
      return invalid_model(what + ": general.alignment has type " + value_type_name(a->type) +
                           ", expected u32");
    }
    if (a->u == 0 || (a->u & (a->u - 1)) != 0 || a->u > kMaxAlignment) {
      return invalid_model(what + ": general.alignment " + std::to_string(a->u) +
                           " is not a power of two in [1, 65536]");
    }
    f.alignment = a->u;
  }

  std::set<std::string> names;
  // Each tensor info takes at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes.
  if (n_tensors > (size - c.at()) / 24) {
    return invalid_model(what + ": truncated: tensor_count " + std::to_string(n_tensors) +
                         " does not fit in the file");
  }
  f.tensors.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorInfo t;
    t.name = c.string("tensor name", limits.max_string_bytes);
    const uint32_t n_dims = c.u32("tensor n_dims");
    if (!c.ok()) return c.status();
    const std::string tw = "tensor '" + t.name + "'";
    if (t.name.empty()) return invalid_model(what + ": tensor " + std::to_string(k) + " has an empty name");
    if (!names.insert(t.name).second) return invalid_model(what + ": " + tw + " appears twice");
    if (n_dims == 0 || n_dims > kMaxDims) {
      return invalid_model(what + ": " + tw + ": n_dims " + std::to_string(n_dims) + " is not in [1, 4]");
    }
    uint64_t elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t ne = c.u64("tensor dimension");
      if (!c.ok()) return c.status();
      if (ne == 0 || ne > std::numeric_limits<uint32_t>::max()) {
        return invalid_model(what + ": " + tw + ": dimension " + std::to_string(d) + " = " +
                             std::to_string(ne) + " is not in [1, 2^32)");
      }
      if (elements > std::numeric_limits<uint64_t>::max() / 256 / ne) {
        return invalid_model(what + ": " + tw + ": element count overflows");
      }
      elements *= ne;
      t.ne.push_back(ne);
    }
    t.type = c.u32("tensor type");
    t.offset = c.u64("tensor offset");
    if (!c.ok()) return c.status();
    uint32_t block_elements = 0, block_bytes = 0;
    if (!tensor_type_layout(t.type, &block_elements, &block_bytes)) {
      return invalid_model(
          what + ": " + tw + ": tensor type " + tensor_type_name(t.type) +
          " is not supported (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)");
    }
    if (t.ne[0] % block_elements != 0) {
      return invalid_model(what + ": " + tw + ": row length " + std::to_string(t.ne[0]) +
                           " is not a multiple of " + tensor_type_name(t.type) + "'s block of " +
                           std::to_string(block_elements));
    }
    t.bytes = elements / block_elements * block_bytes;
    if (t.offset % f.alignment != 0) {
      return invalid_model(what + ": " + tw + ": offset " + std::to_string(t.offset) +
                           " is not a multiple of the alignment " + std::to_string(f.alignment));
    }
    f.tensors.push_back(std::move(t));
  }
  // The data section starts at the next multiple of the alignment.
  const uint64_t end_of_infos = c.at();
  f.data_start = (end_of_infos + f.alignment - 1) / f.alignment * f.alignment;
  if (f.data_start > size) {
    return invalid_model(what + ": truncated: the data section would start at " +
                         std::to_string(f.data_start) + ", past the end of the file (" +
                         std::to_string(size) + " bytes)");
  }
  const uint64_t data_size = size - f.data_start;
  // Extents inside the data section, and no two tensors sharing bytes.
  std::map<uint64_t, const TensorInfo*> by_offset;
  for (const TensorInfo& t : f.tensors) {
    if (t.offset > data_size || t.bytes > data_size - t.offset) {
      return invalid_model(what + ": tensor '" + t.name + "': bytes [" + std::to_string(t.offset) + ", " +
                           std::to_string(t.offset) + " + " + std::to_string(t.bytes) +
                           ") lie outside the data section of " + std::to_string(data_size) +
                           " bytes (truncated file?)");
    }
    auto [it, inserted] = by_offset.emplace(t.offset, &t);
    if (!inserted)
      return invalid_model(what + ": tensors '" + it->second->name + "' and '" + t.name + "' overlap");
  }
  const TensorInfo* prev = nullptr;
  for (const auto& [offset, t] : by_offset) {
    if (prev != nullptr && prev->offset + prev->bytes > offset) {
      return invalid_model(what + ": tensors '" + prev->name + "' and '" + t->name + "' overlap");
    }
    prev = t;
  }
  return f;
}

}  // namespace ordinal::importers::gguf
