#include <catch2/catch.hpp>

#include "core/timestamp.h"
#include "dialects/adapters.h"
#include "dialects/dialect.h"

using namespace wsflow;

namespace {
Incoming Convert(const char* dialect, const std::string& frame, const std::string& run = "run-1") {
  auto d = MakeDialect(dialect);
  REQUIRE(d);
  ReceivedFrame f;
  std::string err;
  REQUIRE(f.Reset(frame, &err));
  Incoming in;
  d->Convert(f, run, &in);
  return in;
}
std::string Field(const Incoming& in, const char* key) { return std::string(GetString(in.envelope, key)); }
}  // namespace

TEST_CASE("every dialect has an adapter; unknown names none") {
  for (const auto& name : DialectNames()) {
    INFO(name);
    auto d = MakeDialect(name);
    REQUIRE(d);
    CHECK(d->name() == name);
  }
  CHECK_FALSE(MakeDialect("auto"));
  CHECK_FALSE(MakeDialect("mars"));
}

TEST_CASE("paths of base URLs") {
  CHECK(MakeDialect("native")->Path("r1") == "/ws/r1");
  CHECK(MakeDialect("cmbagent")->Path("r1") == "/ws/r1");
  CHECK(MakeDialect("ryx")->Path("r1") == "/api/workflow/stream");
  CHECK(MakeDialect("a2a")->Path("r1") == "/ws/workflow/r1");
  CHECK(MakeDialect("chat")->Path("r1") == "/ws/chat?session_id=r1");
}

TEST_CASE("detection from the path, then from the first frames") {
  CHECK(DialectFromPath("/api/workflow/stream") == "ryx");
  CHECK(DialectFromPath("/ws/workflow/w1") == "a2a");
  CHECK(DialectFromPath("/ws/chat") == "chat");
  CHECK(DialectFromPath("/ws/r1").empty());
  // A clean close without a frame after our first request: MARS on a run that has ended.
  CHECK(DialectFromSilentClose("/ws/t1") == "cmbagent");
  CHECK(DialectFromSilentClose("/ws/").empty());
  CHECK(DialectFromSilentClose("/ws/chat") == "");
  CHECK(DialectFromSilentClose("/ws/workflow/w1").empty());
  CHECK(DialectFromSilentClose("/api/workflow/stream").empty());
  CHECK(DialectFromSilentClose("/events").empty());
  auto detect = [](const char* frame, const char* rid = "req-1") {
    JsonDoc v;
    std::string err;
    REQUIRE(ParseJson(frame, &v, &err));
    return DialectFromFrame(v, rid);
  };
  CHECK(detect(R"({"event_type":"ack","data":{},"request_id":"req-1"})") == "native");
  CHECK(detect(R"({"event_type":"error","data":{"error_type":"unknown_run"},"request_id":"req-1"})") == "native");
  CHECK(detect(R"({"event_type":"step_progress","seq":3,"data":{}})") == "native");
  CHECK(detect(R"({"event_type":"workflow_started","run_id":"x","session_id":null,"data":{}})") == "cmbagent");
  CHECK(detect(R"({"event_type":"error","data":{"message":"No task provided"}})") == "cmbagent");
  CHECK(detect(R"({"type":"info","message":"hi","client_id":"c","room":"r"})") == "a2a");
  CHECK(detect(R"({"type":"ping","timestamp":"2026-01-01T00:00:00Z"})") == "aladdin");
  CHECK(detect(R"({"type":"status","data":{"status":"connected"}})") == "chat");
  CHECK(detect(R"({"type":"acknowledged","data":{}})") == "ryx");
  CHECK(detect(R"({"event":"step_start","step":"input"})") == "ryx");
  CHECK(detect(R"({"hello":1})").empty());
  CHECK(detect("[1,2]").empty());
}

