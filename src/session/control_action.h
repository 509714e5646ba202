// approve, cancel, pause, resume as pure functions: checking an action against what the run's
// stream showed, making its frame in the run's dialect, and recognising the event that confirms
// it. Used by a process acting on a run itself, and by the holder of a run acting for another
// process (session_host.h).
#pragma once

#include <string>
#include <string_view>

#include "core/approval_policy.h"
#include "core/exit_status.h"
#include "dialects/dialect.h"
#include "session/event.h"

namespace wsflow {

/// What `approve`, `cancel`, `pause` and `resume` do once the run's history has been read.
struct ControlAction {
  std::string type;  ///< "approve", "cancel", "pause", "resume"
  std::string approval_id;
  std::string resolution;  ///< approve: empty = the request's first approve-like option
  bool reject = false;     ///< approve --reject: its first reject-like option
  std::string feedback;
  std::string modifications;
};

/// True for the four action types.
bool IsControlActionType(std::string_view type);

/// What the stream showed that an action depends on.
struct ActionContext {
  const Dialect* dialect = nullptr;
  std::string run_id;
  Outcome outcome = Outcome::kNone;          ///< the run ended: nothing to act on
  const ApprovalRequest* request = nullptr;  ///< approve: the request, when the stream showed it
  bool answered = false;                     ///< approve: ... and it was answered already
};

/// Checks `act` against `ctx` (filling in the resolution an approve leaves to the request) and
/// makes its frame. False with the exit status and the line to print.
bool BuildActionFrame(ControlAction* act, const ActionContext& ctx, const std::string& request_id, std::string* frame,
                      int* status, std::string* message);

/// Whether `event` confirms `act`: approval_received of its approval, workflow_paused,
/// workflow_resumed, or the run's end as cancelled.
bool Confirms(const ControlAction& act, Event& event);

/// What a waiting action awaits, for messages: "approval_received for a-1", "the cancel to be acknowledged".
std::string AwaitedBy(const ControlAction& act);

}  // namespace wsflow
