#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/json.h"
#include "fake_transport.h"
#include "server/native_protocol.h"

using namespace wsflow;
using namespace wsflow::serve;
using wsflow::serve::testing::FakeTransport;
using wsflow::serve::testing::Parsed;
using wsflow::serve::testing::TempDir;

namespace {

struct Native {
  TempDir dir;
  FakeTransport t;
  RunStore store{dir.path()};
  LogCache cache{1 << 20};
  RunRegistry runs;
  Fanout fanout{&t, nullptr, {}};
  IdMaker ids{42};
  NativeProtocol protocol;
  std::map<ConnId, size_t> read;  // frames already looked at, per connection

  explicit Native(NativeProtocol::Options o = {})
      : runs(&store, &cache, &t, Quiet()), protocol(&runs, &fanout, &t, &ids, o) {
    std::string err;
    REQUIRE(store.Open(&err));
    runs.SetListener(&protocol);
    REQUIRE(runs.Open(&err));
  }
  static RunRegistry::Options Quiet() {
    RunRegistry::Options o;
    o.quiet = true;
    return o;
  }
  void Open(ConnId id, const std::string& resource = "/ws") {
    Refusal r;
    REQUIRE(protocol.Accepts(resource, &r));
    protocol.OnOpen(id, resource);
  }
  void Send(ConnId id, const std::string& frame) {
    protocol.OnMessage(id, false, frame);
    t.RunDue();
  }
  /// The frames sent on `id` since the last call.
  std::vector<JsonDoc> New(ConnId id) {
    std::vector<JsonDoc> out;
    const auto& sent = t.sent(id);
    for (size_t& i = read[id]; i < sent.size(); ++i) out.push_back(Parsed(sent[i]));
    return out;
  }
  /// The next frame sent on `id` (fails when there is none).
  JsonDoc Next(ConnId id) {
    const auto& sent = t.sent(id);
    size_t& i = read[id];
    REQUIRE(i < sent.size());
    return Parsed(sent[i++]);
  }
  void RunUntilState(const std::string& run_id, RunState state) {
    std::string err;
    REQUIRE(t.AdvanceUntil(
        [&] {
          Run* r = runs.Find(run_id, &err);
          return r && r->state() == state;
        },
        5000));
  }
};

std::string Type(const JsonValue& v) { return std::string(GetString(v, "event_type")); }
const JsonValue& Data(const JsonValue& v) { return v["data"]; }

}  // namespace

TEST_CASE("NativeProtocol: execute is acknowledged, then the run's events follow in seq order") {
  Native n;
  n.Open(1);
  n.Send(1, R"({"type":"execute","task":"t","config":{"delay_ms":0},"run_id":"r-1","request_id":"q1"})");
  JsonDoc ack = n.Next(1);
  CHECK(Type(ack) == "ack");
  CHECK(GetString(Data(ack), "action") == "execute");
  CHECK(GetInt(Data(ack), "last_seq", -1) == 0);
  CHECK(GetInt(Data(ack), "from_seq", -1) == 0);
  CHECK(GetString(Data(ack), "state") == "running");
  CHECK(Data(ack)["outcome"].IsNull());
  CHECK(GetString(ack, "request_id") == "q1");
  CHECK(GetString(ack, "run_id") == "r-1");
  n.RunUntilState("r-1", RunState::kWaiting);
  auto events = n.New(1);
  REQUIRE(events.size() == 16);
  for (size_t i = 0; i < events.size(); ++i) CHECK(GetInt(events[i], "seq", 0) == static_cast<int64_t>(i + 1));
  CHECK(Type(events.back()) == "approval_requested");
}

