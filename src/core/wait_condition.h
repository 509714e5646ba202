// What ends watch/execute/send/replay besides the run's end: --until TYPE[,TYPE], --until approval,
// --until-match PRED, --max-events N. One definition for every command that waits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/predicate.h"

namespace wsflow {

struct WaitCondition {
  std::vector<std::string> types;  ///< --until TYPE: an event of one of these types
  bool approval = false;           ///< --until approval: an approval that waits for an answer
  std::vector<Predicate> match;    ///< --until-match: an event where all of these hold
  int64_t max_events = 0;          ///< --max-events: this many events printed (0: no limit)

  /// Something other than the run's end is awaited (a run that completes without it is exit 4).
  bool AwaitsEvent() const { return approval || !types.empty() || !match.empty(); }
  /// Met() needs the envelope (a --until-match predicate); otherwise the type alone decides.
  bool NeedsEnvelope() const { return !match.empty(); }
  /// Whether an event meets --until and --until-match (both must hold when both are given).
  /// --until approval is the caller's to judge: only a request still open counts. `envelope` may
  /// be null when NeedsEnvelope() is false.
  bool Met(std::string_view type, const JsonValue* envelope) const;
  /// Whether `printed` events reach --max-events.
  bool Enough(int64_t printed) const { return max_events > 0 && printed >= max_events; }
  /// What is awaited, for messages: "an event of type a or b", "an approval request", ...;
  /// `run_end` names the default ("run r-1 to end").
  std::string Describe(const std::string& run_end) const;
};

}  // namespace wsflow
