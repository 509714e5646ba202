// Scenarios: what a simulated run does (docs/scenarios.md). A scenario is a list of items; each
// item emits one event (or `repeat` events), or is an approval gate that emits
// approval_requested and waits for the answer. Built-in ones are written in the same JSON format.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"

namespace wsflow {

struct ScenarioItem {
  enum class Kind { kEvent, kApproval };
  Kind kind = Kind::kEvent;
  std::string event_type;     ///< kEvent
  std::string data_template;  ///< compact JSON object text with {placeholders}
  int64_t repeat = 1;         ///< kEvent: emit this many events ({i}, {n}, {pct} vary)
  int delay_ms = -1;          ///< before this item's events; -1: the run's delay
  bool fail_on_reject = true; ///< kApproval: a reject-like answer fails the run
};

struct Scenario {
  std::string name;
  int delay_ms = 100;  ///< default pause between events (config.delay_ms overrides)
  std::vector<ScenarioItem> items;
};

/// Loads a scenario from its JSON form. False with a reason naming the item on error.
bool LoadScenario(const JsonValue& v, Scenario* out, std::string* err);

/// A built-in scenario: "demo", "fail", or "long" (config.events step_progress events). `config`
/// is the run's config object. False when `name` is not built in.
bool BuiltinScenario(const std::string& name, const JsonValue& config, Scenario* out, std::string* err);

/// The names of the built-in scenarios, for messages.
const char* BuiltinScenarioNames();

/// Replaces {key} in `tmpl`: a string value that is exactly "{key}" becomes `json_value`; inside
/// a longer string `{key}` becomes `text_value` (already JSON-escaped).
std::string Substitute(const std::string& tmpl, const std::string& key, const std::string& json_value,
                       const std::string& text_value);

/// One value for Substitute: what "{key}" as a whole string becomes, and what {key} inside a string becomes.
struct Placeholder {
  std::string key, json_value, text_value;
};
/// All of `values` in one pass: text that was put in is not scanned again.
std::string SubstituteAll(const std::string& tmpl, const std::vector<Placeholder>& values);

/// JSON-escapes `s` without the surrounding quotes.
std::string JsonEscape(const std::string& s);

}  // namespace wsflow
