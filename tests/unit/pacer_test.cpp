#include <catch2/catch.hpp>

#include "server/pacer.h"

using namespace wsflow::serve;
using std::chrono::milliseconds;

TEST_CASE("PaceWaitMs: how long until a recorded line is due") {
  auto start = std::chrono::steady_clock::time_point(std::chrono::hours(1));
  CHECK(PaceWaitMs(start, 0, 1000, 1, start) == 1001);  // never early
  CHECK(PaceWaitMs(start, 0, 1000, 2, start) == 501);
  CHECK(PaceWaitMs(start, 0, 1000, 1, start + milliseconds(1000)) == 0);
  CHECK(PaceWaitMs(start, 0, 1000, 1, start + milliseconds(5000)) == 0);  // late: now
  CHECK(PaceWaitMs(start, 500, 1000, 1, start) == 501);  // from the base time on
  CHECK(PaceWaitMs(start, 0, 1000, 0, start) == 0);      // speed 0: at once
}

TEST_CASE("PaceStartFor: a resumed playback keeps its pace") {
  auto now = std::chrono::steady_clock::time_point(std::chrono::hours(1));
  auto start = PaceStartFor(3000, 2, now);
  CHECK(start == now - milliseconds(1500));
  CHECK(PaceWaitMs(start, 0, 3000, 2, now) == 0);
  CHECK(PaceWaitMs(start, 0, 4000, 2, now) == 501);
}
