#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/json.h"
#include "server/server_dialect.h"

using namespace wsflow::serve;

TEST_CASE("greeting frames are told apart from the run's frames") {
  CHECK(IsGreetingFrame(ServerDialect::kA2a, R"({"type":"info","message":"Connected to workflow w1"})"));
  CHECK(IsGreetingFrame(ServerDialect::kA2a, R"({"type":"status","workflow_id":"w1","status":{}})"));
  CHECK_FALSE(IsGreetingFrame(ServerDialect::kA2a, R"({"type":"progress","workflow_id":"w1"})"));
  CHECK(IsGreetingFrame(ServerDialect::kAladdin, R"({"type":"ping","timestamp":"2026-01-01T00:00:00.000Z"})"));
  CHECK_FALSE(IsGreetingFrame(ServerDialect::kAladdin, R"({"type":"pong"})"));
  CHECK(IsGreetingFrame(ServerDialect::kChat, R"({"type":"status","data":{"status":"connected","session_id":"s"}})"));
  CHECK_FALSE(IsGreetingFrame(ServerDialect::kChat, R"({"type":"status","data":{"status":"heartbeat"}})"));
  CHECK_FALSE(IsGreetingFrame(ServerDialect::kCmbagent, R"({"event_type":"workflow_started"})"));
  CHECK_FALSE(IsGreetingFrame(ServerDialect::kChat, "not json"));
}

TEST_CASE("the table of dialects: names, endpoints and defaults per backend") {
  std::vector<std::string> names = ServerDialectNames();
  CHECK(names == std::vector<std::string>{"native", "cmbagent", "ryx", "a2a", "aladdin", "chat"});
  for (const auto& name : names) {
    ServerDialect d;
    REQUIRE(ParseServerDialect(name, &d));
    CHECK(ServerDialectName(d) == name);
    CHECK(SpecOf(d).dialect == d);
  }
  ServerDialect d;
  CHECK_FALSE(ParseServerDialect("soap", &d));
  CHECK(DefaultHeartbeatMs(ServerDialect::kCmbagent) == 1000);
  CHECK(DefaultHeartbeatMs(ServerDialect::kRyx) == 0);
  CHECK(AutoApproves(ServerDialect::kA2a));
  CHECK_FALSE(AutoApproves(ServerDialect::kCmbagent));
  Endpoint ep;
  CHECK(MatchEndpoint(ServerDialect::kCmbagent, "/ws/task%201?x=y", &ep));
  CHECK(ep.id == "task 1");
  CHECK(ep.query.at("x") == "y");
  CHECK_FALSE(MatchEndpoint(ServerDialect::kCmbagent, "/ws/a/b", &ep));
  CHECK(MatchEndpoint(ServerDialect::kA2a, "/ws/workflow/w1", &ep));
  CHECK(ep.kind == Endpoint::Kind::kWorkflow);
  CHECK(MatchEndpoint(ServerDialect::kChat, "/ws/chat?session_id=s+1", &ep));
  CHECK(ep.id == "s 1");
  CHECK(MatchEndpoint(ServerDialect::kAladdin, "/whatever", &ep));
  CHECK(EndpointHelp(ServerDialect::kRyx, "/x") ==
        "wsflow serve --dialect ryx: no such endpoint /x (use /api/workflow/stream)\n");
}

TEST_CASE("MapEvent goes through the dialect's table and keeps the run's step bookkeeping") {
  DialectOptions o;
  o.dialect = ServerDialect::kRyx;
  RunContext ctx;
  wsflow::JsonDoc empty(rapidjson::kObjectType);
  InitRunContext(o, "k", "k", "t", "", empty, &ctx);
  CHECK(ctx.model == "sim-1");
  wsflow::JsonDoc data;
  std::string err;
  REQUIRE(wsflow::ParseJson(R"({"step_id":"s1","step_number":1,"goal":"Plan"})", &data, &err));
  bool close_after = true;
  auto t = Clock::now();
  auto frames = MapEvent(o, ctx, "step_started", data, t, &close_after);
  CHECK_FALSE(close_after);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].text.find(R"("type":"step_start","step":1,"action":"Plan")") != std::string::npos);
  CHECK(ctx.current_step == 1);
  CHECK(ctx.step_goal[1] == "Plan");
}

TEST_CASE("WithStringMember and JsonNumber: the JSON the dialects build") {
  wsflow::JsonDoc d;
  std::string err;
  REQUIRE(wsflow::ParseJson(R"({"a":1,"run_id":"x","b":[true]})", &d, &err));
  CHECK(WithStringMember(d, "run_id", "u\"1") == R"({"a":1,"run_id":"u\"1","b":[true]})");
  CHECK(WithStringMember(d, "new", "v") == R"({"a":1,"run_id":"x","b":[true],"new":"v"})");
  wsflow::JsonDoc e(rapidjson::kObjectType);
  CHECK(WithStringMember(e, "k", "v") == R"({"k":"v"})");
  CHECK(JsonNumber(0.4) == "0.4");
  CHECK(JsonNumber(1) == "1.0");
}
