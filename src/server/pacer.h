// Playing a recording back at its pace: when a line recorded at `t_ms` is due if the recording
// time `base_ms` was played at `start`, at `speed` (1: as recorded, 2: twice as fast; 0: at once).
// The one pacing rule of `replay --serve`, for native runs (fanout.h) and dialect conversations
// (script_playback.h).
#pragma once

#include <chrono>
#include <cstdint>

namespace wsflow::serve {

/// Milliseconds until the line is due (0: now or already late).
inline int64_t PaceWaitMs(std::chrono::steady_clock::time_point start, int64_t base_ms, int64_t t_ms, double speed,
                          std::chrono::steady_clock::time_point now) {
  if (speed <= 0) return 0;
  auto due = start + std::chrono::milliseconds(static_cast<int64_t>((t_ms - base_ms) / speed));
  if (due <= now) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count() + 1;  // never early
}

/// The start that makes a line recorded at `t_ms` due `now` (a resumed playback keeps its pace).
inline std::chrono::steady_clock::time_point PaceStartFor(int64_t t_ms, double speed,
                                                          std::chrono::steady_clock::time_point now) {
  if (speed <= 0) return now;
  return now - std::chrono::milliseconds(static_cast<int64_t>(t_ms / speed));
}

}  // namespace wsflow::serve
