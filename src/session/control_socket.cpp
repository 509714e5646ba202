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

bool WriteAll(int fd, const std::string& data) {
  for (size_t off = 0; off < data.size();) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
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

struct ControlServer::Client {
  int fd = -1;
  std::mutex write_mu;
  bool closed = false;
};

ControlServer::~ControlServer() { Stop(); }

bool ControlServer::Start(const std::string& path, Handler handler, std::string* err) {
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
      std::lock_guard<std::mutex> wl(cl->write_mu);
      if (!cl->closed) ::shutdown(cl->fd, SHUT_RDWR);
    }
  }
  for (auto& t : client_threads_)
    if (t.joinable()) t.join();
  for (auto& cl : clients_) ::close(cl->fd);
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
    auto c = std::make_shared<Client>();
    c->fd = fd;
    std::lock_guard<std::mutex> lk(mu_);
    clients_.push_back(c);
    client_threads_.emplace_back([this, c] { Serve(c); });
  }
}

void ControlServer::Serve(std::shared_ptr<Client> c) {
  std::string buf;
  char chunk[4096];
  for (;;) {
    ssize_t n = ::recv(c->fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      Reply reply = [c](const std::string& out, bool done) {
        std::lock_guard<std::mutex> wl(c->write_mu);
        if (c->closed) return;
        if (!WriteAll(c->fd, out + "\n") || done) {
          ::shutdown(c->fd, SHUT_RDWR);
          c->closed = true;
        }
      };
      handler_(line, reply);
    }
    if (buf.size() > kMaxLine) {  // oversized: refused, without disturbing anything else
      std::lock_guard<std::mutex> wl(c->write_mu);
      WriteAll(c->fd, R"({"ok":false,"status":2,"message":"control message too large"})" "\n");
      break;
    }
  }
  std::lock_guard<std::mutex> wl(c->write_mu);
  if (!c->closed) ::shutdown(c->fd, SHUT_RDWR);
  c->closed = true;
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

bool ControlRequest(int fd, const std::string& request, const std::function<bool(const std::string&)>& on_line,
                    std::string* err) {
  if (!WriteAll(fd, request + "\n")) {
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
