#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "fake_transport.h"
#include "server/dialect_host.h"

using namespace wsflow;
using namespace wsflow::serve;
using wsflow::serve::testing::FakeTransport;
using wsflow::serve::testing::Parsed;
using wsflow::serve::testing::TempDir;

namespace {

struct Host {
  TempDir dir;
  FakeTransport t;
  RunStore store{dir.path()};
  LogCache cache{1 << 20};
  RunRegistry runs;
  FaultInjector faults{&t, {}};
  Fanout fanout{&t, &faults, {}};
  IdMaker ids{7};
  DialectOptions opts;
  std::unique_ptr<DialectHost> host;
  std::map<ConnId, size_t> read;

  explicit Host(ServerDialect d, int64_t heartbeat_ms = 0, bool strict = false, bool coordinator = false,
                int64_t answer_window_ms = 500)
      : runs(&store, &cache, &t, Options(d)) {
    opts.mars_answer_window_ms = answer_window_ms;
    opts.dialect = d;
    opts.heartbeat_ms = heartbeat_ms;
    opts.mars_strict = strict;
    opts.a2a_coordinator = coordinator;
    host = std::make_unique<DialectHost>(opts, &runs, &fanout, &t, &ids, false, nullptr);
    std::string err;
    REQUIRE(store.Open(&err));
    runs.SetListener(host.get());
    fanout.SetListener(host.get());
    REQUIRE(runs.Open(&err));
  }
  static RunRegistry::Options Options(ServerDialect d) {
    RunRegistry::Options o;
    o.quiet = true;
    o.restore_all = true;
    if (d == ServerDialect::kChat) {
      o.default_scenario = "chat";
      o.own_scenarios["chat"] = ChatScenarioJson();
    }
    return o;
  }
  void Open(ConnId id, const std::string& resource) {
    Refusal r;
    REQUIRE(host->Accepts(resource, &r));
    host->OnOpen(id, resource);
    t.RunDue();
  }
  void Send(ConnId id, const std::string& frame, bool binary = false) {
    host->OnMessage(id, binary, frame);
    t.RunDue();
  }
  std::vector<JsonDoc> New(ConnId id) {
    std::vector<JsonDoc> out;
    const auto& sent = t.sent(id);
    for (size_t& i = read[id]; i < sent.size(); ++i) out.push_back(Parsed(sent[i]));
    return out;
  }
  /// Frames up to and including the first where `pred` holds (advancing the clock), else fails.
  std::vector<JsonDoc> Until(ConnId id, const std::function<bool(const JsonDoc&)>& pred, int64_t max_ms = 5000) {
    std::vector<JsonDoc> out;
    bool found = t.AdvanceUntil(
        [&] {
          const auto& sent = t.sent(id);
          for (size_t& i = read[id]; i < sent.size();) {
            out.push_back(Parsed(sent[i++]));
            if (pred(out.back())) return true;
          }
          return false;
        },
        max_ms);
    REQUIRE(found);
    return out;
  }
  void Close(ConnId id) {
    host->OnClose(id);
    t.RunDue();
  }
};

std::string Str(const JsonValue& v, const char* key) { return std::string(GetString(v, key)); }
auto EventType(const char* type) {
  return [type](const JsonDoc& f) { return Str(f, "event_type") == type; };
}
auto TypeIs(const char* type) {
  return [type](const JsonDoc& f) { return Str(f, "type") == type; };
}

}  // namespace

TEST_CASE("DialectHost cmbagent: a task runs to its end with MARS frames, then the socket is closed") {
  Host h(ServerDialect::kCmbagent);
  h.Open(1, "/ws/task-1");
  h.Send(1, R"({"task":"report","config":{"delay_ms":0,"mode":"one-shot"}})");
  auto frames = h.Until(1, EventType("approval_requested"));
  CHECK(Str(frames[0], "event_type") == "workflow_started");
  std::string uuid = Str(frames[0], "run_id");
  CHECK(uuid.size() == 36);
  CHECK(Str(frames[2], "event_type") == "step_start");
  CHECK(Str(frames[2], "run_id") == "task-1");
  h.Send(1, R"({"type":"resolve_approval","approval_id":"nope","resolution":"approve"})");
  auto err = h.Until(1, EventType("error"));
  CHECK(Str(err.back()["data"], "message") == "Approval nope not found or already resolved");
  h.Send(1, R"({"type":"approval_response","approval_id":"approval-s3","approved":true})");
  auto rest = h.Until(1, EventType("complete"));
  CHECK(Str(rest[rest.size() - 2], "event_type") == "workflow_completed");
  CHECK(Str(rest[rest.size() - 2], "run_id") == uuid);
  h.t.RunDue();
  CHECK(h.t.peer(1).closing);
  CHECK(h.t.peer(1).close_code == 1000);
}

