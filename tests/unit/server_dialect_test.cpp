#include <catch2/catch.hpp>

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
