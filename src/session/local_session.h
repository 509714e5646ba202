// The other side of the local control socket: `approve`, `cancel`, `pause`, `resume` and `watch`
// in a process that does not hold the run ask the process that does (docs/sessions.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/event_filter.h"
#include "core/predicate.h"
#include "core/wait_condition.h"
#include "session/control_action.h"

namespace wsflow {

struct LocalSessionRequest {
  std::string url;  ///< the run's URL (with the dialect's path), as the holder connected to it
  std::string run_id;
  std::optional<ControlAction> action;  ///< else watch
  // watch
  int64_t since_seq = 0;
  EventFilter filter;
  std::vector<Predicate> match;
  WaitCondition wait;
  bool follow = false;
  bool quiet = false;
  int verbose = 0;
};

/// Acts or watches through the local process that holds the run. -1 when none holds it, or when
/// `watch` should open its own connection (the holder's backend allows a second socket);
/// otherwise the command's exit status (the event lines went to stdout).
int ViaLocalSession(const LocalSessionRequest& request);

}  // namespace wsflow
