// LargeBuffer<T>: a zeroed array whose size comes from a file or a caller's option (KV cache, attention
// scores, activations). The runtime is built with -fno-exceptions, so a std::vector that cannot grow
// calls std::terminate; this buffer is calloc-backed instead and reports a failed allocation as
// kOutOfMemory naming what it was for and how many bytes it needed. The byte count is computed with an
// overflow check, so a size that does not fit size_t (a 32-bit target) is refused the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>

#include "ordinal/status.hpp"

namespace ordinal::detail {

template <typename T>
class LargeBuffer {
  static_assert(std::is_trivially_copyable<T>::value, "LargeBuffer holds plain values (zeroed by calloc)");

 public:
  LargeBuffer() = default;
  ~LargeBuffer() { std::free(data_); }
  LargeBuffer(LargeBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  LargeBuffer& operator=(LargeBuffer&& o) noexcept {
    if (this != &o) {
      std::free(data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  LargeBuffer(const LargeBuffer&) = delete;
  LargeBuffer& operator=(const LargeBuffer&) = delete;

  // Replaces the contents with `count` zeroed elements; `what` names the buffer in the error.
  [[nodiscard]] Status allocate(uint64_t count, const char* what) {
    std::free(data_);
    data_ = nullptr;
    size_ = 0;
    if (count == 0) return Status::Ok();
    if (count > SIZE_MAX / sizeof(T)) {
      return out_of_memory(std::string(what) + ": " + std::to_string(count) + " x " +
                           std::to_string(sizeof(T)) + " bytes exceeds this target's address space");
    }
    void* p = std::calloc(static_cast<size_t>(count), sizeof(T));
    if (p == nullptr) {
      return out_of_memory(std::string(what) + ": cannot allocate " + std::to_string(count * sizeof(T)) +
                           " bytes");
    }
    data_ = static_cast<T*>(p);
    size_ = static_cast<size_t>(count);
    return Status::Ok();
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ordinal::detail
