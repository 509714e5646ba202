// The verdict of a command that follows several runs (watch RUN..., cancel RUN...): the exit
// status of the whole, the line said for a run that did not complete, and the counts the status
// line shows. Pure functions (README "Several runs").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wsflow {

/// A status that belongs to the command, not to one run: usage (2), output failed (8), --timeout
/// (124), signals (129, 130, 143). It wins over every run's status.
bool IsCommandStatus(int status);

/// The exit status of a command over its runs' statuses, in the order the runs were given: the
/// first command status if any, else 0 when every run completed, else the first run's status that
/// is not 0. No runs: 0.
int CombinedStatus(const std::vector<int>& statuses);

/// "wsflow: run r-2 failed: step s1 failed after 2 attempts" (the reason left out when empty).
std::string NotCompletedLine(const std::string& run_id, int status, const std::string& reason);

/// How many runs are in which state, for the status line and the closing line.
struct RunTally {
  int64_t waiting = 0;  ///< given, not followed yet (--max-connections)
  int64_t running = 0;
  int64_t completed = 0;
  int64_t failed = 0;  ///< failed, or any other status but cancelled
  int64_t cancelled = 0;
  void Count(int status);  ///< a run that ended with `status`
  int64_t total() const { return waiting + running + completed + failed + cancelled; }
  /// "3 runs: 1 running, 1 completed, 1 failed" (states with no run left out, except completed).
  std::string Render() const;
};

}  // namespace wsflow
