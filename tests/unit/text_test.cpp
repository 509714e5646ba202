#include <catch2/catch.hpp>

#include "core/text.h"

using namespace wsflow;

TEST_CASE("a count of one is singular") {
  CHECK(Count(1, "event", "events") == "1 event");
  CHECK(Count(0, "event", "events") == "0 events");
  CHECK(Count(2, "retry", "retries") == "2 retries");
  CHECK(Count(-1, "gap", "gaps") == "-1 gaps");
}

TEST_CASE("edit distance counts insertions, deletions, substitutions and swapped neighbours") {
  CHECK(EditDistance("watch", "watch") == 0);
  CHECK(EditDistance("wach", "watch") == 1);
  CHECK(EditDistance("wacth", "watch") == 1);  // a transposition
  CHECK(EditDistance("", "abc") == 3);
  CHECK(EditDistance("kitten", "sitting") == 3);
}

TEST_CASE("the nearest name, when it is near enough to be what was meant") {
  std::vector<std::string> commands = {"watch", "execute", "approve", "status", "serve", "send", "replay"};
  CHECK(Nearest("wach", commands) == "watch");
  CHECK(Nearest("exectue", commands) == "execute");
  CHECK(Nearest("exec", commands) == "execute");  // a prefix
  CHECK(Nearest("frobnicate", commands).empty());
  CHECK(Nearest("x", commands).empty());
  CHECK(Nearest("step_complted", {"step_completed", "step_complete", "step_started"}) == "step_completed");
}

TEST_CASE("SplitNumberUnit takes digits with one point, then the unit as typed") {
  double v = -1;
  std::string unit = "old";
  REQUIRE(SplitNumberUnit("1.5MiB", &v, &unit));
  CHECK(v == 1.5);
  CHECK(unit == "MiB");
  REQUIRE(SplitNumberUnit("30", &v, &unit));
  CHECK(v == 30);
  CHECK(unit.empty());
  REQUIRE(SplitNumberUnit(".5s", &v, &unit));
  CHECK(v == 0.5);
  CHECK(unit == "s");
  // what strtod alone would take, and what is no number at all
  for (const char* bad : {"", ".", "1.2.3", "inf", "nan", "0x1p3", "-1", "+1", " 1", "s", "1e3"}) {
    v = -1;
    bool ok = SplitNumberUnit(bad, &v, &unit);
    INFO(bad);
    CHECK_FALSE(ok);
    CHECK(v == -1);
  }
  // an embedded NUL stays in the unit, where the caller sees an unknown unit
  REQUIRE(SplitNumberUnit(std::string("5\0s", 3), &v, &unit));
  CHECK(unit == std::string("\0s", 2));
}

TEST_CASE("Lower lowers ASCII letters only") {
  CHECK(Lower("KiB") == "kib");
  CHECK(Lower("HTTP_Proxy-1") == "http_proxy-1");
  CHECK(Lower("\xc3\x84") == "\xc3\x84");  // UTF-8 bytes untouched
}
