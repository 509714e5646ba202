#include "session/dispatcher.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <iostream>

#include "core/url.h"

namespace wsflow {

// What a follower sees of the shared connection.
class Dispatcher::Link : public RunLink {
 public:
  explicit Link(Dispatcher* d) : d_(d) {}
  RunFollower* run = nullptr;

  const Dialect* dialect() const override { return d_->dialect_.get(); }
  void Send(const std::string& frame, const std::string& request_id) override {
    if (!request_id.empty()) d_->by_request_[request_id] = run;
    if (d_->recorder_) d_->recorder_->Out(frame);
    d_->session_->SendNow(frame);
  }
  bool is_open() const override { return d_->session_->is_open(); }
  int64_t reconnects() const override { return d_->session_->reconnects(); }
  const std::string& url() const override { return d_->session_->url(); }
  void MarkProgress() override { d_->session_->MarkProgress(); }
  void After(Millis delay, std::function<void()> fn) override { d_->session_->After(delay, std::move(fn)); }
  void Post(std::function<void()> fn) override { d_->Post(std::move(fn)); }
  std::string NewRequestId() override {
    return "req-" + std::to_string(::getpid()) + "-" + std::to_string(++d_->request_counter_);
  }
  void Ended() override { d_->OneEnded(run); }

 private:
  Dispatcher* d_;
};

Dispatcher::Dispatcher(const std::string& dialect, Output* out, RecordingWriter* recorder, int retries, bool quiet,
                       int verbose)
    : dialect_name_(dialect), out_(out), recorder_(recorder), retries_(retries), quiet_(quiet), verbose_(verbose) {
  if (dialect != "auto" && !dialect.empty()) dialect_ = MakeDialect(dialect);
}

Dispatcher::~Dispatcher() { StopPosting(); }

void Dispatcher::SetSession(SessionPort* session) {
  session_ = session;
  std::lock_guard<std::mutex> lk(post_->mu);
  post_->session = session;
}

void Dispatcher::StopPosting() {
  std::lock_guard<std::mutex> lk(post_->mu);
  post_->session = nullptr;
}

void Dispatcher::Post(std::function<void()> fn) {
  std::lock_guard<std::mutex> lk(post_->mu);
  if (post_->session) post_->session->Post(std::move(fn));
}

RunFollower& Dispatcher::AddRun(const StreamOptions& opts, RunTarget target, SessionHost* host) {
  links_.push_back(std::make_unique<Link>(this));
  runs_.push_back(std::make_unique<RunFollower>(opts, std::move(target), links_.back().get(), out_, host));
  RunFollower& f = *runs_.back();
  links_.back()->run = &f;
  by_run_[f.run_id()] = &f;
  if (session_ && session_->is_open()) f.OnOpen(false);
  return f;
}

void Dispatcher::ExpectMore(bool more) {
  expect_more_ = more;
  CloseWhenDone();
}

void Dispatcher::OnStopped() {
  SayTotals();
  if (stopped_) stopped_();
}

bool Dispatcher::all_ended() const {
  for (const auto& r : runs_)
    if (!r->finished()) return false;
  return true;
}

void Dispatcher::OneEnded(RunFollower* run) {
  if (run_ended_ && run) run_ended_(*run);
  CloseWhenDone();
}

void Dispatcher::CloseWhenDone() {
  if (closing_ || expect_more_ || !all_ended() || !session_) return;
  closing_ = true;
  bool signalled = false, completed = true;
  int status = kExitCompleted;
  for (const auto& r : runs_) {
    int s = r->exit_status();
    signalled = signalled || IsSignalStatus(s);
    if (s != kExitCompleted && completed) completed = false, status = s;
  }
  session_->Close(signalled ? 1001 : 1000, completed ? "done" : ExitStatusName(status));
}

void Dispatcher::EndAll(int status, const std::string& message) {
  if (all_ended()) return;
  if (!message.empty()) {
    out_->BreakLine();
    std::cerr << message << "\n";
  }
  for (auto& r : runs_) r->EndRun(status, "");
}

void Dispatcher::OnTimeout(Millis timeout) {
  for (auto& r : runs_) r->OnTimeout(timeout);
}

void Dispatcher::OnOpen(bool reconnect) {
  if (all_ended() && !closing_) return;
  if (!reconnect && search_ && search_->moved() && !quiet_) std::cerr << search_->FoundLine() << "\n";
  if (reconnect && !quiet_) {
    if (runs_.size() == 1) std::cerr << "wsflow: reconnected, resuming after seq " << runs_[0]->last_seq() << "\n";
    else std::cerr << "wsflow: reconnected, resuming every run from its last seq\n";
  }
  frames_since_open_ = 0;
  for (auto& r : runs_) r->OnOpen(reconnect);
}

bool Dispatcher::Detect(ReceivedFrame& frame) {
  const std::string& rid = std::string(frame.fields().request_id);
  auto own = by_request_.find(rid);
  std::string name = DialectFromFrame(frame.dom(), own != by_request_.end() && own->second->IsOwnRequest(rid) ? rid : "");
  if (name.empty()) return false;
  Detected(name, "from the first frames");
  return true;
}

void Dispatcher::Detected(const std::string& name, const std::string& why) {
  dialect_ = MakeDialect(name);
  if (!quiet_ && name != "native") std::cerr << DialectLine(name, why) << "\n";
  for (auto& r : runs_) r->OnDialectDetected();
}

RunFollower* Dispatcher::Route(const Incoming& in) {
  if (runs_.size() == 1) return runs_[0].get();
  if (!in.run_id.empty()) {
    auto it = by_run_.find(in.run_id);
    if (it != by_run_.end()) return it->second;
  }
  if (!in.request_id.empty()) {
    auto it = by_request_.find(in.request_id);
    if (it != by_request_.end()) return it->second;
  }
  return nullptr;
}

void Dispatcher::OnText(std::string_view text) {
  if (all_ended() && !std::any_of(runs_.begin(), runs_.end(), [](const auto& r) { return r->cancelling(); })) return;
  ++frames_since_open_;
  std::string err;
  if (!frame_.Reset(text, &err, /*validate_utf8=*/false)) {  // websocketpp validated the text frame
    std::string head(text.substr(0, 60));
    for (auto& c : head) c = (c == '\n' || c == '\r') ? ' ' : c;
    Skip("a frame that is not JSON (" + err + ")", head + (text.size() > 60 ? "..." : ""), &not_json_);
    if (recorder_) recorder_->In(text, "");
    return;
  }
  if (!dialect_ && !Detect(frame_)) {
    if (!runs_.empty()) runs_[0]->OnUndetected(frame_);
    if (recorder_) recorder_->In(text, out_->TakePrinted());
    return;
  }
  in_.Reset();
  dialect_->Convert(frame_, runs_.size() == 1 ? runs_[0]->run_id() : std::string(), &in_);
  if (RunFollower* r = Route(in_)) {
    r->OnFrame(in_, frame_);
  } else if (in_.kind == Incoming::kError) {  // nobody's: said once
    std::cerr << "wsflow: the server reported an error: " << in_.message << "\n";
  }
  if ((in_.kind == Incoming::kAck || in_.kind == Incoming::kError) && !in_.request_id.empty() && runs_.size() > 1)
    by_request_.erase(in_.request_id);
  if (recorder_) recorder_->In(text, out_->TakePrinted());
  // stdout cannot keep up: stop reading (from here, inside the read: pausing anywhere else could
  // leave two reads in flight once resumed) until the writer drains.
  if (out_->writer().Backlogged() && out_->writer().AboveHighWater() && session_) session_->PauseReading();
}

void Dispatcher::OnBinary(std::string_view frame) {
  ++frames_since_open_;
  Skip("a binary frame of " + Count(static_cast<int64_t>(frame.size()), "byte", "bytes"), "", &binary_);
}

// A frame that carries no event: --strict ends the runs with it (their line says so); otherwise
// it is skipped with a warning, the first few in full, since a server may send one every few
// events. OnStopped says the total.
void Dispatcher::Skip(const std::string& what, const std::string& head, Skipped* skipped) {
  bool strict = std::any_of(runs_.begin(), runs_.end(), [](const auto& r) { return r->strict() && !r->finished(); });
  for (auto& r : runs_) r->OnInvalid(what);
  if (strict) return;
  RepeatLimiter::Say say = skipped->limiter.Next();
  if (say == RepeatLimiter::Say::kNothing) return;
  std::cerr << "wsflow: skipped " << what << (head.empty() ? "" : ": " + head) << "\n";
  if (say == RepeatLimiter::Say::kLineAndLimit)
    std::cerr << "wsflow: further " << skipped->now << " are counted, not shown\n";
}

void Dispatcher::SayTotals() {
  for (Skipped* s : {&not_json_, &binary_}) {
    if (!s->limiter.limited()) continue;  // each was said (and so there are two or more here)
    std::cerr << "wsflow: " << s->limiter.count() << " " << s->then << " were skipped (the first "
              << s->limiter.shown() << " shown above)\n";
  }
}

void Dispatcher::OnRetry(const Disconnect& why, Millis delay, int attempt, int max_attempts) {
  for (auto& r : runs_) r->OnRetry(why, delay, attempt);
  if (quiet_) return;
  out_->BreakLine();
  std::cerr << RetryLine(why, delay, attempt, max_attempts) << "\n";
}

bool Dispatcher::ShouldReconnect(const Disconnect& why) {
  WsUrl url;
  std::string err;
  if (!dialect_ && why.was_open && why.close_code == 1000 && frames_since_open_ == 0 && session_ &&
      ParseWsUrl(session_->url(), &url, &err) && !DialectFromSilentClose(url.path).empty()) {
    // Reconnecting would only be closed again: what the dialect says of the run is the answer.
    Detected(DialectFromSilentClose(url.path),
             "the backend closed the socket without a frame, as MARS does for a run that has ended");
  }
  for (auto& r : runs_)
    if (!r->finished()) r->ShouldReconnect(why);
  return !all_ended();
}

std::string Dispatcher::OtherUrl(const Disconnect& why) {
  const Endpoint* next = search_ ? search_->Next(why.http_status) : nullptr;
  if (!next) return "";
  dialect_ = MakeDialect(next->dialect);  // its path names it: the runs start in it once it opens
  return next->url;
}

void Dispatcher::OnGiveUp(const Disconnect& why, bool exhausted) {
  if (all_ended()) return;
  int status = GiveUpStatus(why);
  out_->BreakLine();
  if (search_ && search_->none_found()) {
    std::cerr << search_->NoneLine() << "\n";
  } else if (why.protocol) {
    std::cerr << "wsflow: " << why.reason << "; not retrying";
    if (runs_.size() == 1) std::cerr << " (" << runs_[0]->Where() << ")";
    std::cerr << "\n";
  } else if (why.auth) {
    std::cerr << "wsflow: authentication rejected";
    if (why.http_status && session_) std::cerr << " by " << session_->url();  // else the reason names the proxy
    std::cerr << ": " << why.reason << "\n";
  } else if (exhausted) {
    std::cerr << "wsflow: giving up after " << Count(retries_, "retry", "retries") << ": " << why.reason;
    if (runs_.size() == 1) std::cerr << " (" << runs_[0]->Where() << ")";
    std::cerr << "\n";
  } else {
    std::cerr << "wsflow: cannot connect to " << (session_ ? session_->url() : std::string()) << ": " << why.reason
              << "\n";
  }
  for (auto& r : runs_) {
    if (r->finished()) continue;
    r->OnGiveUp(status, why.reason);
    if (run_ended_) run_ended_(*r);
  }
}

void Dispatcher::OnSignal(int signo) {
  if (all_ended()) {
    if (session_) session_->Stop();
    return;
  }
  for (auto& r : runs_) r->OnSignal(signo);
}

}  // namespace wsflow
