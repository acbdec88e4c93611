// GGUF container reader (llama.cpp's model file format, versions 2 and 3), host side.
//
// The file is hostile input: every count, string length, array length, tensor rank, dimension, type,
// offset, alignment and extent is checked against the bytes actually present and against fixed limits
// before anything is allocated from it. Errors name the file, the key or the tensor.
// Layout: "GGUF", u32 version, u64 tensor_count, u64 kv_count, kv_count x (string key, u32 type, value),
// tensor_count x (string name, u32 n_dims, n_dims x u64 ne, u32 ggml type, u64 offset), padding to
// `general.alignment` (default 32), data section. Little-endian only (big-endian GGUF is refused by magic).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ordinal/status.hpp"

namespace ordinal::importers::gguf {

// GGUF metadata value types (gguf.h numbering).
enum class ValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};
const char* value_type_name(ValueType t);

// One metadata value. Scalars keep their type and a widened copy; arrays hold scalars or strings
// (arrays of arrays are refused: no model key uses them).
struct Value {
  ValueType type = ValueType::kU8;
  ValueType element_type = ValueType::kU8;  // for arrays
  uint64_t u = 0;                           // unsigned integers and bool
  int64_t i = 0;                            // signed integers
  double f = 0.0;                           // floats
  std::string s;
  std::vector<std::string> strings;  // string arrays
  std::vector<double> numbers;       // numeric/bool arrays (every integer type fits a double exactly
                                     // up to 2^53; larger values are refused in numeric arrays)
  bool is_integer() const;
  bool is_float() const { return type == ValueType::kF32 || type == ValueType::kF64; }
  bool is_array() const { return type == ValueType::kArray; }
  uint64_t array_size() const { return element_type == ValueType::kString ? strings.size() : numbers.size(); }
};

// ggml tensor types this reader knows (ggml.h numbering); others are refused by name.
enum class TensorType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kBF16 = 30,
};
// Name for any ggml type number ("type 11 (Q3_K)"), used in errors.
std::string tensor_type_name(uint32_t type);
// Elements per block and bytes per block; false for an unsupported type.
bool tensor_type_layout(uint32_t type, uint32_t* block_elements, uint32_t* block_bytes);

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> ne;  // ggml order: ne[0] is the contiguous (row) dimension
  uint32_t type = 0;
  uint64_t offset = 0;  // relative to the data section
  uint64_t bytes = 0;   // checked storage size
  uint64_t elements() const;
  uint64_t row_length() const { return ne.empty() ? 1 : ne[0]; }
  uint64_t rows() const { return row_length() == 0 ? 0 : elements() / row_length(); }
};

struct File {
  uint32_t version = 0;
  uint64_t alignment = 32;
  std::map<std::string, Value> kv;
  std::vector<TensorInfo> tensors;  // in file order
  uint64_t data_start = 0;          // absolute offset of the data section
  const uint8_t* base = nullptr;    // the bytes parse() was given (not owned)
  uint64_t size = 0;

  const Value* find(const std::string& key) const;
  const TensorInfo* tensor(const std::string& name) const;
  const uint8_t* data(const TensorInfo& t) const { return base + data_start + t.offset; }
};

// Limits on what a file may declare (far above any small model, far below what would exhaust memory).
struct Limits {
  uint64_t max_tensors = 1u << 16;
  uint64_t max_kv = 1u << 16;
  uint64_t max_string_bytes = 1u << 20;  // one key, value or tensor name
  uint64_t max_array_elements = 1u << 24;
  uint64_t max_metadata_bytes = 512ull << 20;  // all decoded metadata together
};

// Parses `bytes` (which must outlive the result: tensors point into it). `what` names the file in errors.
Result<File> parse(const uint8_t* bytes, uint64_t size, const std::string& what, const Limits& limits = {});

}  // namespace ordinal::importers::gguf
