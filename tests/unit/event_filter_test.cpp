#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/event_filter.h"

using namespace wsflow;
using Strings = std::vector<std::string>;

TEST_CASE("SplitList splits on commas, trims spaces, drops empty items") {
  CHECK(SplitList("a,b,,c") == Strings{"a", "b", "c"});
  CHECK(SplitList(" a , b ,c ") == Strings{"a", "b", "c"});
  CHECK(SplitList("single") == Strings{"single"});
  CHECK(SplitList("") == Strings{});
  CHECK(SplitList(",") == Strings{});
  CHECK(SplitList(" , ,  ") == Strings{});
  CHECK(SplitList(",a,") == Strings{"a"});
  CHECK(SplitList("step started, x") == Strings{"step started", "x"});
}

TEST_CASE("an empty filter accepts every event") {
  EventFilter f;
  CHECK(f.empty());
  CHECK(f.Accepts("step_started"));
  CHECK(f.Accepts(""));
  f.Include({});
  f.Exclude({"", " , "});
  CHECK(f.empty());
  CHECK(f.Accepts("anything"));
}

TEST_CASE("include lists only let their types through") {
  EventFilter f;
  f.Include({"step_started, step_completed", "workflow_completed"});
  CHECK_FALSE(f.empty());
  CHECK(f.Accepts("step_started"));
  CHECK(f.Accepts("step_completed"));
  CHECK(f.Accepts("workflow_completed"));
  CHECK_FALSE(f.Accepts("step_progress"));
  CHECK_FALSE(f.Accepts("step_started "));
  CHECK_FALSE(f.Accepts("step"));
  CHECK_FALSE(f.Accepts(""));
}

TEST_CASE("exclude lists drop their types and keep the rest") {
  EventFilter f;
  f.Exclude({"heartbeat,,cost_update ", " agent_message"});
  CHECK_FALSE(f.empty());
  CHECK_FALSE(f.Accepts("heartbeat"));
  CHECK_FALSE(f.Accepts("cost_update"));
  CHECK_FALSE(f.Accepts("agent_message"));
  CHECK(f.Accepts("step_started"));
  CHECK(f.Accepts(""));
}

TEST_CASE("exclude wins over include") {
  EventFilter f;
  f.Include({"a,b,c"});
  f.Exclude({"b"});
  CHECK(f.Accepts("a"));
  CHECK_FALSE(f.Accepts("b"));
  CHECK(f.Accepts("c"));
  CHECK_FALSE(f.Accepts("d"));

  // The order of the calls does not matter.
  EventFilter g;
  g.Exclude({"b"});
  g.Include({"a", "b"});
  CHECK(g.Accepts("a"));
  CHECK_FALSE(g.Accepts("b"));
}

TEST_CASE("repeated Include calls add up") {
  EventFilter f;
  f.Include({"a"});
  f.Include({"b"});
  CHECK(f.Accepts("a"));
  CHECK(f.Accepts("b"));
  CHECK_FALSE(f.Accepts("c"));
}
