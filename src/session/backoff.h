// Reconnect delays: capped exponential backoff with full jitter (delay = uniform(0, min(cap,
// initial * factor^attempt))), so many clients that lost the same server do not return together.
#pragma once

#include <functional>

#include "core/duration.h"

namespace wsflow {

struct BackoffPolicy {
  Millis initial{1000};
  Millis max_delay{30000};
  double factor = 2.0;
  int retries = 10;     ///< attempts after a loss before giving up; 0 = forever
  bool jitter = true;   ///< false: the delay is the ceiling itself (--retry-jitter none)
};

class Backoff {
 public:
  /// `uniform01` returns a number in [0, 1); injected so that tests are exact.
  Backoff(BackoffPolicy policy, std::function<double()> uniform01);

  /// True when no retry is left.
  bool Exhausted() const;
  /// The delay before the next attempt; counts the attempt.
  Millis Next();
  /// The ceiling the next Next() draws under (for tests and messages).
  Millis Ceiling() const;
  /// Attempts made since the last Reset().
  int attempt() const { return attempt_; }
  const BackoffPolicy& policy() const { return policy_; }
  /// A connection proved healthy: start from the initial delay again.
  void Reset() { attempt_ = 0; }

 private:
  BackoffPolicy policy_;
  std::function<double()> uniform01_;
  int attempt_ = 0;
};

}  // namespace wsflow
