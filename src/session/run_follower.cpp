#include "session/run_follower.h"

#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <random>

#include "core/envelope.h"
#include "core/url.h"
#include "dialects/native.h"

namespace wsflow {

namespace {
const char* kAutoApproveOptions[] = {"approve", "continue", "submit", "allow", "retry"};

std::string RandomHex(int n) {
  static std::mt19937_64 rng(std::random_device{}());
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s += hex[rng() % 16];
  return s;
}
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
  writer_.OnDrained([this] { session_->ResumeReading(); });
  writer_.OnBroken([this] {
    // The reader went away (`| head -1`): nothing more can be delivered; that is not an error.
    session_->Post([this] { Finish(kExitCompleted, "", true); });
  });
  if (opts_.execute && !opts_.session.quiet) std::cerr << "wsflow: run " << opts_.run_id << "\n";
  session_->Run();
  writer_.Close();
  if (exit_ < 0) exit_ = kExitProtocol;
  // The run ended (or we were stopped): one line that a CI log can show. Errors said theirs already.
  bool ended = exit_ == kExitCompleted || exit_ == kExitFailed || exit_ == kExitCancelled ||
               exit_ == kExitInterrupted || exit_ == kExitTerminated;
  if (!opts_.session.quiet && ended && !writer_.broken()) {
    std::cerr << "wsflow: run " << opts_.run_id << " " << (outcome_ == Outcome::kNone ? "not finished" : ExitStatusName(ExitStatusFor(outcome_)))
              << ": " << printed_ << " events printed, last seq " << tracker_.last() << ", "
              << session_->stats().reconnects << " reconnects";
    if (gaps_) std::cerr << ", " << gaps_ << " gaps re-requested";
    if (garbage_) std::cerr << ", " << garbage_ << " invalid frames ignored";
    std::cerr << "\n";
  }
  WriteSummary();
  return exit_;
}

std::string RunFollower::NewRequestId() { return "req-" + std::to_string(::getpid()) + "-" + std::to_string(++request_counter_); }

std::string RunFollower::Where() const {
  return "last seq printed: " + std::to_string(tracker_.last());
}

void RunFollower::Finish(int status, const std::string& message, bool close) {
  if (finished_) return;
  finished_ = true;
  exit_ = status;
  if (!message.empty()) std::cerr << message << "\n";
  if (close) session_->Close(status == kExitInterrupted || status == kExitTerminated ? 1001 : 1000,
                             status == kExitCompleted ? "done" : ExitStatusName(status));
  else session_->Stop();
}

void RunFollower::OnOpen(bool reconnect) {
  if (finished_) return;
  if (opts_.connection_events) {
    JsonDoc d(rapidjson::kObjectType);
    d.AddMember("url", Str(opts_.session.url, d.GetAllocator()), d.GetAllocator());
    d.AddMember("last_seq", tracker_.last(), d.GetAllocator());
    PrintClientEvent(reconnect ? "reconnected" : "connected", d);
  }
  if (reconnect && !opts_.session.quiet) std::cerr << "wsflow: reconnected, resuming after seq " << tracker_.last() << "\n";
  resub_request_.clear();
  if (opts_.execute && !exec_acked_) {
    // The same request id on every retry: the server starts the run once and attaches us to it.
    session_->SendNow(native::ExecuteFrame(opts_.task, opts_.config_json, opts_.run_id, exec_request_, tracker_.last()));
  } else {
    sub_request_ = NewRequestId();
    session_->SendNow(native::SubscribeFrame(opts_.run_id, tracker_.last(), sub_request_,
                                             start_known_ ? -1 : opts_.tail));
  }
  for (auto& [id, frame] : pending_) session_->SendNow(frame);  // applied once: the server knows the ids
}

void RunFollower::OnBinary(std::string_view frame) {
  ++garbage_;
  std::cerr << "wsflow: ignored a binary frame of " << frame.size() << " bytes\n";
  if (opts_.strict) Finish(kExitProtocol, "wsflow: --strict: the server sent a binary frame (" + Where() + ")");
}

void RunFollower::OnText(std::string_view frame) {
  if (finished_ && !opts_.follow) return;
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
      if (opts_.raw) Print(frame, v);
      std::string rid(f.request_id);
      pending_.erase(rid);
      if (rid == exec_request_ && !exec_acked_) {
        exec_acked_ = true;
        if (opts_.session.verbose) std::cerr << "wsflow: run " << opts_.run_id << " started\n";
      }
      if (rid == resub_request_) resub_request_.clear();
      if ((rid == sub_request_ || rid == exec_request_) && f.last_seq > history_end_) history_end_ = f.last_seq;
      if (rid == sub_request_ && !start_known_) {  // --tail/--no-history: now we know where we start
        start_known_ = true;
        if (f.from_seq > tracker_.last()) tracker_ = SeqTracker(f.from_seq);
      }
      return;
    }
    case native::FrameKind::kError: {
      if (opts_.raw) Print(frame, v);
      std::string rid(f.request_id);
      std::string msg(f.message);
      if ((rid == sub_request_ || rid == resub_request_) && session_->stats().reconnects > 0) {
        // We lost the connection and the backend will not take us back: say what may be missing.
        return Finish(kExitIncomplete, "wsflow: the backend cannot resume run " + opts_.run_id +
                                           " after the connection was lost (" + msg + "); events after seq " +
                                           std::to_string(tracker_.last()) + " may be missing");
      }
      if (rid == exec_request_ || rid == sub_request_ || (!rid.empty() && rid == resub_request_)) {
        return Finish(kExitProtocol, "wsflow: the server refused " + std::string(opts_.execute && !exec_acked_ ? "to start" : "to attach to") +
                                         " run " + opts_.run_id + ": " + msg);
      }
      if (pending_.erase(rid)) return Finish(kExitProtocol, "wsflow: the server refused a request: " + msg);
      std::cerr << "wsflow: the server reported an error: " << msg << "\n";
      return;
    }
    case native::FrameKind::kPong:
    case native::FrameKind::kHeartbeat:
      if (opts_.raw) Print(frame, v);
      return;
    case native::FrameKind::kOther:
      if (!opts_.filter.Accepts(f.env.event_type)) return;
      return Print(frame, v);
    case native::FrameKind::kUnknown: {
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
  if (opts_.filter.Accepts(type)) Print(frame, v);
  if (opts_.auto_approve) {
    if (type == "approval_requested") AutoApprove(v, seq);
    if (type == "approval_received") {  // answered (by us or anyone): nothing left to do for it
      const JsonValue* data = GetObject(v, "data");
      std::string id(data ? GetString(*data, "approval_id") : std::string_view());
      std::vector<std::pair<std::string, std::string>> left;
      for (auto& d : deferred_approvals_)
        if (d.first != id) left.push_back(d);
      deferred_approvals_.swap(left);
    }
    if (!deferred_approvals_.empty() && seq >= history_end_) {
      auto open = std::move(deferred_approvals_);
      deferred_approvals_.clear();
      for (auto& [id, choice] : open) Answer(id, choice);
    }
  }
  Outcome outcome = native::TerminalOutcome(type, v);
  if (outcome != Outcome::kNone && outcome_ == Outcome::kNone) {
    outcome_ = outcome;
    if (!opts_.follow) Finish(ExitStatusFor(outcome), "");
  }
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

void RunFollower::AutoApprove(const JsonValue& v, int64_t seq) {
  const JsonValue* data = GetObject(v, "data");
  if (!data) return;
  std::string approval_id(GetString(*data, "approval_id"));
  const JsonValue* options = GetArray(*data, "options");
  std::string choice;
  if (options)
    for (auto& o : options->GetArray()) {
      if (!o.IsString()) continue;
      for (const char* ok : kAutoApproveOptions)
        if (o.GetString() == std::string_view(ok)) choice = ok;
      if (!choice.empty()) break;
    }
  if (choice.empty()) {
    std::cerr << "wsflow: approval " << approval_id << " offers no approve-like option; left unanswered\n";
    return;
  }
  // One from the history may have been answered already: the rest of the history will tell.
  if (seq < history_end_) deferred_approvals_.emplace_back(approval_id, choice);
  else Answer(approval_id, choice);
}

void RunFollower::Answer(const std::string& approval_id, const std::string& choice) {
  if (!opts_.session.quiet) std::cerr << "wsflow: auto-approving " << approval_id << " with '" << choice << "'\n";
  std::string rid = "approve-" + approval_id + "-" + exec_request_;
  SendRequest(rid, native::ResolveApprovalFrame(opts_.run_id, approval_id, choice, "auto-approved by wsflow", rid));
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
  last_error_ = why.reason;
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
  Finish(signo == SIGINT ? kExitInterrupted : kExitTerminated,
         std::string("wsflow: ") + (signo == SIGINT ? "interrupted" : "terminated") + " (" + Where() + ")");
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
