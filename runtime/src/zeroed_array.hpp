// A fixed-size array of zero-initialized trivially-copyable values from calloc. Why not std::vector: a
// vector writes every zero itself, so a session's 75 MB KV cache (110M shape, 1024 positions) cost ~250 ms
// of page faults and stores at Session::create; calloc hands large blocks out as fresh zero pages, which the
// OS backs only when a position is first written. Allocation failure is a Status, never an abort.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "ordinal/status.hpp"

namespace ordinal::detail {

template <typename T>
class ZeroedArray {
  static_assert(std::is_trivially_copyable<T>::value, "calloc'd memory holds trivially copyable values");

 public:
  ZeroedArray() = default;
  ~ZeroedArray() { std::free(data_); }
  ZeroedArray(const ZeroedArray&) = delete;
  ZeroedArray& operator=(const ZeroedArray&) = delete;
  ZeroedArray(ZeroedArray&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  ZeroedArray& operator=(ZeroedArray&& o) noexcept {
    if (this != &o) {
      std::free(data_);
      data_ = o.data_;
      size_ = o.size_;
      o.data_ = nullptr;
      o.size_ = 0;
    }
    return *this;
  }

  // n zeros (replacing any previous contents); `what` names the buffer in the error.
  Status allocate(size_t n, const char* what) {
    std::free(data_);
    data_ = nullptr;
    size_ = 0;
    if (n == 0) return Status::Ok();
    void* p = std::calloc(n, sizeof(T));  // calloc checks n * sizeof(T) for overflow
    if (p == nullptr) {
      return Status(ErrorCode::kCapacityExceeded, std::string("cannot allocate ") + what + " (" +
                                                      std::to_string(n) + " x " + std::to_string(sizeof(T)) +
                                                      " bytes)");
    }
    data_ = static_cast<T*>(p);
    size_ = n;
    return Status::Ok();
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ordinal::detail
