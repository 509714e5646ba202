#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/json.h"
#include "dialects/native.h"

using namespace wsflow;
using namespace wsflow::native;

namespace {

// Parses a frame text, failing the test when it is not valid compact JSON.
void ParseFrame(const std::string& text, JsonDoc* doc) {
  INFO(text);
  std::string err;
  REQUIRE(ParseJson(text, doc, &err));
  REQUIRE(doc->IsObject());
  CHECK(IsCompactJson(text));
}

std::vector<std::string> Keys(const JsonValue& v) {
  std::vector<std::string> keys;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) keys.emplace_back(it->name.GetString());
  return keys;
}

}  // namespace

TEST_CASE("ExecuteFrame carries task, config, run_id, request_id and since_seq") {
  JsonDoc d;
  ParseFrame(ExecuteFrame("write \"a\" report", R"({"events":5,"nested":{"x":[1,2]}})", "r-1", "q-1", 17), &d);
  CHECK(GetString(d, "type") == "execute");
  CHECK(GetString(d, "task") == "write \"a\" report");
  const JsonValue* config = GetObject(d, "config");
  REQUIRE(config);
  CHECK(GetInt(*config, "events", 0) == 5);
  REQUIRE(GetObject(*config, "nested"));
  CHECK(GetString(d, "run_id") == "r-1");
  CHECK(GetString(d, "request_id") == "q-1");
  CHECK(GetInt(d, "since_seq", -1) == 17);
  CHECK(Keys(d) == std::vector<std::string>{"type", "task", "config", "run_id", "request_id", "since_seq"});
}

TEST_CASE("ExecuteFrame leaves out what is not given; an empty config is {}") {
  JsonDoc d;
  ParseFrame(ExecuteFrame("t", "", "", ""), &d);
  CHECK(GetString(d, "type") == "execute");
  CHECK(GetString(d, "task") == "t");
  const JsonValue* config = GetObject(d, "config");
  REQUIRE(config);
  CHECK(config->MemberCount() == 0);
  CHECK_FALSE(d.HasMember("run_id"));
  CHECK_FALSE(d.HasMember("request_id"));
  CHECK_FALSE(d.HasMember("since_seq"));

  JsonDoc z;
  ParseFrame(ExecuteFrame("t", "{}", "r", "", 0), &z);
  CHECK_FALSE(z.HasMember("since_seq"));
  CHECK(GetString(z, "run_id") == "r");
}

TEST_CASE("SubscribeFrame always carries run_id and since_seq") {
  JsonDoc d;
  ParseFrame(SubscribeFrame("run 1", 0, "q-2"), &d);
  CHECK(GetString(d, "type") == "subscribe");
  CHECK(GetString(d, "run_id") == "run 1");
  REQUIRE(d.HasMember("since_seq"));
  CHECK(GetInt(d, "since_seq", -1) == 0);
  CHECK(GetString(d, "request_id") == "q-2");

  JsonDoc n;
  ParseFrame(SubscribeFrame("r", 41, ""), &n);
  CHECK(GetInt(n, "since_seq", -1) == 41);
  CHECK_FALSE(n.HasMember("request_id"));
}

TEST_CASE("ControlFrame is a typed request for a run") {
  for (const char* type : {"pause", "resume", "cancel"}) {
    INFO(type);
    JsonDoc d;
    ParseFrame(ControlFrame(type, "r-9", "q-3"), &d);
    CHECK(GetString(d, "type") == type);
    CHECK(GetString(d, "run_id") == "r-9");
    CHECK(GetString(d, "request_id") == "q-3");
  }
  JsonDoc bare;
  ParseFrame(ControlFrame("cancel", "", ""), &bare);
  CHECK(Keys(bare) == std::vector<std::string>{"type"});
}

TEST_CASE("ResolveApprovalFrame carries the approval, resolution and feedback") {
  JsonDoc d;
  ParseFrame(ResolveApprovalFrame("r-1", "approval-s3", "approve", "looks \"fine\"\n", "q-4"), &d);
  CHECK(GetString(d, "type") == "resolve_approval");
  CHECK(GetString(d, "run_id") == "r-1");
  CHECK(GetString(d, "approval_id") == "approval-s3");
  CHECK(GetString(d, "resolution") == "approve");
  CHECK(GetString(d, "feedback") == "looks \"fine\"\n");
  CHECK(GetString(d, "request_id") == "q-4");
  REQUIRE(d.HasMember("modifications"));

  JsonDoc e;
  ParseFrame(ResolveApprovalFrame("", "a", "reject", "", ""), &e);
  CHECK_FALSE(e.HasMember("run_id"));
  CHECK_FALSE(e.HasMember("request_id"));
  // feedback is always sent, even empty.
  REQUIRE(e.HasMember("feedback"));
  CHECK(GetString(e, "feedback", "x").empty());
}

TEST_CASE("PingFrame is {\"type\":\"ping\"}") {
  JsonDoc d;
  ParseFrame(PingFrame(), &d);
  CHECK(Keys(d) == std::vector<std::string>{"type"});
  CHECK(GetString(d, "type") == "ping");
}

namespace {
Frame ClassifyText(const std::string& text, JsonDoc* doc) {
  std::string err;
  INFO(text);
  REQUIRE(ParseJson(text, doc, &err));
  return Classify(*doc);
}
}  // namespace