TEST_CASE("NativeProtocol: a run id is made when none is given; the MARS first frame is an execute") {
  Native n;
  n.Open(1);
  n.Send(1, R"({"task":"mars style","config":{"delay_ms":0}})");
  JsonDoc ack = n.Next(1);
  CHECK(GetString(Data(ack), "action") == "execute");
  std::string id(GetString(ack, "run_id"));
  CHECK(id.size() == 14);
  CHECK(id.rfind("r-", 0) == 0);
  n.Open(2, "/ws/path-run");
  n.Send(2, R"({"type":"execute","task":"t"})");  // the path names the run
  CHECK(GetString(n.Next(2), "run_id") == "path-run");
}

TEST_CASE("NativeProtocol: a retried execute attaches; another one for the same run is refused") {
  Native n;
  n.Open(1);
  n.Send(1, R"({"type":"execute","task":"t","config":{"delay_ms":0},"run_id":"r","request_id":"e1"})");
  n.RunUntilState("r", RunState::kWaiting);
  n.Open(2);
  n.Send(2, R"({"type":"execute","task":"t","run_id":"r","request_id":"e1","since_seq":10})");
  auto frames = n.New(2);
  REQUIRE(frames.size() == 7);
  CHECK(GetString(Data(frames[0]), "action") == "execute");
  CHECK(GetInt(Data(frames[0]), "from_seq", -1) == 10);
  CHECK(GetString(Data(frames[0]), "state") == "waiting");
  CHECK(GetInt(frames[1], "seq", 0) == 11);
  n.Send(2, R"({"type":"execute","task":"t","run_id":"r","request_id":"other"})");
  JsonDoc err = n.Next(2);
  CHECK(Type(err) == "error");
  CHECK(GetString(Data(err), "error_type") == "run_exists");
}

TEST_CASE("NativeProtocol: subscribe with since_seq or tail; the ack says the run's state and outcome") {
  Native n;
  n.Open(1);
  n.Send(1, R"({"type":"execute","task":"t","config":{"scenario":"fail","delay_ms":0},"run_id":"f"})");
  REQUIRE(n.t.AdvanceUntil([&] { std::string e; return n.runs.Find("f", &e)->ended(); }, 1000));
  n.Open(2);
  n.Send(2, R"({"type":"subscribe","run_id":"f","since_seq":7,"request_id":"s"})");
  auto frames = n.New(2);
  REQUIRE(frames.size() == 3);
  const JsonValue& d = Data(frames[0]);
  CHECK(GetInt(d, "last_seq", 0) == 9);
  CHECK(GetInt(d, "from_seq", 0) == 7);
  CHECK(GetString(d, "state") == "failed");
  CHECK(GetString(d, "outcome") == "failed");
  CHECK(GetInt(frames[1], "seq", 0) == 8);
  n.Send(2, R"({"type":"subscribe","run_id":"f","tail":1})");
  frames = n.New(2);
  REQUIRE(frames.size() == 2);
  CHECK(GetInt(Data(frames[0]), "from_seq", 0) == 8);
  CHECK(Type(frames[1]) == "workflow_failed");
  n.Send(2, R"({"type":"subscribe","run_id":"f","since_seq":500})");  // past the end: the end
  frames = n.New(2);
  REQUIRE(frames.size() == 1);
  CHECK(GetInt(Data(frames[0]), "from_seq", 0) == 9);
  n.Send(2, R"({"type":"unsubscribe","run_id":"f","request_id":"u"})");
  JsonDoc ack = n.Next(2);
  CHECK(GetString(Data(ack), "action") == "unsubscribe");
  CHECK_FALSE(Data(ack).HasMember("state"));  // only subscriptions say where the run stands
}

