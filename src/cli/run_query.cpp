#include "cli/run_query.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "core/exit_status.h"
#include "session/messages.h"

namespace wsflow {

namespace {
// The query's id: this process's, so that answers to someone else's request are not taken.
std::string MakeRequestId(const std::string& what) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%ld", what.c_str(), static_cast<long>(::getpid()));
  return buf;
}

class SessionLink : public QueryLink {
 public:
  explicit SessionLink(Session* s) : s_(s) {}
  void SendNow(const std::string& frame) override { s_->SendNow(frame); }
  void Close() override { s_->Close(1000, ""); }
  void After(Millis delay, std::function<void()> fn) override { s_->After(delay, std::move(fn)); }

 private:
  Session* s_;
};
}  // namespace

RunQuery::RunQuery(std::string request, std::string what)
    : request_(std::move(request)), what_(std::move(what)), request_id_(MakeRequestId(what_)) {
  // request_id goes last: {"type":...,"request_id":"runs-123"}
  request_.pop_back();
  request_ += std::string(request_.size() > 1 ? "," : "") + "\"request_id\":" + Quote(request_id_) + "}";
}

void RunQuery::OnOpen(bool) {
  if (done_) return;
  link_->SendNow(request_);  // again after a reconnect: asking is safe to repeat
  if (timeout_.count() > 0 && !timer_) {
    timer_ = true;
    link_->After(timeout_, [this] {
      Finish(kExitTimeout, "wsflow: " + what_ + ": no answer within " + FormatDuration(timeout_));
    });
  }
}

void RunQuery::OnText(std::string_view frame) {
  std::string err;
  if (done_ || !parser_.Parse(frame, &err) || !parser_.doc().IsObject()) return;  // not an answer to us
  const JsonDoc& doc = parser_.doc();
  if (GetString(doc, "request_id") != request_id_) return;
  std::string_view type = GetString(doc, "event_type");
  const JsonValue* data = GetObject(doc, "data");
  if (type == "ack" && data) {
    answer_.CopyFrom(*data, answer_.GetAllocator());
    run_id_ = std::string(GetString(doc, "run_id"));
    return Finish(kExitCompleted, "");
  }
  std::string_view error_type = data ? GetString(*data, "error_type") : std::string_view();
  std::string message(data ? GetString(*data, "message") : std::string_view());
  if (error_type == "unknown_type")  // a backend from before list_runs and run_status
    message = "the backend does not answer " + what_ + " requests (" + message + ")";
  Finish(kExitProtocol, "wsflow: " + what_ + ": " + (message.empty() ? "the backend refused the request" : message));
}

void RunQuery::OnRetry(const Disconnect& why, Millis delay, int attempt, int max_attempts) {
  if (quiet_ || done_) return;
  std::cerr << RetryLine(why, delay, attempt, max_attempts) << "\n";
}

void RunQuery::OnGiveUp(const Disconnect& why, bool exhausted) {
  if (done_) return;
  done_ = true;
  if (why.auth) {
    exit_ = kExitAuth;
    message_ = "wsflow: authentication rejected: " + why.reason;
    return;
  }
  exit_ = GiveUpStatus(why);
  if (why.protocol) {
    message_ = "wsflow: " + why.reason + "; not retrying";
    return;
  }
  message_ = "wsflow: " + std::string(exhausted ? "giving up on " : "cannot connect to ") +
             (url_.empty() ? "the backend" : url_) + ": " + why.reason;
}

void RunQuery::OnSignal(int signo) {
  Finish(ExitStatusForSignal(signo), std::string("wsflow: ") + ExitStatusName(ExitStatusForSignal(signo)));
}

void RunQuery::Finish(int status, std::string message) {
  if (done_) return;
  done_ = true;
  exit_ = status;
  message_ = std::move(message);
  link_->Close();
}

int RunQueryOver(const SessionOptions& opts, RunQuery* query) {
  Session session(opts, query);
  SessionLink link(&session);
  query->SetLink(&link);
  query->SetUrl(opts.url);
  query->SetQuiet(opts.quiet);
  session.Run();
  if (!query->done()) return kExitConnection;  // the loop ended without an answer or a reason
  return query->exit_status();
}

}  // namespace wsflow
