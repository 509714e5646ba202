// The event types wsflow knows: those of every backend it speaks (backends.md, docs/dialects.md,
// the fixtures in tests/fixtures/), of wsflow's own protocol (docs/events.md, docs/protocol.md),
// and those wsflow makes itself. One list: `--until TYPE` warns about a type outside it (probably
// a typo); a unit test keeps it in step with the fixtures and the documentation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wsflow {

/// Every known event type, sorted.
const std::vector<std::string>& KnownEventTypes();
bool IsKnownEventType(std::string_view type);

}  // namespace wsflow
