// Where --dialect auto looks for a run's endpoint at a URL without a path, and what it says.
#include <catch2/catch.hpp>

#include "session/endpoint_search.h"

using namespace wsflow;

namespace {
EndpointSearch Search() {
  return EndpointSearch("ws://h:1/ws/r-1", {{"ryx", "ws://h:1/api/workflow/stream"},
                                            {"chat", "ws://h:1/ws/chat?session_id=r-1"}});
}
}  // namespace

TEST_CASE("a 404 moves on to the next endpoint, in order, and names the one that answered") {
  EndpointSearch s = Search();
  CHECK_FALSE(s.moved());
  const Endpoint* next = s.Next(404);
  REQUIRE(next);
  CHECK(next->dialect == "ryx");
  CHECK(next->url == "ws://h:1/api/workflow/stream");
  CHECK(s.FoundLine() == "wsflow: ws://h:1/ws/r-1 answered 404; /api/workflow/stream answered: speaking ryx");
  next = s.Next(404);
  REQUIRE(next);
  CHECK(next->dialect == "chat");
  CHECK(s.moved());
  CHECK(s.FoundLine() ==
        "wsflow: ws://h:1/ws/r-1 and /api/workflow/stream answered 404; /ws/chat?session_id=r-1 answered: speaking chat");
  CHECK_FALSE(s.none_found());
}

TEST_CASE("when every endpoint answered 404, the line that gives up names every path tried") {
  EndpointSearch s = Search();
  s.Next(404);
  s.Next(404);
  CHECK(s.Next(404) == nullptr);
  CHECK(s.none_found());
  CHECK(s.NoneLine().rfind("wsflow: no WebSocket endpoint at ws://h:1: /ws/r-1, /api/workflow/stream and "
                           "/ws/chat?session_id=r-1 answered 404 (",
                           0) == 0);
  CHECK(s.Next(404) == nullptr);
}

TEST_CASE("only a 404 moves on: other refusals are the endpoint's own answer") {
  EndpointSearch s = Search();
  CHECK(s.Next(403) == nullptr);
  CHECK(s.Next(400) == nullptr);
  CHECK(s.Next(0) == nullptr);
  CHECK_FALSE(s.moved());
  CHECK_FALSE(s.none_found());
  EndpointSearch alone("ws://h:1/ws/r-1", {});
  CHECK(alone.Next(404) == nullptr);
  CHECK(alone.none_found());
  CHECK(alone.NoneLine().find(": /ws/r-1 answered 404") != std::string::npos);
}
