#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "core/timestamp.h"

using namespace wsflow;
using std::chrono::milliseconds;
using std::chrono::system_clock;

namespace {
system_clock::time_point AtMs(long long ms) { return system_clock::time_point(milliseconds(ms)); }
}  // namespace

TEST_CASE("IsoTimestamp formats a fixed time point as UTC with milliseconds") {
  CHECK(IsoTimestamp(AtMs(1700000000123LL)) == "2023-11-14T22:13:20.123Z");
  CHECK(IsoTimestamp(AtMs(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(IsoTimestamp(AtMs(1709208000007LL)) == "2024-02-29T12:00:00.007Z");
  CHECK(IsoTimestamp(AtMs(1700000000999LL)) == "2023-11-14T22:13:20.999Z");
  // Sub-millisecond parts are cut, not rounded.
  CHECK(IsoTimestamp(AtMs(1700000000123LL) + std::chrono::microseconds(999)) == "2023-11-14T22:13:20.123Z");
}

TEST_CASE("IsoTimestamp before 1970 counts the milliseconds down from the second before") {
  // A backend's "1969-12-31T23:59:59.999Z" came out as "1970-01-01T00:00:00.-01Z": the division
  // rounded towards zero and the remainder was negative.
  CHECK(IsoTimestamp(AtMs(-1)) == "1969-12-31T23:59:59.999Z");
  CHECK(IsoTimestamp(AtMs(-999)) == "1969-12-31T23:59:59.001Z");
  CHECK(IsoTimestamp(AtMs(-1000)) == "1969-12-31T23:59:59.000Z");
  CHECK(IsoTimestamp(AtMs(-1001)) == "1969-12-31T23:59:58.999Z");
  CHECK(IsoTimestamp(AtMs(-86400000LL * 365 * 60 - 1)) == "1910-01-15T23:59:59.999Z");
}

TEST_CASE("NowIso has the IsoTimestamp shape and parses back to about now") {
  std::string now = NowIso();
  INFO(now);
  REQUIRE(now.size() == 24);
  double secs = 0;
  REQUIRE(ParseIsoTimestamp(now, &secs));
  double expected =
      std::chrono::duration<double>(system_clock::now().time_since_epoch()).count();
  CHECK(secs <= expected + 0.001);
  CHECK(secs > expected - 60);
}

TEST_CASE("ParseIsoTimestamp: Z, +00:00 and naive are UTC") {
  double t = 0;
  REQUIRE(ParseIsoTimestamp("2023-11-14T22:13:20Z", &t));
  CHECK(t == 1700000000.0);
  t = 0;
  REQUIRE(ParseIsoTimestamp("2023-11-14T22:13:20+00:00", &t));
  CHECK(t == 1700000000.0);
  t = 0;
  REQUIRE(ParseIsoTimestamp("2023-11-14T22:13:20", &t));
  CHECK(t == 1700000000.0);
  t = 0;
  REQUIRE(ParseIsoTimestamp("1970-01-01T00:00:00Z", &t));
  CHECK(t == 0.0);
}

TEST_CASE("ParseIsoTimestamp applies UTC offsets") {
  double t = 0;
  REQUIRE(ParseIsoTimestamp("2023-11-15T00:13:20+02:00", &t));
  CHECK(t == 1700000000.0);
  REQUIRE(ParseIsoTimestamp("2023-11-14T17:13:20-05:00", &t));
  CHECK(t == 1700000000.0);
  REQUIRE(ParseIsoTimestamp("2023-11-15T03:43:20+05:30", &t));
  CHECK(t == 1700000000.0);
  REQUIRE(ParseIsoTimestamp("2023-11-14T22:13:20-00:00", &t));
  CHECK(t == 1700000000.0);
}

TEST_CASE("ParseIsoTimestamp: an offset without a colon is read whole, not half") {
  double t = 0;
  // "+0530" is +05:30, not +05:00.
  REQUIRE(ParseIsoTimestamp("2023-11-15T03:43:20+0530", &t));
  CHECK(t == 1700000000.0);
  REQUIRE(ParseIsoTimestamp("2023-11-15T00:13:20+02", &t));
  CHECK(t == 1700000000.0);
}

TEST_CASE("ParseIsoTimestamp keeps fractional seconds") {
  double t = 0;
  REQUIRE(ParseIsoTimestamp("2023-11-14T22:13:20.123Z", &t));
  CHECK(t == Approx(1700000000.123).margin(1e-6));
  REQUIRE(ParseIsoTimestamp("2023-11-14T22:13:20.5", &t));
  CHECK(t == Approx(1700000000.5).margin(1e-6));
  REQUIRE(ParseIsoTimestamp("2023-11-15T00:13:20.250+02:00", &t));
  CHECK(t == Approx(1700000000.25).margin(1e-6));
  REQUIRE(ParseIsoTimestamp("2023-11-14T22:13:20.123456789Z", &t));
  CHECK(t == Approx(1700000000.123456789).margin(1e-6));
}

TEST_CASE("ParseIsoTimestamp round-trips IsoTimestamp") {
  for (long long ms : {0LL, 1LL, 999LL, 1700000000123LL, 1709208000007LL, 4102444799999LL}) {
    INFO(ms);
    double t = -1;
    REQUIRE(ParseIsoTimestamp(IsoTimestamp(AtMs(ms)), &t));
    CHECK(t == Approx(ms / 1000.0).margin(1e-6));
  }
}

TEST_CASE("ParseIsoTimestamp refuses garbage") {
  for (const char* bad : {
           "",
           "garbage",
           "2023-11-14",
           "2023-11-14 22:13:20Z",
           "2023-11-14T22:13Z",
           "2023/11/14T22:13:20Z",
           "2023-11-14T22:13:20X",
           "2023-11-14T22:13:20 Z",
           "2023-11-14T22:13:20+",
           "2023-11-14T22:13:20+xx:00",
           "2023-11-14T22:13:20Zjunk",
           "2023-11-14T22:13:20Z ",
           "2023-11-14T22:13:20+02:00junk",
           "2023-11-14T22:13:20.5 garbage",
           "2023-11-14T22:13:20+2",
           "2023-11-14T22:13:20+05:3",
           "2023-11-14T22:13:20+05:",
           "2023-11-14T22:13:20+053",
       }) {
    INFO(bad);
    double t = -42;
    CHECK_FALSE(ParseIsoTimestamp(bad, &t));
  }
}
