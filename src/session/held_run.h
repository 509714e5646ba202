// A run followed through the local wsflow process that holds its one socket (a backend with one
// socket per run, docs/sessions.md): a thread reads that process's control socket and hands each
// event line, then how the run ended, to the command's loop; --cancel-rest asks that process to
// cancel. Threads: everything but the reader runs on the loop thread; the reader and the cancel
// only ever reach the loop through `post`, which must drop what comes after the loop has ended.
// Pause/Resume (loop) hold the reader (its thread) between lines through `mu_`.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "session/local_session.h"

namespace wsflow {

class HeldRun : public std::enable_shared_from_this<HeldRun> {
 public:
  using Post = std::function<void(std::function<void()>)>;
  using OnLine = std::function<void(const std::string& line)>;
  using OnEnd = std::function<void(int status, const std::string& reason)>;

  /// The run of `request` (url, run_id, filters) when a local process holds it and can be
  /// reached; null otherwise. `pid`: the holder's.
  static std::shared_ptr<HeldRun> Find(const LocalSessionRequest& request, int64_t* pid);

  /// Starts reading: `line` for each event that passes the filters, then `end` once (not after
  /// Stop or Cancel).
  void Start(Post post, OnLine line, OnEnd end);
  /// Stops reading (shuts the socket down under the reader).
  void Stop();
  /// Stdout is backlogged: the reader stops taking lines from the holder after the one at hand
  /// (the holder's bounded queue for this watcher then fills, docs/sessions.md), until Resume.
  void Pause();
  void Resume();
  /// Stops reading and asks the holder to cancel the run: `end(status, reason)` once it answered
  /// (`status` as given; `reason` says when the cancel failed), within a few seconds. Once only;
  /// false, and nothing asked, when the run had ended already (its own end is said then).
  bool Cancel(int status, const std::string& reason);

 private:
  HeldRun() = default;
  void Close();
  bool Forward(std::string line);  ///< reader thread: an event line to the loop; false once stopped

  LocalSessionRequest request_;
  std::string path_;  ///< the holder's control socket
  Post post_;
  OnLine line_;
  OnEnd end_;
  bool stopped_ = false;     ///< loop thread: Stop or Cancel came first; the reader's end is not said
  bool cancelling_ = false;  ///< loop thread: Cancel was asked once
  std::mutex mu_;         ///< fd_ and paused_, between the loop and the reader
  std::condition_variable unpaused_;
  bool paused_ = false;
  int queued_ = 0;  ///< lines posted to the loop and not yet printed
  bool stopped_reader_ = false;  ///< under mu_: Stop came (stopped_ is the loop's own)
  int fd_ = -1;
  int resumed_fd_ = -1;  ///< the connection of a watch that resumed (-1: none open)
};

}  // namespace wsflow
