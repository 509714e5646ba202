// Run ids as `watch --runs-from` reads them: one per line, as `jq -r .run_id` writes them, or the
// `{"run_id":...}` lines of `execute --detach` as they are. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wsflow {

/// Reads one line: true with the id in `*id`, true with `*id` empty for a line to skip (blank, or a
/// `#` comment), false with the reason for a line that holds no usable run id.
bool ParseRunIdLine(const std::string& line, std::string* id, std::string* err);

/// A run id is 1 to 256 bytes, without white space or control characters.
bool ValidRunId(const std::string& id, std::string* err);

/// Run ids from a stream that arrives in chunks (`--runs-from -`): whole lines as they complete,
/// the last one at the end even without its newline. A line that holds no usable id is skipped
/// with a message naming its number; blank lines and comments are skipped silently.
class RunIdLines {
 public:
  struct Item {
    std::string id;       ///< a run id, or empty when
    std::string skipped;  ///< "line 3: a run id with white space ...": a line that was skipped
  };
  /// Appends to `out` what the lines completed by `chunk` hold.
  void Feed(std::string_view chunk, std::vector<Item>* out);
  /// The stream has ended: appends what its last, unterminated line holds.
  void End(std::vector<Item>* out);

 private:
  void Line(const std::string& line, std::vector<Item>* out);
  std::string buf_;
  int64_t number_ = 0;
};

}  // namespace wsflow
