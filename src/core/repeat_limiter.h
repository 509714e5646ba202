// A warning that can repeat without bound (a frame that is not JSON after every 500 events) is
// said in full the first few times, then counted only: one line says so, and the caller says the
// total at the end. Hundreds of identical lines hide the one line that matters.
#pragma once

#include <cstdint>

namespace wsflow {

class RepeatLimiter {
 public:
  enum class Say {
    kLine,          ///< say this occurrence
    kLineAndLimit,  ///< say it, and that further ones are only counted
    kNothing,       ///< count it only
  };
  /// `shown`: occurrences said in full (at least 1).
  explicit RepeatLimiter(int64_t shown = 3) : shown_(shown < 1 ? 1 : shown) {}

  /// Counts one occurrence and says what to print for it.
  Say Next() {
    ++count_;
    if (count_ < shown_) return Say::kLine;
    return count_ == shown_ ? Say::kLineAndLimit : Say::kNothing;
  }
  int64_t count() const { return count_; }
  int64_t shown() const { return count_ < shown_ ? count_ : shown_; }
  /// Some occurrences were not said: the total is worth a line at the end.
  bool limited() const { return count_ > shown_; }

 private:
  int64_t shown_;
  int64_t count_ = 0;
};

}  // namespace wsflow