TEST_CASE("cmbagent: envelopes keyed by the URL's task id, legacy terminals, one cancellation") {
  auto ev = Convert("cmbagent", R"({"event_type":"workflow_started","timestamp":"2026-01-22T10:00:00.123Z","run_id":"db-uuid","data":{"agent":"a"}})", "task-7");
  CHECK(ev.kind == Incoming::kEvent);
  CHECK(Field(ev, "run_id") == "task-7");
  CHECK(Field(ev, "dialect") == "cmbagent");
  CHECK(Field(ev, "timestamp") == "2026-01-22T10:00:00.123Z");
  CHECK(ev.seq == -1);
  CHECK_FALSE(ev.dedupe_key.empty());
  CHECK(Convert("cmbagent", R"({"event_type":"step_start","timestamp":"2026-01-22T10:00:01+00:00","data":{}})").outcome == Outcome::kNone);
  CHECK(Field(Convert("cmbagent", R"({"event_type":"step_start","timestamp":"2026-01-22T10:00:01+00:00","data":{}})"), "timestamp") ==
        "2026-01-22T10:00:01.000Z");
  CHECK(Convert("cmbagent", R"({"event_type":"complete","data":{"message":"ok"}})").outcome == Outcome::kCompleted);
  CHECK(Convert("cmbagent", R"({"event_type":"result","data":{}})").outcome == Outcome::kCompleted);
  CHECK(Convert("cmbagent", R"({"event_type":"workflow_failed","data":{"status":"cancelled"}})").outcome == Outcome::kCancelled);
  CHECK(Convert("cmbagent", R"({"event_type":"workflow_failed","data":{"status":"failed"}})").outcome == Outcome::kFailed);
  CHECK(Convert("cmbagent", R"({"event_type":"heartbeat","data":{"timestamp":1}})").kind == Incoming::kHeartbeat);
  CHECK(Convert("cmbagent", R"({"event_type":"pong","data":{}})").kind == Incoming::kPong);
  auto err = Convert("cmbagent", R"({"event_type":"error","data":{"message":"No task provided"}})");
  CHECK(err.kind == Incoming::kError);
  CHECK(err.message == "No task provided");
  for (const char* legacy : {R"({"event_type":"status","data":{}})", R"({"event_type":"output","data":{"message":"x"}})"})
    CHECK(Convert("cmbagent", legacy).kind == Incoming::kEvent);
  CHECK(Convert("cmbagent", R"({"type":"output","data":"text"})").kind == Incoming::kEvent);  // oldest servers
  CHECK(Convert("cmbagent", R"({"x":1})").kind == Incoming::kUnknown);
}

TEST_CASE("cmbagent frames: task first frame, request_state in seconds, no attach") {
  auto d = MakeDialect("cmbagent");
  std::vector<std::string> frames;
  std::string err;
  StartRequest r;
  r.task = "analyse \"data\"";
  r.config_json = R"({"mode":"one-shot"})";
  REQUIRE(d->Start(r, &frames, &err));
  CHECK(frames.back() == R"({"task":"analyse \"data\"","config":{"mode":"one-shot"}})");
  REQUIRE(d->Resume("t1", 5, 1769076000.25, "", &frames, &err));
  CHECK(frames.back() == R"({"type":"request_state","since":1769076000.250,"run_id":"t1"})");
  CHECK_FALSE(d->Attach("t1", 0, -1, "", &frames, &err));
  CHECK(err.find("one socket per run") != std::string::npos);
  CHECK(d->one_socket_per_run());
  std::string frame;
  REQUIRE(d->Control("cancel", "t1", "", &frame, &err));
  CHECK(frame == R"({"type":"cancel","run_id":"t1"})");
}

