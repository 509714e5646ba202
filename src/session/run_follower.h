// Follows one run over a shared connection: (re)subscribes from the last seq printed, drops
// duplicates, never prints past a gap, keeps its requests until they are answered, and turns how
// the run (or the wait) ended into an exit status. `watch` and `execute` print the stream;
// `approve`, `cancel`, `pause` and `resume` read it silently to act at the right moment and print
// only the confirming event. Approvals are approvals.h's, actions control_action.h's, the local
// control socket session_host.h's; the dispatcher (dispatcher.h) hands it its frames.
//
// Threads: loop thread only. Work from other threads (approval hooks) comes through
// RunLink::Post.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/event_filter.h"
#include "core/exit_status.h"
#include "core/predicate.h"
#include "core/run_view.h"
#include "core/wait_condition.h"
#include "dialects/dialect.h"
#include "session/approvals.h"
#include "session/control_action.h"
#include "session/output.h"
#include "session/run_tracker.h"
#include "session/session_host.h"
#include "session/ws_session.h"

namespace wsflow {

/// What every run of a command shares.
struct StreamOptions {
  bool raw = false;
  bool follow = false;  ///< keep going after the terminal event
  bool strict = false;  ///< a frame that is not JSON ends the run with exit 4
  bool connection_events = false;
  bool keep_raw = false;         ///< converted events keep the backend's frame under "raw"
  bool show_heartbeats = false;  ///< print heartbeat frames too
  EventFilter filter;
  std::vector<Predicate> match;  ///< printed events satisfy all of these
  WaitCondition wait;            ///< --until, --until-match, --max-events
  bool cancel_on_timeout = false;
  bool cancel_on_interrupt = false;
  ApprovalOptions approvals;
  size_t queue_size = 100;  ///< requests awaiting an answer, at most
  bool quiet = false;
  int verbose = 0;
  /// One of several runs of a command: messages that end a run are kept (reason()) for the
  /// command to say once, naming the run, instead of printed here.
  bool several = false;
  /// Fold every event into a RunView (cost, first/last timestamps) for --summary.
  bool keep_view = false;
};

/// One run to follow: watch RUN, execute TASK, or an action on RUN.
struct RunTarget {
  std::string run_id;  ///< execute makes one when empty
  bool execute = false;
  std::string task;
  std::string config_json;  ///< execute: a JSON object text (model already merged in)
  bool detach = false;      ///< execute: print {"run_id":...} once started and leave
  int64_t since_seq = 0;    ///< print events after this seq
  int64_t tail = -1;        ///< >= 0: start with the last `tail` events instead (0: live only)
  std::optional<ControlAction> action;  ///< a control command instead of a stream
};

/// A new random run id ("r-" and 12 hex digits), for execute without --run-id.
std::string NewRunId();

/// What a follower needs of the connection it shares (the dispatcher gives it; tests fake it).
class RunLink {
 public:
  virtual ~RunLink() = default;
  /// The run's dialect; null until detected (--dialect auto): speak native until then.
  virtual const Dialect* dialect() const = 0;
  /// Sends on the open connection (recorded with --record). `request_id` ("" : none) routes the
  /// answer back to this run.
  virtual void Send(const std::string& frame, const std::string& request_id) = 0;
  virtual bool is_open() const = 0;
  virtual int64_t reconnects() const = 0;
  virtual const std::string& url() const = 0;
  virtual void MarkProgress() = 0;
  virtual void After(Millis delay, std::function<void()> fn) = 0;
  /// Runs `fn` on the loop (any thread; dropped once the loop has ended).
  virtual void Post(std::function<void()> fn) = 0;
  /// A request id unique in this process.
  virtual std::string NewRequestId() = 0;
  /// The follower has finished (its exit status is decided).
  virtual void Ended() = 0;
};

class RunFollower : public ApprovalHost, public HostedRun {
 public:
  /// `host`: the local control socket (null: none). `opts` and `out` outlive the follower.
  RunFollower(const StreamOptions& opts, RunTarget target, RunLink* link, Output* out, SessionHost* host);

  const std::string& run_id() const { return target_.run_id; }
  /// The first request this run sends (execute or subscribe): what --dialect auto recognises.
  bool IsOwnRequest(const std::string& request_id) const;

  // From the dispatcher.
  void OnOpen(bool reconnect);
  /// The dialect was detected from the first frames (it was null so far).
  void OnDialectDetected();
  /// A converted frame of this run.
  void OnFrame(Incoming& in, ReceivedFrame& frame);
  /// A frame the dialect could not be told from: printed as an `unknown` event.
  void OnUndetected(ReceivedFrame& frame);
  /// A frame that is not JSON or is binary, `what` it was ("a binary frame of 3 bytes"): counted;
  /// --strict ends the run, saying so.
  void OnInvalid(const std::string& what);
  bool strict() const { return opts_.strict; }
  /// The connection ended and will be retried (connection events).
  void OnRetry(const Disconnect& why, Millis delay, int attempt);
  /// The connection ended: false when this run cannot go on over another one (it has finished).
  bool ShouldReconnect(const Disconnect& why);
  /// The session gave up: the run ends with `status` (said once by the dispatcher; `why` kept as
  /// the reason).
  void OnGiveUp(int status, const std::string& why);
  void OnSignal(int signo);
  void OnTimeout(Millis timeout);

