// Where a run's stream stands, so that a reconnect resumes without losing or repeating events.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace wsflow {

/// Native streams: per-run seq from 1 without gaps.
class SeqTracker {
 public:
  enum class Verdict {
    kNext,       ///< seq == last + 1: print it
    kDuplicate,  ///< seq <= last: already printed
    kGap,        ///< seq > last + 1: something is missing; do not print past the gap
  };
  explicit SeqTracker(int64_t last = 0) : last_(last) {}
  /// Judges `seq`; kNext also advances the tracker.
  Verdict Check(int64_t seq);
  int64_t last() const { return last_; }

 private:
  int64_t last_;
};

/// Streams without seq: remembers the last `capacity` keys (event ids, else hashes of frames)
/// so a replayed frame is recognised, in bounded memory.
class DedupeWindow {
 public:
  explicit DedupeWindow(size_t capacity = 4096);
  /// True when `key` was seen within the window; otherwise remembers it and returns false.
  bool Seen(std::string_view key);
  size_t size() const { return set_.size(); }

 private:
  size_t capacity_;
  std::vector<uint64_t> ring_;
  size_t next_ = 0;
  std::unordered_multiset<uint64_t> set_;
};

/// 64-bit FNV-1a of `text` (a frame's identity for de-duplication).
uint64_t Fnv1a(std::string_view text);

}  // namespace wsflow