TEST_CASE("ryx: both key styles, acknowledged, errors, terminals; only cancel") {
  auto start = Convert("ryx", R"({"type":"step_start","step":1,"action":"Parsing command","timestamp":"2026-01-01T10:00:00"})");
  CHECK(start.kind == Incoming::kEvent);
  CHECK(start.event_type == "step_start");
  CHECK(Field(start, "timestamp") == "2026-01-01T10:00:00.000Z");
  CHECK(GetInt(*GetObject(start.envelope, "data"), "step", 0) == 1);
  CHECK_FALSE(GetObject(start.envelope, "data")->HasMember("type"));
  auto doc = Convert("ryx", R"({"event":"workflow_complete","step":"output","message":"done","latency":12.5,"data":{}})");
  CHECK(doc.outcome == Outcome::kCompleted);
  CHECK(Convert("ryx", R"({"type":"task_complete","total_latency_ms":250,"results":[]})").outcome == Outcome::kCompleted);
  CHECK(Convert("ryx", R"({"type":"acknowledged","data":{"action":"cancel_workflow"}})").kind == Incoming::kAck);
  CHECK(Convert("ryx", R"({"event":"acknowledged"})").kind == Incoming::kAck);
  CHECK(Convert("ryx", R"({"type":"error","message":"Invalid JSON data"})").kind == Incoming::kError);
  CHECK(Convert("ryx", R"({"type":"error","message":"step 2 failed"})").outcome == Outcome::kFailed);
  auto d = MakeDialect("ryx");
  std::string frame, err;
  REQUIRE(d->Control("cancel", "r", "", &frame, &err));
  CHECK(frame == R"({"action":"cancel_workflow"})");
  CHECK_FALSE(d->Control("pause", "r", "", &frame, &err));
  CHECK(err == "pause is not supported by the ryx dialect");
  std::vector<std::string> frames;
  StartRequest r;
  r.task = "t";
  r.model = "m";
  REQUIRE(d->Start(r, &frames, &err));
  CHECK(frames.back() == R"({"action":"execute_workflow","input":"t","model":"m"})");
  CHECK(d->resume() == ResumeKind::kNone);
}

TEST_CASE("a2a: info ignored, progress states end the run, control answers") {
  CHECK(Convert("a2a", R"({"type":"info","message":"Connected","client_id":"c1","room":"workflow:w"})").kind == Incoming::kIgnore);
  auto p = Convert("a2a", R"({"type":"progress","workflow_id":"w9","timestamp":"2026-01-01T00:00:00.5","state":"running","progress":0.5,"stage":"render","message":"m","details":{}})", "w9");
  CHECK(p.kind == Incoming::kEvent);
  CHECK(Field(p, "run_id") == "w9");
  CHECK(p.outcome == Outcome::kNone);
  CHECK(Convert("a2a", R"({"type":"progress","state":"completed","progress":1.0})").outcome == Outcome::kCompleted);
  CHECK(Convert("a2a", R"({"type":"progress","state":"failed","stage":"encode"})").outcome == Outcome::kFailed);
  CHECK(Convert("a2a", R"({"type":"progress","state":"failed","stage":"cancelled"})").outcome == Outcome::kCancelled);
  auto ok = Convert("a2a", R"({"type":"control_response","action":"cancel","status":"success","message":"ok"})");
  CHECK(ok.kind == Incoming::kAck);
  CHECK(ok.confirms == "cancel");
  auto ni = Convert("a2a", R"({"type":"control_response","action":"pause","status":"not_implemented"})");
  CHECK(ni.kind == Incoming::kError);
  CHECK(ni.message == "pause: not_implemented");
  CHECK(Convert("a2a", R"({"type":"error","message":"Coordinator not available"})").kind == Incoming::kError);
  auto run_error = Convert("a2a", R"({"type":"error","message":"encode failed","error_type":"X","retryable":true,"target_type":"workflow","target_id":"w"})");
  CHECK(run_error.kind == Incoming::kEvent);
  CHECK(Convert("a2a", R"({"type":"heartbeat","timestamp":"x"})").kind == Incoming::kHeartbeat);
  CHECK(Convert("a2a", R"({"type":"pong"})").kind == Incoming::kPong);
  std::string frame, err;
  REQUIRE(MakeDialect("a2a")->Control("cancel", "w", "", &frame, &err));
  CHECK(frame == R"({"type":"control","action":"cancel","workflow_id":"w"})");
}

