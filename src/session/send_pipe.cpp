#include "session/send_pipe.h"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <iostream>
#include <thread>

#include "core/envelope.h"
#include "core/exit_status.h"
#include "session/messages.h"

namespace wsflow {

namespace {
std::string Base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}
}  // namespace

SendPipe::SendPipe(SendOptions opts) : opts_(std::move(opts)), writer_(NdjsonWriter::Options{}) {
  opts_.session.url = opts_.url;
}

int SendPipe::Run() {
  RecordingHeader h;
  h.command = "send";
  h.url = opts_.url;
  if (int rc = StartRecording(&recorder_, opts_.record_file, h)) return rc;
  session_ = std::make_unique<Session>(opts_.session, this);
  {
    std::lock_guard<std::mutex> lk(gate_->mu);
    gate_->target = session_.get();
    gate_->limit = std::max<size_t>(1, opts_.session.queue_size);
  }
  writer_.OnDrained([this] { session_->ResumeReading(); });
  writer_.OnBroken([this] { PostFromThread([this] { Finish(kExitCompleted, ""); }); });
  writer_.OnFailed([this](int error) {
    std::string msg = "wsflow: cannot write to stdout: " + std::string(std::strerror(error)) + " (" +
                      Count(static_cast<int64_t>(writer_.lines_written()), "line", "lines") + " written whole)";
    PostFromThread([this, msg] { Finish(kExitOutput, msg); });
  });
  if (opts_.timeout.count() > 0) {
    session_->After(opts_.timeout, [this] {
      Finish(kExitTimeout, "wsflow: timed out after " + FormatDuration(opts_.timeout) + " (" +
                               Count(sent_, "frame", "frames") + " sent, " + std::to_string(received_) + " received)");
    });
  }
  // stdin is read on a thread of its own (a blocking read must not stop the loop); detached
  // because a read that never returns must not keep us from exiting. It reads no further while
  // the lines not sent yet fill the queue: a pipe waits for the connection.
  std::thread([this, gate = gate_] {
    std::string line;
    int64_t n = 0;
    while (std::getline(std::cin, line)) {
      ++n;
      std::unique_lock<std::mutex> lk(gate->mu);
      gate->cv.wait(lk, [&] { return !gate->target || gate->posted + gate->kept < gate->limit; });
      if (!gate->target) return;
      ++gate->posted;
      gate->target->Post([this, line, n] { OnLine(line, n); });
    }
    std::lock_guard<std::mutex> lk(gate->mu);
    if (gate->target) gate->target->Post([this] { OnEof(); });
  }).detach();
  session_->Run();
  {
    std::lock_guard<std::mutex> lk(gate_->mu);
    gate_->target = nullptr;
  }
  gate_->cv.notify_all();
  writer_.Close();
  writer_.OnBroken(nullptr);
  writer_.OnFailed(nullptr);
  writer_.OnDrained(nullptr);
  if (exit_ < 0) exit_ = kExitProtocol;
  if (writer_.failed() && exit_ != kExitOutput) {
    std::cerr << "wsflow: cannot write to stdout: " << std::strerror(writer_.error()) << " ("
              << Count(static_cast<int64_t>(writer_.lines_written()), "line", "lines") << " written whole)\n";
    exit_ = kExitOutput;
  }
  if (recorder_.is_open()) {
    recorder_.End(exit_);
    std::string err;
    if (!recorder_.Close(&err)) {
      std::cerr << "wsflow: " << err << "\n";
      exit_ = kExitOutput;
    }
  }
  return exit_;
}

void SendPipe::PostFromThread(std::function<void()> fn) {
  std::lock_guard<std::mutex> lk(gate_->mu);
  if (gate_->target) gate_->target->Post(std::move(fn));
}

void SendPipe::Finish(int status, const std::string& message) {
  if (finished_) return;
  finished_ = true;
  exit_ = status;
  if (!message.empty()) std::cerr << message << "\n";
  session_->Close(1000, "done");
}

void SendPipe::OnLine(std::string line, int64_t number) {
  {
    std::lock_guard<std::mutex> lk(gate_->mu);
    --gate_->posted;
  }
  if (finished_) return;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return Kept();
  if (opts_.mode == SendOptions::Mode::kJson) {
    std::string err;
    if (!parser_.Parse(line, &err)) {
      if (opts_.interactive) {  // a person typed it: say so, and go on
        std::cerr << "wsflow: line " << number << " is not JSON (" << err << "); not sent (--text sends lines as they are)\n";
        return Kept();
      }
      return Finish(kExitUsage, "wsflow: stdin line " + std::to_string(number) + " is not JSON (" + err +
                                    "); use --text to send lines as they are");
    }
  }
  if (recorder_.is_open()) recorder_.Out(line);
  ++sent_;
  if (!waiting_.empty() || !session_->Send(line, opts_.mode == SendOptions::Mode::kBinary))
    waiting_.push_back(std::move(line));
  Kept();
}

