#include "core/run_tally.h"

#include "core/exit_status.h"

namespace wsflow {

bool IsCommandStatus(int status) {
  return status == kExitUsage || status == kExitOutput || status == kExitTimeout || IsSignalStatus(status);
}

int CombinedStatus(const std::vector<int>& statuses) {
  for (int s : statuses)
    if (IsCommandStatus(s)) return s;
  for (int s : statuses)
    if (s != kExitCompleted) return s;
  return kExitCompleted;
}

std::string NotCompletedLine(const std::string& run_id, int status, const std::string& reason) {
  std::string s = "wsflow: run " + run_id + " " + ExitStatusName(status);
  if (!reason.empty()) s += ": " + reason;
  return s;
}

void RunTally::Count(int status) {
  if (status == kExitCompleted) ++completed;
  else if (status == kExitCancelled) ++cancelled;
  else ++failed;
}

std::string RunTally::Render() const {
  int64_t n = total();
  std::string s = std::to_string(n) + (n == 1 ? " run: " : " runs: ");
  auto part = [&s](int64_t count, const char* what, bool always) {
    if (!count && !always) return;
    if (s.back() != ' ') s += ", ";
    s += std::to_string(count) + " " + what;
  };
  part(waiting, "waiting", false);
  part(running, "running", false);
  part(completed, "completed", true);
  part(failed, "failed", false);
  part(cancelled, "cancelled", false);
  return s;
}

}  // namespace wsflow
