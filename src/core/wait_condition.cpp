#include "core/wait_condition.h"

#include <algorithm>

namespace wsflow {

bool WaitCondition::Met(std::string_view type, const JsonValue* envelope) const {
  bool by_type = !types.empty() && std::find(types.begin(), types.end(), type) != types.end();
  bool by_match = !match.empty() && envelope && MatchesAll(match, *envelope);
  if (!types.empty() && !match.empty()) return by_type && by_match;
  return by_type || by_match;
}

std::string WaitCondition::Describe(const std::string& run_end) const {
  if (approval) return "an approval request";
  if (!types.empty()) {
    std::string out = "an event of type ";
    for (size_t i = 0; i < types.size(); ++i) out += (i ? " or " : "") + types[i];
    return out;
  }
  if (!match.empty()) return "an event matching the --until-match conditions";
  if (max_events > 0) return std::to_string(max_events) + (max_events == 1 ? " event" : " events");
  return run_end;
}

}  // namespace wsflow
