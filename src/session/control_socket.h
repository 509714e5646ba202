// The local control socket (docs/sessions.md): a process that holds a run's connection
// (execute, watch, send) listens on a UNIX socket, so that `approve`, `cancel`, `pause`,
// `resume` and `watch` from other processes act on the run through the one WebSocket the
// backend allows, instead of opening a second one (which some backends punish).
// Socket: $XDG_RUNTIME_DIR/wsflow/<hash of URL and run id>.sock (else a private 0700 directory
// under the temp dir), mode 0600, only the same user (SO_PEERCRED). Requests are JSON lines of at
// most 64 KiB.
//
// Threads: the listener runs a thread of its own, and each client a thread that reads its
// requests and writes its answers. The handler runs on the client's thread (post real work to
// the loop). ControlClient's methods may be called from any thread and never block: what a
// client has not read waits in its bounded queue, and a client that falls too far behind is
// dropped, so no reader on this socket can stall the run.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/duration.h"

namespace wsflow {

/// The directory of the control sockets, created 0700 if missing. False with a reason when it is
/// not safe (not ours, open to others, a symlink).
bool ControlDir(std::string* dir, std::string* err);

/// The socket path of a run: a hash of the normalised URL and the run id (UNIX socket paths are
/// limited to 108 bytes, URLs are not).
std::string ControlSocketPath(const std::string& dir, const std::string& url, const std::string& run_id);

/// One connection to the control socket, as the holder sees it.
class ControlClient {
 public:
  /// Queues a line (a newline is added). False, queuing nothing, when more than the client's
  /// limit waits unread already or the client is gone: the caller decides to drop it (End).
  bool Send(const std::string& line);
  /// Queues a last line, past the limit, and closes the connection once it is out (a client that
  /// does not read keeps what it was sent, bounded by the limit, until the server stops, then gets
  /// a grace period). Later Sends are ignored.
  void End(const std::string& line);
  /// Streams the lines of `fd` (a file the holder appends to) from byte 0 up to `end`, skipping the
  /// first `skip` lines, before anything queued after this call. `fd` stays the caller's.
  void SendFile(int fd, off_t end, int64_t skip);
  /// The connection is closed (the client left, or End finished).
  bool closed() const;

  struct Impl;
  explicit ControlClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<Impl> impl_;
};

/// The listening side, in the process holding the run.
class ControlServer {
 public:
  using Handler = std::function<void(const std::string& request, std::shared_ptr<ControlClient> client)>;
  struct Limits {
    size_t queue_bytes = 4u << 20;  ///< unread bytes a client may have queued before Send refuses
    Millis end_grace{1000};         ///< once stopping: how long an ending client is waited for
  };

  ControlServer() = default;
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  /// Listens on `path`. A stale socket (nobody answers) is removed first; a live one held by
  /// another process is an error. False with a reason.
  bool Start(const std::string& path, Handler handler, std::string* err, Limits limits);
  bool Start(const std::string& path, Handler handler, std::string* err) { return Start(path, handler, err, Limits{}); }
  /// Stops listening, closes every client and removes the socket file.
  void Stop();
  const std::string& path() const { return path_; }
  bool listening() const { return listen_fd_ >= 0; }

 private:
  void Loop();

  std::string path_;
  Handler handler_;
  Limits limits_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::shared_ptr<ControlClient::Impl>> clients_;
  std::vector<std::thread> client_threads_;
};

/// The calling side: connects to the socket at `path`. -1 when nobody listens there (a missing
/// or stale socket), with the reason in `*err`.
int ConnectControl(const std::string& path, std::string* err);

/// Reads on `fd` give up after `limit` (a holder that is stopped, ^Z, accepts and never answers).
void SetReceiveTimeout(int fd, Millis limit);

/// Sends one request line and reads reply lines until `on_line` returns false or the holder
/// closes. False with a reason on an I/O error.
bool ControlRequest(int fd, const std::string& request, const std::function<bool(const std::string&)>& on_line,
                    std::string* err);

}  // namespace wsflow
