#include <catch2/catch.hpp>

#include <vector>

#include "session/backoff.h"

using namespace wsflow;

namespace {
BackoffPolicy NoJitter(int retries) {
  BackoffPolicy p;
  p.initial = Millis(1000);
  p.max_delay = Millis(30000);
  p.factor = 2.0;
  p.retries = retries;
  p.jitter = false;
  return p;
}
}  // namespace

TEST_CASE("without jitter the delays are the ceilings 1,2,4,8,16,30,30 s") {
  int draws = 0;
  Backoff b(NoJitter(0), [&] {
    ++draws;
    return 0.5;
  });
  std::vector<long long> ceilings, delays;
  for (int i = 0; i < 7; ++i) {
    ceilings.push_back(b.Ceiling().count());
    delays.push_back(b.Next().count());
  }
  CHECK(ceilings == std::vector<long long>{1000, 2000, 4000, 8000, 16000, 30000, 30000});
  CHECK(delays == ceilings);
  CHECK(b.attempt() == 7);
  CHECK(draws == 0);  // jitter off: the random source is not used
  // Far past the cap (and past the exponent clamp) it stays at the cap.
  for (int i = 0; i < 100; ++i) b.Next();
  CHECK(b.Ceiling().count() == 30000);
  CHECK(b.Next().count() == 30000);
}

TEST_CASE("full jitter: the delay is the drawn fraction of the ceiling") {
  BackoffPolicy p = NoJitter(0);
  p.jitter = true;
  std::vector<double> draws = {0.0, 0.5, 0.25, 0.875, 0.1, 0.75, 0.5};
  size_t next = 0;
  Backoff b(p, [&] { return draws.at(next++); });
  std::vector<long long> delays;
  for (int i = 0; i < 7; ++i) delays.push_back(b.Next().count());
  CHECK(next == 7);
  // ceilings 1000, 2000, 4000, 8000, 16000, 30000, 30000
  CHECK(delays == std::vector<long long>{0, 1000, 1000, 7000, 1600, 22500, 15000});
}

TEST_CASE("full jitter never reaches the ceiling") {
  BackoffPolicy p = NoJitter(0);
  p.jitter = true;
  Backoff b(p, [] { return 0.9999999; });
  for (int i = 0; i < 10; ++i) {
    long long ceiling = b.Ceiling().count();
    long long d = b.Next().count();
    CHECK(d < ceiling);
    CHECK(d >= ceiling - 1);
  }
}

TEST_CASE("other policies: initial, factor and cap are honoured") {
  BackoffPolicy p;
  p.initial = Millis(250);
  p.max_delay = Millis(2000);
  p.factor = 3.0;
  p.retries = 0;
  p.jitter = false;
  Backoff b(p, [] { return 0.0; });
  std::vector<long long> delays;
  for (int i = 0; i < 5; ++i) delays.push_back(b.Next().count());
  CHECK(delays == std::vector<long long>{250, 750, 2000, 2000, 2000});
}

TEST_CASE("retries=3 is exhausted after three Next()") {
  Backoff b(NoJitter(3), [] { return 0.5; });
  CHECK_FALSE(b.Exhausted());
  b.Next();
  CHECK_FALSE(b.Exhausted());
  b.Next();
  CHECK_FALSE(b.Exhausted());
  b.Next();
  CHECK(b.Exhausted());
  CHECK(b.attempt() == 3);
}

TEST_CASE("retries=0 is never exhausted") {
  Backoff b(NoJitter(0), [] { return 0.5; });
  for (int i = 0; i < 1000; ++i) {
    REQUIRE_FALSE(b.Exhausted());
    b.Next();
  }
  CHECK_FALSE(b.Exhausted());
  CHECK(b.Ceiling().count() == 30000);
}

TEST_CASE("Reset starts from the initial delay with all retries again") {
  Backoff b(NoJitter(3), [] { return 0.5; });
  b.Next();
  b.Next();
  b.Next();
  REQUIRE(b.Exhausted());
  REQUIRE(b.Ceiling().count() == 8000);
  b.Reset();
  CHECK(b.attempt() == 0);
  CHECK_FALSE(b.Exhausted());
  CHECK(b.Ceiling().count() == 1000);
  CHECK(b.Next().count() == 1000);
  CHECK(b.Next().count() == 2000);
  CHECK_FALSE(b.Exhausted());
  CHECK(b.policy().retries == 3);
}
