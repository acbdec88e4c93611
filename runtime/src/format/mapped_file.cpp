#include "format/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ordinal::format {

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer before the regular-file check below refuses it.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return io_error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return io_error("cannot stat '" + path + "': " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return io_error("'" + path + "' is not a regular file");
  }
  if (st.st_size <= 0) {
    ::close(fd);
    return invalid_model("'" + path + "' is empty");
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);  // the mapping keeps the file referenced
  if (p == MAP_FAILED) return io_error("cannot mmap '" + path + "': " + std::strerror(err));
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->data_ = static_cast<const uint8_t*>(p);
  f->size_ = size;
  f->mapped_ = true;
  f->origin_ = path;
  return f;
}

std::unique_ptr<MappedFile> MappedFile::borrow(const void* data, size_t size) {
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->data_ = static_cast<const uint8_t*>(data);
  f->size_ = size;
  f->origin_ = "<buffer>";
  return f;
}

MappedFile::~MappedFile() {
  if (mapped_ && data_ != nullptr) munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace ordinal::format