TEST_CASE("DialectHost cmbagent: first-frame errors close the socket") {
  Host h(ServerDialect::kCmbagent);
  h.Open(1, "/ws/new");
  h.Send(1, R"({"config":{}})");
  auto f = h.New(1);
  REQUIRE(f.size() == 1);
  CHECK(Str(f[0]["data"], "message") == "No task provided");
  CHECK(h.t.peer(1).close_code == 1000);
  h.Open(2, "/ws/new2");
  h.Send(2, "{\"task\": oops");
  f = h.New(2);
  REQUIRE(f.size() == 1);
  CHECK(Str(f[0]["data"], "message") == "Execution error: Expecting value: line 1 column 10 (char 9)");
  h.Open(3, "/ws/new3");
  h.Send(3, std::string(100000, '['));  // deep nesting: an error frame, no crash
  f = h.New(3);
  REQUIRE(f.size() == 1);
  CHECK(Str(f[0]["data"], "message").rfind("Execution error: ", 0) == 0);
  Refusal r;
  CHECK_FALSE(h.host->Accepts("/api/workflow/stream", &r));
  CHECK(r.body == "wsflow serve --dialect cmbagent: no such endpoint /api/workflow/stream (use /ws/{task_id})\n");
}

TEST_CASE("DialectHost cmbagent: a second socket closes the first; request_state replays; heartbeats while running") {
  Host h(ServerDialect::kCmbagent, /*heartbeat_ms=*/100);
  h.Open(1, "/ws/t");
  h.Send(1, R"({"task":"x","config":{"scenario":"long","events":50,"delay_ms":30}})");
  auto first = h.Until(1, EventType("heartbeat"));
  h.Open(2, "/ws/t");
  CHECK(h.t.peer(1).close_code == 1000);
  CHECK(h.t.peer(1).close_reason == "Reconnection");
  h.Close(1);
  h.Send(2, R"({"type":"request_state","since":0})");
  auto state = h.New(2);
  REQUIRE(state.size() >= 2);
  CHECK(Str(state[0], "event_type") == "workflow_state_changed");
  CHECK(Str(state[0]["data"], "status") == "executing");
  CHECK(Str(state[1], "event_type") == "workflow_started");  // the replay
  h.Send(2, R"({"type":"pause"})");
  h.Until(2, EventType("workflow_paused"));
  h.t.Advance(500);
  for (auto& f : h.New(2)) CHECK(Str(f, "event_type") != "heartbeat");  // none while paused
  h.Send(2, R"({"type":"cancel"})");
  auto end = h.Until(2, EventType("workflow_cancelled"));
  CHECK(Str(end[end.size() - 2], "event_type") == "workflow_failed");
  h.t.RunDue();
  CHECK(h.t.peer(2).close_code == 1000);
}

TEST_CASE("DialectHost cmbagent --mars-strict: no resume, and a newer socket loses its control answers") {
  Host h(ServerDialect::kCmbagent, 0, /*strict=*/true);
  h.Open(1, "/ws/s");
  h.Send(1, R"({"task":"x","config":{"scenario":"long","events":200,"delay_ms":20}})");
  h.Until(1, EventType("step_start"));
  h.Open(2, "/ws/s");  // a reconnect whose first frame is not a task
  h.Send(2, R"({"type":"request_state","since":0})");
  auto f = h.New(2);
  REQUIRE(f.size() == 1);
  CHECK(Str(f[0]["data"], "message") == "No task provided");
  h.Close(1);
  h.Close(2);
  h.Open(3, "/ws/s");
  h.Send(3, R"({"task":"again","config":{"scenario":"long","events":200,"delay_ms":20}})");
  h.Until(3, EventType("step_start"));
  h.Open(4, "/ws/s");  // the newest is orphaned: its pong and control answers are lost
  h.Send(4, R"({"task":"third","config":{"scenario":"long","events":200,"delay_ms":20}})");
  h.Until(4, EventType("step_start"));
  h.Send(4, R"({"type":"ping"})");
  h.Send(4, R"({"type":"pause"})");
  h.t.Advance(300);
  for (auto& frame : h.New(4)) {
    CHECK(Str(frame, "event_type") != "pong");
    CHECK(Str(frame, "event_type") != "workflow_paused");
  }
}

TEST_CASE("DialectHost cmbagent: an approve answer is acknowledged with approved false, as MARS does") {
  Host h(ServerDialect::kCmbagent);
  h.Open(1, "/ws/ack");
  h.Send(1, R"({"task":"report","config":{"delay_ms":0}})");
  h.Until(1, EventType("approval_requested"));
  h.Send(1, R"({"type":"resolve_approval","approval_id":"approval-s3","resolution":"approve"})");
  auto ack = h.Until(1, EventType("approval_received"));
  CHECK(Str(ack.back()["data"], "resolution") == "approve");
  CHECK(GetBool(ack.back()["data"], "approved", true) == false);
  auto rest = h.Until(1, EventType("complete"));  // the run goes on all the same
  CHECK(Str(rest[rest.size() - 2], "event_type") == "workflow_completed");
}

