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
