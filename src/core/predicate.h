// Field predicates on an envelope, for --match and --until-match:
//   data.step_number=3     the field's value is 3 (strings compare as text, others as their JSON)
//   data.status!=failed    the field is missing or has another value
//   data.message~timeout   the field's text contains a match of the regex (RE2 syntax: ECMAScript's
//                          classes, anchors and repetition, without backreferences or lookaround;
//                          linear in the text, which comes from the server and may be megabytes)
//   data.approval_id       the field exists and is not null, false, 0 or ""
// A path is dot-separated member names; a number steps into an array (data.nodes.0.id).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/json.h"

namespace re2 {
class RE2;
}

namespace wsflow {

class Predicate {
 public:
  /// Parses `text`. False with a reason when it is malformed (empty path, bad regex).
  static bool Parse(const std::string& text, Predicate* out, std::string* err);
  bool Matches(const JsonValue& envelope) const;
  const std::string& text() const { return text_; }

 private:
  enum class Op { kExists, kEquals, kNotEquals, kRegex };
  std::string text_;
  std::vector<std::string> path_;
  Op op_ = Op::kExists;
  std::string value_;
  std::shared_ptr<const re2::RE2> regex_;  ///< shared: predicates are copied, RE2 is not copyable
};

/// All of `preds` hold for `envelope` (true when empty).
bool MatchesAll(const std::vector<Predicate>& preds, const JsonValue& envelope);

/// The value at `path` in `v`, or null when absent.
const JsonValue* Lookup(const JsonValue& v, const std::vector<std::string>& path);

}  // namespace wsflow
