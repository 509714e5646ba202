#include <catch2/catch.hpp>

#include "core/wait_condition.h"

using namespace wsflow;

namespace {
Predicate P(const std::string& text) {
  Predicate p;
  std::string err;
  REQUIRE(Predicate::Parse(text, &p, &err));
  return p;
}
}  // namespace

TEST_CASE("WaitCondition: types alone, a match alone, or both together") {
  JsonDoc ev;
  std::string err;
  REQUIRE(ParseJson(R"({"event_type":"step_completed","data":{"step_number":3}})", &ev, &err));
  WaitCondition none;
  CHECK_FALSE(none.Met("step_completed", &ev));
  CHECK_FALSE(none.AwaitsEvent());

  WaitCondition types;
  types.types = {"step_started", "step_completed"};
  CHECK(types.Met("step_completed", nullptr));
  CHECK_FALSE(types.Met("step_progress", nullptr));
  CHECK_FALSE(types.NeedsEnvelope());
  CHECK(types.AwaitsEvent());

  WaitCondition match;
  match.match = {P("data.step_number=3")};
  CHECK(match.NeedsEnvelope());
  CHECK(match.Met("anything", &ev));
  CHECK_FALSE(match.Met("anything", nullptr));

  WaitCondition both = types;
  both.match = {P("data.step_number=4")};
  CHECK_FALSE(both.Met("step_completed", &ev));
  both.match = {P("data.step_number=3")};
  CHECK(both.Met("step_completed", &ev));
  CHECK_FALSE(both.Met("step_progress", &ev));
}

TEST_CASE("WaitCondition counts events and says what it awaits") {
  WaitCondition w;
  CHECK_FALSE(w.Enough(1000));
  w.max_events = 2;
  CHECK_FALSE(w.Enough(1));
  CHECK(w.Enough(2));
  CHECK(w.Describe("run r to end") == "2 events");
  w.max_events = 1;
  CHECK(w.Describe("x") == "1 event");
  w.types = {"a", "b"};
  CHECK(w.Describe("x") == "an event of type a or b");
  w.approval = true;
  CHECK(w.Describe("x") == "an approval request");
  CHECK(WaitCondition{}.Describe("run r-1 to end") == "run r-1 to end");
}
