// Run ids as `watch --runs-from` reads them: one per line, as `jq -r .run_id` writes them, or the
// `{"run_id":...}` lines of `execute --detach` as they are. Pure functions.
#pragma once

#include <string>

namespace wsflow {

/// Reads one line: true with the id in `*id`, true with `*id` empty for a line to skip (blank, or a
/// `#` comment), false with the reason for a line that holds no usable run id.
bool ParseRunIdLine(const std::string& line, std::string* id, std::string* err);

/// A run id is 1 to 256 bytes, without white space or control characters.
bool ValidRunId(const std::string& id, std::string* err);

}  // namespace wsflow
