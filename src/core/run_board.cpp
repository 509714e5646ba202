#include "core/run_board.h"

#include <cmath>

#include "core/duration.h"
#include "core/exit_status.h"
#include "core/pretty.h"
#include "core/status_line.h"
#include "core/text.h"

namespace wsflow {

namespace {
const char* OutcomeColor(int status) {
  if (status == kExitCompleted) return "1;32";
  if (status == kExitCancelled) return "1;33";
  return "1;31";
}
}  // namespace

RunBoard::Row& RunBoard::Get(const std::string& run_id) {
  auto it = by_id_.find(run_id);
  if (it != by_id_.end()) return *it->second;
  rows_.emplace_back();
  rows_.back().run_id = run_id;
  by_id_[run_id] = &rows_.back();
  ++tally_.waiting;
  return rows_.back();
}

void RunBoard::Add(const std::string& run_id) { Get(run_id); }

void RunBoard::Apply(const JsonValue& envelope) {
  std::string_view id = GetString(envelope, "run_id");
  if (id.empty()) return;
  Row& r = Get(std::string(id));
  if (r.ended) return;
  if (!r.started) {
    r.started = true;
    --tally_.waiting, ++tally_.running;
  }
  r.view.Apply(envelope);
}

std::string RunBoard::End(const std::string& run_id, int status, const std::string& reason, int width) {
  auto it = by_id_.find(run_id);
  if (it == by_id_.end() || it->second->ended) return "";
  Row& r = *it->second;
  r.ended = true;
  if (r.started) --tally_.running;
  else --tally_.waiting;
  tally_.Count(status);
  // "r-1 completed | 5/5 steps done | $0.046 | 70 events | 2.6 s", or "r-2 failed: why | ...".
  std::string name = ExitStatusName(status);
  std::string rest = StatusLine::Details(r.view, 0);
  if (r.view.duration() > 0) rest += " | " + FormatDuration(Millis(std::llround(r.view.duration() * 1000)));
  std::string why = status != kExitCompleted && !reason.empty() ? ": " + SafeText(reason) : "";
  std::string plain = SafeText(run_id) + " " + name + why + rest;
  std::string line = Truncate(plain, width > 1 ? width - 1 : 0);
  if (color_) {
    size_t at = SafeText(run_id).size() + 1;
    if (line.size() >= at + name.size() && line.compare(at, name.size(), name) == 0)
      line = line.substr(0, at) + "\x1b[" + OutcomeColor(status) + "m" + name + "\x1b[0m" + line.substr(at + name.size());
  }
  return line + "\n";
}

std::string RunBoard::Render(int width, int rows) const {
  if (rows_.empty()) return "";
  int cols = width > 1 ? width - 1 : 0;
  int room = rows > 2 ? rows - 1 : 1;  // the counts take one line
  std::string out;
  int64_t shown = 0, left = 0;
  for (const Row& r : rows_) {
    if (r.ended) continue;
    if (shown >= room) {
      ++left;
      continue;
    }
    ++shown;
    if (!r.started) {
      out += Truncate(SafeText(r.run_id) + " waiting", cols) + "\n";
      continue;
    }
    out += Truncate(SafeText(r.run_id) + " " + r.view.state() + StatusLine::Details(r.view, 0), cols) + "\n";
  }
  if (left > 0) {  // the last line shown gives way to the count of those not shown
    out.erase(out.rfind('\n', out.size() - 2) == std::string::npos ? 0 : out.rfind('\n', out.size() - 2) + 1);
    out += Truncate("… and " + std::to_string(left + 1) + " more", cols) + "\n";
  }
  out += Truncate(tally_.Render(), cols) + "\n";
  return out;
}

}  // namespace wsflow
