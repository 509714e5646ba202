// Follows one run over a Session: (re)subscribes from the last seq printed, drops duplicates,
// never prints past a gap, handles approvals as told, and turns how the run (or the wait) ended
// into an exit status. `watch` and `execute` print the stream; `approve`, `cancel`, `pause` and
// `resume` read it silently to act at the right moment and print only the acknowledging event.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/approval_policy.h"
#include "core/event_filter.h"
#include "core/exit_status.h"
#include "core/json.h"
#include "core/ndjson_writer.h"
#include "core/predicate.h"
#include "core/pretty.h"
#include "core/status_line.h"
#include "dialects/dialect.h"
#include "replay/recording.h"
#include "session/approval_hook.h"
#include "session/control_socket.h"
#include "session/run_tracker.h"
#include "session/ws_session.h"

namespace wsflow {

/// What `approve`, `cancel`, `pause` and `resume` do once the run's history has been read.
struct ControlAction {
  std::string type;  ///< "approve", "cancel", "pause", "resume"
  std::string approval_id;
  std::string resolution;  ///< approve: empty = the request's first approve-like option
  bool reject = false;     ///< approve --reject: its first reject-like option
  std::string feedback;
  std::string modifications;
};

struct FollowOptions {
  std::string base_url;  ///< as given; a URL without a path gets the dialect's path for the run
  std::string dialect = "auto";  ///< native, cmbagent, ryx, a2a, aladdin, chat, or auto (detect)
  bool keep_raw = false;         ///< converted events keep the backend's frame under "raw"
  bool show_heartbeats = false;  ///< print heartbeat frames too
  std::string run_id;    ///< required for watch; execute makes one when empty
  bool execute = false;
  std::string task;
  std::string config_json;  ///< execute: a JSON object text (model already merged in)
  bool detach = false;      ///< execute: print {"run_id":...} once started and leave
  int64_t since_seq = 0;    ///< print events after this seq
  int64_t tail = -1;        ///< >= 0: start with the last `tail` events instead (0: live only)
  bool raw = false;
  bool follow = false;  ///< keep going after the terminal event
  bool strict = false;  ///< a frame that is not JSON ends the run with exit 4
  bool connection_events = false;
  std::string summary_file;
  EventFilter filter;
  std::vector<Predicate> match;  ///< printed events satisfy all of these

  // What ends the command besides the run's end (--until, --max-events, --timeout).
  std::vector<std::string> until_types;  ///< empty: the terminal event
  bool until_approval = false;           ///< an approval that waits for an answer
  std::vector<Predicate> until_match;
  int64_t max_events = 0;
  Millis timeout{0};
  bool cancel_on_timeout = false;
  bool cancel_on_interrupt = false;

  // Approvals inside watch/execute.
  ApprovalPolicy approvals;
  std::string on_approval;  ///< command answering approvals
  Millis on_approval_timeout{60000};
  bool no_input = false;     ///< never ask: an unanswered approval is exit 4
  bool interactive = false;  ///< ask on the terminal when nothing else answers

  std::optional<ControlAction> action;  ///< a control command instead of a stream
  bool direct = false;                  ///< never go through a local session holding the run
  bool listen = true;                   ///< a holder of the run offers the local control socket
  std::string record_file;              ///< --record: every frame in and out, with timing

  SessionOptions session;  ///< url is filled in from base_url

  // For people (watch/execute --output pretty, --progress). Null: NDJSON only, as always.
  std::shared_ptr<PrettyPrinter> pretty;  ///< stdout gets its lines instead of the JSON, and a summary
  std::shared_ptr<StatusLine> status;     ///< a live one-line status on stderr
};

class RunFollower : public SessionHandler {
 public:
  explicit RunFollower(FollowOptions opts);
  ~RunFollower() override;

  /// Runs until the run ended or the stream cannot go on; returns the exit status.
  int Run();

  // SessionHandler
  void OnOpen(bool reconnect) override;
  void OnText(std::string_view frame) override;
  void OnBinary(std::string_view frame) override;
  void OnRetry(const Disconnect& why, Millis delay, int attempt, int max_attempts) override;
  void OnGiveUp(const Disconnect& why, bool exhausted) override;
  void OnSignal(int signo) override;

 private:
  struct Approval {
    ApprovalRequest request;
    std::string line;  ///< the approval_requested envelope (input of --on-approval)
    bool resolved = false;
    bool handling = false;  ///< a hook or prompt is answering it
  };

