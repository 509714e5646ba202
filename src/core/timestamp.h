// Wall-clock timestamps as the envelope carries them: ISO 8601, UTC, milliseconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace wsflow {

/// "2026-11-23T07:43:00.123Z" for `t`.
std::string IsoTimestamp(std::chrono::system_clock::time_point t);
/// The same for milliseconds since the epoch: any year a backend may send, where a nanosecond
/// system_clock::time_point holds only about 1678-2261.
std::string IsoTimestampMs(int64_t unix_ms);

/// IsoTimestamp of now.
std::string NowIso();

/// Seconds since the epoch of an ISO 8601 timestamp ("...Z", "...+00:00" or naive = UTC);
/// false when `text` is not one.
bool ParseIsoTimestamp(const std::string& text, double* unix_seconds);

}  // namespace wsflow
