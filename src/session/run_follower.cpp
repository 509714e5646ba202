#include "session/run_follower.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iostream>
#include <random>

#include "core/envelope.h"
#include "core/timestamp.h"
#include "core/url.h"
#include "dialects/native.h"
#include "dialects/dialect.h"
#include "dialects/adapters.h"

namespace wsflow {

namespace {
std::string RandomHex(int n) {
  static std::mt19937_64 rng(std::random_device{}());
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s += hex[rng() % 16];
  return s;
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

bool Contains(const std::vector<std::string>& items, const std::string& x) {
  return std::find(items.begin(), items.end(), x) != items.end();
}

constexpr Millis kCancelGrace{5000};  // --cancel-on-*: how long to wait for the cancel's confirmation
}  // namespace

RunFollower::RunFollower(FollowOptions opts) : opts_(std::move(opts)), writer_(NdjsonWriter::Options{}) {
  if (opts_.run_id.empty()) opts_.run_id = "r-" + RandomHex(12);
  tracker_ = SeqTracker(opts_.since_seq);
  start_known_ = opts_.tail < 0;
  WsUrl url;
  std::string err;
  ParseWsUrl(opts_.base_url, &url, &err);  // validated by the caller
  std::string name = opts_.dialect;
  if (name == "auto" && url.has_path()) name = DialectFromPath(url.path);  // "" when the path does not tell
  if (name != "auto" && !name.empty()) dialect_ = MakeDialect(name);
  if (url.has_path()) {
    opts_.session.url = opts_.base_url;
  } else {
    std::string path = dialect_ ? dialect_->Path(EncodePathSegment(opts_.run_id)) : "/ws/" + EncodePathSegment(opts_.run_id);
    size_t q = path.find('?');
    if (q != std::string::npos && !url.query.empty()) path += "&" + url.query, url.query.clear();
    opts_.session.url = url.WithPath(path);
  }
  exec_request_ = "exec-" + RandomHex(16);
}

RunFollower::~RunFollower() = default;

int RunFollower::Run() {
  if (!opts_.record_file.empty()) {
    RecordingHeader h;
    h.command = opts_.action ? opts_.action->type : opts_.execute ? "execute" : "watch";
    h.url = opts_.session.url;
    h.dialect = dialect_ ? dialect_->name() : "auto";  // auto: detected from the first frames, later
    h.run_id = opts_.run_id;
    h.task = opts_.task;
    h.config_json = opts_.config_json;
    std::string err;
    if (!recorder_.Open(opts_.record_file, h, &err)) {
      std::cerr << "wsflow: " << err << "\n";
      return kExitUsage;
    }
  }
  if (!opts_.direct && !opts_.execute) {  // a local process may hold the run's one connection
    int via = ViaLocalSession();
    if (via >= 0) return via;
  }
  if (dialect_ && std::string(dialect_->name()) != "native") {
    // Before any socket: for one-socket-per-run backends a second socket breaks the run it touches.
    std::vector<std::string> frames;
    std::string err;
    StartRequest probe;
    bool ok = opts_.execute ? dialect_->Start(probe, &frames, &err)
                            : dialect_->Attach(opts_.run_id, 0, -1, "", &frames, &err);
    if (ok && opts_.action && opts_.action->type != "approve") {
      std::string frame;
      ok = dialect_->Control(opts_.action->type, opts_.run_id, "", &frame, &err);
    } else if (ok && opts_.action) {
      std::string frame;
      ok = dialect_->Approve(opts_.run_id, "", "", "", "", "", &frame, &err);
    }
    if (!ok) {
      std::cerr << "wsflow: " << err
                << (dialect_->one_socket_per_run() ? "; steer the run through the process that holds it" : "") << "\n";
      return kExitUsage;
    }
  }
  session_ = std::make_unique<Session>(opts_.session, this);
  if (!opts_.action && opts_.listen) StartControlServer();
  {
    std::lock_guard<std::mutex> lk(*post_mu_);
    *post_target_ = session_.get();
  }
  writer_.OnDrained([this] { session_->ResumeReading(); });
  writer_.OnBroken([this] {
    // The reader went away (`| head -1`): nothing more can be delivered; that is not an error.
    session_->Post([this] { Finish(kExitCompleted, "", true); });
  });
  if (opts_.execute && !opts_.session.quiet && !opts_.detach) std::cerr << "wsflow: run " << opts_.run_id << "\n";
  if (opts_.timeout.count() > 0) {
    session_->After(opts_.timeout, [this] {
      if (finished_ || cancelling_) return;
      std::string msg = "wsflow: timed out after " + FormatDuration(opts_.timeout) + " waiting for " + Awaited() +
                        " (" + Where() + ")";
      if (opts_.cancel_on_timeout) return CancelThenFinish(kExitTimeout, msg);
      Finish(kExitTimeout, msg);
    });
  }
  session_->Run();
  EndShares();
  {
    std::lock_guard<std::mutex> lk(*post_mu_);  // threads still answering approvals must not post now
    *post_target_ = nullptr;
  }
  control_.Stop();
  writer_.Close();
  if (exit_ < 0) exit_ = kExitProtocol;
  if (recorder_.is_open()) recorder_.End(exit_);
  // The run ended (or we were stopped): one line that a CI log can show. Errors said theirs already.
  bool ended = exit_ == kExitCompleted || exit_ == kExitFailed || exit_ == kExitCancelled ||
               exit_ == kExitInterrupted || exit_ == kExitTerminated;
  if (!opts_.session.quiet && ended && !writer_.broken() && !opts_.action && !opts_.detach) {
    std::cerr << "wsflow: run " << opts_.run_id << " "
              << (outcome_ == Outcome::kNone ? "not finished" : ExitStatusName(ExitStatusFor(outcome_))) << ": "
              << printed_ << " events printed, last seq " << tracker_.last() << ", " << session_->stats().reconnects
              << " reconnects";
    if (gaps_) std::cerr << ", " << gaps_ << " gaps re-requested";
    if (garbage_) std::cerr << ", " << garbage_ << " invalid frames ignored";
    std::cerr << "\n";
  }
  if (opts_.status) opts_.status->Stop();
  if (opts_.pretty && !writer_.broken() && !opts_.action && !opts_.detach) {
    // The writer has stopped: the end summary goes to stdout directly.
    std::cout << opts_.pretty->Finish() << opts_.pretty->Summary() << std::flush;
  }
  WriteSummary();
  return exit_;
}

void RunFollower::PostFromThread(std::function<void()> fn) {
  std::lock_guard<std::mutex> lk(*post_mu_);
  if (*post_target_) (*post_target_)->Post(std::move(fn));
}

std::string RunFollower::NewRequestId() {
  return "req-" + std::to_string(::getpid()) + "-" + std::to_string(++request_counter_);
}

std::string RunFollower::Where() const { return "last seq printed: " + std::to_string(tracker_.last()); }

std::string RunFollower::Awaited() const {
  if (opts_.action) {
    if (opts_.action->type == "approve") return "approval_received for " + opts_.action->approval_id;
    return "the " + opts_.action->type + " to be acknowledged";
  }
  if (opts_.until_approval) return "an approval request";
  if (!opts_.until_types.empty()) return "an event of type " + Join(opts_.until_types, " or ");
  if (!opts_.until_match.empty()) return "an event matching the --until-match conditions";
  if (opts_.max_events > 0) return std::to_string(opts_.max_events) + " events";
  return "run " + opts_.run_id + " to end";
}

void RunFollower::Finish(int status, const std::string& message, bool close) {
  if (finished_) return;
  finished_ = true;
  exit_ = status;
  if (!message.empty()) std::cerr << message << "\n";
  if (close) {
    session_->Close(status == kExitInterrupted || status == kExitTerminated ? 1001 : 1000,
                    status == kExitCompleted ? "done" : ExitStatusName(status));
  } else {
    session_->Stop();
  }
}

// --cancel-on-timeout / --cancel-on-interrupt: for some backends this process holds the only
// connection that can cancel. Send it, wait a little for the confirmation, then leave as asked.
void RunFollower::CancelThenFinish(int status, const std::string& message) {
  if (finished_ || cancelling_) return;
  if (outcome_ != Outcome::kNone) return Finish(status, message);
  cancelling_ = true;
  cancel_exit_ = status;
  cancel_message_ = message;
  std::cerr << message << "; cancelling run " << opts_.run_id << "\n";
  std::string rid = "cancel-" + exec_request_;
  std::string frame, err;
  if (!dialect_ || !dialect_->Control("cancel", opts_.run_id, rid, &frame, &err)) {
    cancelling_ = false;
    return Finish(status, message + (dialect_ ? " (cannot cancel: " + err + ")" : ""));
  }
  SendRequest(rid, frame);
  session_->After(kCancelGrace, [this] {
    Finish(cancel_exit_, "wsflow: the cancel of run " + opts_.run_id + " was not confirmed within " +
                             FormatDuration(kCancelGrace));
  });
}

void RunFollower::OnOpen(bool reconnect) {
  if (finished_) return;
  if (opts_.connection_events) {
    JsonDoc d(rapidjson::kObjectType);
    d.AddMember("url", Str(opts_.session.url, d.GetAllocator()), d.GetAllocator());
    d.AddMember("last_seq", tracker_.last(), d.GetAllocator());
    PrintClientEvent(reconnect ? "reconnected" : "connected", d);
  }
  if (reconnect && !opts_.session.quiet)
    std::cerr << "wsflow: reconnected, resuming after seq " << tracker_.last() << "\n";
  resub_request_.clear();
  if (dialect_ && std::string(dialect_->name()) != "native") return StartOrAttach(reconnect);
  if (opts_.execute && !exec_acked_) {
    // The same request id on every retry: the server starts the run once and attaches us to it.
    SendFrame(native::ExecuteFrame(opts_.task, opts_.config_json, opts_.run_id, exec_request_, tracker_.last()));
  } else {
    sub_request_ = NewRequestId();
    SendFrame(native::SubscribeFrame(opts_.run_id, tracker_.last(), sub_request_, start_known_ ? -1 : opts_.tail));
  }
  for (auto& [id, request] : pending_) {  // applied once: the server knows the ids
    SendFrame(request.first);
    request.second = true;
  }
}

void RunFollower::OnBinary(std::string_view frame) {
  ++garbage_;
  std::cerr << "wsflow: ignored a binary frame of " << frame.size() << " bytes\n";
  if (opts_.strict) Finish(kExitProtocol, "wsflow: --strict: the server sent a binary frame (" + Where() + ")");
}

void RunFollower::OnText(std::string_view frame) {
  printed_now_.clear();
  HandleText(frame);
  if (recorder_.is_open()) recorder_.In(frame, printed_now_);
}

void RunFollower::Emit(std::string_view frame, const JsonValue& v) {
  if (recorder_.is_open()) {
    printed_now_ = frame.find('\n') == std::string_view::npos && IsCompactJson(frame) ? std::string(frame) : ToJson(v);
  }
  Print(frame, v);
}

void RunFollower::SendFrame(const std::string& frame) {
  if (recorder_.is_open()) recorder_.Out(frame);
  session_->SendNow(frame);
}

void RunFollower::HandleText(std::string_view frame) {
  if (finished_ && !cancelling_) return;
  std::string err;
  if (!parser_.Parse(frame, &err)) {
    ++garbage_;
    std::string head(frame.substr(0, 60));
    for (auto& c : head) c = (c == '\n' || c == '\r') ? ' ' : c;
    std::cerr << "wsflow: ignored a frame that is not JSON (" << err << "): " << head
              << (frame.size() > 60 ? "..." : "") << "\n";
    if (opts_.strict) Finish(kExitProtocol, "wsflow: --strict: the server sent invalid JSON (" + Where() + ")");
    return;
  }
  const JsonValue& v = parser_.doc();
  if (!dialect_ && !Detect(v)) {
    if (!opts_.action && opts_.filter.Accepts("unknown")) PrintClientEvent("unknown", v);
    return;
  }
  if (finished_ && !cancelling_) return;
  if (std::string(dialect_->name()) == "native") return HandleNative(frame, v);
  HandleConverted(frame, v);
}

void RunFollower::HandleNative(std::string_view frame, const JsonValue& v) {
  native::Frame f = native::Classify(v);
  switch (f.kind) {
    case native::FrameKind::kEvent: {
      const JsonValue* data = GetObject(v, "data");
      if (data && !f.env.timestamp.empty())
        return HandleEvent(frame, v, f.env.seq, f.env.event_type, native::TerminalOutcome(f.env.event_type, v));
      // An event without a timestamp or an object in data: completed, so every line keeps the contract.
      JsonDoc fixed;
      fixed.CopyFrom(v, fixed.GetAllocator());
      auto& a = fixed.GetAllocator();
      if (f.env.timestamp.empty()) {
        fixed.RemoveMember("timestamp");
        fixed.AddMember("timestamp", Str(NowIso(), a), a);
      }
      if (!data) {
        JsonValue wrapped(rapidjson::kObjectType);
        auto it = fixed.FindMember("data");
        if (it != fixed.MemberEnd()) {
          wrapped.AddMember("value", JsonValue(it->value, a), a);
          fixed.RemoveMember("data");
        }
        fixed.AddMember("data", wrapped, a);
      }
      std::string line = ToJson(fixed);
      std::string_view type = GetString(fixed, "event_type");
      return HandleEvent(line, fixed, f.env.seq, type, native::TerminalOutcome(type, fixed));
    }
    case native::FrameKind::kAck: {
      if (opts_.raw && !opts_.action) Emit(frame, v);
      std::string rid(f.request_id);
      pending_.erase(rid);
      if (rid == exec_request_ && !exec_acked_) {
        exec_acked_ = true;
        if (opts_.session.verbose) std::cerr << "wsflow: run " << opts_.run_id << " started\n";
        if (opts_.detach) {
          JsonDoc d(rapidjson::kObjectType);
          d.AddMember("run_id", Str(opts_.run_id, d.GetAllocator()), d.GetAllocator());
          writer_.Write(ToJson(d));
          return Finish(kExitCompleted, "");
        }
      }
      if (rid == resub_request_) resub_request_.clear();
      if (rid == sub_request_ && !start_known_) {  // --tail/--no-history: now we know where we start
        start_known_ = true;
        if (f.from_seq > tracker_.last()) tracker_ = SeqTracker(f.from_seq);
      }
      if ((rid == sub_request_ || rid == exec_request_) && history_end_ < 0) {
        history_end_ = f.last_seq;
        if (tracker_.last() >= history_end_) CaughtUp();
      }
      return;
    }
    case native::FrameKind::kError: {
      if (opts_.raw && !opts_.action) Emit(frame, v);
      std::string rid(f.request_id);
      std::string msg(f.message);
      if ((rid == sub_request_ || rid == resub_request_) && session_->stats().reconnects > 0) {
        // We lost the connection and the backend will not take us back: say what may be missing.
        return Finish(kExitIncomplete, "wsflow: the backend cannot resume run " + opts_.run_id +
                                           " after the connection was lost (" + msg + "); events after seq " +
                                           std::to_string(tracker_.last()) + " may be missing");
      }
      if (rid == exec_request_ || rid == sub_request_ || (!rid.empty() && rid == resub_request_)) {
        return Finish(kExitProtocol, "wsflow: the server refused " +
                                         std::string(opts_.execute && !exec_acked_ ? "to start" : "to attach to") +
                                         " run " + opts_.run_id + ": " + msg);
      }
      auto remote = remote_.find(rid);
      if (remote != remote_.end()) {  // a local client's request was refused: tell it, carry on
        pending_.erase(rid);
        remote->second.reply(R"({"ok":false,"status":4,"message":)" + Quote("wsflow: the server refused the " +
                                 remote->second.act.type + ": " + msg) + "}", true);
        remote_.erase(remote);
        return;
      }
      if (pending_.erase(rid)) {
        if (cancelling_) return Finish(cancel_exit_, "wsflow: the cancel was refused: " + msg);
        return Finish(kExitProtocol, "wsflow: the server refused " +
                                         std::string(rid == action_request_ ? "the " + opts_.action->type : "a request") +
                                         ": " + msg);
      }
      std::cerr << "wsflow: the server reported an error: " << msg << "\n";
      return;
    }
    case native::FrameKind::kPong:
    case native::FrameKind::kHeartbeat:
      if (opts_.raw && !opts_.action) Emit(frame, v);
      return;
    case native::FrameKind::kOther:
      if (opts_.action || !opts_.filter.Accepts(f.env.event_type) || !MatchesAll(opts_.match, v)) return;
      return Emit(frame, v);
    case native::FrameKind::kUnknown: {
      if (opts_.action) return;
      if (opts_.raw) return Emit(frame, v);
      if (opts_.filter.Accepts("unknown")) PrintClientEvent("unknown", v);
      return;
    }
  }
}

bool RunFollower::Detect(const JsonValue& v) {
  std::string name = DialectFromFrame(v, opts_.execute && !exec_acked_ ? exec_request_ : sub_request_);
  if (name.empty()) return false;
  dialect_ = MakeDialect(name);
  if (!opts_.session.quiet && name != "native") std::cerr << "wsflow: the backend speaks the " << name << " dialect\n";
  if (name == "native") return true;
  // The native frame we sent first is what MARS takes as its first frame when it carries a task;
  // the others need their own.
  if (name == "cmbagent" && opts_.execute) {
    started_ = true;
    if (!opts_.action) CaughtUp();
  } else {
    StartOrAttach(false);
  }
  return true;
}

void RunFollower::StartOrAttach(bool reconnect) {
  std::vector<std::string> frames;
  std::string err;
  bool ok = true;
  if (reconnect && started_) {
    // Never the start frame again: for MARS it would start a second run on the same id.
    ok = dialect_->Resume(opts_.run_id, tracker_.last(), last_event_time_, NewRequestId(), &frames, &err);
  } else if (opts_.execute) {
    StartRequest r;
    r.task = opts_.task;
    r.config_json = opts_.config_json;
    r.run_id = opts_.run_id;
    r.request_id = exec_request_;
    ok = dialect_->Start(r, &frames, &err);
  } else {
    ok = dialect_->Attach(opts_.run_id, tracker_.last(), opts_.tail, NewRequestId(), &frames, &err);
  }
  if (!ok) return Finish(kExitUsage, "wsflow: " + err);
  for (const auto& f : frames) SendFrame(f);
  bool first = !started_;
  started_ = true;
  for (auto& [id, frame] : pending_) {  // requests that never went out; a sent one is never repeated
    if (frame.second) continue;
    SendFrame(frame.first);
    frame.second = true;
  }
  if (first) CaughtUp();  // these backends have no history to read first
}

bool RunFollower::ShouldReconnect(const Disconnect& why) {
  if (finished_ || !dialect_) return !finished_;
  std::string lost;
  if (dialect_->one_socket_per_run() && why.close_code == 1000 && why.reason.find("Reconnection") != std::string::npos)
    lost = "another client opened run " + opts_.run_id + ", and the " + dialect_->name() +
           " backend allows one socket per run";
  else if (dialect_->resume() == ResumeKind::kNone && got_events_)
    lost = std::string("the connection was lost mid-run, and the ") + dialect_->name() + " backend cannot resume";
  if (lost.empty()) return true;
  finished_ = true;
  exit_ = kExitIncomplete;
  std::cerr << "wsflow: " << lost << "; events after seq " << tracker_.last() << " may be missing\n";
  return false;
}

void RunFollower::HandleConverted(std::string_view frame, const JsonValue& v) {
  Incoming in;
  dialect_->Convert(frame, v, opts_.run_id, &in);
  switch (in.kind) {
    case Incoming::kEvent: {
      if (!in.dedupe_key.empty() && dedupe_.Seen(in.dedupe_key)) {
        ++duplicates_;  // replayed after a reconnect, or delivered twice
        return;
      }
      got_events_ = true;
      // Our own numbering, in the documented member order: seq after run_id.
      JsonDoc env(rapidjson::kObjectType);
      auto& a = env.GetAllocator();
      for (auto& m : in.envelope.GetObject()) {
        env.AddMember(JsonValue(m.name, a), JsonValue(m.value, a), a);
        if (m.name == "run_id") env.AddMember("seq", tracker_.last() + 1, a);
      }
      if (!env.HasMember("seq")) env.AddMember("seq", tracker_.last() + 1, a);
      if (opts_.keep_raw) env.AddMember("raw", JsonValue(v, a), a);
      double t = 0;
      if (ParseIsoTimestamp(std::string(GetString(env, "timestamp")), &t)) last_event_time_ = t;
      std::string line = ToJson(env);
      return HandleEvent(line, env, tracker_.last() + 1, in.event_type, in.outcome);
    }
    case Incoming::kAck: {
      if (!opts_.action || action_request_.empty() || in.confirms != opts_.action->type) {
        if (!pending_.empty()) pending_.erase(pending_.begin());
        if (cancelling_ && in.confirms == "cancel") Finish(cancel_exit_, "");
        return;
      }
      // The acknowledgement is all these backends give for the action.
      JsonDoc env;
      BuildEnvelope(&env, in.event_type, GetString(v, "timestamp"), opts_.run_id, dialect_->name(), &v);
      Print(ToJson(env), env);
      return Finish(kExitCompleted, "");
    }
    case Incoming::kError: {
      if (in.message == "No task provided" && started_ && session_->stats().reconnects > 0) {
        return Finish(kExitIncomplete, "wsflow: the " + std::string(dialect_->name()) + " backend cannot resume run " +
                                           opts_.run_id + " after the connection was lost (\"" + in.message +
                                           "\"); events after seq " + std::to_string(tracker_.last()) +
                                           " may be missing");
      }
      if (!pending_.empty() && remote_.count(pending_.begin()->first)) {
        auto remote = remote_.find(pending_.begin()->first);
        remote->second.reply(R"({"ok":false,"status":4,"message":)" + Quote("wsflow: the server refused the " +
                                 remote->second.act.type + ": " + in.message) + "}", true);
        remote_.erase(remote);
        pending_.erase(pending_.begin());
        return;
      }
      if (!pending_.empty() || cancelling_) {  // no request ids: the oldest request was refused
        std::string what = opts_.action && !action_request_.empty() ? "the " + opts_.action->type : "a request";
        if (cancelling_) return Finish(cancel_exit_, "wsflow: the cancel was refused: " + in.message);
        return Finish(kExitProtocol, "wsflow: the server refused " + what + ": " + in.message);
      }
      std::cerr << "wsflow: the server reported an error: " << in.message << "\n";
      if (opts_.strict) Finish(kExitProtocol, "wsflow: --strict: the server reported an error (" + Where() + ")");
      return;
    }
    case Incoming::kHeartbeat:
      if (opts_.show_heartbeats && !opts_.action) {
        JsonDoc env;
        BuildEnvelope(&env, in.event_type, GetString(v, "timestamp"), opts_.run_id, dialect_->name(), &v);
        Emit(ToJson(env), env);
      }
      return;
    case Incoming::kPong:
    case Incoming::kIgnore:
      return;
    case Incoming::kUnknown:
      if (!opts_.action && opts_.filter.Accepts("unknown")) PrintClientEvent("unknown", v);
      return;
  }
}

void RunFollower::HandleEvent(std::string_view frame, const JsonValue& v, int64_t seq, std::string_view type,
                              Outcome outcome) {
  switch (tracker_.Check(seq)) {
    case SeqTracker::Verdict::kDuplicate:
      ++duplicates_;
      return;
    case SeqTracker::Verdict::kGap:
      // Never print past a gap: ask again from the last seq printed, once until acknowledged.
      if (resub_request_.empty()) {
        ++gaps_;
        if (opts_.session.verbose)
          std::cerr << "wsflow: seq jumped from " << tracker_.last() << " to " << seq << "; re-subscribing\n";
        resub_request_ = NewRequestId();
        SendFrame(native::SubscribeFrame(opts_.run_id, tracker_.last(), resub_request_));
      }
      return;
    case SeqTracker::Verdict::kNext:
      break;
  }
  session_->MarkProgress();
  if (outcome != Outcome::kNone && outcome_ == Outcome::kNone) outcome_ = outcome;
  if (control_.listening()) Share(IsCompactJson(frame) && frame.find('\n') == std::string_view::npos ? frame : ToJson(v), type, v);

  if (type == "approval_requested") {
    Approval a;
    if (ReadApprovalRequest(v, &a.request)) {
      a.line = ToJson(v);
      if (!approvals_.count(a.request.approval_id)) approval_order_.push_back(a.request.approval_id);
      approvals_[a.request.approval_id] = std::move(a);
    }
  } else if (type == "approval_received") {
    const JsonValue* data = GetObject(v, "data");
    auto it = approvals_.find(std::string(data ? GetString(*data, "approval_id") : std::string_view()));
    if (it != approvals_.end()) it->second.resolved = true;
  }

  if (opts_.action) {  // a control command: silent until the event that confirms it
    if (!action_request_.empty() && ConfirmsAction(type, v)) {
      Emit(frame, v);
      return Finish(kExitCompleted, "");
    }
    if (outcome != Outcome::kNone && caught_up_) {
      return Finish(kExitProtocol, "wsflow: run " + opts_.run_id + " ended (" + ExitStatusName(ExitStatusFor(outcome)) +
                                       ") before the " + opts_.action->type + " was acknowledged");
    }
  } else if (opts_.filter.Accepts(type) && MatchesAll(opts_.match, v)) {
    Emit(frame, v);
    if (opts_.max_events > 0 && printed_ >= opts_.max_events && !cancelling_) return Finish(kExitCompleted, "");
  }

  if (!caught_up_ && history_end_ >= 0 && seq >= history_end_) CaughtUp();
  else if (caught_up_ && type == "approval_requested" && !opts_.action) HandleOpenApprovals();

  if (finished_ && !cancelling_) return;
  if (cancelling_) {
    if (outcome != Outcome::kNone)
      Finish(outcome == Outcome::kCancelled ? cancel_exit_ : ExitStatusFor(outcome), "");
    return;
  }
  if (!opts_.action && WaitConditionMet(type, v)) return Finish(kExitCompleted, "");
  if (outcome != Outcome::kNone && !opts_.follow && !opts_.action) {
    bool waiting_for_more = opts_.until_approval || !opts_.until_types.empty() || !opts_.until_match.empty();
    if (waiting_for_more && outcome == Outcome::kCompleted) {
      return Finish(kExitProtocol, "wsflow: run " + opts_.run_id + " completed without " + Awaited());
    }
    Finish(ExitStatusFor(outcome), "");
  }
}

bool RunFollower::WaitConditionMet(std::string_view type, const JsonValue& v) const {
  bool by_type = !opts_.until_types.empty() && Contains(opts_.until_types, std::string(type));
  bool by_match = !opts_.until_match.empty() && MatchesAll(opts_.until_match, v);
  if (!opts_.until_types.empty() && !opts_.until_match.empty()) return by_type && by_match;
  return by_type || by_match;
}

// The history has been read: approvals still open now really wait for an answer.
void RunFollower::CaughtUp() {
  if (caught_up_) return;
  caught_up_ = true;
  if (opts_.action) return StartAction();
  HandleOpenApprovals();
}

void RunFollower::HandleOpenApprovals() {
  if (finished_ || outcome_ != Outcome::kNone) return;
  for (const auto& id : approval_order_) {
    Approval& a = approvals_[id];
    if (a.resolved || a.handling) continue;
    const ApprovalRequest& req = a.request;
    if (opts_.until_approval) return Finish(kExitCompleted, "");
    ApprovalDecision d = opts_.approvals.Decide(req);
    if (d.kind == ApprovalDecision::kAnswer) {
      if (!req.options.empty() && !Contains(req.options, d.resolution)) {
        return Finish(kExitUsage, "wsflow: " + d.why + " answers approval " + id + " with '" + d.resolution +
                                      "', which is not one of its options: " + Join(req.options, ", "));
      }
      AnswerApproval(id, d.resolution, "", d.why);
      continue;
    }
    std::string where = id + (req.checkpoint_type.empty() ? "" : " (" + req.checkpoint_type + ")");
    if (!opts_.on_approval.empty()) {
      a.handling = true;
      if (!opts_.session.quiet) std::cerr << "wsflow: asking --on-approval about approval " << where << "\n";
      RunApprovalHookAsync(opts_.on_approval, a.line + "\n", opts_.on_approval_timeout, [this, id](HookAnswer ans) {
        PostFromThread([this, id, ans] { OnHookAnswer(id, ans); });
      });
      continue;
    }
    if (opts_.interactive && !opts_.no_input) {
      a.handling = true;
      std::string prompt = "wsflow: approval " + where + ": " + req.message + "\n  options: " +
                           Join(req.options, ", ") + "\n  answer [" +
                           (req.options.empty() ? std::string() : req.options.front()) + "]: ";
      AskOnTerminalAsync(prompt, req.options, [this, id](HookAnswer ans) {
        PostFromThread([this, id, ans] { OnHookAnswer(id, ans); });
      });
      continue;
    }
    if (opts_.no_input) {
      return Finish(kExitProtocol, "wsflow: approval " + where + " of run " + opts_.run_id +
                                       " needs an answer and no rule gives one (--no-input); options: " +
                                       Join(req.options, ", "));
    }
    a.handling = true;  // said once; someone else may answer with `wsflow approve`
    if (!opts_.session.quiet)
      std::cerr << "wsflow: run " << opts_.run_id << " waits for approval " << where << "; answer with: wsflow approve "
                << opts_.run_id << " " << id << " --resolution " << (req.options.empty() ? "R" : req.options.front())
                << "\n";
  }
}

void RunFollower::OnHookAnswer(const std::string& approval_id, const HookAnswer& ans) {
  if (finished_) return;
  Approval& a = approvals_[approval_id];
  if (a.resolved) return;
  if (!ans.answered) {
    if (opts_.no_input || !opts_.on_approval.empty()) {
      return Finish(kExitProtocol, "wsflow: approval " + approval_id + " was not answered: " + ans.problem);
    }
    std::cerr << "wsflow: approval " << approval_id << " was not answered: " << ans.problem << "\n";
    return;
  }
  std::string resolution = ans.resolution;
  if (ans.reject) {
    resolution = FirstRejectLike(a.request.options);
    if (resolution.empty()) {
      return Finish(kExitProtocol, "wsflow: --on-approval rejected approval " + approval_id +
                                       ", but it offers no reject-like option: " + Join(a.request.options, ", "));
    }
  } else if (!a.request.options.empty() && !Contains(a.request.options, resolution)) {
    return Finish(kExitUsage, "wsflow: the answer '" + resolution + "' to approval " + approval_id +
                                  " is not one of its options: " + Join(a.request.options, ", "));
  }
  AnswerApproval(approval_id, resolution, ans.feedback,
                 opts_.on_approval.empty() ? "the terminal" : (ans.reject ? "--on-approval (non-zero exit)" : "--on-approval"));
}

void RunFollower::AnswerApproval(const std::string& approval_id, const std::string& resolution,
                                 const std::string& feedback, const std::string& why) {
  approvals_[approval_id].handling = true;
  if (!opts_.session.quiet)
    std::cerr << "wsflow: answering approval " << approval_id << " with '" << resolution << "' (" << why << ")\n";
  std::string rid = "approve-" + approval_id + "-" + exec_request_;
  std::string frame, err;
  if (!dialect_->Approve(opts_.run_id, approval_id, resolution,
                         feedback.empty() ? "answered by wsflow (" + why + ")" : feedback, "", rid, &frame, &err))
    return Finish(kExitUsage, "wsflow: " + err);
  SendRequest(rid, frame);
}

// approve, cancel, pause, resume: the history is read, so we know what the run is waiting for.
// approve, cancel, pause, resume: the history is read, so we know what the run is waiting for.
void RunFollower::StartAction() {
  int status = 0;
  std::string frame, msg;
  action_request_ = NewRequestId() + "-" + opts_.action->type;
  if (!BuildAction(*opts_.action, action_request_, &frame, &status, &msg)) return Finish(status, msg);
  SendRequest(action_request_, frame);
}

// Checks `act` against what the stream showed (the run's end, the approval's options) and makes
// its frame. False with the exit status and the line to print.
bool RunFollower::BuildAction(ControlAction& act, const std::string& request_id, std::string* frame, int* status,
                              std::string* msg) {
  auto fail = [&](int s, const std::string& m) {
    *status = s;
    *msg = m;
    return false;
  };
  if (outcome_ != Outcome::kNone) {
    return fail(kExitProtocol, "wsflow: run " + opts_.run_id + " has already ended (" +
                                   ExitStatusName(ExitStatusFor(outcome_)) + "); nothing to " + act.type);
  }
  std::string err;
  if (act.type != "approve") {
    if (!dialect_->Control(act.type, opts_.run_id, request_id, frame, &err)) return fail(kExitUsage, "wsflow: " + err);
    return true;
  }
  auto it = approvals_.find(act.approval_id);
  if (it != approvals_.end()) {
    const ApprovalRequest& req = it->second.request;
    if (it->second.resolved)
      return fail(kExitProtocol, "wsflow: approval " + act.approval_id + " of run " + opts_.run_id + " was already answered");
    if (act.reject) {
      act.resolution = FirstRejectLike(req.options);
      if (act.resolution.empty())
        return fail(kExitUsage, "wsflow: approval " + act.approval_id + " offers no reject-like option; allowed: " +
                                    Join(req.options, ", "));
    } else if (act.resolution.empty()) {
      act.resolution = FirstApproveLike(req.options);
      if (act.resolution.empty())
        return fail(kExitUsage, "wsflow: approval " + act.approval_id +
                                    " offers no approve-like option; choose one with --resolution: " + Join(req.options, ", "));
    } else if (!req.options.empty() && !Contains(req.options, act.resolution)) {
      return fail(kExitUsage, "wsflow: '" + act.resolution + "' is not an option of approval " + act.approval_id +
                                  "; allowed: " + Join(req.options, ", "));
    }
  } else {
    if (act.reject) act.resolution = "reject";
    if (act.resolution.empty()) act.resolution = "approve";
  }
  if (!dialect_->Approve(opts_.run_id, act.approval_id, act.resolution, act.feedback, act.modifications, request_id,
                         frame, &err))
    return fail(kExitUsage, "wsflow: " + err);
  return true;
}

bool RunFollower::ConfirmsAction(std::string_view type, const JsonValue& v) const {
  return Confirms(*opts_.action, type, v);
}

bool RunFollower::Confirms(const ControlAction& act, std::string_view type, const JsonValue& v) {
  if (act.type == "approve") {
    const JsonValue* data = GetObject(v, "data");
    return type == "approval_received" && data && GetString(*data, "approval_id") == act.approval_id;
  }
  if (act.type == "pause") return type == "workflow_paused";
  if (act.type == "resume") return type == "workflow_resumed";
  return native::TerminalOutcome(type, v) == Outcome::kCancelled;
}

void RunFollower::Print(std::string_view frame, const JsonValue& v) {
  if (opts_.status) opts_.status->Update(v, session_->stats().reconnects);
  // A compact frame goes out as it came; anything else is re-serialised onto one line.
  if (opts_.pretty) writer_.WriteText(opts_.pretty->Format(v));
  else if (frame.find('\n') == std::string_view::npos && (opts_.raw || IsCompactJson(frame))) writer_.Write(frame);
  else writer_.Write(ToJson(v));
  ++printed_;
  if (writer_.AboveHighWater()) session_->PauseReading();
}

void RunFollower::PrintClientEvent(std::string_view type, const JsonValue& data) {
  EnvelopeParts p;
  p.event_type = type;
  p.run_id = opts_.run_id;
  p.data = &data;
  p.client_origin = true;
  if (opts_.pretty) writer_.WriteText(opts_.pretty->Format(EnvelopeLine(p)));
  else writer_.Write(EnvelopeLine(p));
  ++printed_;
}

void RunFollower::SendRequest(const std::string& request_id, std::string frame) {
  if (pending_.size() >= opts_.session.queue_size) {
    return Finish(kExitProtocol, "wsflow: " + std::to_string(pending_.size()) +
                                     " requests are waiting for the server already (--queue-size); giving up");
  }
  bool now = session_->is_open() && dialect_ != nullptr;
  pending_[request_id] = {frame, now};
  if (now) SendFrame(frame);  // else OnOpen sends it after the re-subscription
}

void RunFollower::OnRetry(const Disconnect& why, Millis delay, int attempt, int max_attempts) {
  if (opts_.connection_events && why.was_open) {
    JsonDoc d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    d.AddMember("reason", Str(why.reason, a), a);
    d.AddMember("close_code", why.close_code, a);
    d.AddMember("attempt", attempt, a);
    d.AddMember("delay_ms", static_cast<int64_t>(delay.count()), a);
    d.AddMember("last_seq", tracker_.last(), a);
    PrintClientEvent("disconnected", d);
  }
  if (!opts_.session.quiet) {
    std::cerr << "wsflow: " << (why.was_open ? "connection lost: " : "cannot connect: ") << why.reason
              << "; reconnecting in " << FormatDuration(delay) << " (attempt " << attempt << "/"
              << (max_attempts > 0 ? std::to_string(max_attempts) : "unlimited") << ")\n";
  }
}

void RunFollower::OnGiveUp(const Disconnect& why, bool exhausted) {
  if (finished_) return;
  finished_ = true;
  if (why.auth) {
    exit_ = kExitAuth;
    std::cerr << "wsflow: authentication rejected";
    if (why.http_status) std::cerr << " by " << opts_.session.url;  // else the reason names the proxy
    std::cerr << ": " << why.reason << "\n";
    return;
  }
  exit_ = kExitConnection;
  if (exhausted) {
    std::cerr << "wsflow: giving up after " << opts_.session.backoff.retries << " retries: " << why.reason << " ("
              << Where() << ")\n";
  } else {
    std::cerr << "wsflow: cannot connect to " << opts_.session.url << ": " << why.reason << "\n";
  }
}

void RunFollower::OnSignal(int signo) {
  if (finished_) return session_->Stop();
  int status = signo == SIGINT ? kExitInterrupted : kExitTerminated;
  std::string msg = std::string("wsflow: ") + (signo == SIGINT ? "interrupted" : "terminated") + " (" + Where() + ")";
  if (opts_.cancel_on_interrupt && !opts_.action) return CancelThenFinish(status, msg);
  Finish(status, msg);
}

void RunFollower::WriteSummary() {
  if (opts_.summary_file.empty()) return;
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("run_id", Str(opts_.run_id, a), a);
  d.AddMember("exit_status", exit_, a);
  d.AddMember("outcome", Str(ExitStatusName(exit_), a), a);
  d.AddMember("events", printed_, a);
  d.AddMember("last_seq", tracker_.last(), a);
  d.AddMember("reconnects", session_->stats().reconnects, a);
  d.AddMember("duplicates_dropped", duplicates_, a);
  d.AddMember("gaps", gaps_, a);
  d.AddMember("invalid_frames", garbage_, a);
  std::ofstream out(opts_.summary_file);
  out << ToJson(d) << "\n";
  if (!out) std::cerr << "wsflow: cannot write --summary " << opts_.summary_file << "\n";
}

}  // namespace wsflow

namespace wsflow {

// ---- the local control socket: this process holds the run's connection ----

void RunFollower::StartControlServer() {
  std::string dir, err;
  since_ = NowIso();
  if (!ControlDir(&dir, &err)) {
    if (opts_.session.verbose) std::cerr << "wsflow: no local control socket: " << err << "\n";
    return;
  }
  std::string path = ControlSocketPath(dir, opts_.session.url, opts_.run_id);
  if (!control_.Start(path, [this](const std::string& req, ControlServer::Reply reply) {
        PostFromThread([this, req, reply] { OnControlRequest(req, reply); });
      }, &err)) {
    if (opts_.session.verbose) std::cerr << "wsflow: no local control socket: " << err << "\n";
    return;
  }
  if (opts_.session.verbose) std::cerr << "wsflow: local control socket " << path << "\n";
}

void RunFollower::OnControlRequest(const std::string& request, ControlServer::Reply reply) {
  JsonDoc d;
  std::string err;
  if (!ParseJson(request, &d, &err) || !d.IsObject()) {  // garbage: refused, the run goes on
    return reply(R"({"ok":false,"status":2,"message":"wsflow: a control message must be a JSON object"})", true);
  }
  std::string_view op = GetString(d, "op");
  if (op == "hello") {
    std::string state = finished_ ? "finished" : session_->is_open() ? "open" : "reconnecting";
    return reply(JsonObject({{"run_id", Quote(opts_.run_id)},
                             {"url", Quote(MaskUrlSecrets(opts_.session.url))},
                             {"dialect", Quote(dialect_ ? dialect_->name() : "auto")},
                             {"one_socket_per_run", dialect_ && dialect_->one_socket_per_run() ? "true" : "false"},
                             {"state", Quote(state)},
                             {"pid", std::to_string(::getpid())},
                             {"since", Quote(since_)},
                             {"last_seq", std::to_string(tracker_.last())}}),
                 true);
  }
  if (op == "watch") {
    int64_t since = GetInt(d, "since_seq", 0);
    for (size_t i = static_cast<size_t>(std::max<int64_t>(0, since)); i < history_.size(); ++i) reply(history_[i], false);
    if (finished_) return reply(JsonObject({{"end", "true"}, {"exit_status", std::to_string(exit_)}}), true);
    watchers_.push_back(reply);
    return;
  }
  if (op == "action") {
    ControlAction act;
    act.type = std::string(GetString(d, "type"));
    act.approval_id = std::string(GetString(d, "approval_id"));
    act.resolution = std::string(GetString(d, "resolution"));
    act.reject = GetBool(d, "reject", false);
    act.feedback = std::string(GetString(d, "feedback"));
    act.modifications = std::string(GetString(d, "modifications"));
    if (act.type != "approve" && act.type != "cancel" && act.type != "pause" && act.type != "resume")
      return reply(R"({"ok":false,"status":2,"message":"wsflow: unknown control action"})", true);
    return RemoteAction(std::move(act), reply);
  }
  reply(R"({"ok":false,"status":2,"message":"wsflow: unknown control op"})", true);
}

void RunFollower::RemoteAction(ControlAction act, ControlServer::Reply reply) {
  if (finished_) return reply(R"({"ok":false,"status":4,"message":"wsflow: the run's stream has ended"})", true);
  std::string rid = NewRequestId() + "-local-" + act.type;
  std::string frame, msg;
  int status = 0;
  if (!BuildAction(act, rid, &frame, &status, &msg))
    return reply(JsonObject({{"ok", "false"}, {"status", std::to_string(status)}, {"message", Quote(msg)}}), true);
  if (opts_.session.verbose) std::cerr << "wsflow: " << act.type << " for a local client\n";
  remote_[rid] = {act, reply};
  SendRequest(rid, frame);
}

void RunFollower::Share(std::string_view line, std::string_view type, const JsonValue& v) {
  // The history is kept only where a local watch needs it: backends that allow one socket per run
  // (for the others, watch opens its own connection, and memory stays bounded).
  if (dialect_ && dialect_->one_socket_per_run() && history_.size() < 1000000) history_.emplace_back(line);
  for (auto& w : watchers_) w(std::string(line), false);
  for (auto it = remote_.begin(); it != remote_.end();) {
    if (Confirms(it->second.act, type, v)) {
      pending_.erase(it->first);
      it->second.reply(R"({"ok":true,"event":)" + std::string(line) + "}", true);
      it = remote_.erase(it);
    } else {
      ++it;
    }
  }
}

void RunFollower::EndShares() {
  std::string end = JsonObject({{"end", "true"}, {"exit_status", std::to_string(exit_)}});
  for (auto& w : watchers_) w(end, true);
  watchers_.clear();
  for (auto& [rid, r] : remote_)
    r.reply(JsonObject({{"ok", "false"}, {"status", "4"},
                        {"message", Quote("wsflow: the run's stream ended before the " + r.act.type + " was acknowledged")}}),
            true);
  remote_.clear();
}

// ---- the other side: a process that does not hold the run ----

int RunFollower::ViaLocalSession() {
  std::string dir, err;
  if (!ControlDir(&dir, &err)) return -1;
  std::string path = ControlSocketPath(dir, opts_.session.url, opts_.run_id);
  int fd = ConnectControl(path, &err);
  if (fd < 0) return -1;
  std::string hello;
  ControlRequest(fd, R"({"op":"hello"})", [&](const std::string& l) {
    hello = l;
    return false;
  }, &err);
  ::close(fd);
  JsonDoc h;
  if (!ParseJson(hello, &h, &err)) return -1;
  // watch attaches to the holder only where a second socket would hurt; actions always go through it.
  if (!opts_.action && !GetBool(h, "one_socket_per_run", false)) return -1;
  fd = ConnectControl(path, &err);
  if (fd < 0) return -1;
  if (opts_.session.verbose || !opts_.session.quiet)
    std::cerr << "wsflow: through the local session of pid " << GetInt(h, "pid", 0) << " that holds run " << opts_.run_id
              << "\n";
  int status = kExitProtocol;
  if (opts_.action) {
    const ControlAction& a = *opts_.action;
    std::string req = JsonObject({{"op", Quote("action")},
                                  {"type", Quote(a.type)},
                                  {"approval_id", Quote(a.approval_id)},
                                  {"resolution", Quote(a.resolution)},
                                  {"reject", a.reject ? "true" : "false"},
                                  {"feedback", Quote(a.feedback)},
                                  {"modifications", Quote(a.modifications)}});
    std::string answer;
    bool ok = ControlRequest(fd, req, [&](const std::string& l) {
      answer = l;
      return false;
    }, &err);
    ::close(fd);
    JsonDoc r;
    std::string perr;
    if (!ok || !ParseJson(answer, &r, &perr)) {
      std::cerr << "wsflow: the local session holding run " << opts_.run_id << " did not answer"
                << (err.empty() ? "" : ": " + err) << "\n";
      return kExitProtocol;
    }
    if (GetBool(r, "ok", false)) {
      const JsonValue* ev = GetObject(r, "event");
      NdjsonWriter out(NdjsonWriter::Options{});
      if (ev) out.Write(ToJson(*ev));
      return kExitCompleted;
    }
    std::cerr << GetString(r, "message", "wsflow: the local session refused") << "\n";
    return static_cast<int>(GetInt(r, "status", kExitProtocol));
  }
  // watch through the holder: its history, then live events, filtered here.
  NdjsonWriter out(NdjsonWriter::Options{});
  int64_t printed = 0;
  Outcome outcome = Outcome::kNone;
  ControlRequest(fd, JsonObject({{"op", Quote("watch")}, {"since_seq", std::to_string(opts_.since_seq)}}),
                 [&](const std::string& l) {
                   JsonDoc ev;
                   std::string perr;
                   if (!ParseJson(l, &ev, &perr)) return true;
                   if (GetBool(ev, "end", false)) {
                     status = static_cast<int>(GetInt(ev, "exit_status", kExitProtocol));
                     return false;
                   }
                   std::string_view type = GetString(ev, "event_type");
                   if (opts_.filter.Accepts(type) && MatchesAll(opts_.match, ev)) {
                     out.Write(l);
                     ++printed;
                   }
                   Outcome o = native::TerminalOutcome(type, ev);
                   if (o == Outcome::kNone && (type == "complete" || type == "result")) o = Outcome::kCompleted;
                   if (o != Outcome::kNone && outcome == Outcome::kNone) outcome = o;
                   if (outcome != Outcome::kNone && !opts_.follow) {
                     status = ExitStatusFor(outcome);
                     return false;
                   }
                   bool until = WaitConditionMet(type, ev) || (opts_.until_approval && type == "approval_requested");
                   if (until || (opts_.max_events > 0 && printed >= opts_.max_events)) {
                     status = kExitCompleted;
                     return false;
                   }
                   return !out.broken();
                 },
                 &err);
  ::close(fd);
  if (out.broken()) return kExitCompleted;
  return status;
}

}  // namespace wsflow
