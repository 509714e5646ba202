#include <catch2/catch.hpp>

#include "core/repeat_limiter.h"

using namespace wsflow;

TEST_CASE("a repeated warning is said the first times, then only counted") {
  RepeatLimiter r(3);
  CHECK_FALSE(r.limited());
  CHECK(r.Next() == RepeatLimiter::Say::kLine);
  CHECK(r.Next() == RepeatLimiter::Say::kLine);
  CHECK(r.Next() == RepeatLimiter::Say::kLineAndLimit);
  CHECK_FALSE(r.limited());  // all three were said: no total needed
  for (int i = 0; i < 100; ++i) CHECK(r.Next() == RepeatLimiter::Say::kNothing);
  CHECK(r.limited());
  CHECK(r.count() == 103);
  CHECK(r.shown() == 3);
}

TEST_CASE("a limiter of one says the first and the limit at once") {
  RepeatLimiter r(0);  // at least one is said
  CHECK(r.Next() == RepeatLimiter::Say::kLineAndLimit);
  CHECK(r.Next() == RepeatLimiter::Say::kNothing);
  CHECK(r.shown() == 1);
}