  void HandleText(std::string_view frame);
  void HandleEvent(std::string_view frame, const JsonValue& v, int64_t seq, std::string_view type, Outcome outcome);
  /// A frame of a dialect other than native: converted, de-duplicated and numbered.
  void HandleConverted(std::string_view frame, const JsonValue& v);
  void HandleNative(std::string_view frame, const JsonValue& v);
  /// Whether the first frames tell which backend this is (--dialect auto).
  bool Detect(const JsonValue& v);
  /// Sends what starts or attaches to the run in a dialect other than native.
  void StartOrAttach(bool reconnect);
  bool ShouldReconnect(const Disconnect& why) override;
  /// Prints an event (through Print) and remembers it for the recording.
  void Emit(std::string_view frame, const JsonValue& v);
  /// Sends on the open connection, recording it.
  void SendFrame(const std::string& frame);
  bool WaitConditionMet(std::string_view type, const JsonValue& v) const;
  void Print(std::string_view frame, const JsonValue& v);
  void PrintClientEvent(std::string_view type, const JsonValue& data);
  void CaughtUp();
  void HandleOpenApprovals();
  void AnswerApproval(const std::string& approval_id, const std::string& resolution, const std::string& feedback,
                      const std::string& why);
  void OnHookAnswer(const std::string& approval_id, const HookAnswer& answer);
  void StartAction();
  bool BuildAction(ControlAction& act, const std::string& request_id, std::string* frame, int* status, std::string* msg);
  static bool Confirms(const ControlAction& act, std::string_view type, const JsonValue& v);
  // The local control socket (session/control_socket.h).
  void StartControlServer();
  void OnControlRequest(const std::string& request, ControlServer::Reply reply);
  void RemoteAction(ControlAction act, ControlServer::Reply reply);
  /// Sends each new event to local watchers and settles local actions it confirms.
  void Share(std::string_view line, std::string_view type, const JsonValue& v);
  void EndShares();
  /// approve/cancel/pause/resume/watch through a local session holding the run; -1: there is none.
  int ViaLocalSession();
  bool ConfirmsAction(std::string_view type, const JsonValue& v) const;
  void SendRequest(const std::string& request_id, std::string frame);
  void CancelThenFinish(int status, const std::string& message);
  void Finish(int status, const std::string& message, bool close = true);
  std::string NewRequestId();
  std::string Where() const;  ///< "last seq printed: N"
  std::string Awaited() const;
  void PostFromThread(std::function<void()> fn);
  void WriteSummary();

  FollowOptions opts_;
  std::unique_ptr<Dialect> dialect_;  ///< null until detected (--dialect auto)
  bool started_ = false;              ///< non-native: the start/attach frames went out (never re-sent)
  bool got_events_ = false;
  int64_t synth_seq_ = 0;             ///< non-native: our numbering of the run's events
  double last_event_time_ = 0;        ///< unix seconds of the last event printed (request_state)
  DedupeWindow dedupe_;
  NdjsonWriter writer_;
  RecordingWriter recorder_;
  ControlServer control_;
  std::vector<std::string> history_;  ///< every event of the run seen, for local watchers
  std::vector<ControlServer::Reply> watchers_;
  struct Remote {
    ControlAction act;
    ControlServer::Reply reply;
  };
  std::map<std::string, Remote> remote_;  ///< local actions sent, by request id
  std::string since_;                      ///< when this process started following (sessions)
  std::string printed_now_;  ///< the envelope printed for the frame being handled (for the recording)
  std::unique_ptr<Session> session_;
  std::shared_ptr<std::mutex> post_mu_ = std::make_shared<std::mutex>();
  std::shared_ptr<Session*> post_target_ = std::make_shared<Session*>(nullptr);
  JsonParser parser_;
  SeqTracker tracker_;
  std::string exec_request_;   ///< the execute request's id, stable across retries
  bool exec_acked_ = false;
  bool start_known_ = false;   ///< the first subscription was acknowledged: tracker_ is the resume point
  std::string sub_request_;    ///< the current subscription's request id
  std::string resub_request_;  ///< a re-subscription after a gap, until acknowledged
  /// Requests awaiting an answer (frame, sent yet): native re-sends them on reconnect (the ids make
  /// that safe); other dialects only send the ones that never went out.
  std::map<std::string, std::pair<std::string, bool>> pending_;
  int64_t history_end_ = -1;   ///< the run's last seq when we attached (-1: not known yet)
  bool caught_up_ = false;     ///< the history has been read: what is open now is really open
  std::map<std::string, Approval> approvals_;  ///< every approval requested, by id
  std::vector<std::string> approval_order_;
  std::string action_request_;  ///< the control command's request, once sent
  bool cancelling_ = false;     ///< --cancel-on-*: the cancel is out, leaving when it is confirmed
  int cancel_exit_ = 0;
  std::string cancel_message_;
  uint64_t request_counter_ = 0;
  int exit_ = -1;
  bool finished_ = false;
  int64_t printed_ = 0;
  int64_t garbage_ = 0;
  int64_t duplicates_ = 0;
  int64_t gaps_ = 0;
  Outcome outcome_ = Outcome::kNone;
};

}  // namespace wsflow
