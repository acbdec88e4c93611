// Read-only view of a model file: mmap'd from a path, or a caller's buffer (borrowed, never copied).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ordinal/status.hpp"

namespace ordinal::format {

class MappedFile {
 public:
  // Maps `path` read-only (MAP_PRIVATE). The mapping lives as long as the MappedFile.
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
  // Wraps memory owned by the caller, which must outlive every Model loaded from it.
  static std::unique_ptr<MappedFile> borrow(const void* data, size_t size);
  // `size` bytes at `offset` of an open file (an Android APK asset: AAsset_openFileDescriptor). Mapped
  // when offset is a multiple of 64 (the model's tensor alignment; mmap itself starts at the page below),
  // else read into 64-byte aligned memory. The descriptor may be closed afterwards.
  static Result<std::unique_ptr<MappedFile>> open_fd(int fd, int64_t offset, size_t size);
  // A 64-byte aligned copy of caller memory, owned by the MappedFile.
  static Result<std::unique_ptr<MappedFile>> copy(const void* data, size_t size);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool is_mapped() const { return mapped_; }
  const std::string& origin() const { return origin_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  void* map_base_ = nullptr;  // what mmap returned (page aligned) and its length, for munmap
  size_t map_size_ = 0;
  void* owned_ = nullptr;  // posix_memalign'd copy, or nullptr
  std::string origin_;
};

}  // namespace ordinal::format
