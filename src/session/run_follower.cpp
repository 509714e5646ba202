#include "session/run_follower.h"

#include <unistd.h>

#include <csignal>
#include <iostream>
#include <random>

#include "core/envelope.h"
#include "core/timestamp.h"
#include "dialects/native.h"
#include "replay/recording.h"
#include "session/control_request.h"
#include "session/messages.h"

namespace wsflow {

namespace {
std::string RandomHex(int n) {
  static std::mt19937_64 rng(std::random_device{}());
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s += hex[rng() % 16];
  return s;
}

constexpr Millis kCancelGrace{5000};  // --cancel-on-*: how long to wait for the cancel's confirmation

// "wsflow: timed out ..." -> "timed out ...": a reason is said after the run's name.
std::string StripPrefix(const std::string& message) {
  const std::string p = "wsflow: ";
  return message.compare(0, p.size(), p) == 0 ? message.substr(p.size()) : message;
}

}  // namespace

std::string NewRunId() { return "r-" + RandomHex(12); }

namespace {
RunTarget WithRunId(RunTarget t) {
  if (t.run_id.empty()) t.run_id = NewRunId();
  return t;
}
}  // namespace

RunFollower::RunFollower(const StreamOptions& opts, RunTarget target, RunLink* link, Output* out, SessionHost* host)
    : opts_(opts), target_(WithRunId(std::move(target))), link_(link), out_(out), host_(host),
      approvals_(opts.approvals, target_.run_id, this) {
  tracker_ = SeqTracker(target_.since_seq);
  start_known_ = target_.tail < 0;
  exec_request_ = "exec-" + RandomHex(16);
  since_ = NowIso();
}

bool RunFollower::native() const { return !link_->dialect() || std::string(link_->dialect()->name()) == "native"; }

bool RunFollower::IsOwnRequest(const std::string& request_id) const {
  return !request_id.empty() && (request_id == exec_request_ || request_id == sub_request_);
}

// Names only a seq that was printed: after --since-seq N, --tail or a filter, the resume point is
// not an event the reader saw.
std::string RunFollower::Where() const {
  if (last_printed_seq_ >= 0) return "last seq printed: " + std::to_string(last_printed_seq_);
  return tracker_.last() > 0 ? "no event printed after seq " + std::to_string(tracker_.last()) : "no event printed";
}

std::string RunFollower::Awaited() const {
  if (target_.action) return AwaitedBy(*target_.action);
  return opts_.wait.Describe("run " + target_.run_id + " to end");
}

void RunFollower::PostToLoop(std::function<void()> fn) {
  link_->Post([this, fn = std::move(fn)] {
    if (!finished_) fn();
  });
}

void RunFollower::Finish(int status, const std::string& message) {
  if (finished_) return;
  finished_ = true;
  exit_ = status;
  if (status != kExitCompleted && reason_.empty()) reason_ = StripPrefix(message);
  if (!message.empty() && !opts_.several) {
    out_->BreakLine();
    std::cerr << message << "\n";
  }
  link_->Ended();
}

void RunFollower::EndEarly(int status, const std::string& message, bool cancel) {
  if (cancel && !target_.action) return CancelThenFinish(status, message);
  Finish(status, message);
}

// --cancel-on-timeout / --cancel-on-interrupt: for some backends this process holds the only
// connection that can cancel. Send it, wait a little for the confirmation, then leave as asked.
void RunFollower::CancelThenFinish(int status, const std::string& message) {
  if (finished_ || cancelling_) return;
  if (outcome_ != Outcome::kNone) return Finish(status, message);
  const Dialect* d = link_->dialect();
  std::string rid = "cancel-" + exec_request_;
  std::string frame, err;
  if (!d || !d->Control("cancel", target_.run_id, rid, &frame, &err))
    return Finish(status, message + (d ? " (cannot cancel: " + err + ")" : ""));
  cancelling_ = true;
  cancel_exit_ = status;
  out_->BreakLine();
  if (reason_.empty()) reason_ = StripPrefix(message);  // why it was cancelled, for --summary
  cancel_request_ = rid;
  std::cerr << "wsflow: " << StripPrefix(message) << "; cancelling run " << target_.run_id
            << (link_->is_open() ? "" : " once the connection is back") << "\n";
  SendRequest(rid, frame);
  link_->After(kCancelGrace, [this] { Finish(cancel_exit_, CancelUnconfirmed("within " + FormatDuration(kCancelGrace))); });
}

// The cancel was not confirmed: say whether it left at all, and that the run may go on without us.
std::string RunFollower::CancelUnconfirmed(const std::string& why) const {
  auto it = pending_.find(cancel_request_);
  bool sent = it == pending_.end() || it->second.second;
  return "wsflow: " +
         std::string(sent ? "the cancel of run " + target_.run_id + " was not confirmed "
                          : "the cancel of run " + target_.run_id + " could not be sent: the connection was not back ") +
         why + "; the run may still be running on the backend";
}

void RunFollower::OnOpen(bool reconnect) {
  if (finished_ && !cancelling_) return;
  if (opts_.connection_events) {
    JsonDoc d(rapidjson::kObjectType);
    d.AddMember("url", Str(link_->url(), d.GetAllocator()), d.GetAllocator());
    d.AddMember("last_seq", tracker_.last(), d.GetAllocator());
    PrintClientEvent(reconnect ? "reconnected" : "connected", d);
  }
  resub_request_.clear();
  if (!native()) return StartOrAttach(reconnect);
  if (target_.execute && !exec_acked_) {
    // The same request id on every retry: the server starts the run once and attaches us to it.
    link_->Send(native::ExecuteFrame(target_.task, target_.config_json, target_.run_id, exec_request_, tracker_.last()),
                exec_request_);
  } else {
    sub_request_ = link_->NewRequestId();
    link_->Send(native::SubscribeFrame(target_.run_id, tracker_.last(), sub_request_, start_known_ ? -1 : target_.tail),
                sub_request_);
  }
  for (auto& [id, request] : pending_) {  // applied once: the server knows the ids
    link_->Send(request.first, id);
    request.second = true;
  }
}

void RunFollower::OnDialectDetected() {
  const Dialect* d = link_->dialect();
  if (!d || native()) return;
  if (host_ && d->one_socket_per_run()) host_->KeepHistory(target_.run_id);
  // The native frame we sent first is what MARS takes as its first frame when it carries a task;
  // the others need their own.
  if (std::string(d->name()) == "cmbagent" && target_.execute) {
    started_ = true;
    if (!target_.action) CaughtUp();
  } else {
    StartOrAttach(false);
  }
}

void RunFollower::StartOrAttach(bool reconnect) {
  const Dialect* d = link_->dialect();
  std::vector<std::string> frames;
  std::string err;
  bool ok = true;
  if (reconnect && started_) {
    // Never the start frame again: for MARS it would start a second run on the same id.
    ok = d->Resume(target_.run_id, tracker_.last(), last_event_time_, link_->NewRequestId(), &frames, &err);
  } else if (target_.execute) {
    StartRequest r;
    r.task = target_.task;
    r.config_json = target_.config_json;
    r.run_id = target_.run_id;
    r.request_id = exec_request_;
    ok = d->Start(r, &frames, &err);
  } else {
    ok = d->Attach(target_.run_id, tracker_.last(), target_.tail, link_->NewRequestId(), &frames, &err);
  }
  if (!ok) return Finish(kExitUsage, "wsflow: " + err);
  for (const auto& f : frames) link_->Send(f, "");
  bool first = !started_;
  started_ = true;
  for (auto& [id, frame] : pending_) {  // requests that never went out; a sent one is never repeated
    if (frame.second) continue;
    link_->Send(frame.first, id);
    frame.second = true;
  }
  if (first) CaughtUp();  // these backends have no history to read first
}

bool RunFollower::ShouldReconnect(const Disconnect& why) {
  if (finished_ || !link_->dialect()) return !finished_;
  const Dialect& d = *link_->dialect();
  std::string lost;
  if (d.one_socket_per_run() && why.close_code == 1000 && why.reason.find("Reconnection") != std::string::npos)
    lost = "another client opened run " + target_.run_id + ", and the " + d.name() +
           " backend allows one socket per run";
  else if (d.resume() == ResumeKind::kNone && got_events_)
    lost = std::string("the connection was lost mid-run, and the ") + d.name() + " backend cannot resume";
  if (lost.empty()) return true;
  Finish(kExitIncomplete, "wsflow: " + lost + "; events after seq " + std::to_string(tracker_.last()) + " may be missing");
  return false;
}

void RunFollower::OnRetry(const Disconnect& why, Millis delay, int attempt) {
  if (!opts_.connection_events || !why.was_open || finished_) return;
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("reason", Str(why.reason, a), a);
  d.AddMember("close_code", why.close_code, a);
  d.AddMember("attempt", attempt, a);
  d.AddMember("delay_ms", static_cast<int64_t>(delay.count()), a);
  d.AddMember("last_seq", tracker_.last(), a);
  PrintClientEvent("disconnected", d);
}

void RunFollower::OnGiveUp(int status, const std::string& why) {
  if (finished_) return;
  if (cancelling_) return Finish(cancel_exit_, CancelUnconfirmed("before wsflow gave up"));
  finished_ = true;
  exit_ = status;
  if (reason_.empty()) reason_ = why;
}

void RunFollower::OnSignal(int signo) {
  if (finished_) return;
  int status = ExitStatusForSignal(signo);
  std::string msg = std::string("wsflow: ") + ExitStatusName(status) + " (" + Where() + ")";
  if (opts_.cancel_on_interrupt && !target_.action) return CancelThenFinish(status, msg);
  Finish(status, msg);
}

void RunFollower::OnTimeout(Millis timeout) {
  if (finished_ || cancelling_) return;
  std::string msg = "wsflow: timed out after " + FormatDuration(timeout) + " waiting for " + Awaited() + " (" +
                    Where() + ")";
  if (opts_.cancel_on_timeout) return CancelThenFinish(kExitTimeout, msg);
  Finish(kExitTimeout, msg);
}

void RunFollower::OnInvalid(const std::string& what) {
  ++garbage_;
  if (opts_.strict && !finished_)
    Finish(kExitProtocol, "wsflow: --strict: the server sent " + what + "; ending the run (" + Where() + ")");
}

void RunFollower::OnUndetected(ReceivedFrame& frame) {
  if (!target_.action && opts_.filter.Accepts("unknown")) PrintClientEvent("unknown", frame.dom());
}

void RunFollower::OnFrame(Incoming& in, ReceivedFrame& frame) {
  if (finished_ && !cancelling_) return;
  bool nat = native();
  switch (in.kind) {
    case Incoming::kEvent:
      return nat ? HandleNumbered(in, frame) : HandleConverted(in, frame);
    case Incoming::kUnnumbered: {
      if (target_.action || !opts_.filter.Accepts(in.event_type)) return;
      Event ev(in.event_type, -1, Outcome::kNone, &frame);
      if (!MatchesAll(opts_.match, ev.envelope())) return;
      return Emit(ev);
    }
    case Incoming::kAck:
      return nat ? HandleAck(in, frame) : HandleConvertedAck(in, frame);
    case Incoming::kError:
      return nat ? HandleError(in, frame) : HandleConvertedError(in);
    case Incoming::kPong:
      if (nat && opts_.raw && !target_.action) EmitFrame(in.event_type, frame);
      return;
    case Incoming::kHeartbeat:
      if (target_.action) return;
      if (nat) {
        if (opts_.raw || opts_.show_heartbeats) EmitFrame(in.event_type, frame);
      } else if (opts_.show_heartbeats) {
        JsonDoc env;
        BuildEnvelope(&env, in.event_type, GetString(frame.dom(), "timestamp"), target_.run_id,
                      link_->dialect()->name(), &frame.dom());
        scratch_ = ToJson(env);
        Event ev(in.event_type, -1, Outcome::kNone, scratch_, &env);
        Emit(ev);
      }
      return;
    case Incoming::kIgnore:
      return;
    case Incoming::kUnknown:
      if (target_.action) return;
      if (nat && opts_.raw) return EmitFrame("unknown", frame);
      if (opts_.filter.Accepts("unknown")) PrintClientEvent("unknown", frame.dom());
      return;
  }
}

void RunFollower::EmitFrame(std::string_view type, ReceivedFrame& frame) {
  Event ev(type, -1, Outcome::kNone, &frame);
  Emit(ev);
}

void RunFollower::HandleNumbered(Incoming& in, ReceivedFrame& frame) {
  if (in.passthrough) {
    Event ev(in.event_type, in.seq, in.outcome, &frame);
    return HandleEvent(ev);
  }
  scratch_ = ToJson(in.envelope);
  Event ev(in.event_type, in.seq, in.outcome, scratch_, &in.envelope);
  HandleEvent(ev);
}

// A frame of a dialect other than native: de-duplicated and numbered here.
void RunFollower::HandleConverted(Incoming& in, ReceivedFrame& frame) {
  if (!in.dedupe_key.empty() && dedupe_.Seen(in.dedupe_key)) {
    ++duplicates_;  // replayed after a reconnect, or delivered twice
    return;
  }
  got_events_ = true;
  // Our own numbering, in the documented member order: seq after run_id.
  JsonDoc env(rapidjson::kObjectType);
  auto& a = env.GetAllocator();
  int64_t seq = tracker_.last() + 1;
  for (auto& m : in.envelope.GetObject()) {
    env.AddMember(JsonValue(m.name, a), JsonValue(m.value, a), a);
    if (m.name == "run_id") env.AddMember("seq", seq, a);
  }
  if (!env.HasMember("seq")) env.AddMember("seq", seq, a);
  if (opts_.keep_raw) env.AddMember("raw", JsonValue(frame.dom(), a), a);
  double t = 0;
  if (ParseIsoTimestamp(std::string(GetString(env, "timestamp")), &t)) last_event_time_ = t;
  scratch_ = ToJson(env);
  Event ev(in.event_type, seq, in.outcome, scratch_, &env);
  HandleEvent(ev);
}

void RunFollower::HandleAck(Incoming& in, ReceivedFrame& frame) {
  if (opts_.raw && !target_.action) EmitFrame(in.event_type, frame);
  const std::string& rid = in.request_id;
  pending_.erase(rid);
  if (rid == exec_request_ && !exec_acked_) {
    exec_acked_ = true;
    if (opts_.verbose) std::cerr << "wsflow: run " << target_.run_id << " started\n";
    if (target_.detach) {
      out_->writer().Write(JsonObject({{"run_id", Quote(target_.run_id)}}));
      return Finish(kExitCompleted, "");
    }
  }
  if (rid == resub_request_) resub_request_.clear();
  if (rid == sub_request_ && !start_known_) {  // --tail/--no-history: now we know where we start
    start_known_ = true;
    if (in.from_seq > tracker_.last()) tracker_ = SeqTracker(in.from_seq);
  }
  if ((rid == sub_request_ || rid == exec_request_) && history_end_ < 0) {
    history_end_ = in.last_seq;
    if (tracker_.last() >= history_end_) CaughtUp();
  }
  // --since-seq LAST, --no-history, --tail 0 on a run that has ended: nothing more will come.
  if (rid == sub_request_ && in.run_outcome != Outcome::kNone && in.last_seq >= 0 && tracker_.last() >= in.last_seq &&
      !opts_.follow && !finished_ && !target_.action) {  // (an action says "has already ended" itself)
    if (outcome_ == Outcome::kNone) outcome_ = in.run_outcome;
    if (opts_.wait.AwaitsEvent() && in.run_outcome == Outcome::kCompleted)
      return Finish(kExitProtocol, "wsflow: run " + target_.run_id + " completed without " + Awaited());
    Finish(ExitStatusFor(in.run_outcome), "");
  }
}

void RunFollower::HandleError(Incoming& in, ReceivedFrame& frame) {
  if (opts_.raw && !target_.action) EmitFrame(in.event_type, frame);
  const std::string& rid = in.request_id;
  const std::string& msg = in.message;
  if ((rid == sub_request_ || rid == resub_request_) && link_->reconnects() > 0) {
    // We lost the connection and the backend will not take us back: say what may be missing.
    return Finish(kExitIncomplete, "wsflow: the backend cannot resume run " + target_.run_id +
                                       " after the connection was lost (" + msg + "); events after seq " +
                                       std::to_string(tracker_.last()) + " may be missing");
  }
  if (rid == exec_request_ || rid == sub_request_ || (!rid.empty() && rid == resub_request_)) {
    return Finish(kExitProtocol, "wsflow: the server refused " +
                                     std::string(target_.execute && !exec_acked_ ? "to start" : "to attach to") +
                                     " run " + target_.run_id + ": " + msg);
  }
  auto remote = remote_.find(rid);
  if (remote != remote_.end()) {  // a local client's request was refused: tell it, carry on
    pending_.erase(rid);
    remote->second.second->End(
        RefusalLine(kExitProtocol, "wsflow: the server refused the " + remote->second.first.type + ": " + msg));
    remote_.erase(remote);
    return;
  }
  if (pending_.erase(rid)) {
    if (cancelling_) return Finish(cancel_exit_, "wsflow: the cancel was refused: " + msg);
    return Finish(kExitProtocol, "wsflow: the server refused " +
                                     std::string(rid == action_request_ ? "the " + target_.action->type : "a request") +
                                     ": " + msg);
  }
  std::cerr << "wsflow: the server reported an error: " << msg << "\n";
}

void RunFollower::HandleConvertedAck(Incoming& in, ReceivedFrame& frame) {
  if (!target_.action || action_request_.empty() || in.confirms != target_.action->type) {
    if (!pending_.empty()) pending_.erase(pending_.begin());
    if (cancelling_ && in.confirms == "cancel") Finish(cancel_exit_, "");
    return;
  }
  // The acknowledgement is all these backends give for the action.
  JsonDoc env;
  BuildEnvelope(&env, in.event_type, GetString(frame.dom(), "timestamp"), target_.run_id, link_->dialect()->name(),
                &frame.dom());
  scratch_ = ToJson(env);
  Event ev(in.event_type, -1, Outcome::kNone, scratch_, &env);
  Emit(ev);
  Finish(kExitCompleted, "");
}

void RunFollower::HandleConvertedError(Incoming& in) {
  const char* dialect = link_->dialect()->name();
  if (in.message == "No task provided" && started_ && link_->reconnects() > 0) {
    return Finish(kExitIncomplete, "wsflow: the " + std::string(dialect) + " backend cannot resume run " +
                                       target_.run_id + " after the connection was lost (\"" + in.message +
                                       "\"); events after seq " + std::to_string(tracker_.last()) + " may be missing");
  }
  if (!pending_.empty() && remote_.count(pending_.begin()->first)) {  // no request ids: the oldest was refused
    auto remote = remote_.find(pending_.begin()->first);
    remote->second.second->End(RefusalLine(
        kExitProtocol, "wsflow: the server refused the " + remote->second.first.type + ": " + in.message));
    remote_.erase(remote);
    pending_.erase(pending_.begin());
    return;
  }
  if (!pending_.empty() || cancelling_) {
    std::string what = target_.action && !action_request_.empty() ? "the " + target_.action->type : "a request";
    if (cancelling_) return Finish(cancel_exit_, "wsflow: the cancel was refused: " + in.message);
    return Finish(kExitProtocol, "wsflow: the server refused " + what + ": " + in.message);
  }
  std::cerr << "wsflow: the server reported an error: " << in.message << "\n";
  if (opts_.strict) Finish(kExitProtocol, "wsflow: --strict: the server reported an error (" + Where() + ")");
}

void RunFollower::Emit(Event& ev) {
  out_->PrintEvent(ev, link_->reconnects());
  ++printed_;
  if (ev.seq() >= 0) last_printed_seq_ = ev.seq();
}

void RunFollower::PrintClientEvent(std::string_view type, const JsonValue& data) {
  EnvelopeParts p;
  p.event_type = type;
  p.run_id = target_.run_id;
  p.data = &data;
  p.client_origin = true;
  out_->PrintLine(EnvelopeLine(p));
  ++printed_;
  ++client_lines_;
}

void RunFollower::HandleEvent(Event& ev) {
  switch (tracker_.Check(ev.seq())) {
    case SeqTracker::Verdict::kDuplicate:
      ++duplicates_;
      return;
    case SeqTracker::Verdict::kGap:
      // Never print past a gap: ask again from the last seq printed, once until acknowledged.
      if (resub_request_.empty()) {
        ++gaps_;
        if (opts_.verbose)
          std::cerr << "wsflow: seq jumped from " << tracker_.last() << " to " << ev.seq() << "; re-subscribing\n";
        resub_request_ = link_->NewRequestId();
        link_->Send(native::SubscribeFrame(target_.run_id, tracker_.last(), resub_request_), resub_request_);
      }
      return;
    case SeqTracker::Verdict::kNext:
      break;
  }
  link_->MarkProgress();
  if (target_.detach && target_.execute && !native()) {
    // These protocols acknowledge no start: the run's first event says that it has started.
    out_->writer().Write(JsonObject({{"run_id", Quote(target_.run_id)}}));
    return Finish(kExitCompleted, "");
  }
  std::string_view type = ev.type();
  Outcome outcome = ev.outcome();
  if (outcome != Outcome::kNone && outcome_ == Outcome::kNone) {
    outcome_ = outcome;
    if (outcome != Outcome::kCompleted) reason_ = EndMessage(ev.envelope());
  }
  if (opts_.keep_view) view_.Apply(ev.envelope());
  if (host_) Share(ev);
  if (type == "approval_requested" || type == "approval_received") {
    approvals_.Note(ev);
    if (type == "approval_requested") {
      const JsonValue* data = GetObject(ev.envelope(), "data");
      std::string id = data ? std::string(GetString(*data, "approval_id")) : std::string();
      if (!id.empty()) asked_at_.emplace(id, std::chrono::steady_clock::now());
    }
  }

  if (target_.action) {  // a control command: silent until the event that confirms it
    if (!action_request_.empty() && Confirms(*target_.action, ev)) {
      Emit(ev);
      return Finish(kExitCompleted, "");
    }
    if (outcome != Outcome::kNone && caught_up_) {
      return Finish(kExitProtocol, "wsflow: run " + target_.run_id + " ended (" +
                                       ExitStatusName(ExitStatusFor(outcome)) + ") before the " + target_.action->type +
                                       " was acknowledged");
    }
  } else if (opts_.filter.Accepts(type) && (opts_.match.empty() || MatchesAll(opts_.match, ev.envelope()))) {
    Emit(ev);
    if (opts_.wait.Enough(printed_) && !cancelling_) return Finish(kExitCompleted, "");
  }

  if (!caught_up_ && history_end_ >= 0 && ev.seq() >= history_end_) CaughtUp();
  else if (caught_up_ && type == "approval_requested" && !target_.action) HandleOpenApprovals();

  if (finished_ && !cancelling_) return;
  if (cancelling_) {
    if (outcome != Outcome::kNone) Finish(outcome == Outcome::kCancelled ? cancel_exit_ : ExitStatusFor(outcome), "");
    return;
  }
  if (!target_.action && opts_.wait.Met(type, opts_.wait.NeedsEnvelope() ? &ev.envelope() : nullptr))
    return Finish(kExitCompleted, "");
  if (outcome != Outcome::kNone && !opts_.follow && !target_.action) {
    if (opts_.wait.AwaitsEvent() && outcome == Outcome::kCompleted)
      return Finish(kExitProtocol, "wsflow: run " + target_.run_id + " completed without " + Awaited());
    Finish(ExitStatusFor(outcome), "");
  }
}

// The history has been read: approvals still open now really wait for an answer.
void RunFollower::CaughtUp() {
  if (caught_up_) return;
  caught_up_ = true;
  if (target_.action) return StartAction();
  HandleOpenApprovals();
}

void RunFollower::HandleOpenApprovals() {
  if (finished_ || outcome_ != Outcome::kNone) return;
  approvals_.HandleOpen();
}

void RunFollower::SendAnswer(const std::string& approval_id, const std::string& resolution, const std::string& feedback,
                             const std::string& why) {
  if (!opts_.quiet)
    std::cerr << "wsflow: answering approval " << approval_id << " with '" << resolution << "' (" << why << ")\n";
  std::string rid = "approve-" + approval_id + "-" + exec_request_;
  std::string frame, err;
  const Dialect* d = link_->dialect();
  if (!d) return Finish(kExitProtocol, "wsflow: cannot answer approval " + approval_id + ": the backend is not known yet");
  if (!d->Approve(target_.run_id, approval_id, resolution, feedback.empty() ? "answered by wsflow (" + why + ")" : feedback,
                  "", rid, &frame, &err))
    return Finish(kExitUsage, "wsflow: " + err);
  SendApproval(approval_id, rid, frame);
}

void RunFollower::SendApproval(const std::string& approval_id, const std::string& request_id, const std::string& frame) {
  const Dialect* d = link_->dialect();
  Millis delay = opts_.approvals.answer_delay.count() >= 0 ? opts_.approvals.answer_delay
                                                           : Millis(d ? d->answer_delay_ms() : 0);
  auto asked = asked_at_.find(approval_id);
  Millis waited = asked == asked_at_.end() ? delay
                                           : std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() -
                                                                                asked->second);
  if (waited >= delay) return SendRequest(request_id, frame);
  if (opts_.verbose)
    std::cerr << "wsflow: answering approval " << approval_id << " in " << FormatDuration(delay - waited)
              << " (--answer-delay)\n";
  link_->After(delay - waited, [this, request_id, frame] {
    if (!finished_ || cancelling_) SendRequest(request_id, frame);
  });
}

