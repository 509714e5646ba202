// One simulated run: walks its scenario and answers controls (approve, pause, resume, cancel).
// Pure state: it knows nothing of time or sockets; the server asks it for the next event when the
// run's delay has passed, and stores and sends what it returns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/exit_status.h"
#include "core/json.h"
#include "server/scenario.h"

namespace wsflow {

struct EngineEvent {
  std::string type;
  std::string data;  ///< compact JSON object
};

class RunEngine {
 public:
  enum class State { kRunning, kAwaitingApproval, kPaused, kFinished };

  /// `vars` are substituted into every item: {run_id}, {task}, {model}.
  RunEngine(Scenario scenario, const std::vector<std::pair<std::string, std::string>>& vars);

  /// The next scenario event when the run can go on now (running, not paused, not waiting).
  bool Next(EngineEvent* out);
  /// The delay before the next event, in ms.
  int NextDelayMs(int run_delay_ms) const;

  // Controls. Each appends the events it causes to `*out`, or returns false with a reason.
  bool Resolve(std::string_view approval_id, std::string_view resolution, std::string_view feedback,
               std::vector<EngineEvent>* out, std::string* err);
  bool Pause(std::vector<EngineEvent>* out, std::string* err);
  bool Resume(std::vector<EngineEvent>* out, std::string* err);
  bool Cancel(std::vector<EngineEvent>* out, std::string* err);

  /// cmbagent --mars-strict: an answer that came before the executor began to wait for it. The
  /// approval manager acknowledges it (approval_received) and forgets the request, so the run
  /// still waits, for a request nobody can answer any more: FailLostApproval() ends it.
  bool ResolveTooSoon(std::string_view approval_id, std::string_view resolution, std::string_view feedback,
                      std::vector<EngineEvent>* out, std::string* err);
  /// The executor's wait for the approval answered too soon begins and finds nothing: the
  /// approval's node fails and so does the run ("Approval X not found"). False when no answer was
  /// lost (or the run has ended meanwhile).
  bool FailLostApproval(std::vector<EngineEvent>* out);

  /// Re-applies an event the run emitted before a restart, so that it continues where it was.
  void Restore(std::string_view type, const JsonValue& data);

  State state() const;
  Outcome outcome() const { return outcome_; }
  /// The options of the approval being awaited (empty when none).
  const std::vector<std::string>& pending_options() const { return options_; }
  const std::string& pending_approval_id() const { return approval_id_; }

  /// The option an `approval_response` {approved: bool} stands for.
  std::string ResolutionFor(bool approved) const;

 private:
  void Advance();
  void Finish(std::string_view type);
  bool CheckAnswer(std::string_view approval_id, std::string_view resolution, std::string* err) const;
  void Acknowledge(std::string_view resolution, std::string_view feedback, std::vector<EngineEvent>* out) const;
  std::string Render(const ScenarioItem& item) const;

  std::vector<ScenarioItem> items_;
  std::vector<std::pair<std::string, std::string>> vars_;
  size_t item_ = 0;
  int64_t rep_ = 0;
  bool paused_ = false;
  bool awaiting_ = false;
  bool reject_pending_ = false;
  std::string approval_id_;
  std::string approval_step_;  ///< the step_id of the approval awaited
  std::string lost_id_;        ///< an approval answered too soon (ResolveTooSoon)
  std::vector<std::string> options_;
  Outcome outcome_ = Outcome::kNone;
};

/// True for resolutions that refuse (reject, abort, deny, exit).
bool IsRejectLike(std::string_view resolution);
/// True for resolutions that let the run go on (approve, continue, submit, allow, retry).
bool IsApproveLike(std::string_view resolution);

}  // namespace wsflow
