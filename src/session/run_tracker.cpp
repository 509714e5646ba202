#include "session/run_tracker.h"

namespace wsflow {

SeqTracker::Verdict SeqTracker::Check(int64_t seq) {
  if (seq <= last_) return Verdict::kDuplicate;
  if (seq > last_ + 1) return Verdict::kGap;
  last_ = seq;
  return Verdict::kNext;
}

DedupeWindow::DedupeWindow(size_t capacity) : capacity_(capacity ? capacity : 1) { ring_.reserve(capacity_); }

bool DedupeWindow::Seen(std::string_view key) {
  uint64_t h = Fnv1a(key);
  if (set_.count(h)) return true;
  if (ring_.size() < capacity_) {
    ring_.push_back(h);
  } else {
    set_.erase(set_.find(ring_[next_]));
    ring_[next_] = h;
    next_ = (next_ + 1) % capacity_;
  }
  set_.insert(h);
  return false;
}

uint64_t Fnv1a(std::string_view text) {
  uint64_t h = 14695981039346656037ull;  // the FNV-1a 64-bit offset basis
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace wsflow