// approve, cancel, pause, resume: the history is read, so we know what the run is waiting for.
void RunFollower::StartAction() {
  int status = 0;
  std::string frame, msg;
  action_request_ = link_->NewRequestId() + "-" + target_.action->type;
  ActionContext ctx;
  ctx.dialect = link_->dialect();
  ctx.run_id = target_.run_id;
  ctx.outcome = outcome_;
  ctx.request = approvals_.Find(target_.action->approval_id);
  ctx.answered = approvals_.Answered(target_.action->approval_id);
  if (!ctx.dialect) return Finish(kExitProtocol, "wsflow: the backend's dialect is not known yet");
  if (!BuildActionFrame(&*target_.action, ctx, action_request_, &frame, &status, &msg)) return Finish(status, msg);
  if (target_.action->type == "approve") return SendApproval(target_.action->approval_id, action_request_, frame);
  SendRequest(action_request_, frame);
}

void RunFollower::SendRequest(const std::string& request_id, const std::string& frame) {
  if (pending_.size() >= opts_.queue_size) {
    return Finish(kExitProtocol, "wsflow: " + std::to_string(pending_.size()) +
                                     " requests are waiting for the server already (--queue-size); giving up");
  }
  bool now = link_->is_open() && link_->dialect() != nullptr;
  pending_[request_id] = {frame, now};
  if (now) link_->Send(frame, request_id);  // else OnOpen sends it after the re-subscription
}

