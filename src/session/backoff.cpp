#include "session/backoff.h"

#include <algorithm>
#include <cmath>

namespace wsflow {

Backoff::Backoff(BackoffPolicy policy, std::function<double()> uniform01)
    : policy_(policy), uniform01_(std::move(uniform01)) {}

bool Backoff::Exhausted() const { return policy_.retries > 0 && attempt_ >= policy_.retries; }

Millis Backoff::Ceiling() const {
  double ceiling = policy_.initial.count() * std::pow(policy_.factor, std::min(attempt_, 60));
  return Millis(static_cast<long long>(std::min(ceiling, static_cast<double>(policy_.max_delay.count()))));
}

Millis Backoff::Next() {
  Millis ceiling = Ceiling();
  ++attempt_;
  if (!policy_.jitter) return ceiling;
  return Millis(static_cast<long long>(uniform01_() * ceiling.count()));
}

}  // namespace wsflow
