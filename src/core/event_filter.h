// Which events reach stdout: --type T and --exclude-type T (repeatable, comma lists).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace wsflow {

class EventFilter {
 public:
  /// Each entry may be a comma list ("step_started,step_completed"); empty items are ignored.
  void Include(const std::vector<std::string>& types);
  void Exclude(const std::vector<std::string>& types);

  /// True when an event of `type` is to be printed: in the include set (when there is one) and
  /// not in the exclude set.
  bool Accepts(std::string_view type) const;

  bool empty() const { return include_.empty() && exclude_.empty(); }

 private:
  std::set<std::string, std::less<>> include_;
  std::set<std::string, std::less<>> exclude_;
};

/// Splits "a,b,,c" into {"a","b","c"}, trimming spaces.
std::vector<std::string> SplitList(std::string_view text);
/// The items joined with `sep` (for messages: "approve, reject").
std::string JoinList(const std::vector<std::string>& items, const char* sep = ", ");

}  // namespace wsflow
