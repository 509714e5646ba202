#include "core/fd_io.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace wsflow {

bool WriteAll(int fd, std::string_view data, bool socket) {
  const char* p = data.data();
  size_t n = data.size();
  while (n > 0) {
    ssize_t w = socket ? ::send(fd, p, n, MSG_NOSIGNAL) : ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace wsflow