TEST_CASE("NativeProtocol: controls are acknowledged before the events they cause, and applied once") {
  Native n;
  n.Open(1);
  n.Send(1, R"({"type":"execute","task":"t","config":{"delay_ms":0},"run_id":"r"})");
  n.RunUntilState("r", RunState::kWaiting);
  n.New(1);
  n.Open(2);  // a connection that does not follow the run gets only the answers
  n.Send(2, R"({"type":"resolve_approval","run_id":"r","approval_id":"approval-s3","resolution":"ok","request_id":"a1"})");
  JsonDoc refused = n.Next(2);
  CHECK(GetString(Data(refused), "error_type") == "approval_error");
  CHECK(GetString(Data(refused), "message") == "resolution 'ok' is not one of the options: approve reject modify");
  n.Send(2, R"({"type":"pause","run_id":"r","request_id":"p1"})");
  JsonDoc paused = n.Next(2);
  CHECK(GetString(Data(paused), "action") == "pause");
  CHECK(GetInt(Data(paused), "last_seq", 0) == 16);
  CHECK(n.New(2).empty());
  auto events = n.New(1);
  REQUIRE(events.size() == 1);
  CHECK(Type(events[0]) == "workflow_paused");
  std::string first = n.t.sent(2).back();
  n.Send(2, R"({"type":"pause","run_id":"r","request_id":"p1"})");  // retried: the same answer
  CHECK(n.t.sent(2).back() == first);
  CHECK(n.Next(2).HasMember("data"));
  CHECK(n.New(1).empty());
  n.Send(2, R"({"type":"pause","run_id":"r","request_id":"p2"})");
  JsonDoc again = n.Next(2);
  CHECK(GetString(Data(again), "error_type") == "invalid_state");
  CHECK(GetString(Data(again), "message") == "run is already paused");
}

TEST_CASE("NativeProtocol: which run a frame is about") {
  Native n;
  n.Open(1);
  n.Send(1, R"({"type":"execute","task":"t","config":{"delay_ms":0},"run_id":"a"})");
  n.RunUntilState("a", RunState::kWaiting);
  n.Send(1, R"({"type":"approval_response","approval_id":"approval-s3","approved":true,"request_id":"x"})");
  auto frames = n.New(1);
  bool acked = false;
  for (auto& f : frames)
    if (Type(f) == "ack" && GetString(f, "request_id") == "x") acked = GetString(f, "run_id") == "a";
  CHECK(acked);  // the approval's run, among those followed
  n.Open(2, "/ws/a");
  n.Send(2, R"({"type":"run_status"})");  // the path's run
  CHECK(GetString(n.Next(2), "run_id") == "a");
  n.Open(3);
  n.Send(3, R"({"type":"cancel"})");
  JsonDoc none = n.Next(3);
  CHECK(GetString(Data(none), "error_type") == "unknown_run");
  CHECK(GetString(Data(none), "message") == "no run_id given");
  n.Send(3, R"({"type":"subscribe","run_id":"ghost","request_id":"g"})");
  JsonDoc ghost = n.Next(3);
  CHECK(GetString(Data(ghost), "message") == "run ghost not found");
  CHECK(GetString(ghost, "request_id") == "g");
}

TEST_CASE("NativeProtocol: list_runs, newest first, filtered, limited; bad filters are refused") {
  Native n;
  n.Open(1);
  for (const char* id : {"one", "two", "three"})
    n.Send(1, std::string(R"({"type":"execute","task":"task )") + id + R"(","config":{"delay_ms":0},"run_id":")" +
                  id + "\"}");
  n.RunUntilState("three", RunState::kWaiting);
  n.Send(1, R"({"type":"cancel","run_id":"two"})");
  n.New(1);
  n.Send(1, R"({"type":"list_runs","request_id":"l"})");
  JsonDoc all = n.Next(1);
  CHECK(GetString(Data(all), "action") == "list_runs");
  CHECK(GetString(all, "request_id") == "l");
  CHECK(GetInt(Data(all), "total", 0) == 3);
  const JsonValue& runs = Data(all)["runs"];
  REQUIRE(runs.Size() == 3);
  for (auto& r : runs.GetArray()) {
    for (const char* key : {"run_id", "state", "task", "created", "updated", "last_seq", "outcome"})
      CHECK(r.HasMember(key));
  }
  n.Send(1, R"({"type":"list_runs","state":"cancelled"})");
  JsonDoc cancelled = n.Next(1);
  REQUIRE(Data(cancelled)["runs"].Size() == 1);
  CHECK(GetString(Data(cancelled)["runs"][0], "run_id") == "two");
  CHECK(GetString(Data(cancelled)["runs"][0], "outcome") == "cancelled");
  n.Send(1, R"({"type":"list_runs","state":"waiting","limit":1})");
  JsonDoc limited = n.Next(1);
  CHECK(Data(limited)["runs"].Size() == 1);
  CHECK(GetInt(Data(limited), "total", 0) == 2);
  for (const char* bad : {R"({"type":"list_runs","state":"sleeping"})", R"({"type":"list_runs","limit":0})",
                          R"({"type":"list_runs","limit":"10"})", R"({"type":"list_runs","state":["running"]})"}) {
    n.Send(1, bad);
    JsonDoc err = n.Next(1);
    INFO(bad);
    CHECK(GetString(Data(err), "error_type") == "invalid_request");
  }
}

