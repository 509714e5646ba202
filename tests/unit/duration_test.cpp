#include <catch2/catch.hpp>

#include "core/duration.h"

using namespace wsflow;

TEST_CASE("durations take units, a bare number is seconds") {
  Millis d;
  std::string err;
  REQUIRE(ParseDuration("500ms", &d, &err));
  CHECK(d.count() == 500);
  REQUIRE(ParseDuration("2s", &d, &err));
  CHECK(d.count() == 2000);
  REQUIRE(ParseDuration("1.5", &d, &err));
  CHECK(d.count() == 1500);
  REQUIRE(ParseDuration("15m", &d, &err));
  CHECK(d.count() == 900000);
  REQUIRE(ParseDuration("1h", &d, &err));
  CHECK(d.count() == 3600000);
  REQUIRE(ParseDuration("0", &d, &err));
  CHECK(d.count() == 0);
}

TEST_CASE("bad durations are refused with a reason") {
  for (const char* bad : {"", "s", "-1s", "2 s", "1x", "inf", "0x10", "1.2.3s", "nan", ".", "1e3", "1..", "ms",
                          "99999999999999999999999h"}) {
    INFO(bad);
    Millis d(-7);
    std::string err;  // fresh for each input: a reason left by the one before proves nothing
    CHECK_FALSE(ParseDuration(bad, &d, &err));
    CHECK_FALSE(err.empty());
    CHECK(err.find("'" + std::string(bad) + "'") != std::string::npos);
    CHECK(d.count() == -7);  // untouched on failure
  }
}
