// The other side of the local control socket: `approve`, `cancel`, `pause`, `resume` and `watch`
// in a process that does not hold the run ask the process that does (docs/sessions.md).
#pragma once

#include <cstdint>
#include <functional>
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

/// The control socket of the local process that holds run `request.run_id` at `request.url`, when
/// `request` must go through it (an action always; a watch when the holder's backend allows one
/// socket per run); "" when none. `pid`: the holder's.
std::string HolderFor(const LocalSessionRequest& request, int64_t* pid);

/// Through the holder on the connected control socket `fd` (blocking; another thread may
/// shutdown() `fd` to stop it): a watch hands each event line that passes the request's filters to
/// `print` (which returns false to stop), an action the event that confirmed it. A watch the
/// holder dropped for reading too slowly goes on from where it was on a new connection to `path`.
/// Returns the exit status: how the run ended, or the action's. `reason`: what the holder said
/// when it did not complete (may be ""). `connected` (optional) is told each new connection's
/// descriptor before it is used (false: stopped, do not go on) and -1 before it is closed, so
/// that another thread can shut it down.
int ThroughHolder(int fd, const std::string& path, const LocalSessionRequest& request,
                  const std::function<bool(std::string)>& print, std::string* reason,
                  const std::function<bool(int)>& connected = nullptr);

/// Acts or watches through the local process that holds the run. -1 when none holds it, or when
/// `watch` should open its own connection (the holder's backend allows a second socket);
/// otherwise the command's exit status (the event lines went to stdout).
int ViaLocalSession(const LocalSessionRequest& request);

}  // namespace wsflow
