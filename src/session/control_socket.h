// The local control socket (docs/sessions.md): a process that holds a run's connection
// (execute, watch, send) listens on a UNIX socket, so that `approve`, `cancel`, `pause`,
// `resume` and `watch` from other processes act on the run through the one WebSocket the
// backend allows, instead of opening a second one (which some backends punish).
// Socket: $XDG_RUNTIME_DIR/wsflow/<hash of URL and run id>.sock (else a private 0700 directory
// under the temp dir), mode 0600, only the same user (SO_PEERCRED). Messages are JSON lines of at
// most 64 KiB.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wsflow {

/// The directory of the control sockets, created 0700 if missing. False with a reason when it is
/// not safe (not ours, open to others, a symlink).
bool ControlDir(std::string* dir, std::string* err);

/// The socket path of a run: a hash of the normalised URL and the run id (UNIX socket paths are
/// limited to 108 bytes, URLs are not).
std::string ControlSocketPath(const std::string& dir, const std::string& url, const std::string& run_id);

/// The listening side, in the process holding the run. Each request line is handed to `handler`
/// on the listener's thread with a `reply` function that may be called later from any thread
/// (once per request for most; repeatedly for streaming requests, with `done` true at the end).
class ControlServer {
 public:
  using Reply = std::function<void(const std::string& line, bool done)>;
  using Handler = std::function<void(const std::string& request, Reply reply)>;

  ControlServer() = default;
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  /// Listens on `path`. A stale socket (nobody answers) is removed first; a live one held by
  /// another process is an error. False with a reason.
  bool Start(const std::string& path, Handler handler, std::string* err);
  /// Stops listening, closes every client and removes the socket file.
  void Stop();
  const std::string& path() const { return path_; }
  bool listening() const { return listen_fd_ >= 0; }

 private:
  struct Client;
  void Loop();
  void Serve(std::shared_ptr<Client> c);

  std::string path_;
  Handler handler_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::shared_ptr<Client>> clients_;
  std::vector<std::thread> client_threads_;
};

/// The calling side: connects to the socket at `path`. -1 when nobody listens there (a missing
/// or stale socket), with the reason in `*err`.
int ConnectControl(const std::string& path, std::string* err);

/// Sends one request line and reads reply lines until `on_line` returns false or the holder
/// closes. False with a reason on an I/O error.
bool ControlRequest(int fd, const std::string& request, const std::function<bool(const std::string&)>& on_line,
                    std::string* err);

}  // namespace wsflow
