// Writes GGUF v3 bytes in memory for tests that need files an independent writer cannot make: broken
// ones (hostile-input tests) and small synthetic models. The layout follows llama.cpp's gguf.h.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace ordinal::testing {

class GgufBuilder {
 public:
  enum Type : uint32_t {
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

  void u32(const std::string& key, uint32_t v) { scalar(key, kU32, &v, 4); }
  void f32(const std::string& key, float v) { scalar(key, kF32, &v, 4); }
  void boolean(const std::string& key, bool v) {
    uint8_t b = v ? 1 : 0;
    scalar(key, kBool, &b, 1);
  }
  void str(const std::string& key, const std::string& v) {
    key_header(key, kString);
    string_to(&kv_, v);
    ++n_kv_;
  }
  void strings(const std::string& key, const std::vector<std::string>& v) {
    key_header(key, kArray);
    put(&kv_, static_cast<uint32_t>(kString));
    put(&kv_, static_cast<uint64_t>(v.size()));
    for (const std::string& s : v) string_to(&kv_, s);
    ++n_kv_;
  }
  void f32s(const std::string& key, const std::vector<float>& v) { array(key, kF32, v.data(), v.size(), 4); }
  void i32s(const std::string& key, const std::vector<int32_t>& v) {
    array(key, kI32, v.data(), v.size(), 4);
  }

  // `ne` in ggml order (ne[0] = row length); `data` already in the type's storage format.
  void tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type, std::vector<uint8_t> data) {
    tensors_.push_back({name, std::move(ne), type, std::move(data)});
  }
  void tensor_f32(const std::string& name, std::vector<uint64_t> ne, const std::vector<float>& v) {
    std::vector<uint8_t> bytes(v.size() * 4);
    std::memcpy(bytes.data(), v.data(), bytes.size());
    tensor(name, std::move(ne), 0, std::move(bytes));
  }

  std::vector<uint8_t> bytes(uint32_t alignment = 32) const {
    std::vector<uint8_t> out;
    put(&out, static_cast<uint32_t>(0x46554747));
    put(&out, static_cast<uint32_t>(3));
    put(&out, static_cast<uint64_t>(tensors_.size()));
    put(&out, n_kv_);
    out.insert(out.end(), kv_.begin(), kv_.end());
    uint64_t offset = 0;
    for (const Tensor& t : tensors_) {
      string_to(&out, t.name);
      put(&out, static_cast<uint32_t>(t.ne.size()));
      for (uint64_t d : t.ne) put(&out, d);
      put(&out, t.type);
      put(&out, offset);
      offset += (t.data.size() + alignment - 1) / alignment * alignment;
    }
    while (out.size() % alignment) out.push_back(0);
    for (const Tensor& t : tensors_) {
      out.insert(out.end(), t.data.begin(), t.data.end());
      while (out.size() % alignment) out.push_back(0);
    }
    return out;
  }

 private:
  struct Tensor {
    std::string name;
    std::vector<uint64_t> ne;
    uint32_t type;
    std::vector<uint8_t> data;
  };
  template <typename T>
  static void put(std::vector<uint8_t>* out, T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out->insert(out->end(), b, b + sizeof(T));
  }
  static void string_to(std::vector<uint8_t>* out, const std::string& s) {
    put(out, static_cast<uint64_t>(s.size()));
    out->insert(out->end(), s.begin(), s.end());
  }
  void key_header(const std::string& key, uint32_t type) {
    string_to(&kv_, key);
    put(&kv_, type);
  }
  void scalar(const std::string& key, uint32_t type, const void* v, size_t n) {
    key_header(key, type);
    const uint8_t* p = static_cast<const uint8_t*>(v);
    kv_.insert(kv_.end(), p, p + n);
    ++n_kv_;
  }
  void array(const std::string& key, uint32_t type, const void* v, size_t count, size_t esize) {
    key_header(key, kArray);
    put(&kv_, type);
    put(&kv_, static_cast<uint64_t>(count));
    const uint8_t* p = static_cast<const uint8_t*>(v);
    kv_.insert(kv_.end(), p, p + count * esize);
    ++n_kv_;
  }

  std::vector<uint8_t> kv_;
  uint64_t n_kv_ = 0;
  std::vector<Tensor> tensors_;
};

}  // namespace ordinal::testing