TEST_CASE("Classify: an envelope with seq is a run event") {
  JsonDoc d;
  Frame f = ClassifyText(R"({"event_type":"step_started","timestamp":"t","run_id":"r-1","seq":5,"data":{}})", &d);
  CHECK(f.kind == FrameKind::kEvent);
  CHECK(f.env.event_type == "step_started");
  CHECK(f.env.run_id == "r-1");
  CHECK(f.env.seq == 5);
  // Even with an event_type that would otherwise be a control reply.
  JsonDoc e;
  CHECK(ClassifyText(R"({"event_type":"error","seq":2,"data":{"message":"m"}})", &e).kind == FrameKind::kEvent);
}

TEST_CASE("Classify: ack with request_id, action and last_seq") {
  JsonDoc d;
  Frame f = ClassifyText(
      R"({"event_type":"ack","timestamp":"t","run_id":"r-1","data":{"action":"subscribe","last_seq":12},"request_id":"q-7"})",
      &d);
  CHECK(f.kind == FrameKind::kAck);
  CHECK(f.request_id == "q-7");
  CHECK(f.action == "subscribe");
  CHECK(f.last_seq == 12);
  CHECK(f.env.run_id == "r-1");
  CHECK(f.env.seq == -1);

  JsonDoc n;
  Frame g = ClassifyText(R"({"event_type":"ack","data":{"action":"pause"}})", &n);
  CHECK(g.kind == FrameKind::kAck);
  CHECK(g.action == "pause");
  CHECK(g.last_seq == -1);
  CHECK(g.request_id.empty());
}

TEST_CASE("Classify: error with error_type and message") {
  JsonDoc d;
  Frame f = ClassifyText(
      R"({"event_type":"error","run_id":"r","data":{"error_type":"unknown_run","message":"no run r"},"request_id":"q-1"})",
      &d);
  CHECK(f.kind == FrameKind::kError);
  CHECK(f.error_type == "unknown_run");
  CHECK(f.message == "no run r");
  CHECK(f.request_id == "q-1");

  JsonDoc n;
  Frame g = ClassifyText(R"({"event_type":"error"})", &n);
  CHECK(g.kind == FrameKind::kError);
  CHECK(g.error_type.empty());
  CHECK(g.message == "(no message)");
}

TEST_CASE("Classify: pong, heartbeat and other envelopes without seq") {
  JsonDoc a, b, c;
  CHECK(ClassifyText(R"({"event_type":"pong","timestamp":"t","data":{}})", &a).kind == FrameKind::kPong);
  CHECK(ClassifyText(R"({"event_type":"heartbeat","data":{}})", &b).kind == FrameKind::kHeartbeat);
  Frame o = ClassifyText(R"({"event_type":"server_notice","data":{"x":1}})", &c);
  CHECK(o.kind == FrameKind::kOther);
  CHECK(o.env.event_type == "server_notice");
}

TEST_CASE("Classify: JSON that is not an envelope is unknown") {
  for (const char* text : {
           R"([1,2,3])",
           R"("a string")",
           R"(42)",
           R"({})",
           R"({"type":"pong"})",
           R"({"data":{"x":1}})",
           R"({"event_type":""})",
           R"({"event_type":"step_started","seq":0})",
           R"({"event_type":"step_started","seq":"3"})",
           R"({"event_type":"ack","run_id":7})",
       }) {
    INFO(text);
    JsonDoc d;
    CHECK(ClassifyText(text, &d).kind == FrameKind::kUnknown);
  }
}

TEST_CASE("TerminalOutcome of native run events") {
  auto outcome = [](const char* type, const char* envelope) {
    JsonDoc d;
    std::string err;
    INFO(envelope);
    REQUIRE(ParseJson(envelope, &d, &err));
    return TerminalOutcome(type, d);
  };
  CHECK(outcome("workflow_completed", R"({"event_type":"workflow_completed","data":{"status":"completed"}})") ==
        Outcome::kCompleted);
  CHECK(outcome("workflow_failed", R"({"event_type":"workflow_failed","data":{"status":"failed"}})") ==
        Outcome::kFailed);
  CHECK(outcome("workflow_failed", R"({"event_type":"workflow_failed"})") == Outcome::kFailed);
  CHECK(outcome("workflow_failed", R"({"event_type":"workflow_failed","data":{"status":7}})") == Outcome::kFailed);
  CHECK(outcome("workflow_failed", R"({"event_type":"workflow_failed","data":{"status":"cancelled"}})") ==
        Outcome::kCancelled);
  CHECK(outcome("workflow_cancelled", R"({"event_type":"workflow_cancelled","data":{}})") == Outcome::kCancelled);
  for (const char* other : {"step_completed", "workflow_started", "workflow_paused", "approval_received",
                            "error_occurred", "workflow_complete", ""}) {
    INFO(other);
    CHECK(outcome(other, R"({"event_type":"x","data":{"status":"completed"}})") == Outcome::kNone);
  }
  // "status":"cancelled" only turns workflow_failed into a cancellation.
  CHECK(outcome("step_failed", R"({"event_type":"step_failed","data":{"status":"cancelled"}})") == Outcome::kNone);
}
