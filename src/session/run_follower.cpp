#include "session/run_follower.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iostream>
#include <random>

#include "core/envelope.h"
#include "core/url.h"
#include "dialects/native.h"

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
  opts_.session.url = url.has_path() ? opts_.base_url : url.WithPath("/ws/" + EncodePathSegment(opts_.run_id));
  exec_request_ = "exec-" + RandomHex(16);
}

RunFollower::~RunFollower() = default;

int RunFollower::Run() {
  session_ = std::make_unique<Session>(opts_.session, this);
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
  {
    std::lock_guard<std::mutex> lk(*post_mu_);  // threads still answering approvals must not post now
    *post_target_ = nullptr;
  }
  writer_.Close();
  if (exit_ < 0) exit_ = kExitProtocol;
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
  SendRequest(rid, native::ControlFrame("cancel", opts_.run_id, rid));
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
  if (opts_.execute && !exec_acked_) {
    // The same request id on every retry: the server starts the run once and attaches us to it.
    session_->SendNow(native::ExecuteFrame(opts_.task, opts_.config_json, opts_.run_id, exec_request_, tracker_.last()));
  } else {
    sub_request_ = NewRequestId();
    session_->SendNow(native::SubscribeFrame(opts_.run_id, tracker_.last(), sub_request_, start_known_ ? -1 : opts_.tail));
  }
  for (auto& [id, frame] : pending_) session_->SendNow(frame);  // applied once: the server knows the ids
}

void RunFollower::OnBinary(std::string_view frame) {
  ++garbage_;
  std::cerr << "wsflow: ignored a binary frame of " << frame.size() << " bytes\n";
  if (opts_.strict) Finish(kExitProtocol, "wsflow: --strict: the server sent a binary frame (" + Where() + ")");
}

void RunFollower::OnText(std::string_view frame) {
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
  native::Frame f = native::Classify(v);
  switch (f.kind) {
    case native::FrameKind::kEvent:
      return HandleEvent(frame, v, f.env.seq, f.env.event_type);
    case native::FrameKind::kAck: {
      if (opts_.raw && !opts_.action) Print(frame, v);
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
      if (opts_.raw && !opts_.action) Print(frame, v);
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
      if (opts_.raw && !opts_.action) Print(frame, v);
      return;
    case native::FrameKind::kOther:
      if (opts_.action || !opts_.filter.Accepts(f.env.event_type) || !MatchesAll(opts_.match, v)) return;
      return Print(frame, v);
    case native::FrameKind::kUnknown: {
      if (opts_.action) return;
      if (opts_.raw) return Print(frame, v);
      if (opts_.filter.Accepts("unknown")) PrintClientEvent("unknown", v);
      return;
    }
  }
}

void RunFollower::HandleEvent(std::string_view frame, const JsonValue& v, int64_t seq, std::string_view type) {
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
        session_->SendNow(native::SubscribeFrame(opts_.run_id, tracker_.last(), resub_request_));
      }
      return;
    case SeqTracker::Verdict::kNext:
      break;
  }
  session_->MarkProgress();
  Outcome outcome = native::TerminalOutcome(type, v);
  if (outcome != Outcome::kNone && outcome_ == Outcome::kNone) outcome_ = outcome;

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
      Print(frame, v);
      return Finish(kExitCompleted, "");
    }
    if (outcome != Outcome::kNone && caught_up_) {
      return Finish(kExitProtocol, "wsflow: run " + opts_.run_id + " ended (" + ExitStatusName(ExitStatusFor(outcome)) +
                                       ") before the " + opts_.action->type + " was acknowledged");
    }
  } else if (opts_.filter.Accepts(type) && MatchesAll(opts_.match, v)) {
    Print(frame, v);
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
  SendRequest(rid, native::ResolveApprovalFrame(opts_.run_id, approval_id, resolution,
                                                feedback.empty() ? "answered by wsflow (" + why + ")" : feedback, rid));
}