TEST_CASE("DialectHost cmbagent --mars-strict: an answer sooner than the window is lost and the run fails") {
  Host h(ServerDialect::kCmbagent, 0, /*strict=*/true);
  REQUIRE(h.opts.mars_answer_window_ms == 500);
  h.Open(1, "/ws/soon");
  h.Send(1, R"({"task":"report","config":{"delay_ms":0}})");
  h.Until(1, EventType("approval_requested"));
  auto asked = h.t.Now();
  h.t.Advance(100);
  h.Send(1, R"({"type":"resolve_approval","approval_id":"approval-s3","resolution":"approve"})");
  auto ack = h.New(1);
  REQUIRE(ack.size() == 1);  // acknowledged at once: the approval manager resolved and removed it
  CHECK(Str(ack[0], "event_type") == "approval_received");
  CHECK(GetBool(ack[0]["data"], "approved", true) == false);
  h.Send(1, R"({"type":"resolve_approval","approval_id":"approval-s3","resolution":"approve"})");
  auto again = h.New(1);
  REQUIRE(again.size() == 1);
  CHECK(Str(again[0]["data"], "message") == "Approval approval-s3 not found or already resolved");
  auto rest = h.Until(1, EventType("error"));
  CHECK(h.t.Now() - asked >= std::chrono::milliseconds(500));  // when the executor began to wait
  std::vector<std::string> types;
  for (auto& f : rest) types.push_back(Str(f, "event_type"));
  CHECK(types == std::vector<std::string>{"dag_node_status_changed", "workflow_failed", "workflow_failed", "error"});
  CHECK(Str(rest[0]["data"], "node_id") == "s3");
  CHECK(Str(rest[0]["data"], "new_status") == "failed");
  CHECK(Str(rest[1]["data"], "message") == "Approval approval-s3 not found");
  CHECK(Str(rest[3]["data"], "message") == "Approval approval-s3 not found");
  h.t.RunDue();
  CHECK(h.t.peer(1).close_code == 1000);
}

TEST_CASE("DialectHost cmbagent --mars-strict: an answer after the window completes the run") {
  Host h(ServerDialect::kCmbagent, 0, /*strict=*/true);
  h.Open(1, "/ws/late");
  h.Send(1, R"({"task":"report","config":{"delay_ms":0}})");
  h.Until(1, EventType("approval_requested"));
  h.t.Advance(500);
  h.Send(1, R"({"type":"approval_response","approval_id":"approval-s3","approved":true})");
  auto rest = h.Until(1, EventType("complete"));
  CHECK(Str(rest[0], "event_type") == "approval_received");
  CHECK(Str(rest[0]["data"], "resolution") == "approved");  // an answer by flag
  CHECK(GetBool(rest[0]["data"], "approved", false) == true);
  CHECK(Str(rest[rest.size() - 2], "event_type") == "workflow_completed");
}

TEST_CASE("DialectHost cmbagent --mars-strict: --mars-answer-window 0 never loses an answer") {
  Host h(ServerDialect::kCmbagent, 0, /*strict=*/true, false, /*answer_window_ms=*/0);
  h.Open(1, "/ws/zero");
  h.Send(1, R"({"task":"report","config":{"delay_ms":0}})");
  h.Until(1, EventType("approval_requested"));
  h.Send(1, R"({"approved":true})");
  auto rest = h.Until(1, EventType("complete"));
  CHECK(Str(rest[rest.size() - 2], "event_type") == "workflow_completed");
}

TEST_CASE("DialectHost ryx: a run per request, one frame at a time") {
  Host h(ServerDialect::kRyx);
  h.Open(1, "/api/workflow/stream");
  h.Send(1, R"({"action":"execute_workflow","input":"summarise","config":{"delay_ms":0}})");
  h.Send(1, R"({"action":"cancel_workflow"})");  // waits for the run's end
  auto frames = h.Until(1, TypeIs("acknowledged"));
  std::vector<std::string> types;
  for (auto& f : frames) types.push_back(Str(f, "type"));
  CHECK(types.back() == "acknowledged");
  CHECK(types[types.size() - 2] == "task_complete");
  CHECK(std::count(types.begin(), types.end(), "step_start") == 5);
  h.Send(1, "{bad");
  auto bad = h.New(1);
  REQUIRE(bad.size() == 1);
  CHECK(Str(bad[0], "message") == "Invalid JSON data");
  h.Send(1, "[1]");  // not an object: the connection just ends
  CHECK(h.t.peer(1).dropped);
}

