#include "ordinal/status.hpp"

namespace ordinal {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid-argument";
    case ErrorCode::kInvalidModel:
      return "invalid-model";
    case ErrorCode::kIoError:
      return "io-error";
    case ErrorCode::kOutOfRange:
      return "out-of-range";
    case ErrorCode::kCapacityExceeded:
      return "capacity-exceeded";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kNumericError:
      return "numeric-error";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kSessionUnusable:
      return "session-unusable";
    case ErrorCode::kOutOfMemory:
      return "out-of-memory";
    case ErrorCode::kAborted:
      return "aborted";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  return std::string(error_code_name(code_)) + ": " + message_;
}

}  // namespace ordinal
