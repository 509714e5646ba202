#include "core/status_line.h"

#include "core/pretty.h"
#include "core/terminal.h"
#include "core/text.h"

namespace wsflow {

StatusLine::StatusLine(int width) : width_(width > 0 ? width : 80) { terminal::Install(); }

StatusLine::~StatusLine() { Stop(); }

void StatusLine::Stop() {
  if (stopped_) return;
  stopped_ = true;
  terminal::SetStatus("");
}

void StatusLine::Show(const std::string& text) {
  if (stopped_) return;
  terminal::SetStatus(Truncate(text, width_ - 1));  // cut by columns, never inside a character
}

void StatusLine::Update(const JsonValue& env, int64_t reconnects) {
  if (stopped_) return;
  view_.Apply(env);
  if (view_.ended()) return Stop();  // the line on stderr that follows says how the run ended
  std::string_view type = GetString(env, "event_type");
  auto now = std::chrono::steady_clock::now();
  if ((type == "step_progress" || type == "heartbeat") && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  terminal::SetStatus(Render(view_, reconnects, width_));
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