TEST_CASE("NativeProtocol: run_status says the state, the outcome and the open approvals with their options") {
  Native n;
  n.Open(1);
  n.Send(1, R"({"type":"execute","task":"report","config":{"delay_ms":0},"run_id":"r"})");
  n.RunUntilState("r", RunState::kWaiting);
  n.Open(2);
  n.Send(2, R"({"type":"run_status","run_id":"r","request_id":"s"})");
  JsonDoc st = n.Next(2);
  const JsonValue& d = Data(st);
  CHECK(GetString(d, "action") == "run_status");
  CHECK(GetString(d, "state") == "waiting");
  CHECK(d["outcome"].IsNull());
  CHECK(GetInt(d, "last_seq", 0) == 16);
  CHECK(GetString(d, "task") == "report");
  REQUIRE(d["approvals"].Size() == 1);
  const JsonValue& a = d["approvals"][0];
  CHECK(GetInt(a, "seq", 0) == 16);
  CHECK(GetString(a, "approval_id") == "approval-s3");
  CHECK(ToJson(a["options"]) == R"(["approve","reject","modify"])");
  n.Send(2, R"({"type":"resolve_approval","run_id":"r","approval_id":"approval-s3","resolution":"approve"})");
  REQUIRE(n.t.AdvanceUntil([&] { std::string e; return n.runs.Find("r", &e)->ended(); }, 1000));
  n.New(2);
  n.Send(2, R"({"type":"run_status","run_id":"r"})");
  JsonDoc done = n.Next(2);
  CHECK(GetString(Data(done), "state") == "completed");
  CHECK(GetString(Data(done), "outcome") == "completed");
  CHECK(Data(done)["approvals"].Empty());
  n.Send(2, R"({"type":"run_status","run_id":"nope"})");
  CHECK(GetString(Data(n.Next(2)), "error_type") == "unknown_run");
}

TEST_CASE("NativeProtocol: request_state replays the events later than `since` (seconds)") {
  Native n;
  n.Open(1);
  n.Send(1, R"({"type":"execute","task":"t","config":{"delay_ms":0},"run_id":"r"})");
  n.RunUntilState("r", RunState::kWaiting);
  n.Open(2);
  n.Send(2, R"({"type":"request_state","run_id":"r","since":0})");
  auto frames = n.New(2);
  REQUIRE(frames.size() == 17);
  CHECK(GetString(Data(frames[0]), "action") == "request_state");
  n.Send(2, R"({"type":"request_state","run_id":"r","since":1.0e15})");  // milliseconds by mistake
  frames = n.New(2);
  REQUIRE(frames.size() == 1);
  CHECK(GetInt(Data(frames[0]), "from_seq", 0) == 16);
}