std::string RunFollower::EndLine() const {
  bool ended = exit_ == kExitCompleted || exit_ == kExitFailed || exit_ == kExitCancelled || IsSignalStatus(exit_);
  if (opts_.quiet || !ended || target_.action || target_.detach) return "";
  bool why = outcome_ != Outcome::kNone && outcome_ != Outcome::kCompleted && !reason_.empty();
  std::string s = "wsflow: run " + target_.run_id + " " +
                  (outcome_ == Outcome::kNone ? "not finished" : ExitStatusName(ExitStatusFor(outcome_))) +
                  (why ? " (" + reason_ + ")" : "") + ": " + Count(printed_, "event", "events") +
                  " printed, last seq " + std::to_string(tracker_.last()) + ", " +
                  Count(link_->reconnects(), "reconnect", "reconnects");
  if (gaps_) s += ", " + Count(gaps_, "gap", "gaps") + " re-requested";
  if (garbage_) s += ", " + Count(garbage_, "invalid frame", "invalid frames") + " ignored";
  return s;
}

// ---- the local control socket: this process holds the run's connection ----

std::string RunFollower::Describe() const {
  const Dialect* d = link_->dialect();
  std::string state = finished_ ? "finished" : link_->is_open() ? "open" : "reconnecting";
  return JsonObject({{"run_id", Quote(target_.run_id)},
                     {"url", Quote(MaskUrlSecrets(link_->url()))},
                     {"dialect", Quote(d ? d->name() : "auto")},
                     {"one_socket_per_run", d && d->one_socket_per_run() ? "true" : "false"},
                     {"state", Quote(state)},
                     {"pid", std::to_string(::getpid())},
                     {"since", Quote(since_)},
                     {"last_seq", std::to_string(tracker_.last())}});
}

