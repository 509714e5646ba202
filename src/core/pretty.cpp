#include "core/pretty.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "core/byte_size.h"
#include "core/duration.h"
#include "core/text.h"
#include "core/timestamp.h"
#include "core/utf8.h"

namespace wsflow {

namespace {
// ANSI SGR sequences.
constexpr const char* kDim = "2";
constexpr const char* kBold = "1";
constexpr const char* kRed = "31";
constexpr const char* kBoldRed = "1;31";
constexpr const char* kGreen = "32";
constexpr const char* kBoldGreen = "1;32";
constexpr const char* kYellow = "33";
constexpr const char* kBoldYellow = "1;33";
constexpr const char* kBlue = "34";
constexpr const char* kBoldBlue = "1;34";
constexpr const char* kMagenta = "35";
constexpr const char* kCyan = "36";
constexpr const char* kBoldCyan = "1;36";

constexpr int kTypeColumn = 20;
constexpr int kBarCells = 20;
// Below 80 columns the fixed columns give up what they can, so that the content keeps its room:
// the type is padded to 14 (longer ones push), a run id keeps its last 6 characters (its random
// part), and a progress bar has 10 cells. Below 50 the run id goes.
constexpr int kNarrowWidth = 80;
constexpr int kVeryNarrowWidth = 50;
constexpr int kNarrowTypeColumn = 14;
constexpr int kNarrowBarCells = 10;
constexpr size_t kNarrowRunId = 6;

const char* TypeColor(std::string_view t) {
  if (t == "workflow_completed") return kBoldGreen;
  if (t == "workflow_failed" || t == "error_occurred" || t == "error") return kBoldRed;
  if (t == "workflow_cancelled" || t == "workflow_paused") return kBoldYellow;
  if (t.substr(0, 9) == "workflow_") return kBoldBlue;
  if (t == "step_completed" || t == "step_complete" || t == "step_retry_succeeded") return kGreen;
  if (t == "step_failed" || t == "step_retry_exhausted" || t == "task_stage_failed") return kRed;
  if (t.substr(0, 11) == "step_retry_") return kYellow;
  if (t == "step_progress" || t == "task_progress") return kCyan;
  if (t.substr(0, 5) == "step_" || t.substr(0, 4) == "dag_" || t.substr(0, 5) == "task_") return kBlue;
  if (t.substr(0, 6) == "agent_") return kMagenta;
  if (t.substr(0, 9) == "approval_") return kBoldCyan;
  if (t == "cost_update" || t == "disconnected") return kYellow;
  if (t == "connected" || t == "reconnected") return kGreen;
  if (t.substr(0, 5) == "file_") return kBlue;
  return "";
}

std::string Num(double v) {
  char buf[64];
  if (std::fabs(v - std::round(v)) < 1e-9 && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// A member as text: strings as they are, anything else as compact JSON, "" when missing.
std::string Text(const JsonValue& v, const char* key) {
  if (!v.IsObject()) return "";
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || it->value.IsNull()) return "";
  if (it->value.IsString()) return std::string(it->value.GetString(), it->value.GetStringLength());
  if (it->value.IsNumber()) return Num(it->value.GetDouble());
  return ToJson(it->value);
}

std::string Seconds(double s) { return FormatDuration(Millis(static_cast<long long>(std::llround(s * 1000)))); }

// "step 3" (or "step s3" when a backend numbers nothing).
std::string StepName(const JsonValue& data) {
  int64_t n = GetInt(data, "step_number", 0);
  if (n > 0) return "step " + std::to_string(n);
  std::string id = Text(data, "step_id");
  return id.empty() ? "step" : "step " + id;
}

std::string Joined(const JsonValue* arr, const char* sep) {
  std::string out;
  if (!arr) return out;
  for (const auto& x : arr->GetArray()) out += (out.empty() ? "" : sep) + (x.IsString() ? std::string(x.GetString()) : ToJson(x));
  return out;
}

std::string Clock(const JsonValue& env, bool local) {
  double t = 0;
  std::string_view stamp = GetString(env, "timestamp");
  if (stamp.empty() || !ParseIsoTimestamp(std::string(stamp), &t)) return "--:--:--";
  std::time_t secs = static_cast<std::time_t>(std::floor(t));
  std::tm tm{};
  if (local) localtime_r(&secs, &tm);
  else gmtime_r(&secs, &tm);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

size_t Columns(std::string_view s) { return DisplayWidth(s); }

// The last `keep` columns of `s` after "…" when that is shorter.
std::string KeepTail(const std::string& s, size_t keep) {
  if (Columns(s) <= keep + 1) return s;
  return "\xE2\x80\xA6" + s.substr(SuffixFitting(s, keep));
}
}  // namespace

bool ParseColorMode(std::string_view text, ColorMode* out) {
  if (text == "auto") *out = ColorMode::kAuto;
  else if (text == "always") *out = ColorMode::kAlways;
  else if (text == "never") *out = ColorMode::kNever;
  else return false;
  return true;
}

bool ColorWanted(ColorMode mode, bool is_tty, const char* no_color_env, const char* term_env) {
  if (mode != ColorMode::kAuto) return mode == ColorMode::kAlways;
  if (!is_tty) return false;
  if (no_color_env && *no_color_env) return false;  // https://no-color.org: set and not empty
  if (term_env && std::string_view(term_env) == "dumb") return false;
  return true;
}

std::string SafeText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += ' ';
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      out += ' ';  // a C1 control (U+0080..U+009F), e.g. CSI
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string Truncate(std::string_view s, int cols) {
  if (cols <= 0 || Columns(s) <= static_cast<size_t>(cols)) return std::string(s);
  return std::string(s.substr(0, PrefixFitting(s, static_cast<size_t>(cols - 1)))) + "\xE2\x80\xA6";  // …
}

std::string ProgressBar(double percent, int width) {
  double p = std::clamp(percent, 0.0, 100.0);
  int full = static_cast<int>(std::lround(p * width / 100.0));
  return "[" + std::string(full, '#') + std::string(width - full, '-') + "]";
}

PrettyPrinter::PrettyPrinter(Style style) : style_(style) {}

int PrettyPrinter::BarCells() const {
  return style_.width > 0 && style_.width < kNarrowWidth ? kNarrowBarCells : kBarCells;
}

std::string PrettyPrinter::Paint(std::string_view text, const char* sgr) const {
  if (!style_.color || !sgr || !*sgr || text.empty()) return std::string(text);
  return std::string("\x1b[") + sgr + "m" + std::string(text) + "\x1b[0m";
}

std::string PrettyPrinter::Format(std::string_view line) {
  std::string err;
  if (!parser_.Parse(line, &err) || !parser_.doc().IsObject()) {
    return Finish() + Truncate(SafeText(line), style_.width) + "\n";
  }
  return Format(parser_.doc());
}

std::string PrettyPrinter::Finish() {
  if (!bar_open_) return "";
  bar_open_ = false;
  bar_key_.clear();
  return "\n";
}

std::string PrettyPrinter::Format(const JsonValue& env) {
  std::string_view type = GetString(env, "event_type");
  if (type == "heartbeat" || type == "pong") return "";
  view_.Apply(env);
  static const JsonValue kEmpty(rapidjson::kObjectType);
  const JsonValue* dp = GetObject(env, "data");
  const JsonValue& data = dp ? *dp : kEmpty;

  bool narrow = style_.width > 0 && style_.width < kNarrowWidth;
  std::string type_text = type.empty() ? std::string("(frame)") : SafeText(type);
  std::string run = SafeText(GetString(env, "run_id"));
  if (narrow) run = style_.width < kVeryNarrowWidth ? "" : KeepTail(run, kNarrowRunId);
  std::string clock = Clock(env, style_.local_time);
  std::string message = SafeText(type.empty() ? ToJson(env) : Describe(type, data));
  size_t column = narrow ? kNarrowTypeColumn : kTypeColumn;
  size_t type_cols = Columns(type_text);  // the peer's event_type: any script
  size_t pad = type_cols < column ? column - type_cols : 0;
  int used = static_cast<int>(clock.size() + 1 + (run.empty() ? 0 : Columns(run) + 1) + type_cols + pad + 1);
  // On a terminal a line must not wrap: \r would then redraw only its last row.
  int room = style_.width > 0 ? std::max(style_.width - used - (style_.tty ? 1 : 0), 8) : 0;
  message = Truncate(message, room);

  const char* msg_color = nullptr;
  if (type == "workflow_failed" || type == "step_failed" || type == "error_occurred" || type == "error" ||
      type == "step_retry_exhausted")
    msg_color = kRed;
  else if (type == "approval_requested")
    msg_color = kBold;
  std::string text = Paint(clock, kDim) + " " + (run.empty() ? "" : Paint(run, kDim) + " ") +
                     Paint(type_text, TypeColor(type)) + std::string(pad, ' ') + " " + Paint(message, msg_color);

  bool progress = type == "step_progress";
  if (progress && style_.tty) {
    std::string key = Text(data, "step_id") + "#" + Text(data, "step_number");
    // The same step's bar is redrawn in place; another step's bar keeps the last state on its line.
    std::string out = bar_open_ && key != bar_key_ ? "\n" : "";
    bar_open_ = true;
    bar_key_ = key;
    return out + "\r\x1b[K" + text;
  }
  return Finish() + text + "\n";
}

std::string PrettyPrinter::Describe(std::string_view type, const JsonValue& data) const {
  auto with = [](std::string base, const std::string& extra, const char* pre = " (", const char* post = ")") {
    return extra.empty() ? base : base + pre + extra + post;
  };
  if (type == "workflow_started") {
    std::string who;
    if (!Text(data, "agent").empty()) who = "agent " + Text(data, "agent");
    if (!Text(data, "model").empty()) who += (who.empty() ? "" : ", ") + std::string("model ") + Text(data, "model");
    return with(Text(data, "task_description"), who);
  }
  if (type == "workflow_completed" || type == "workflow_failed" || type == "workflow_cancelled" ||
      type == "workflow_paused" || type == "workflow_resumed") {
    std::string msg = Text(data, "message");
    if (msg.empty()) msg = Text(data, "status");
    if (type != "workflow_paused" && type != "workflow_resumed") {
      std::string extra = view_.duration() > 0 ? "after " + Seconds(view_.duration()) : "";
      if (view_.has_cost()) extra += (extra.empty() ? "" : ", ") + std::string("total ") + FormatCost(view_.total_cost());
      msg = with(msg, extra);
    }
    return msg;
  }
  if (type == "workflow_state_changed") return with("status " + Text(data, "status"), Text(data, "message"), ": ", "");
  if (type == "dag_created" || type == "dag_updated") {
    const JsonValue* nodes = GetArray(data, "nodes");
    const JsonValue* edges = GetArray(data, "edges");
    std::string s = Count(nodes ? nodes->Size() : 0, "node", "nodes") + ", " + Count(edges ? edges->Size() : 0, "edge", "edges");
    if (GetInt(data, "levels", 0) > 0) s += ", " + Count(GetInt(data, "levels", 0), "level", "levels");
    if (nodes) {
      std::string labels;
      for (const auto& n : nodes->GetArray())
        labels += (labels.empty() ? "" : " | ") + Text(n, "id") + (Text(n, "label").empty() ? "" : " " + Text(n, "label"));
      s += ": " + labels;
    }
    return s;
  }
  if (type == "dag_node_status_changed")
    return with(Text(data, "node_id") + ": " + Text(data, "old_status") + " -> " + Text(data, "new_status"),
                Text(data, "error"), ": ", "");
  if (type == "step_started" || type == "step_start") {
    std::string goal = Text(data, "goal");
    if (goal.empty()) goal = Text(data, "task");
    const RunView::Step* step = view_.Lookup(data);
    return with(with(StepName(data), goal, ": ", ""), step ? step->agent : "");
  }
  if (type == "step_progress") {
    double pct = GetDouble(data, "progress_percentage", 0);
    char p[16];
    std::snprintf(p, sizeof p, "%3.0f%%", std::clamp(pct, 0.0, 100.0));
    return with(StepName(data) + " " + ProgressBar(pct, BarCells()) + " " + p, Text(data, "message"), " ", "");
  }
  if (type == "step_completed" || type == "step_complete") {
    std::string s = StepName(data) + " done";
    const RunView::Step* st = view_.Lookup(data);
    if (st && st->started >= 0 && st->ended >= st->started) s += " in " + Seconds(st->ended - st->started);
    std::string result = Text(data, "result");
    if (result.empty()) result = Text(data, "output");
    return with(s, result, ": ", "");
  }
  if (type == "step_failed") return with(StepName(data) + " failed", Text(data, "error"), ": ", "");
  if (type == "step_retry_started") {
    std::string s = StepName(data) + " retry, attempt " + Text(data, "attempt_number");
    if (!Text(data, "max_attempts").empty()) s += "/" + Text(data, "max_attempts");
    std::string why = Text(data, "error_category");
    if (!Text(data, "error_pattern").empty()) why += (why.empty() ? "" : " ") + Text(data, "error_pattern");
    if (!Text(data, "strategy").empty()) why += (why.empty() ? "" : ", ") + Text(data, "strategy");
    return with(s, why, ": ", "");
  }
  if (type == "step_retry_backoff")
    return StepName(data) + " attempt " + Text(data, "attempt_number") + " in " +
           Seconds(GetDouble(data, "backoff_seconds", 0));
  if (type == "step_retry_succeeded")
    return StepName(data) + " succeeded on attempt " + Text(data, "attempt_number");
  if (type == "step_retry_exhausted")
    return with(StepName(data) + " gave up after " + Count(GetInt(data, "total_attempts", 0), "attempt", "attempts"),
                Text(data, "final_error"), ": ", "");
  if (type == "agent_message" || type == "agent_thinking") {
    std::string msg = Text(data, "message");
    if (msg.empty()) msg = Text(data, "content");
    return with(Text(data, "agent"), msg, ": ", "");
  }
  if (type == "agent_tool_call") {
    std::string agent = Text(data, "agent");
    std::string s = (agent.empty() ? "calls " : agent + " calls ") + Text(data, "tool_name");
    return with(s, Text(data, "tool_args"), " ", "");
  }
  if (type == "approval_requested") {
    std::string s = Text(data, "approval_id") + ": " + (Text(data, "message").empty() ? Text(data, "description")
                                                                                     : Text(data, "message"));
    std::string options = Joined(GetArray(data, "options"), " | ");
    if (!options.empty()) s += " [" + options + "]";
    return with(s, Text(data, "checkpoint_type"));
  }
  if (type == "approval_received") {
    std::string res = Text(data, "resolution");
    if (res.empty()) res = GetBool(data, "approved", false) ? "approved" : "rejected";
    return with(Text(data, "approval_id") + ": " + res, Text(data, "feedback"), ": ", "");
  }
  if (type == "cost_update") {
    std::string s = "+" + FormatCost(GetDouble(data, "cost_usd", 0));
    std::string detail;
    if (GetInt(data, "tokens", 0) > 0) detail = Count(GetInt(data, "tokens", 0), "token", "tokens");
    if (!Text(data, "model").empty()) detail += (detail.empty() ? "" : ", ") + Text(data, "model");
    return with(s, detail) + ", total " + FormatCost(view_.total_cost());
  }
  if (type == "metric_update")
    return with(Text(data, "metric_name") + " = " + Text(data, "value"), Text(data, "unit"), " ", "");
  if (type == "file_created" || type == "file_updated") {
    std::string detail = Text(data, "file_type");
    if (GetInt(data, "size_bytes", -1) >= 0)
      detail += (detail.empty() ? "" : ", ") + FormatByteSize(static_cast<uint64_t>(GetInt(data, "size_bytes", 0)));
    return with(Text(data, "file_path"), detail);
  }
  if (type == "error_occurred" || type == "error") return with(Text(data, "error_type"), Text(data, "message"), ": ", "");
  if (type == "task_stage_started" || type == "task_stage_completed" || type == "task_stage_failed") {
    std::string s = "stage " + Text(data, "stage_number");
    if (!Text(data, "total_stages").empty()) s += "/" + Text(data, "total_stages");
    return with(s, Text(data, "stage_name"), ": ", "");
  }
  if (type == "task_progress")
    return Text(data, "completed") + "/" + Text(data, "total") + " " + ProgressBar(GetDouble(data, "percent", 0), BarCells());
  if (type == "connected") return with(Text(data, "url"), Text(data, "last_seq"), ", after seq ", "");
  if (type == "reconnected") return "resuming after seq " + Text(data, "last_seq");
  if (type == "disconnected")
    return with(Text(data, "reason"), "attempt " + Text(data, "attempt") + " in " +
                                          FormatDuration(Millis(GetInt(data, "delay_ms", 0))), "; ", "");
  if (type == "output" || type == "complete" || type == "status") return Text(data, "message");
  if (data.IsObject() && data.MemberCount() == 0) return "";
  return ToJson(data);  // a type without its own line: the data, compact
}

std::string PrettyPrinter::Summary() const {
  const RunView& v = view_;
  const std::string& state = v.state();
  const char* color = state == "completed" ? kBoldGreen : state == "failed" ? kBoldRed
                                                        : state == "cancelled" ? kBoldYellow : kBold;
  std::string head = "run " + SafeText(v.run_id()) + " " + Paint(v.ended() ? state : "not finished (" + state + ")", color);
  if (v.duration() > 0) head += " in " + Seconds(v.duration());
  std::vector<std::string> parts;
  if (!v.steps().empty()) {
    std::string s = Count(static_cast<int64_t>(v.steps().size()), "step", "steps") + ": " +
                    std::to_string(v.count("completed")) + " completed";
    if (v.count("failed")) s += ", " + Paint(std::to_string(v.count("failed")) + " failed", kRed);
    int64_t open = static_cast<int64_t>(v.steps().size()) - v.count("completed") - v.count("failed");
    if (open) s += ", " + std::to_string(open) + " not done";
    parts.push_back(s);
  }
  if (v.has_cost()) parts.push_back("cost " + FormatCost(v.total_cost()));
  parts.push_back(Count(v.events(), "event", "events"));
  for (auto& p : parts) head += ", " + p;
  std::string out = head + "\n";

  size_t id_width = 0;
  for (const auto& s : v.steps()) id_width = std::max(id_width, Columns(SafeText(s.id.empty() ? std::to_string(s.number) : s.id)));
  for (const auto& s : v.steps()) {
    std::string id = SafeText(s.id.empty() ? std::to_string(s.number) : s.id);
    std::string status = s.status;
    const char* sc = status == "completed" ? kGreen : status == "failed" ? kRed : status == "pending" ? kDim : kYellow;
    std::string dur = s.started >= 0 && s.ended >= s.started ? Seconds(s.ended - s.started) : "";
    std::string what = s.label;
    std::string extra = s.agent;
    if (s.kind == "approval") extra += (extra.empty() ? "" : ", ") + std::string("approval");
    if (s.attempts > 1) extra += (extra.empty() ? "" : ", ") + std::to_string(s.attempts) + " attempts";
    if (!extra.empty()) what += " (" + extra + ")";
    if (status == "failed" && !s.result.empty()) what += ": " + s.result;
    std::string line = "  " + id + std::string(id_width - Columns(id), ' ') + "  ";
    std::string rest = std::string(std::max<int>(1, 11 - static_cast<int>(status.size())), ' ') + dur +
                       std::string(dur.size() < 9 ? 9 - dur.size() : 0, ' ') + "  ";
    int room = style_.width > 0 ? std::max<int>(style_.width - static_cast<int>(Columns(line) + status.size() + Columns(rest)) - 1, 8)
                                : 0;
    out += line + Paint(status, sc) + rest + Truncate(SafeText(what), room) + "\n";
  }
  return out;
}

}  // namespace wsflow