TEST_CASE("aladdin: wrapped events, ids, the pong acknowledgement, other executions ignored") {
  auto e = Convert("aladdin", R"({"type":"event","executionId":"ex1","event":{"id":"e7","type":"agent-start","executionId":"ex1","timestamp":"2026-01-01T00:00:00Z","agent":"a"},"timestamp":"2026-01-01T00:00:00Z"})", "ex1");
  CHECK(e.kind == Incoming::kEvent);
  CHECK(e.event_type == "agent-start");
  CHECK(Field(e, "event_id") == "e7");
  CHECK(e.dedupe_key == "e7");
  CHECK(std::string(GetString(*GetObject(e.envelope, "data"), "agent")) == "a");
  CHECK(Convert("aladdin", R"({"type":"event","executionId":"other","event":{"type":"agent-start"}})", "ex1").kind == Incoming::kIgnore);
  CHECK(Convert("aladdin", R"({"type":"event","executionId":"ex1","event":{"type":"orchestration-complete","result":{}}})", "ex1").outcome == Outcome::kCompleted);
  CHECK(Convert("aladdin", R"({"type":"event","executionId":"ex1","event":{"type":"error","error":{"message":"m","code":"c","recoverable":false}}})", "ex1").outcome == Outcome::kFailed);
  CHECK(Convert("aladdin", R"({"type":"event","executionId":"ex1","event":{"type":"error","error":{"recoverable":true}}})", "ex1").outcome == Outcome::kNone);
  CHECK(Convert("aladdin", R"({"type":"event","executionId":"ex1","event":{"type":"review-status","decision":"approved"}})", "ex1").kind == Incoming::kEvent);
  CHECK(Convert("aladdin", R"({"type":"pong","timestamp":"t"})").kind == Incoming::kPong);
  CHECK(Convert("aladdin", R"({"type":"ping","timestamp":"t"})").kind == Incoming::kHeartbeat);
  CHECK(Convert("aladdin", R"({"type":"event","event":"not an object"})").kind == Incoming::kUnknown);
  std::vector<std::string> frames;
  std::string err;
  REQUIRE(MakeDialect("aladdin")->Attach("ex1", 0, -1, "", &frames, &err));
  CHECK(frames.back() == R"({"type":"subscribe","executionId":"ex1"})");
  std::string frame;
  CHECK_FALSE(MakeDialect("aladdin")->Control("cancel", "ex1", "", &frame, &err));
}

TEST_CASE("chat: first status ignored, the reply ends the exchange") {
  CHECK(Convert("chat", R"({"type":"status","data":{"status":"connected"},"timestamp":"t"})").kind == Incoming::kIgnore);
  CHECK(Convert("chat", R"({"type":"tool_execution","data":{"tool":"search","status":"running"}})").outcome == Outcome::kNone);
  CHECK(Convert("chat", R"({"type":"message","data":{"content":"hi","role":"assistant"}})").outcome == Outcome::kCompleted);
  CHECK(Convert("chat", R"({"type":"error","data":{"message":"m"}})").outcome == Outcome::kFailed);
  std::vector<std::string> frames;
  std::string err;
  StartRequest r;
  r.task = "hello";
  r.run_id = "s1";
  REQUIRE(MakeDialect("chat")->Start(r, &frames, &err));
  CHECK(frames.back() == R"({"type":"message","data":{"content":"hello","session_id":"s1","message_history":[]}})");
}

TEST_CASE("malformed frames of every dialect convert without crashing") {
  const char* frames[] = {"{}", "[]", "null", "1", R"({"type":1})", R"({"event_type":1})", R"({"event_type":"x","data":"s"})",
                          R"({"type":"event","event":null})", R"({"type":"progress","state":5})", R"({"type":"message","data":[1]})"};
  for (const auto& name : DialectNames())
    for (const char* f : frames) {
      INFO(name << " " << f);
      Incoming in = Convert(name.c_str(), f);
      if (in.kind == Incoming::kEvent && !in.passthrough) CHECK(in.envelope.IsObject());
    }
}

