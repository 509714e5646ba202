#include "session/control_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <deque>
#include <algorithm>

#include "core/fd_io.h"
#include "session/run_tracker.h"

namespace wsflow {

namespace {
constexpr size_t kMaxLine = 64 * 1024;

bool FillAddr(const std::string& path, sockaddr_un* addr, std::string* err) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof addr->sun_path) {
    *err = "control socket path too long: " + path;
    return false;
  }
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return true;
}

}  // namespace

bool ControlDir(std::string* dir, std::string* err) {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  std::string base;
  if (runtime && *runtime) {
    base = std::string(runtime) + "/wsflow";
  } else {
    const char* tmp = std::getenv("TMPDIR");
    base = std::string(tmp && *tmp ? tmp : "/tmp") + "/wsflow-" + std::to_string(::getuid());
  }
  if (::mkdir(base.c_str(), 0700) != 0 && errno != EEXIST) {
    *err = "cannot create " + base + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::lstat(base.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {  // lstat: never through a symlink
    *err = base + " is not a directory";
    return false;
  }
  if (st.st_uid != ::getuid() || (st.st_mode & 077) != 0) {
    *err = base + " must be a 0700 directory of this user";
    return false;
  }
  *dir = base;
  return true;
}

std::string ControlSocketPath(const std::string& dir, const std::string& url, const std::string& run_id) {
  char name[40];
  std::snprintf(name, sizeof name, "%016llx.sock",
                static_cast<unsigned long long>(Fnv1a(url + "\n" + run_id)));
  return dir + "/" + name;
}

struct ControlClient::Impl {
  int fd = -1;
  int wake[2] = {-1, -1};  // the client thread's alarm: data was queued, or the server stops
  size_t limit = 0;
  Millis end_grace{0};
  std::atomic<bool> stop{false};

  struct Item {
    std::string line;  // a line with its newline, or (file >= 0) a stretch of a file
    int file = -1;
    off_t pos = 0, end = 0;
    int64_t skip = 0;
  };
  mutable std::mutex mu;
  std::deque<Item> queue;
  size_t queued = 0;  // bytes of lines in `queue`
  bool ending = false;
  bool closed = false;

  ~Impl() {
    for (int f : {fd, wake[0], wake[1]})
      if (f >= 0) ::close(f);
  }
  void Wake() {
    char c = 0;
    ssize_t ignored = ::write(wake[1], &c, 1);  // non-blocking: a full pipe is awake already
    (void)ignored;
  }
  // Moves what comes next into `out` (locked by the caller). False when nothing is queued.
  bool Next(std::string* out) {
    while (!queue.empty()) {
      Item& it = queue.front();
      if (it.file < 0) {
        queued -= it.line.size();
        out->swap(it.line);
        queue.pop_front();
        return true;
      }
      char buf[65536];
      ssize_t n = it.pos < it.end ? ::pread(it.file, buf, std::min<off_t>(sizeof buf, it.end - it.pos), it.pos) : 0;
      if (n <= 0) {
        queue.pop_front();
        continue;
      }
      it.pos += n;
      size_t from = 0;
      while (it.skip > 0 && from < static_cast<size_t>(n)) {  // lines the watcher has seen already
        const char* nl = static_cast<const char*>(std::memchr(buf + from, '\n', static_cast<size_t>(n) - from));
        if (!nl) {
          from = static_cast<size_t>(n);
          break;
        }
        from = static_cast<size_t>(nl - buf) + 1;
        --it.skip;
      }
      if (from < static_cast<size_t>(n)) {
        out->assign(buf + from, static_cast<size_t>(n) - from);
        return true;
      }
    }
    return false;
  }
};

bool ControlClient::Send(const std::string& line) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  if (impl_->closed || impl_->ending || impl_->queued + line.size() + 1 > impl_->limit) return false;
  impl_->queue.push_back({line + "\n"});
  impl_->queued += line.size() + 1;
  impl_->Wake();
  return true;
}

void ControlClient::End(const std::string& line) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  if (impl_->closed || impl_->ending) return;
  impl_->queue.push_back({line + "\n"});
  impl_->queued += line.size() + 1;
  impl_->ending = true;
  impl_->Wake();
}

void ControlClient::SendFile(int fd, off_t end, int64_t skip) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  if (impl_->closed || impl_->ending) return;
  ControlClient::Impl::Item it;
  it.file = fd;
  it.end = end;
  it.skip = skip;
  impl_->queue.push_back(std::move(it));
  impl_->Wake();
}

bool ControlClient::closed() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->closed;
}