void SendPipe::SendKept() {
  while (!waiting_.empty() && session_->is_open()) {
    session_->Send(std::move(waiting_.front()), opts_.mode == SendOptions::Mode::kBinary);
    waiting_.pop_front();
  }
  Kept();
}

void SendPipe::Kept() {
  {
    std::lock_guard<std::mutex> lk(gate_->mu);
    gate_->kept = session_->queued() + waiting_.size();
  }
  gate_->cv.notify_all();
}

void SendPipe::OnEof() {
  eof_ = true;
  Linger();
}

// Once stdin ended and every queued line went out, wait --linger for the answers, then leave.
void SendPipe::Linger() {
  if (finished_) return;
  if (session_->queued() > 0 || !waiting_.empty() || !session_->is_open()) {
    session_->After(Millis(50), [this] { Linger(); });
    return;
  }
  session_->After(opts_.linger, [this] { Finish(kExitCompleted, ""); });
}

void SendPipe::OnOpen(bool reconnect) {
  if (reconnect && !opts_.session.quiet) std::cerr << "wsflow: reconnected\n";
  // The session flushes its queue once this returns; then what waited here follows, and the
  // reader may read again.
  session_->Post([this] { SendKept(); });
}

void SendPipe::Emit(std::string_view line, const JsonValue* v, std::string_view type) {
  if (recorder_.is_open()) recorder_.In(in_frame_, line);
  writer_.Write(line);
  ++received_;
  if (writer_.AboveHighWater()) session_->PauseReading();
  if (opts_.wait.Met(type, v) || opts_.wait.Enough(received_)) Finish(kExitCompleted, "");
}

void SendPipe::OnText(std::string_view frame) {
  if (finished_) return;
  in_frame_ = frame;
  std::string err;
  if (parser_.Parse(frame, &err)) {
    const JsonValue& v = parser_.doc();
    std::string_view type = GetString(v, "event_type", GetString(v, "type"));
    if (frame.find('\n') == std::string_view::npos && IsCompactJson(frame)) Emit(frame, &v, type);
    else Emit(ToJson(v), &v, type);
    return;
  }
  // Not JSON: still one line of JSON on stdout, made by us.
  JsonDoc d(rapidjson::kObjectType);
  d.AddMember("text", Str(frame, d.GetAllocator()), d.GetAllocator());
  Emit(EnvelopeLine({"text", "", "", -1, &d, true}), &d, "text");
}

void SendPipe::OnBinary(std::string_view frame) {
  if (finished_) return;
  in_frame_ = "(binary frame)";
  JsonDoc d(rapidjson::kObjectType);
  d.AddMember("base64", Str(Base64(frame), d.GetAllocator()), d.GetAllocator());
  Emit(EnvelopeLine({"binary", "", "", -1, &d, true}), &d, "binary");
}

void SendPipe::OnRetry(const Disconnect& why, Millis delay, int attempt, int max_attempts) {
  if (!opts_.session.quiet) std::cerr << RetryLine(why, delay, attempt, max_attempts) << "\n";
}

bool SendPipe::ShouldReconnect(const Disconnect& why) {
  // A close frame from the server ends a send; a lost connection is retried.
  if (!why.was_open || why.close_code == 1006) return true;
  finished_ = true;
  if (why.close_code == 1000 || why.close_code == 1001) {
    exit_ = kExitCompleted;
  } else {
    exit_ = kExitProtocol;
    std::cerr << "wsflow: the server closed the connection: " << why.reason << "\n";
  }
  return false;
}

void SendPipe::OnGiveUp(const Disconnect& why, bool exhausted) {
  if (finished_) return;
  finished_ = true;
  exit_ = GiveUpStatus(why);
  if (why.protocol) std::cerr << "wsflow: " << why.reason << "; not retrying\n";
  else std::cerr << "wsflow: " << (exhausted ? "giving up: " : "cannot connect to " + opts_.url + ": ") << why.reason << "\n";
}

void SendPipe::OnSignal(int signo) {
  Finish(ExitStatusForSignal(signo), std::string("wsflow: ") + ExitStatusName(ExitStatusForSignal(signo)));
}

}  // namespace wsflow