// approve, cancel, pause, resume: the history is read, so we know what the run is waiting for.
void RunFollower::StartAction() {
  ControlAction& act = *opts_.action;
  if (outcome_ != Outcome::kNone) {
    return Finish(kExitProtocol, "wsflow: run " + opts_.run_id + " has already ended (" +
                                     ExitStatusName(ExitStatusFor(outcome_)) + "); nothing to " + act.type);
  }
  action_request_ = NewRequestId() + "-" + act.type;
  if (act.type != "approve") {
    SendRequest(action_request_, native::ControlFrame(act.type, opts_.run_id, action_request_));
    return;
  }
  auto it = approvals_.find(act.approval_id);
  if (it != approvals_.end()) {
    const ApprovalRequest& req = it->second.request;
    if (it->second.resolved) {
      return Finish(kExitProtocol, "wsflow: approval " + act.approval_id + " of run " + opts_.run_id +
                                       " was already answered");
    }
    if (act.reject) {
      act.resolution = FirstRejectLike(req.options);
      if (act.resolution.empty())
        return Finish(kExitUsage, "wsflow: approval " + act.approval_id + " offers no reject-like option; allowed: " +
                                      Join(req.options, ", "));
    } else if (act.resolution.empty()) {
      act.resolution = FirstApproveLike(req.options);
      if (act.resolution.empty())
        return Finish(kExitUsage, "wsflow: approval " + act.approval_id +
                                      " offers no approve-like option; choose one with --resolution: " +
                                      Join(req.options, ", "));
    } else if (!req.options.empty() && !Contains(req.options, act.resolution)) {
      return Finish(kExitUsage, "wsflow: '" + act.resolution + "' is not an option of approval " + act.approval_id +
                                    "; allowed: " + Join(req.options, ", "));
    }
  } else {
    if (act.reject) act.resolution = "reject";
    if (act.resolution.empty()) act.resolution = "approve";
  }
  std::string frame = native::ResolveApprovalFrame(opts_.run_id, act.approval_id, act.resolution, act.feedback,
                                                   action_request_);
  if (!act.modifications.empty()) {
    JsonDoc d;
    std::string err;
    ParseJson(frame, &d, &err);
    d["modifications"].SetString(act.modifications.c_str(), static_cast<rapidjson::SizeType>(act.modifications.size()),
                                 d.GetAllocator());
    frame = ToJson(d);
  }
  SendRequest(action_request_, frame);
}

bool RunFollower::ConfirmsAction(std::string_view type, const JsonValue& v) const {
  const ControlAction& act = *opts_.action;
  if (act.type == "approve") {
    const JsonValue* data = GetObject(v, "data");
    return type == "approval_received" && data && GetString(*data, "approval_id") == act.approval_id;
  }
  if (act.type == "pause") return type == "workflow_paused";
  if (act.type == "resume") return type == "workflow_resumed";
  return native::TerminalOutcome(type, v) == Outcome::kCancelled;
}

void RunFollower::Print(std::string_view frame, const JsonValue& v) {
  // A compact frame goes out as it came; anything else is re-serialised onto one line.
  if (frame.find('\n') == std::string_view::npos && (opts_.raw || IsCompactJson(frame))) writer_.Write(frame);
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
  writer_.Write(EnvelopeLine(p));
  ++printed_;
}

void RunFollower::SendRequest(const std::string& request_id, std::string frame) {
  if (pending_.size() >= opts_.session.queue_size) {
    return Finish(kExitProtocol, "wsflow: " + std::to_string(pending_.size()) +
                                     " requests are waiting for the server already (--queue-size); giving up");
  }
  pending_[request_id] = frame;
  if (session_->is_open()) session_->SendNow(frame);  // else OnOpen sends it after the re-subscription
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
  if (why.http_status == 401 || why.http_status == 403) {
    exit_ = kExitAuth;
    std::cerr << "wsflow: authentication rejected by " << opts_.session.url << ": " << why.reason << "\n";
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
