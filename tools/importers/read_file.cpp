#include "importers/read_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace ordinal::importers {

Result<int> open_regular_file(const std::string& path, uint64_t* size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return io_error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return io_error("cannot stat '" + path + "': " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    const char* kind = S_ISFIFO(st.st_mode)   ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISDIR(st.st_mode)  ? "a directory"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a regular file";
    return io_error("'" + path + "' is " + kind + ", not a regular file");
  }
  // Regular files never block; clear O_NONBLOCK anyway so reads behave as usual.
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

Result<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_bytes) {
  uint64_t size = 0;
  ORDINAL_ASSIGN_OR_RETURN(const int fd, open_regular_file(path, &size));
  if (size > max_bytes) {
    ::close(fd);
    return invalid_argument("'" + path + "' is " + std::to_string(size) + " bytes, over the limit of " +
                            std::to_string(max_bytes) + " for this kind of input");
  }
  std::vector<uint8_t> bytes;
  try {
    bytes.resize(static_cast<size_t>(size));
  } catch (const std::bad_alloc&) {
    ::close(fd);
    return out_of_memory("cannot allocate " + std::to_string(size) + " bytes to read '" + path + "'");
  }
  // Exactly the size fstat reported: a file that grows meanwhile is read as it was.
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : 0;
      ::close(fd);
      return io_error(
          "cannot read '" + path +
          "': " + (n < 0 ? std::string(std::strerror(err)) : std::string("file shrank while being read")));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return bytes;
}

}  // namespace ordinal::importers