TEST_CASE("native: a numbered event goes through as its own bytes, judged from the scan") {
  auto ev = Convert("native", R"({"event_type":"step_progress","timestamp":"2026-01-01T00:00:00.000Z","run_id":"r-9","seq":4,"data":{"p":1}})");
  CHECK(ev.kind == Incoming::kEvent);
  CHECK(ev.passthrough);
  CHECK(ev.seq == 4);
  CHECK(ev.event_type == "step_progress");
  CHECK(ev.run_id == "r-9");
  CHECK(ev.outcome == Outcome::kNone);
  CHECK(Convert("native", R"({"event_type":"workflow_completed","timestamp":"t","seq":9,"data":{}})").outcome ==
        Outcome::kCompleted);
  CHECK(Convert("native", R"({"event_type":"workflow_failed","timestamp":"t","seq":9,"data":{"status":"cancelled"}})")
            .outcome == Outcome::kCancelled);
  CHECK(Convert("native", R"({"event_type":"workflow_failed","timestamp":"t","seq":9,"data":{"status":"failed"}})")
            .outcome == Outcome::kFailed);
  CHECK(Convert("native", R"({"event_type":"workflow_cancelled","timestamp":"t","seq":9,"data":{}})").outcome ==
        Outcome::kCancelled);
}

TEST_CASE("native: an event without a timestamp or an object in data is completed") {
  auto ev = Convert("native", R"({"event_type":"x","run_id":"r","seq":2,"data":"text"})");
  CHECK(ev.kind == Incoming::kEvent);
  CHECK_FALSE(ev.passthrough);
  CHECK(ev.seq == 2);
  CHECK(Field(ev, "timestamp").size() == 24);
  const JsonValue* data = GetObject(ev.envelope, "data");
  REQUIRE(data);
  CHECK(GetString(*data, "value") == "text");
  auto nodata = Convert("native", R"({"event_type":"x","timestamp":"t","seq":2})");
  CHECK_FALSE(nodata.passthrough);
  CHECK(GetObject(nodata.envelope, "data"));
}

TEST_CASE("native: acks, errors, heartbeats, envelopes without seq, and what is no envelope") {
  auto ack = Convert("native", R"({"event_type":"ack","run_id":"r","request_id":"q1","data":{"action":"subscribe","last_seq":7,"from_seq":2,"state":"completed","outcome":"failed"}})");
  CHECK(ack.kind == Incoming::kAck);
  CHECK(ack.request_id == "q1");
  CHECK(ack.confirms == "subscribe");
  CHECK(ack.last_seq == 7);
  CHECK(ack.from_seq == 2);
  CHECK(ack.state == "completed");
  CHECK(ack.run_outcome == Outcome::kFailed);
  auto err = Convert("native", R"({"event_type":"error","request_id":"q2","data":{"error_type":"unknown_run","message":"no"}})");
  CHECK(err.kind == Incoming::kError);
  CHECK(err.message == "no");
  CHECK(err.request_id == "q2");
  CHECK(Convert("native", R"({"event_type":"pong","data":{}})").kind == Incoming::kPong);
  CHECK(Convert("native", R"({"event_type":"heartbeat","data":{}})").kind == Incoming::kHeartbeat);
  auto other = Convert("native", R"({"event_type":"notice","data":{}})");
  CHECK(other.kind == Incoming::kUnnumbered);
  CHECK(other.passthrough);
  for (const char* bad : {R"({"event_type":"x","seq":0})", R"({"event_type":"x","seq":1.5})",
                          R"({"event_type":"x","run_id":3,"seq":1})", R"({"event_type":"","seq":1})", R"([1])",
                          R"({"type":"x"})"}) {
    INFO(bad);
    CHECK(Convert("native", bad).kind == Incoming::kUnknown);
  }
}

TEST_CASE("Incoming is reused from frame to frame without keeping anything") {
  auto d = MakeDialect("cmbagent");
  ReceivedFrame f;
  std::string err;
  Incoming in;
  REQUIRE(f.Reset(R"({"event_type":"step_started","timestamp":"2026-01-22T10:00:00Z","data":{"step_id":"s1"}})", &err));
  d->Convert(f, "t", &in);
  CHECK(in.kind == Incoming::kEvent);
  in.Reset();
  CHECK(in.envelope.IsNull());
  CHECK(in.event_type.empty());
  REQUIRE(f.Reset(R"({"event_type":"error","data":{"message":"m"}})", &err));
  d->Convert(f, "t", &in);
  CHECK(in.kind == Incoming::kError);
  CHECK(in.message == "m");
  Incoming moved = std::move(in);  // the arena moves with it
  CHECK(moved.message == "m");
}