namespace {
// One client: its requests in, its queue out, never blocking on it. Ends when the client leaves,
// when an ending client has got its last line (or the grace ran out), or when the server stops.
void ServeClient(const std::shared_ptr<ControlClient::Impl>& c, const ControlServer::Handler& handler) {
  auto client = std::make_shared<ControlClient>(c);
  ::fcntl(c->fd, F_SETFL, ::fcntl(c->fd, F_GETFL) | O_NONBLOCK);
  std::string in, out;
  size_t out_off = 0;
  bool reading = true;
  std::chrono::steady_clock::time_point end_by{};
  char chunk[4096];
  for (;;) {
    bool ending;
    {
      std::lock_guard<std::mutex> lk(c->mu);
      if (out_off >= out.size()) {
        out.clear();
        out_off = 0;
        c->Next(&out);
      }
      ending = c->ending;
    }
    bool have = out_off < out.size();
    if (ending && !have) break;  // the last line is out
    if (c->stop && !ending) break;  // the server stops: an ending client still gets its last line
    int timeout = -1;
    if (c->stop) {  // ... within a grace period: a client that does not read is not waited for
      auto now = std::chrono::steady_clock::now();
      if (end_by == std::chrono::steady_clock::time_point{}) end_by = now + c->end_grace;
      if (now >= end_by) break;
      timeout = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(end_by - now).count()) + 1;
    }
    pollfd fds[2] = {{c->fd, static_cast<short>((reading ? POLLIN : 0) | (have ? POLLOUT : 0)), 0},
                     {c->wake[0], POLLIN, 0}};
    if (::poll(fds, 2, timeout) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents & POLLIN) {
      char drain[256];
      while (::read(c->wake[0], drain, sizeof drain) > 0) {
      }
    }
    if (fds[0].revents & (POLLERR | POLLNVAL)) break;
    if (reading && (fds[0].revents & (POLLIN | POLLHUP))) {
      ssize_t n = ::recv(c->fd, chunk, sizeof chunk, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;  // the client left
      if (n > 0) {
        in.append(chunk, static_cast<size_t>(n));
        size_t nl;
        while ((nl = in.find('\n')) != std::string::npos) {
          std::string line = in.substr(0, nl);
          in.erase(0, nl + 1);
          handler(line, client);
        }
        if (in.size() > kMaxLine) {  // oversized: refused, without disturbing anything else
          client->End(R"({"ok":false,"status":2,"message":"control message too large"})");
          reading = false;
        }
      }
    }
    if (have && (fds[0].revents & POLLOUT)) {
      ssize_t n = ::send(c->fd, out.data() + out_off, out.size() - out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) break;
      if (n > 0) out_off += static_cast<size_t>(n);
    }
  }
  ::shutdown(c->fd, SHUT_RDWR);
  std::lock_guard<std::mutex> lk(c->mu);
  c->closed = true;
  c->queue.clear();
  c->queued = 0;
}
}  // namespace

ControlServer::~ControlServer() { Stop(); }

bool ControlServer::Start(const std::string& path, Handler handler, std::string* err, Limits limits) {
  sockaddr_un addr;
  if (!FillAddr(path, &addr, err)) return false;
  int probe = ConnectControl(path, err);
  if (probe >= 0) {
    ::close(probe);
    *err = "another process holds " + path;
    return false;
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      *err = path + " exists and is not a socket";
      return false;
    }
    ::unlink(path.c_str());  // stale: left by a process that was killed
  }
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    *err = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  mode_t old = ::umask(0177);  // the socket is born 0600: no window where others may connect
  int rc = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0 || ::listen(listen_fd_, 16) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0) {
    *err = "cannot listen on " + path + ": " + std::strerror(errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return false;
  }
  path_ = path;
  handler_ = std::move(handler);
  limits_ = limits;
  thread_ = std::thread([this] { Loop(); });
  return true;
}

void ControlServer::Stop() {
  if (listen_fd_ < 0) return;
  stopping_ = true;
  char c = 0;
  ssize_t ignored = ::write(wake_[1], &c, 1);
  (void)ignored;
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& cl : clients_) {
      cl->stop = true;
      cl->Wake();
    }
  }
  for (auto& t : client_threads_)
    if (t.joinable()) t.join();
  client_threads_.clear();
  clients_.clear();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
  listen_fd_ = -1;
  ::unlink(path_.c_str());
}

void ControlServer::Loop() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (stopping_ || (fds[1].revents & POLLIN)) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::getuid()) {
      ::close(fd);  // only the same user: the file mode says so, the kernel's word confirms it
      continue;
    }
    auto c = std::make_shared<ControlClient::Impl>();
    c->fd = fd;
    c->limit = limits_.queue_bytes;
    c->end_grace = limits_.end_grace;
    if (::pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) != 0) continue;
    std::lock_guard<std::mutex> lk(mu_);
    // Threads of clients that left are joined here, so that a long run with many short-lived
    // clients (sessions, approve) does not collect them.
    for (size_t i = 0; i < clients_.size();) {
      bool gone;
      {
        std::lock_guard<std::mutex> cl(clients_[i]->mu);
        gone = clients_[i]->closed;
      }
      if (gone && client_threads_[i].joinable()) {
        client_threads_[i].join();
        clients_.erase(clients_.begin() + static_cast<long>(i));
        client_threads_.erase(client_threads_.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
    clients_.push_back(c);
    client_threads_.emplace_back([c, h = handler_] { ServeClient(c, h); });
  }
}

int ConnectControl(const std::string& path, std::string* err) {
  sockaddr_un addr;
  if (!FillAddr(path, &addr, err)) return -1;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *err = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

void SetReceiveTimeout(int fd, Millis limit) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(limit.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((limit.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

bool ControlRequest(int fd, const std::string& request, const std::function<bool(const std::string&)>& on_line,
                    std::string* err) {
  if (!WriteAll(fd, request + "\n", /*socket=*/true)) {
    *err = std::string("cannot send to the local session: ") + std::strerror(errno);
    return false;
  }
  std::string buf;
  char chunk[65536];
  for (;;) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *err = std::string("cannot read from the local session: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) return true;
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (!on_line(line)) return true;
    }
  }
}

}  // namespace wsflow