TEST_CASE("DialectHost a2a: info on connect, progress, the last 50 frames for a late socket, metrics") {
  Host h(ServerDialect::kA2a, 0, false, /*coordinator=*/true);
  h.Open(1, "/ws/workflow/wf?scenario=long&events=100&delay_ms=0&client_id=me");
  auto first = h.Until(1, [](const JsonDoc& f) { return Str(f, "state") == "completed"; });
  REQUIRE(first.size() >= 2);
  CHECK(Str(first[0], "type") == "info");
  CHECK(Str(first[0], "client_id") == "me");
  CHECK(Str(first[1], "type") == "status");
  CHECK(Str(first[2], "type") == "progress");
  h.Open(2, "/ws/workflow/wf");
  auto late = h.New(2);
  REQUIRE(late.size() == 2 + 50);
  CHECK(Str(late[0], "type") == "info");
  CHECK(Str(late[0], "client_id").size() == 36);
  CHECK(Str(late.back(), "state") == "completed");
  h.Open(3, "/ws/coordinator");
  h.New(3);
  h.Send(3, R"({"type":"get_metrics"})");
  auto m = h.New(3);
  REQUIRE(m.size() == 1);
  CHECK(Str(m[0], "type") == "coordinator_metrics");
  CHECK(GetInt(m[0], "total_workflows", 0) == 1);
  CHECK(GetInt(m[0], "active_workflows", -1) == 0);
  h.Send(3, R"({"type":"control","action":"cancel","workflow_id":"wf"})");
  auto c = h.New(3);
  REQUIRE(c.size() == 1);
  CHECK(Str(c[0], "status") == "error");  // it has ended already
}

TEST_CASE("DialectHost aladdin: subscribe is answered with a pong; a monitor sees every execution") {
  Host h(ServerDialect::kAladdin, /*heartbeat_ms=*/1000);
  h.Open(9, "/monitor");
  h.Send(9, R"({"type":"subscribe","executionId":"all"})");
  h.Open(1, "/any/path");
  auto hello = h.New(1);
  REQUIRE(hello.size() == 1);
  CHECK(Str(hello[0], "type") == "ping");
  h.Send(1, R"({"type":"subscribe","executionId":"ex-1","delay_ms":0})");
  auto frames = h.Until(1, [](const JsonDoc& f) {
    return f.HasMember("event") && Str(f["event"], "type") == "orchestration-complete";
  });
  CHECK(Str(frames[0], "type") == "pong");
  CHECK(Str(frames[1]["event"], "type") == "orchestration-start");
  auto watched = h.New(9);
  CHECK(watched.size() == 2 + frames.size() - 1);  // its greeting and pong, then every event of ex-1
  // a client that did not answer the previous protocol ping is closed without a status
  h.t.Advance(1000);
  CHECK(h.t.peer(1).pings == 1);
  h.host->OnPong(1);
  h.t.Advance(1000);
  CHECK_FALSE(h.t.peer(1).closing);
  h.t.Advance(1000);
  CHECK(h.t.peer(1).closing);
  CHECK(h.t.peer(1).close_code == 0);
}

TEST_CASE("DialectHost chat: status on connect; a message makes tools and an answer; a ping is answered at once") {
  Host h(ServerDialect::kChat);
  h.Open(1, "/ws/chat?session_id=sess-1");
  auto hello = h.New(1);
  REQUIRE(hello.size() == 1);
  CHECK(Str(hello[0]["data"], "status") == "connected");
  CHECK(Str(hello[0]["data"], "session_id") == "sess-1");
  h.Send(1, R"({"type":"message","data":{"content":"hello there"}})");
  h.Send(1, R"({"type":"ping"})");
  auto frames = h.Until(1, TypeIs("message"));
  std::vector<std::string> types;
  for (auto& f : frames) types.push_back(Str(f, "type"));
  CHECK(types.front() == "pong");  // not after the reply
  CHECK(std::count(types.begin(), types.end(), "tool_execution") == 4);
  CHECK(Str(frames.back()["data"], "content").find("hello there") != std::string::npos);
  h.Send(1, R"({"type":"message","data":{"content":""}})");
  auto err = h.New(1);
  REQUIRE(err.size() == 1);
  CHECK(Str(err[0]["data"], "message") == "Message content is required");
}

TEST_CASE("DialectHost: the backend's close code at shutdown comes from its table") {
  Host aladdin(ServerDialect::kAladdin);
  CHECK(aladdin.host->ShutdownClose() == std::pair<int, std::string>{1000, "Server shutting down"});
  Host chat(ServerDialect::kChat);
  CHECK(chat.host->ShutdownClose() == std::pair<int, std::string>{1001, "server shutting down"});
}
