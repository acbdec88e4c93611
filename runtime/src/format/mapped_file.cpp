#include "format/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
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
  f->map_base_ = p;
  f->map_size_ = size;
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

Result<std::unique_ptr<MappedFile>> MappedFile::open_fd(int fd, int64_t offset, size_t size) {
  const std::string origin = "<fd " + std::to_string(fd) + " at " + std::to_string(offset) + ">";
  if (fd < 0) return invalid_argument("load_from_fd: file descriptor " + std::to_string(fd) + " is negative");
  if (offset < 0) return invalid_argument("load_from_fd: offset " + std::to_string(offset) + " is negative");
  if (size == 0) return invalid_model(origin + ": size is 0");
  struct stat st;
  if (fstat(fd, &st) != 0) return io_error("cannot stat " + origin + ": " + std::strerror(errno));
  if (S_ISREG(st.st_mode) && (static_cast<uint64_t>(offset) > static_cast<uint64_t>(st.st_size) ||
                              size > static_cast<uint64_t>(st.st_size) - static_cast<uint64_t>(offset))) {
    return io_error(origin + ": " + std::to_string(size) + " bytes do not fit in a file of " +
                    std::to_string(st.st_size) + " bytes");
  }
  if (offset % 64 != 0) {
    // Not alignable by mapping: read it into aligned memory.
    ORDINAL_ASSIGN_OR_RETURN(auto f, copy(nullptr, size));
    uint8_t* dst = static_cast<uint8_t*>(f->owned_);
    for (size_t done = 0; done < size;) {
      const ssize_t n =
          pread(fd, dst + done, size - done, static_cast<off_t>(offset + static_cast<int64_t>(done)));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return io_error("cannot read " + origin + " (" + std::to_string(done) + " of " +
                        std::to_string(size) + " bytes): " + (n < 0 ? std::strerror(errno) : "end of file"));
      }
      done += static_cast<size_t>(n);
    }
    f->origin_ = origin;
    return f;
  }
  const long page = sysconf(_SC_PAGESIZE);
  const int64_t base = page > 0 ? offset - offset % page : offset;
  const size_t lead = static_cast<size_t>(offset - base);
  void* p = mmap(nullptr, size + lead, PROT_READ, MAP_PRIVATE, fd, static_cast<off_t>(base));
  if (p == MAP_FAILED) return io_error("cannot mmap " + origin + ": " + std::strerror(errno));
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->map_base_ = p;
  f->map_size_ = size + lead;
  f->data_ = static_cast<const uint8_t*>(p) + lead;
  f->size_ = size;
  f->mapped_ = true;
  f->origin_ = origin;
  return f;
}

Result<std::unique_ptr<MappedFile>> MappedFile::copy(const void* data, size_t size) {
  void* mem = nullptr;
  if (size == 0 || posix_memalign(&mem, 64, size) != 0) {
    return io_error("cannot allocate " + std::to_string(size) + " bytes for a copy of the model");
  }
  if (data != nullptr) std::memcpy(mem, data, size);
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->owned_ = mem;
  f->data_ = static_cast<const uint8_t*>(mem);
  f->size_ = size;
  f->origin_ = "<buffer copy>";
  return f;
}

MappedFile::~MappedFile() {
  if (mapped_ && map_base_ != nullptr) munmap(map_base_, map_size_);
  std::free(owned_);
}

}  // namespace ordinal::format
