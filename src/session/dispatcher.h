// The handler of one WebSocket session that carries one run or many: it scans each frame once
// (core/received_frame.h), detects the backend's dialect when asked to (--dialect auto), converts
// the frame through the dialect, and routes it to the follower of its run (by run id, else by the
// request id it answers). Connection events (open, lost, given up) and signals go to every run;
// each is said once on stderr. Ending one run does not close the session under the others: the
// session closes when every run has ended.
//
// Threads: loop thread only, except what RunLink::Post documents.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/received_frame.h"
#include "core/repeat_limiter.h"
#include "dialects/dialect.h"
#include "replay/recording.h"
#include "session/endpoint_search.h"
#include "session/messages.h"
#include "session/output.h"
#include "session/run_follower.h"
#include "session/session_port.h"
#include "session/ws_session.h"

namespace wsflow {

class Dispatcher : public SessionHandler {
 public:
  /// `dialect`: a dialect name, or "auto" (detected from the first frames). `recorder`: null, or
  /// --record's file (every frame in and out). `out` and `recorder` outlive the dispatcher.
  /// `retries`: the session's --retries, for the line that gives up.
  Dispatcher(const std::string& dialect, Output* out, RecordingWriter* recorder, int retries, bool quiet, int verbose);
  ~Dispatcher() override;

  /// The session frames go out on (it outlives the dispatcher's use of it).
  void SetSession(SessionPort* session);
  /// The session's loop has ended: work posted from other threads is dropped from now on.
  void StopPosting();

  /// A run to follow on this session (before it runs, or on the loop: it subscribes at once when
  /// the connection is open).
  RunFollower& AddRun(const StreamOptions& opts, RunTarget target, SessionHost* host);
  /// More runs may come (watch --runs-from -): the session stays open when every run so far has
  /// ended. Set false when no more will come (closes the session if every run has ended).
  void ExpectMore(bool more);
  /// --dialect auto at a URL without a path: where to look when wsflow's own path answers 404.
  void SearchEndpoints(EndpointSearch search) { search_ = std::make_unique<EndpointSearch>(std::move(search)); }
  /// Called on the loop each time a run ends (its exit status is decided).
  void OnRunEnded(std::function<void(RunFollower&)> fn) { run_ended_ = std::move(fn); }
  /// Called on the loop once the session has stopped.
  void OnSessionStopped(std::function<void()> fn) { stopped_ = std::move(fn); }
  const std::vector<std::unique_ptr<RunFollower>>& runs() const { return runs_; }
  const Dialect* dialect() const { return dialect_.get(); }
  /// Every run has ended.
  bool all_ended() const;

  /// Runs `fn` on the loop (any thread; dropped once the loop has ended).
  void Post(std::function<void()> fn);
  /// Output cannot go on: every run still going ends with `status` (the reader left: 0, output
  /// failed: 8), and `message` (if any) is said once.
  void EndAll(int status, const std::string& message);
  /// The timeout of the whole command passed.
  void OnTimeout(Millis timeout);

  // SessionHandler
  void OnOpen(bool reconnect) override;
  void OnText(std::string_view frame) override;
  void OnBinary(std::string_view frame) override;
  void OnRetry(const Disconnect& why, Millis delay, int attempt, int max_attempts) override;
  bool ShouldReconnect(const Disconnect& why) override;
  std::string OtherUrl(const Disconnect& why) override;
  void OnGiveUp(const Disconnect& why, bool exhausted) override;
  void OnSignal(int signo) override;
  void OnStopped() override;

 private:
  class Link;
  RunFollower* Route(const Incoming& in);
  bool Detect(ReceivedFrame& frame);
  void Detected(const std::string& name, const std::string& why);
  void OneEnded(RunFollower* run);
  void CloseWhenDone();
  struct Skipped {
    const char* now;   ///< "frames that are not JSON"
    const char* then;  ///< "frames that were not JSON"
    RepeatLimiter limiter;
  };
  void Skip(const std::string& what, const std::string& head, Skipped* skipped);
  void SayTotals();

  std::string dialect_name_;
  std::unique_ptr<Dialect> dialect_;
  std::unique_ptr<EndpointSearch> search_;
  Output* out_;
  RecordingWriter* recorder_;
  int retries_;
  bool quiet_;
  int verbose_;
  SessionPort* session_ = nullptr;
  struct PostTarget {
    std::mutex mu;
    SessionPort* session = nullptr;
  };
  std::shared_ptr<PostTarget> post_ = std::make_shared<PostTarget>();
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<std::unique_ptr<RunFollower>> runs_;
  std::unordered_map<std::string, RunFollower*> by_run_;
  std::unordered_map<std::string, RunFollower*> by_request_;
  uint64_t request_counter_ = 0;
  ReceivedFrame frame_;
  Incoming in_;
  Skipped not_json_{"frames that are not JSON", "frames that were not JSON", RepeatLimiter(3)};
  Skipped binary_{"binary frames", "binary frames", RepeatLimiter(3)};
  int64_t frames_since_open_ = 0;  ///< on this connection (a backend that closes silently tells its dialect)
  bool closing_ = false;
  bool expect_more_ = false;
  std::function<void(RunFollower&)> run_ended_;
  std::function<void()> stopped_;
};

}  // namespace wsflow