  /// Ends the run as asked by the command (--fail-fast --cancel-rest): cancels it first when
  /// `cancel` (waiting a little for the confirmation), then finishes with `status`.
  void EndEarly(int status, const std::string& message, bool cancel);

  bool finished() const { return finished_; }
  /// Why the run did not complete: the backend's failure or cancellation message, or what ended
  /// the following (timeout, signal, connection); "" when it completed.
  const std::string& reason() const { return reason_; }
  /// The run's events folded (only with StreamOptions::keep_view).
  const RunView& view() const { return view_; }
  bool cancelling() const { return cancelling_; }
  int exit_status() const { return exit_ < 0 ? kExitProtocol : exit_; }
  Outcome outcome() const { return outcome_; }
  int64_t printed() const { return printed_; }
  // The run's own events printed: printed() less the client's connection events.
  int64_t events_printed() const { return printed_ - client_lines_; }
  int64_t last_seq() const { return tracker_.last(); }
  int64_t duplicates() const { return duplicates_; }
  int64_t gaps() const { return gaps_; }
  int64_t invalid_frames() const { return garbage_; }
  /// "last seq printed: N" (or "no event printed ...": it never names a seq that was not printed)
  std::string Where() const;
  /// What the command waited for, for messages.
  std::string Awaited() const;
  /// The line that ends a stream on stderr ("run r-1 completed: 27 events printed, ..."); "" when
  /// none is due (an action, --detach, errors that said theirs).
  std::string EndLine() const;
  /// Answers local clients still waiting for an action, and ends the run's local watchers.
  void EndShares();

  // ApprovalHost
  void SendAnswer(const std::string& approval_id, const std::string& resolution, const std::string& feedback,
                  const std::string& why) override;
  void EndRun(int status, const std::string& message) override { Finish(status, message); }
  void PostToLoop(std::function<void()> fn) override;

  // HostedRun
  std::string Describe() const override;
  void RemoteAction(ControlAction act, std::shared_ptr<ControlClient> client) override;

 private:
  bool native() const;
  void StartOrAttach(bool reconnect);
  void HandleEvent(Event& ev);
  void HandleNumbered(Incoming& in, ReceivedFrame& frame);
  void HandleConverted(Incoming& in, ReceivedFrame& frame);
  void HandleAck(Incoming& in, ReceivedFrame& frame);
  void HandleError(Incoming& in, ReceivedFrame& frame);
  void HandleConvertedAck(Incoming& in, ReceivedFrame& frame);
  void HandleConvertedError(Incoming& in);
  void Emit(Event& ev);
  void EmitFrame(std::string_view type, ReceivedFrame& frame);
  void PrintClientEvent(std::string_view type, const JsonValue& data);
  void Share(Event& ev);
  void CaughtUp();
  void HandleOpenApprovals();
  void StartAction();
  void SendRequest(const std::string& request_id, const std::string& frame);
  /// An approval's answer: sent once --answer-delay has passed since its request arrived.
  void SendApproval(const std::string& approval_id, const std::string& request_id, const std::string& frame);
  void CancelThenFinish(int status, const std::string& message);
  std::string CancelUnconfirmed(const std::string& why) const;
  void Finish(int status, const std::string& message);

  const StreamOptions& opts_;
  RunTarget target_;
  RunLink* link_;
  Output* out_;
  SessionHost* host_;
  Approvals approvals_;
  SeqTracker tracker_;
  DedupeWindow dedupe_;
  std::string since_;           ///< when this process started following (sessions)
  bool started_ = false;        ///< non-native: the start/attach frames went out (never re-sent)
  bool got_events_ = false;
  double last_event_time_ = 0;  ///< unix seconds of the last event printed (request_state)
  std::string exec_request_;    ///< the execute request's id, stable across retries
  bool exec_acked_ = false;
  bool start_known_ = false;    ///< the first subscription was acknowledged: tracker_ is the resume point
  std::string sub_request_;     ///< the current subscription's request id
  std::string resub_request_;   ///< a re-subscription after a gap, until acknowledged
  /// Requests awaiting an answer (frame, sent yet): native re-sends them on reconnect (the ids make
  /// that safe); other dialects only send the ones that never went out.
  std::map<std::string, std::pair<std::string, bool>> pending_;
  /// Local clients' actions sent, by request id: answered when the run confirms or refuses them.
  std::map<std::string, std::pair<ControlAction, std::shared_ptr<ControlClient>>> remote_;
  int64_t history_end_ = -1;    ///< the run's last seq when we attached (-1: not known yet)
  bool caught_up_ = false;      ///< the history has been read: what is open now is really open
  std::string action_request_;  ///< the control command's request, once sent
  bool cancelling_ = false;     ///< --cancel-on-*: the cancel is out, leaving when it is confirmed
  int cancel_exit_ = 0;
  std::string cancel_request_;  ///< the cancel's request id (pending_ says whether it went out)
  int exit_ = -1;
  bool finished_ = false;
  int64_t printed_ = 0;
  int64_t client_lines_ = 0;
  int64_t last_printed_seq_ = -1;
  int64_t garbage_ = 0;
  int64_t duplicates_ = 0;
  int64_t gaps_ = 0;
  Outcome outcome_ = Outcome::kNone;
  std::string reason_;
  RunView view_;
  std::map<std::string, std::chrono::steady_clock::time_point> asked_at_;  ///< approval_requested arrivals
  std::string scratch_;  ///< a converted event's line
};

}  // namespace wsflow
