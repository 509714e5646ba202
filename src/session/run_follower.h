// Follows one run to its end over a Session: (re)subscribes from the last seq printed, drops
// duplicates, never prints past a gap, answers approvals it was told to, prints every new event
// as one NDJSON line, and turns the run's end (or why it could not be seen) into an exit status.
// `watch` and `execute` are this class with different options.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/event_filter.h"
#include "core/exit_status.h"
#include "core/json.h"
#include "core/ndjson_writer.h"
#include "session/run_tracker.h"
#include "session/ws_session.h"

namespace wsflow {

struct FollowOptions {
  std::string base_url;  ///< as given; a URL without a path gets /ws/{run_id}
  std::string run_id;    ///< required for watch; execute makes one when empty
  bool execute = false;
  std::string task;
  std::string config_json;  ///< execute: a JSON object text (model already merged in)
  int64_t since_seq = 0;    ///< print events after this seq
  int64_t tail = -1;        ///< >= 0: start with the last `tail` events instead (0: live only)
  bool raw = false;
  bool follow = false;  ///< keep going after the terminal event
  bool auto_approve = false;
  bool strict = false;  ///< a frame that is not JSON ends the run with exit 4
  bool connection_events = false;
  std::string summary_file;
  EventFilter filter;
  SessionOptions session;  ///< url is filled in from base_url
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
  void HandleEvent(std::string_view frame, const JsonValue& v, int64_t seq, std::string_view type);
  void Print(std::string_view frame, const JsonValue& v);
  void PrintClientEvent(std::string_view type, const JsonValue& data);
  void AutoApprove(const JsonValue& v, int64_t seq);
  void Answer(const std::string& approval_id, const std::string& choice);
  void SendRequest(const std::string& request_id, std::string frame);
  void Finish(int status, const std::string& message, bool close = true);
  std::string NewRequestId();
  std::string Where() const;  ///< "last seq printed: N"
  void WriteSummary();

  FollowOptions opts_;
  NdjsonWriter writer_;
  std::unique_ptr<Session> session_;
  JsonParser parser_;
  SeqTracker tracker_;
  std::string exec_request_;   ///< the execute request's id, stable across retries
  bool exec_acked_ = false;
  bool start_known_ = false;   ///< the first subscription was acknowledged: tracker_ is the resume point
  std::string sub_request_;    ///< the current subscription's request id
  std::string resub_request_;  ///< a re-subscription after a gap, until acknowledged
  std::map<std::string, std::string> pending_;  ///< sent requests awaiting an answer, re-sent on reconnect
  int64_t history_end_ = 0;  ///< the run's last seq when we attached: events up to it are history
  /// Approvals requested in the history: answered only if still open once the history is read.
  std::vector<std::pair<std::string, std::string>> deferred_approvals_;
  uint64_t request_counter_ = 0;
  int exit_ = -1;
  bool finished_ = false;
  int64_t printed_ = 0;
  int64_t garbage_ = 0;
  int64_t duplicates_ = 0;
  int64_t gaps_ = 0;
  Outcome outcome_ = Outcome::kNone;
  std::string last_error_;
};

}  // namespace wsflow
