// Durations on the command line: "500ms", "2s", "1.5s", "15m", "1h"; a bare number is seconds.
#pragma once

#include <chrono>
#include <string>

namespace wsflow {

using Millis = std::chrono::milliseconds;

/// Parses `text` into `*out`. On failure returns false and says why in `*err`.
bool ParseDuration(const std::string& text, Millis* out, std::string* err);

/// "1.5 s", "250 ms", "2 min": a duration for humans (stderr lines).
std::string FormatDuration(Millis d);

}  // namespace wsflow