TEST_CASE("timestamps of any year 0000-9999 are kept, not overflowed through a nanosecond time_point") {
  // Found by fuzz/dialect_ryx: year 1013 went through system_clock's nanoseconds (signed overflow,
  // undefined behaviour) and printed as 2182-03-02T09:09:07.419Z.
  Incoming in = Convert("ryx", R"({"type":"step_start","timestamp":"1013-01-22T10:00:00"})");
  CHECK(GetString(in.envelope, "timestamp") == "1013-01-22T10:00:00.000Z");
  CHECK(NormalizeTimestamp("2999-12-31T23:59:59.5+01:00") == "2999-12-31T22:59:59.500Z");
  CHECK(NormalizeTimestamp("0000-01-01T00:00:00Z") == "0000-01-01T00:00:00.000Z");
  CHECK(NormalizeTimestamp("1969-12-31T23:59:59.999Z") == "1969-12-31T23:59:59.999Z");
  // Outside what YYYY holds: as a text that is no timestamp, now.
  std::string now = NowIso();
  CHECK(NormalizeTimestamp("-001-01-01T00:00:00Z").substr(0, 4) == now.substr(0, 4));
  CHECK(IsoTimestampMs(-1) == "1969-12-31T23:59:59.999Z");
}

// Found by fuzz/dialect_native: a native frame the adapter converts instead of passing through
// (here: `data` misspelt) kept a timestamp that is not one ("2026-11-29T15:.393Z"), where every
// other envelope's is YYYY-MM-DDTHH:MM:SS.mmmZ (docs/event.schema.json).
TEST_CASE("native: a converted frame's timestamp is normalised like the other dialects'") {
  Incoming in = Convert(
      "native",
      R"({"event_type":"workflow_failed","timestamp":"2026-11-29T15:.393Z","run_id":"r-985c38ba21a4","seq":9,"d]ta":{"metus":"filed"}})");
  REQUIRE(in.kind == Incoming::kEvent);
  if (in.passthrough) return;
  std::string_view ts = GetString(in.envelope, "timestamp");
  CHECK(ts.size() == 24);
  CHECK(ts.substr(19) != ":.393Z");
  // a repeated timestamp member: none of them is kept as sent
  Incoming twice = Convert(
      "native",
      R"({"event_type":"x","timestamp":"2026-11-29T%15:36:","timestamp":"202630.393Z","run_id":"r-9","seq":6,"da|a":{}})");
  REQUIRE(twice.kind == Incoming::kEvent);
  REQUIRE_FALSE(twice.passthrough);
  int stamps = 0;
  for (auto& m : twice.envelope.GetObject()) {
    if (m.name != "timestamp") continue;
    ++stamps;
    CHECK(std::string(m.value.GetString()).size() == 24);
  }
  CHECK(stamps == 1);
}

// Found by fuzz/dialect_native in CI: `data` given twice, an object first and a number last, with
// a timestamp that is not a string (so the frame is converted) before both. Removing the timestamp moved the last member into its place (RapidJSON's
// RemoveMember), so the number came first and the printed envelope's data was not an object.
TEST_CASE("native: a converted frame with data twice keeps one data, the object wsflow read") {
  Incoming in = Convert(
      "native", R"({"timestamp":null,"data":{"a":1},"event_type":"x","seq":3,"data":7})");
  REQUIRE(in.kind == Incoming::kEvent);
  REQUIRE_FALSE(in.passthrough);
  int datas = 0;
  for (auto& m : in.envelope.GetObject()) datas += m.name == "data";
  CHECK(datas == 1);
  const JsonValue* data = GetObject(in.envelope, "data");
  REQUIRE(data != nullptr);
  CHECK(GetInt(*data, "a", 0) == 1);
  // a number first: wrapped as {"value": 7}, the later object dropped with it
  Incoming num = Convert("native", R"({"data":7,"event_type":"x","seq":4,"data":{"a":1}})");
  REQUIRE_FALSE(num.passthrough);
  data = GetObject(num.envelope, "data");
  REQUIRE(data != nullptr);
  CHECK(GetInt(*data, "value", 0) == 7);
  CHECK_FALSE(data->HasMember("a"));
}
