// One question to a backend and its answer: `wsflow runs` (list_runs) and `wsflow status`
// (run_status). The request goes out on every (re)connect with the same request_id; the first
// answer that carries that id ends the query: an ack is the answer, an error is exit 4 with the
// backend's own words.
//
// Thread contract: everything runs on the session's loop thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/duration.h"
#include "core/json.h"
#include "session/ws_session.h"

namespace wsflow {

/// What a query needs of the connection (a Session; a test gives a fake).
class QueryLink {
 public:
  virtual ~QueryLink() = default;
  virtual void SendNow(const std::string& frame) = 0;
  /// Closes with 1000 and ends the loop.
  virtual void Close() = 0;
  virtual void After(Millis delay, std::function<void()> fn) = 0;
};

class RunQuery : public SessionHandler {
 public:
  /// `request`: the request as a JSON object without request_id (it is added). `what`: how
  /// messages name the query ("runs", "status").
  RunQuery(std::string request, std::string what);
  void SetLink(QueryLink* link) { link_ = link; }
  /// Gives up after `timeout` (exit 124); 0: never.
  void SetTimeout(Millis timeout) { timeout_ = timeout; }
  /// Where it asks, for messages.
  void SetUrl(std::string url) { url_ = std::move(url); }
  /// No retry lines on stderr (-q).
  void SetQuiet(bool quiet) { quiet_ = quiet; }

  // SessionHandler
  void OnOpen(bool reconnect) override;
  void OnText(std::string_view frame) override;
  void OnRetry(const Disconnect& why, Millis delay, int attempt, int max_attempts) override;
  void OnGiveUp(const Disconnect& why, bool exhausted) override;
  void OnSignal(int signo) override;

  bool done() const { return done_; }
  /// 0 with answer() set, or the exit status, with message() (one line for stderr).
  int exit_status() const { return exit_; }
  const std::string& message() const { return message_; }
  /// The ack's data.
  const JsonValue& answer() const { return answer_; }
  /// The ack's run_id ("" when it has none).
  const std::string& run_id() const { return run_id_; }
  const std::string& request_id() const { return request_id_; }

 private:
  void Finish(int status, std::string message);

  std::string request_;
  std::string what_;
  std::string request_id_;
  std::string url_;
  QueryLink* link_ = nullptr;
  Millis timeout_{0};
  bool timer_ = false;
  bool quiet_ = false;
  bool done_ = false;
  int exit_ = 0;
  std::string message_;
  JsonDoc answer_;
  std::string run_id_;
  JsonParser parser_;
};

/// Runs `query` over a session made from `opts` until it is answered; returns its exit status.
int RunQueryOver(const SessionOptions& opts, RunQuery* query);

}  // namespace wsflow
