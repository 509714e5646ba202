// The holder's side of the local control socket (docs/sessions.md): for each run this process
// follows, it answers `hello`, runs `action` requests through the run's follower, and streams the
// run to local `watch` clients — its history from a temporary file, then live events. One socket
// per process (p<pid>.sock), however many runs it holds; each run's own name (the hash of its URL
// and id, ControlSocketPath) is a symbolic link to it, so that a client finds the holder of a run
// by the run alone, and requests name the run they are about.
//
// Threads: requests arrive on the control socket's threads and are posted to the loop; every
// method here runs on the loop thread and never blocks: each watcher has a bounded queue
// (control_socket.h), and a watcher that falls too far behind is dropped with a last line
// {"end":true,"exit_status":7,"reason":...}, while the run, stdout, signals and the other
// watchers go on.
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "session/control_action.h"
#include "session/control_socket.h"

namespace wsflow {

/// What the host asks of a run it serves (the run's follower).
class HostedRun {
 public:
  virtual ~HostedRun() = default;
  /// The run's `hello` answer (what `wsflow sessions` prints).
  virtual std::string Describe() const = 0;
  /// Acts for a local client; the answer goes to `client` (End) once the run confirms or refuses.
  virtual void RemoteAction(ControlAction act, std::shared_ptr<ControlClient> client) = 0;
};

class SessionHost {
 public:
  /// `post` runs a function on the loop thread (callable from any thread; dropped once the loop
  /// has ended).
  SessionHost(std::function<void(std::function<void()>)> post, ControlServer::Limits limits, bool verbose);
  ~SessionHost();
  SessionHost(const SessionHost&) = delete;
  SessionHost& operator=(const SessionHost&) = delete;

  /// Offers the run on the process's socket (listening from the first run on) and links the run's
  /// name (url, run_id) to it. `keep_history`: late watchers get the run from its start (kept in a
  /// temporary file); otherwise they get live events. False (said with -v only) when there is no
  /// socket, or another live process holds the run: the run goes on without one.
  bool Serve(const std::string& url, const std::string& run_id, HostedRun* run, bool keep_history);
  bool serving(const std::string& run_id) const { return runs_.count(run_id) > 0; }
  /// From now on, keep the run's history for late watchers (its backend turned out to allow one
  /// socket per run).
  void KeepHistory(const std::string& run_id);

  /// An event line of the run: to its history and its watchers.
  void Share(const std::string& run_id, std::string_view line);
  /// The run's stream ended: its watchers get their last line.
  void End(const std::string& run_id, int exit_status);
  /// Stops every socket.
  void Stop();

 private:
  struct Watcher {
    std::shared_ptr<ControlClient> client;
    int64_t sent = 0;  ///< lines queued to it (the seq it has up to)
  };
  struct Served {
    HostedRun* run = nullptr;
    std::string link;  ///< the run's name, a symbolic link to the process's socket
    std::FILE* history = nullptr;  ///< an unlinked temporary file: the run's lines so far
    int64_t lines = 0;
    std::vector<Watcher> watchers;
    bool ended = false;
    int exit_status = 0;
  };
  void OnRequest(const std::string& line, std::shared_ptr<ControlClient> client);
  bool Listen(const std::string& dir, std::string* err);

  std::function<void(std::function<void()>)> post_;
  ControlServer::Limits limits_;
  bool verbose_;
  std::unique_ptr<ControlServer> server_;  ///< p<pid>.sock, from the first run served
  std::map<std::string, Served> runs_;
};

}  // namespace wsflow