void RunFollower::RemoteAction(ControlAction act, std::shared_ptr<ControlClient> client) {
  if (finished_) return client->End(RefusalLine(kExitProtocol, "wsflow: the run's stream has ended"));
  std::string rid = link_->NewRequestId() + "-local-" + act.type;
  std::string frame, msg;
  int status = 0;
  ActionContext ctx;
  ctx.dialect = link_->dialect();
  ctx.run_id = target_.run_id;
  ctx.outcome = outcome_;
  ctx.request = approvals_.Find(act.approval_id);
  ctx.answered = approvals_.Answered(act.approval_id);
  if (!ctx.dialect) return client->End(RefusalLine(kExitProtocol, "wsflow: the backend's dialect is not known yet"));
  if (!BuildActionFrame(&act, ctx, rid, &frame, &status, &msg)) return client->End(RefusalLine(status, msg));
  if (opts_.verbose) std::cerr << "wsflow: " << act.type << " for a local client\n";
  remote_[rid] = {act, client};
  if (act.type == "approve") return SendApproval(act.approval_id, rid, frame);
  SendRequest(rid, frame);
}

// Each new event goes to local watchers, and settles local actions it confirms.
void RunFollower::Share(Event& ev) {
  std::string spaced;
  std::string_view line = ev.line();
  if (!ev.compact()) {
    spaced = ToJson(ev.envelope());
    line = spaced;
  }
  host_->Share(target_.run_id, line);
  for (auto it = remote_.begin(); it != remote_.end();) {
    if (Confirms(it->second.first, ev)) {
      pending_.erase(it->first);
      it->second.second->End(AcceptedLine(line));
      it = remote_.erase(it);
    } else {
      ++it;
    }
  }
}

void RunFollower::EndShares() {
  if (host_) host_->End(target_.run_id, exit_status());
  for (auto& [rid, r] : remote_)
    r.second->End(RefusalLine(kExitProtocol,
                              "wsflow: the run's stream ended before the " + r.first.type + " was acknowledged"));
  remote_.clear();
}

}  // namespace wsflow
