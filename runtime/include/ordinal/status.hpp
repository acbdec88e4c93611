// Status and Result<T>: the error model of the whole runtime (no exceptions).
// Every fallible call returns one of these; the message says what failed and where.
#pragma once

#include <cstdint>
#include <new>
#include <string>
#include <utility>

#include "ordinal/export.h"

namespace ordinal {

// Stable error codes; the C API exposes the same numbers (ordinal.h keeps them in sync).
enum class ErrorCode : int32_t {
  kOk = 0,
  kInvalidArgument = 1,   // caller passed a bad value (token id, position, size, null handle)
  kInvalidModel = 2,      // model file failed structural or semantic verification
  kIoError = 3,           // open/mmap/read failed
  kOutOfRange = 4,        // position or index beyond what the model or table allows
  kCapacityExceeded = 5,  // KV cache full, prompt longer than context
  kUnsupported = 6,       // valid request this build or model cannot serve
  kNumericError = 7,      // NaN/Inf detected in activations
  kInternal = 8,          // a backend or the system failed (e.g. a worker thread could not start)
  kSessionUnusable = 9,   // a previous error left the session in a state that needs reset()
  kOutOfMemory = 10,      // a planned allocation exceeds the memory budget, or the allocation failed
  kAborted = 11,          // the session's abort callback stopped the call; the session is as it was before it
};

ORD_API const char* error_code_name(ErrorCode code);

class [[nodiscard]] ORD_API Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid-model: tensor 'layers[0].wq': shape [64,63] does not match config [64,64]"
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) {
  return Status(ErrorCode::kInvalidArgument, std::move(m));
}
inline Status invalid_model(std::string m) {
  return Status(ErrorCode::kInvalidModel, std::move(m));
}
inline Status io_error(std::string m) {
  return Status(ErrorCode::kIoError, std::move(m));
}
inline Status out_of_range(std::string m) {
  return Status(ErrorCode::kOutOfRange, std::move(m));
}
inline Status capacity_exceeded(std::string m) {
  return Status(ErrorCode::kCapacityExceeded, std::move(m));
}
inline Status unsupported(std::string m) {
  return Status(ErrorCode::kUnsupported, std::move(m));
}
inline Status numeric_error(std::string m) {
  return Status(ErrorCode::kNumericError, std::move(m));
}
inline Status aborted(std::string m) {
  return Status(ErrorCode::kAborted, std::move(m));
}
inline Status internal_error(std::string m) {
  return Status(ErrorCode::kInternal, std::move(m));
}
inline Status out_of_memory(std::string m) {
  return Status(ErrorCode::kOutOfMemory, std::move(m));
}

// Result<T>: a value or a non-ok Status. Accessing value() of an error is a programming bug
// (checked by assert in debug builds); callers test ok() first or use ORDINAL_ASSIGN_OR_RETURN.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : status_(), has_value_(true) { new (storage_) T(std::move(value)); }
  Result(Status status) : status_(std::move(status)), has_value_(false) {
    if (status_.ok()) status_ = Status(ErrorCode::kInternal, "Result constructed from an ok Status");
  }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  Result(Result&& other) noexcept : status_(std::move(other.status_)), has_value_(other.has_value_) {
    if (has_value_) new (storage_) T(std::move(*other.ptr()));
  }
  Result& operator=(Result&& other) noexcept {
    if (this != &other) {
      if (has_value_) ptr()->~T();
      status_ = std::move(other.status_);
      has_value_ = other.has_value_;
      if (has_value_) new (storage_) T(std::move(*other.ptr()));
    }
    return *this;
  }
  ~Result() {
    if (has_value_) ptr()->~T();
  }

  bool ok() const { return has_value_; }
  const Status& status() const { return status_; }
  T& value() & { return *ptr(); }
  const T& value() const& { return *ptr(); }
  T&& value() && { return std::move(*ptr()); }
  T* operator->() { return ptr(); }
  const T* operator->() const { return ptr(); }
  T& operator*() { return *ptr(); }
  const T& operator*() const { return *ptr(); }
  // The value, or `fallback` when this holds an error.
  T value_or(T fallback) const& { return has_value_ ? *ptr() : std::move(fallback); }
  T value_or(T fallback) && { return has_value_ ? std::move(*ptr()) : std::move(fallback); }

 private:
  T* ptr() { return reinterpret_cast<T*>(storage_); }
  const T* ptr() const { return reinterpret_cast<const T*>(storage_); }

  Status status_;
  bool has_value_;
  // Raw storage for T (std::aligned_storage is deprecated in C++23).
  alignas(T) unsigned char storage_[sizeof(T)];
};

}  // namespace ordinal

#define ORDINAL_CONCAT_INNER(a, b) a##b
#define ORDINAL_CONCAT(a, b) ORDINAL_CONCAT_INNER(a, b)

#define ORDINAL_RETURN_IF_ERROR(expr)          \
  do {                                         \
    ::ordinal::Status _ordinal_st = (expr);    \
    if (!_ordinal_st.ok()) return _ordinal_st; \
  } while (0)

#define ORDINAL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

#define ORDINAL_ASSIGN_OR_RETURN(lhs, expr) \
  ORDINAL_ASSIGN_OR_RETURN_IMPL(ORDINAL_CONCAT(_ordinal_res_, __LINE__), lhs, expr)
