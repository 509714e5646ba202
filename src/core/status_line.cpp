#include "core/status_line.h"

#include <functional>
#include <iostream>
#include <mutex>
#include <streambuf>

#include "core/pretty.h"
#include "core/text.h"

namespace wsflow {

namespace {
constexpr char kErase[] = "\r\x1b[K";

// Sits between std::cerr and stderr's own buffer while a status may be shown.
class StatusBuf : public std::streambuf {
 public:
  explicit StatusBuf(std::streambuf* out) : out_(out) {}

  void Draw(const std::string& text) {
    std::lock_guard<std::mutex> lk(mu_);
    line_ = text;
    if (at_line_start_) Show();  // else someone is mid-line (a prompt): drawn after their newline
  }

  void Divert(std::function<void(std::string)> sink) {
    std::lock_guard<std::mutex> lk(mu_);
    sink_ = std::move(sink);
  }

  void Erase() {
    std::lock_guard<std::mutex> lk(mu_);
    line_.clear();
    if (shown_) {
      out_->sputn(kErase, sizeof kErase - 1);
      out_->pubsync();
      shown_ = false;
    }
  }

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    char ch = static_cast<char>(c);
    Put(&ch, 1);
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    Put(s, n);
    return n;
  }
  int sync() override { return out_->pubsync(); }

 private:
  void Put(const char* s, std::streamsize n) {
    std::lock_guard<std::mutex> lk(mu_);
    if (n <= 0) return;
    if (sink_) {
      sink_(std::string(s, static_cast<size_t>(n)));
      return;
    }
    if (shown_) {
      out_->sputn(kErase, sizeof kErase - 1);
      shown_ = false;
    }
    out_->sputn(s, n);
    at_line_start_ = s[n - 1] == '\n';
    if (at_line_start_ && !line_.empty()) Show();
  }
  void Show() {
    out_->sputn(kErase, sizeof kErase - 1);
    out_->sputn(line_.data(), static_cast<std::streamsize>(line_.size()));
    out_->pubsync();
    shown_ = true;
  }

  std::streambuf* out_;
  std::mutex mu_;
  std::string line_;
  std::function<void(std::string)> sink_;
  bool shown_ = false;
  bool at_line_start_ = true;
};

// Installed once and never removed: threads that answer approvals may still write to std::cerr
// while the program ends, and swapping the buffer under them would race.
StatusBuf* Buf() {
  static StatusBuf* buf = [] {
    auto* b = new StatusBuf(std::cerr.rdbuf());
    std::cerr.rdbuf(b);
    return b;
  }();
  return buf;
}
}  // namespace

void DivertErrors(std::function<void(std::string)> sink) { Buf()->Divert(std::move(sink)); }

StatusLine::StatusLine(int width) : width_(width > 0 ? width : 80) { Buf(); }

StatusLine::~StatusLine() { Stop(); }

void StatusLine::Stop() {
  if (stopped_) return;
  stopped_ = true;
  Buf()->Erase();
}

void StatusLine::Show(const std::string& text) {
  if (stopped_) return;
  Buf()->Draw(text.size() + 1 < static_cast<size_t>(width_) ? text : text.substr(0, static_cast<size_t>(width_ - 2)));
}

void StatusLine::Update(const JsonValue& env, int64_t reconnects) {
  if (stopped_) return;
  view_.Apply(env);
  if (view_.ended()) return Stop();  // the line on stderr that follows says how the run ended
  std::string_view type = GetString(env, "event_type");
  auto now = std::chrono::steady_clock::now();
  if ((type == "step_progress" || type == "heartbeat") && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  Buf()->Draw(Render(view_, reconnects, width_));
}

std::string StatusLine::Render(const RunView& v, int64_t reconnects, int width) {
  std::string s = "wsflow: " + SafeText(v.run_id()) + (v.run_id().empty() ? "" : " ") + v.state();
  return Truncate(s + Details(v, reconnects), width - 1);
}

std::string StatusLine::Details(const RunView& v, int64_t reconnects) {
  std::string s;
  double percent = v.task_percent();
  if (const RunView::Step* step = v.current()) {
    std::string part = step->number > 0 ? "step " + std::to_string(step->number) : "step " + SafeText(step->id);
    if (step->number > 0 && v.steps().size() >= static_cast<size_t>(step->number))
      part += "/" + std::to_string(v.steps().size());
    if (!step->label.empty()) part += " " + SafeText(step->label);
    if (step->status == "retrying") part += " (retrying)";
    s += " | " + part;
    if (step->percent >= 0) percent = step->percent;
  } else if (!v.steps().empty()) {
    s += " | " + std::to_string(v.count("completed")) + "/" + std::to_string(v.steps().size()) + " steps done";
  }
  if (percent >= 0) s += " | " + std::to_string(static_cast<int>(percent + 0.5)) + "%";
  if (v.has_cost()) s += " | " + FormatCost(v.total_cost());
  s += " | " + Count(v.events(), "event", "events");
  if (reconnects > 0) s += " | " + Count(reconnects, "reconnect", "reconnects");
  return s;
}

}  // namespace wsflow