TEST_CASE("NativeProtocol: bad input gets one error each and never ends the connection") {
  Native n;
  n.Open(1);
  std::string deep(100000, '[');
  std::string deep_obj;
  for (int i = 0; i < 50000; ++i) deep_obj += "{\"a\":";
  for (const std::string& frame : {std::string("not json"), std::string("[1]"), deep, deep_obj,
                                   std::string("{\"type\":\"frobnicate\",\"request_id\":\"q1\"}"),
                                   std::string("{\"nothing\":1}"), std::string("{\"type\":\"execute\",\"task\":\"\"}"),
                                   "{\"type\":\"execute\",\"task\":\"t\",\"run_id\":\"" + std::string(201, 'x') + "\"}",
                                   std::string(R"({"type":"execute","task":"t","config":{"scenario":"nope"}})")}) {
    n.Send(1, frame);
  }
  n.protocol.OnMessage(1, true, std::string("\x00\x01", 2));
  auto replies = n.New(1);
  std::vector<std::string> kinds;
  for (auto& r : replies) kinds.push_back(std::string(GetString(Data(r), "error_type")));
  CHECK(kinds == std::vector<std::string>{"invalid_json", "invalid_json", "invalid_json", "invalid_json",
                                          "unknown_type", "invalid_request", "invalid_request", "invalid_request",
                                          "invalid_request", "invalid_frame"});
  CHECK(GetString(Data(replies[2]), "message").find("nested deeper than") != std::string::npos);
  CHECK(GetString(replies[4], "request_id") == "q1");
  n.Send(1, R"({"type":"ping","request_id":"p"})");
  JsonDoc pong = n.Next(1);
  CHECK(Type(pong) == "pong");
  CHECK(GetString(pong, "request_id") == "p");
  CHECK_FALSE(n.t.peer(1).closing);
}

TEST_CASE("NativeProtocol: a server replaying a recording starts no runs") {
  NativeProtocol::Options o;
  o.replay_run_id = "rec";
  Native n(o);
  n.Open(1);
  n.Send(1, R"({"type":"execute","task":"t"})");
  JsonDoc err = n.Next(1);
  CHECK(GetString(Data(err), "error_type") == "invalid_request");
  CHECK(GetString(Data(err), "message") == "this server replays a recording of run rec; it starts no runs");
}

TEST_CASE("NativeProtocol: only /, /ws and /ws/{run_id} are endpoints") {
  Native n;
  Refusal r;
  CHECK(n.protocol.Accepts("/ws?x=1", &r));
  CHECK(n.protocol.Accepts("/", &r));
  CHECK(n.protocol.Accepts("/ws/r%201", &r));
  CHECK_FALSE(n.protocol.Accepts("/api", &r));
  CHECK(r.status == 404);
  CHECK(r.body == "wsflow serve: no such endpoint /api (use /ws or /ws/{run_id})\n");
}

TEST_CASE("NativeProtocol: one connection follows 1,000 runs and gets every event of each") {
  Native n;
  n.Open(1);
  for (int i = 0; i < 1000; ++i)
    n.Send(1, R"({"type":"execute","task":"t","config":{"scenario":"long","events":20,"delay_ms":1},"run_id":"m)" +
                  std::to_string(i) + "\"}");
  REQUIRE(n.t.AdvanceUntil(
      [&] {
        std::string e;
        for (int i = 0; i < 1000; ++i)
          if (!n.runs.Find("m" + std::to_string(i), &e)->ended()) return false;
        return true;
      },
      10000, 5));
  std::map<std::string, std::vector<int64_t>> seqs;
  for (auto& f : n.New(1))
    if (f.HasMember("seq")) seqs[std::string(GetString(f, "run_id"))].push_back(GetInt(f, "seq", 0));
  REQUIRE(seqs.size() == 1000);
  for (auto& [id, s] : seqs) {
    INFO(id);
    REQUIRE(s.size() == 24);
    for (size_t i = 0; i < s.size(); ++i) REQUIRE(s[i] == static_cast<int64_t>(i + 1));
  }
}
