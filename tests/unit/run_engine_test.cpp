#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "server/run_engine.h"
#include "server/scenario.h"

using namespace wsflow;
using Vars = std::vector<std::pair<std::string, std::string>>;
using State = RunEngine::State;

namespace {

const Vars kVars = {{"run_id", "r-1"}, {"task", "write a \"report\""}, {"model", "m-1"}};

Scenario LoadBuiltin(const std::string& name, const std::string& config = "{}") {
  JsonDoc cfg;
  std::string err;
  REQUIRE(ParseJson(config, &cfg, &err));
  Scenario s;
  bool ok = BuiltinScenario(name, cfg, &s, &err);
  INFO(err);
  REQUIRE(ok);
  return s;
}

Scenario LoadCustom(const std::string& text) {
  JsonDoc d;
  std::string err;
  REQUIRE(ParseJson(text, &d, &err));
  Scenario s;
  bool ok = LoadScenario(d, &s, &err);
  INFO(err);
  REQUIRE(ok);
  return s;
}

// Every event Next() gives until it gives none (bounded).
std::vector<EngineEvent> Drain(RunEngine& e) {
  std::vector<EngineEvent> out;
  EngineEvent ev;
  while (e.Next(&ev)) {
    out.push_back(ev);
    REQUIRE(out.size() < 100000);
  }
  return out;
}

std::vector<std::string> Types(const std::vector<EngineEvent>& events) {
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(e.type);
  return types;
}

JsonDoc Data(const EngineEvent& e) {
  JsonDoc d;
  std::string err;
  INFO(e.type << " " << e.data);
  bool ok = ParseJson(e.data, &d, &err);
  INFO(err);
  REQUIRE(ok);
  REQUIRE(d.IsObject());
  return d;
}

// Walks the demo up to its approval gate, returning what it emitted.
std::vector<EngineEvent> ToGate(RunEngine& e) {
  std::vector<EngineEvent> events = Drain(e);
  REQUIRE(events.size() == 16);
  REQUIRE(events.back().type == "approval_requested");
  REQUIRE(e.state() == State::kAwaitingApproval);
  return events;
}

bool IsTerminal(const std::string& t) {
  return t == "workflow_completed" || t == "workflow_failed" || t == "workflow_cancelled";
}

}  // namespace

TEST_CASE("RunEngine substitutes run_id, task and model, and every event's data is a JSON object") {
  RunEngine e(LoadBuiltin("demo"), kVars);
  CHECK(e.state() == State::kRunning);
  CHECK(e.outcome() == Outcome::kNone);
  EngineEvent ev;
  REQUIRE(e.Next(&ev));
  CHECK(ev.type == "workflow_started");
  JsonDoc d = Data(ev);
  CHECK(GetString(d, "run_id") == "r-1");
  CHECK(GetString(d, "task_description") == "write a \"report\"");
  CHECK(GetString(d, "model") == "m-1");
  for (const auto& x : Drain(e)) {
    INFO(x.type);
    JsonDoc xd = Data(x);
    CHECK(IsCompactJson(x.data));
    CHECK(x.data.find("{run_id}") == std::string::npos);
    CHECK(x.data.find("{task}") == std::string::npos);
    CHECK(x.data.find("{model}") == std::string::npos);
  }
}

TEST_CASE("the demo stops at its approval gate") {
  RunEngine e(LoadBuiltin("demo"), kVars);
  std::vector<EngineEvent> events = ToGate(e);
  CHECK(events.front().type == "workflow_started");
  CHECK(events[14].type == "step_started");
  CHECK(e.pending_approval_id() == "approval-s3");
  CHECK(e.pending_options() == std::vector<std::string>{"approve", "reject", "modify"});
  JsonDoc gate = Data(events.back());
  CHECK(GetString(gate, "approval_id") == "approval-s3");
  CHECK(GetString(gate, "step_id") == "s3");
  // Nothing more until it is answered.
  EngineEvent ev;
  CHECK_FALSE(e.Next(&ev));
  CHECK_FALSE(e.Next(&ev));
  CHECK(e.state() == State::kAwaitingApproval);
  CHECK(e.outcome() == Outcome::kNone);
  CHECK(e.ResolutionFor(true) == "approve");
  CHECK(e.ResolutionFor(false) == "reject");
}

TEST_CASE("Resolve refuses an unknown approval id") {
  RunEngine e(LoadBuiltin("demo"), kVars);
  ToGate(e);
  std::vector<EngineEvent> out;
  std::string err;
  CHECK_FALSE(e.Resolve("approval-zz", "approve", "", &out, &err));
  CHECK_THAT(err, Catch::Contains("approval-zz") && Catch::Contains("not found or already resolved"));
  CHECK(out.empty());
  CHECK(e.state() == State::kAwaitingApproval);
}

TEST_CASE("Resolve before any gate is refused") {
  RunEngine e(LoadBuiltin("demo"), kVars);
  EngineEvent ev;
  REQUIRE(e.Next(&ev));
  std::vector<EngineEvent> out;
  std::string err;
  CHECK_FALSE(e.Resolve("approval-s3", "approve", "", &out, &err));
  CHECK_THAT(err, Catch::Contains("not found or already resolved"));
  CHECK(out.empty());
}

TEST_CASE("Resolve refuses a resolution that is not an option, listing the options") {
  RunEngine e(LoadBuiltin("demo"), kVars);
  ToGate(e);
  std::vector<EngineEvent> out;
  std::string err;
  CHECK_FALSE(e.Resolve("approval-s3", "maybe", "", &out, &err));
  CHECK_THAT(err, Catch::Contains("maybe") && Catch::Contains("approve reject modify"));
  CHECK(out.empty());
  CHECK(e.state() == State::kAwaitingApproval);
  // Still answerable afterwards.
  CHECK(e.Resolve("approval-s3", "approve", "", &out, &err));
}

TEST_CASE("approve: approval_received, then the rest of the run to workflow_completed") {
  RunEngine e(LoadBuiltin("demo"), kVars);
  ToGate(e);
  std::vector<EngineEvent> out;
  std::string err;
  REQUIRE(e.Resolve("approval-s3", "approve", "looks \"good\"", &out, &err));
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == "approval_received");
  JsonDoc d = Data(out[0]);
  CHECK(GetString(d, "approval_id") == "approval-s3");
  CHECK(GetBool(d, "approved", false) == true);
  CHECK(GetString(d, "resolution") == "approve");
  CHECK(GetString(d, "feedback") == "looks \"good\"");
  CHECK(e.state() == State::kRunning);

  std::vector<EngineEvent> rest = Drain(e);
  REQUIRE(rest.size() == 10);
  CHECK(rest.front().type == "step_completed");
  CHECK(rest.back().type == "workflow_completed");
  int terminals = 0;
  for (const auto& x : rest) terminals += IsTerminal(x.type);
  CHECK(terminals == 1);
  CHECK(e.outcome() == Outcome::kCompleted);
  CHECK(e.state() == State::kFinished);
  EngineEvent ev;
  CHECK_FALSE(e.Next(&ev));

  // The gate is gone.
  out.clear();
  CHECK_FALSE(e.Resolve("approval-s3", "approve", "", &out, &err));
  CHECK_THAT(err, Catch::Contains("not found or already resolved"));
  CHECK(out.empty());
}

TEST_CASE("a second Resolve of the same gate is refused") {
  RunEngine e(LoadBuiltin("demo"), kVars);
  ToGate(e);
  std::vector<EngineEvent> out;
  std::string err;
  REQUIRE(e.Resolve("approval-s3", "approve", "", &out, &err));
  CHECK_FALSE(e.Resolve("approval-s3", "reject", "", &out, &err));
  CHECK_THAT(err, Catch::Contains("not found or already resolved"));
  CHECK(out.size() == 1);
}

TEST_CASE("reject: approval_received, then workflow_failed") {
  RunEngine e(LoadBuiltin("demo"), kVars);
  ToGate(e);
  std::vector<EngineEvent> out;
  std::string err;
  REQUIRE(e.Resolve("approval-s3", "reject", "no", &out, &err));
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == "approval_received");
  JsonDoc d = Data(out[0]);
  CHECK(GetBool(d, "approved", true) == false);
  CHECK(GetString(d, "resolution") == "reject");

  std::vector<EngineEvent> rest = Drain(e);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].type == "workflow_failed");
  JsonDoc f = Data(rest[0]);
  CHECK(GetString(f, "status") == "failed");
  CHECK_THAT(std::string(GetString(f, "message")), Catch::Contains("approval-s3"));
  CHECK(e.outcome() == Outcome::kFailed);
  CHECK(e.state() == State::kFinished);
}

TEST_CASE("on_reject continue: a rejection lets the run go on") {
  RunEngine e(LoadCustom(R"({"items":[{"event":"a"},
      {"approval":{"approval_id":"g","options":["continue","abort"]},"on_reject":"continue"},
      {"event":"b"},{"event":"workflow_completed"}]})"),
              kVars);
  std::vector<EngineEvent> first = Drain(e);
  CHECK(Types(first) == std::vector<std::string>{"a", "approval_requested"});
  CHECK(e.ResolutionFor(true) == "continue");
  CHECK(e.ResolutionFor(false) == "abort");
  std::vector<EngineEvent> out;
  std::string err;
  REQUIRE(e.Resolve("g", "abort", "", &out, &err));
  REQUIRE(out.size() == 1);
  CHECK(GetBool(Data(out[0]), "approved", true) == false);
  CHECK(Types(Drain(e)) == std::vector<std::string>{"b", "workflow_completed"});
  CHECK(e.outcome() == Outcome::kCompleted);
}

TEST_CASE("on_reject holds when a repeat-0 item follows the gate") {
  // The skipped item's own fail_on_reject (the default, true) must not stand in for the gate's.
  const char* kScenario = R"({"items":[
      {"approval":{"approval_id":"g","options":["approve","reject"]},"on_reject":"continue"},
      {"event":"skipped","repeat":0},
      {"event":"b"},{"event":"workflow_completed"}]})";
  RunEngine e(LoadCustom(kScenario), kVars);
  std::vector<EngineEvent> log = Drain(e);
  CHECK(Types(log) == std::vector<std::string>{"approval_requested"});
  std::string err;
  REQUIRE(e.Resolve("g", "reject", "", &log, &err));
  REQUIRE(log.size() == 2);

  // The same after a restart.
  RunEngine restored(LoadCustom(kScenario), kVars);
  for (const auto& ev : log) restored.Restore(ev.type, Data(ev));

  CHECK(Types(Drain(e)) == std::vector<std::string>{"b", "workflow_completed"});
  CHECK(e.outcome() == Outcome::kCompleted);
  CHECK(Types(Drain(restored)) == std::vector<std::string>{"b", "workflow_completed"});
  CHECK(restored.outcome() == Outcome::kCompleted);
}

TEST_CASE("ResolutionFor falls back to approve/reject when no option looks like one") {
  RunEngine e(LoadCustom(R"({"items":[{"approval":{"approval_id":"g","options":["yes","no"]}}]})"), kVars);
  Drain(e);
  CHECK(e.ResolutionFor(true) == "approve");
  CHECK(e.ResolutionFor(false) == "reject");
}

TEST_CASE("IsRejectLike and IsApproveLike") {
  for (const char* r : {"reject", "abort", "deny", "exit"}) {
    INFO(r);
    CHECK(IsRejectLike(r));
    CHECK_FALSE(IsApproveLike(r));
  }
  for (const char* a : {"approve", "continue", "submit", "allow", "retry"}) {
    INFO(a);
    CHECK(IsApproveLike(a));
    CHECK_FALSE(IsRejectLike(a));
  }
  for (const char* n : {"modify", "", "Reject", "approved"}) {
    INFO(n);
    CHECK_FALSE(IsRejectLike(n));
    CHECK_FALSE(IsApproveLike(n));
  }
}

TEST_CASE("pause and resume emit their events; errors in the wrong state") {
  RunEngine e(LoadBuiltin("demo"), kVars);
  EngineEvent ev;
  REQUIRE(e.Next(&ev));
  REQUIRE(e.Next(&ev));
  std::vector<EngineEvent> out;
  std::string err;

  CHECK_FALSE(e.Resume(&out, &err));
  CHECK_THAT(err, Catch::Contains("not paused"));
  CHECK(out.empty());

  REQUIRE(e.Pause(&out, &err));
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == "workflow_paused");
  CHECK(GetString(Data(out[0]), "status") == "paused");
  CHECK(e.state() == State::kPaused);
  CHECK_FALSE(e.Next(&ev));

  err.clear();
  CHECK_FALSE(e.Pause(&out, &err));
  CHECK_THAT(err, Catch::Contains("already paused"));
  CHECK(out.size() == 1);

  REQUIRE(e.Resume(&out, &err));
  REQUIRE(out.size() == 2);
  CHECK(out[1].type == "workflow_resumed");
  CHECK(GetString(Data(out[1]), "status") == "running");
  CHECK(e.state() == State::kRunning);
  REQUIRE(e.Next(&ev));
  CHECK(ev.type == "step_started");  // the third demo event, nothing lost while paused
}

TEST_CASE("pause while awaiting approval, resume returns to the gate") {
  RunEngine e(LoadBuiltin("demo"), kVars);
  ToGate(e);
  std::vector<EngineEvent> out;
  std::string err;
  REQUIRE(e.Pause(&out, &err));
  CHECK(e.state() == State::kPaused);
  REQUIRE(e.Resume(&out, &err));
  CHECK(e.state() == State::kAwaitingApproval);
  EngineEvent ev;
  CHECK_FALSE(e.Next(&ev));
}

TEST_CASE("cancel: exactly one workflow_cancelled, then nothing") {
  RunEngine e(LoadBuiltin("demo"), kVars);
  EngineEvent ev;
  for (int i = 0; i < 3; ++i) REQUIRE(e.Next(&ev));
  std::vector<EngineEvent> out;
  std::string err;
  REQUIRE(e.Cancel(&out, &err));
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == "workflow_cancelled");
  CHECK(GetString(Data(out[0]), "status") == "cancelled");
  CHECK(e.outcome() == Outcome::kCancelled);
  CHECK(e.state() == State::kFinished);
  CHECK_FALSE(e.Next(&ev));
  CHECK(Drain(e).empty());

  err.clear();
  CHECK_FALSE(e.Cancel(&out, &err));
  CHECK_THAT(err, Catch::Contains("already ended"));
  err.clear();
  CHECK_FALSE(e.Pause(&out, &err));
  CHECK_THAT(err, Catch::Contains("already ended"));
  err.clear();
  CHECK_FALSE(e.Resume(&out, &err));
  CHECK_THAT(err, Catch::Contains("already ended"));
  CHECK(out.size() == 1);
}

TEST_CASE("cancel while paused or at the gate ends the run") {
  SECTION("paused") {
    RunEngine e(LoadBuiltin("demo"), kVars);
    EngineEvent ev;
    REQUIRE(e.Next(&ev));
    std::vector<EngineEvent> out;
    std::string err;
    REQUIRE(e.Pause(&out, &err));
    REQUIRE(e.Cancel(&out, &err));
    CHECK(Types(out) == std::vector<std::string>{"workflow_paused", "workflow_cancelled"});
    CHECK(e.state() == State::kFinished);
    CHECK(e.outcome() == Outcome::kCancelled);
    CHECK_FALSE(e.Resume(&out, &err));
    CHECK_FALSE(e.Next(&ev));
  }
  SECTION("at the gate") {
    RunEngine e(LoadBuiltin("demo"), kVars);
    ToGate(e);
    std::vector<EngineEvent> out;
    std::string err;
    REQUIRE(e.Cancel(&out, &err));
    CHECK(e.outcome() == Outcome::kCancelled);
    CHECK_FALSE(e.Resolve("approval-s3", "approve", "", &out, &err));
    CHECK(Types(out) == std::vector<std::string>{"workflow_cancelled"});
  }
  SECTION("after a rejection, before its workflow_failed") {
    RunEngine e(LoadBuiltin("demo"), kVars);
    ToGate(e);
    std::vector<EngineEvent> out;
    std::string err;
    REQUIRE(e.Resolve("approval-s3", "reject", "", &out, &err));
    REQUIRE(e.Cancel(&out, &err));
    CHECK(Types(out) == std::vector<std::string>{"approval_received", "workflow_cancelled"});
    CHECK(e.outcome() == Outcome::kCancelled);
    CHECK(Drain(e).empty());  // no second terminal event
  }
}

TEST_CASE("a finished run refuses controls") {
  RunEngine e(LoadBuiltin("fail"), kVars);
  std::vector<EngineEvent> events = Drain(e);
  REQUIRE(events.size() == 9);
  CHECK(events.back().type == "workflow_failed");
  CHECK(e.outcome() == Outcome::kFailed);
  std::vector<EngineEvent> out;
  std::string err;
  CHECK_FALSE(e.Cancel(&out, &err));
  CHECK_FALSE(e.Pause(&out, &err));
  CHECK(out.empty());
}

namespace {

// Feeds `events` to a fresh engine with Restore, as a restarted server does.
void RestoreAll(RunEngine& e, const std::vector<EngineEvent>& events) {
  for (const auto& ev : events) {
    JsonDoc d = Data(ev);
    e.Restore(ev.type, d);
  }
}

void CheckSameFuture(RunEngine& original, RunEngine& restored) {
  CHECK(restored.state() == original.state());
  CHECK(restored.outcome() == original.outcome());
  CHECK(restored.pending_approval_id() == original.pending_approval_id());
  CHECK(restored.pending_options() == original.pending_options());
  std::vector<EngineEvent> a = Drain(original), b = Drain(restored);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(i);
    CHECK(b[i].type == a[i].type);
    CHECK(b[i].data == a[i].data);
  }
  CHECK(restored.state() == original.state());
  CHECK(restored.outcome() == original.outcome());
}

}  // namespace

TEST_CASE("Restore: a restarted run continues exactly where it was") {
  RunEngine original(LoadBuiltin("demo"), kVars);
  std::vector<EngineEvent> log;
  EngineEvent ev;
  std::string err;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(original.Next(&ev));
    log.push_back(ev);
  }
  REQUIRE(original.Pause(&log, &err));
  REQUIRE(original.Resume(&log, &err));
  while (original.Next(&ev)) log.push_back(ev);
  REQUIRE(log.back().type == "approval_requested");
  REQUIRE(original.Pause(&log, &err));
  REQUIRE(original.Resolve("approval-s3", "approve", "ok", &log, &err));
  REQUIRE(original.Resume(&log, &err));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(original.Next(&ev));
    log.push_back(ev);
  }
  REQUIRE(log.size() == 5 + 2 + 11 + 3 + 3);

  RunEngine restored(LoadBuiltin("demo"), kVars);
  RestoreAll(restored, log);
  CheckSameFuture(original, restored);
  CHECK(original.outcome() == Outcome::kCompleted);
}

TEST_CASE("Restore: a run restored at its gate, then paused, answers as the original") {
  for (const char* resolution : {"approve", "reject"}) {
    INFO(resolution);
    RunEngine original(LoadBuiltin("demo"), kVars);
    std::vector<EngineEvent> log = ToGate(original);
    std::string err;
    REQUIRE(original.Pause(&log, &err));

    RunEngine restored(LoadBuiltin("demo"), kVars);
    RestoreAll(restored, log);
    CHECK(restored.state() == State::kPaused);
    CHECK(restored.pending_approval_id() == "approval-s3");

    std::vector<EngineEvent> a, b;
    REQUIRE(original.Resume(&a, &err));
    REQUIRE(restored.Resume(&b, &err));
    CHECK(restored.state() == State::kAwaitingApproval);
    REQUIRE(original.Resolve("approval-s3", resolution, "", &a, &err));
    REQUIRE(restored.Resolve("approval-s3", resolution, "", &b, &err));
    CHECK(Types(a) == Types(b));
    CheckSameFuture(original, restored);
  }
}

TEST_CASE("Restore: a rejection replayed before its workflow_failed still fails the run") {
  RunEngine original(LoadBuiltin("demo"), kVars);
  std::vector<EngineEvent> log = ToGate(original);
  std::string err;
  REQUIRE(original.Resolve("approval-s3", "reject", "", &log, &err));

  RunEngine restored(LoadBuiltin("demo"), kVars);
  RestoreAll(restored, log);
  CheckSameFuture(original, restored);
  CHECK(restored.outcome() == Outcome::kFailed);
}

TEST_CASE("Restore: a finished run stays finished") {
  RunEngine original(LoadBuiltin("demo"), kVars);
  std::vector<EngineEvent> log = ToGate(original);
  std::string err;
  REQUIRE(original.Cancel(&log, &err));
  RunEngine restored(LoadBuiltin("demo"), kVars);
  RestoreAll(restored, log);
  CHECK(restored.state() == State::kFinished);
  CHECK(restored.outcome() == Outcome::kCancelled);
  EngineEvent ev;
  CHECK_FALSE(restored.Next(&ev));
}

TEST_CASE("Restore: in the middle of a repeated item") {
  RunEngine original(LoadBuiltin("long", R"({"events":5})"), kVars);
  std::vector<EngineEvent> log;
  EngineEvent ev;
  for (int i = 0; i < 4; ++i) {  // workflow_started, step_started, two of five step_progress
    REQUIRE(original.Next(&ev));
    log.push_back(ev);
  }
  RunEngine restored(LoadBuiltin("long", R"({"events":5})"), kVars);
  RestoreAll(restored, log);
  CheckSameFuture(original, restored);
}

TEST_CASE("long: {i}, {n} and {pct} are substituted, whole-string placeholders become numbers") {
  RunEngine e(LoadBuiltin("long", R"({"events":5})"), kVars);
  std::vector<EngineEvent> events = Drain(e);
  REQUIRE(events.size() == 9);
  CHECK(Types(events) == std::vector<std::string>{"workflow_started", "step_started", "step_progress",
                                                  "step_progress", "step_progress", "step_progress",
                                                  "step_progress", "step_completed", "workflow_completed"});
  const int pcts[] = {20, 40, 60, 80, 100};
  for (int i = 0; i < 5; ++i) {
    const EngineEvent& p = events[2 + i];
    INFO(p.data);
    JsonDoc d = Data(p);
    REQUIRE(d.HasMember("progress_percentage"));
    REQUIRE(d["progress_percentage"].IsInt());
    CHECK(d["progress_percentage"].GetInt() == pcts[i]);
    CHECK(GetString(d, "message") == "event " + std::to_string(i + 1) + " of 5");
    CHECK(GetInt(d, "step_number", 0) == 1);
  }
  CHECK(e.outcome() == Outcome::kCompleted);
}

TEST_CASE("long: percentages round down, the last is 100") {
  RunEngine e(LoadBuiltin("long", R"({"events":3})"), kVars);
  std::vector<EngineEvent> events = Drain(e);
  REQUIRE(events.size() == 7);
  std::vector<int> pcts;
  for (int i = 2; i < 5; ++i) pcts.push_back(Data(events[i])["progress_percentage"].GetInt());
  CHECK(pcts == std::vector<int>{33, 66, 100});
}

TEST_CASE("long with 0 events skips the repeated item") {
  RunEngine e(LoadBuiltin("long", R"({"events":0})"), kVars);
  CHECK(Types(Drain(e)) ==
        std::vector<std::string>{"workflow_started", "step_started", "step_completed", "workflow_completed"});
  CHECK(e.outcome() == Outcome::kCompleted);
}

TEST_CASE("NextDelayMs: the item's delay, else the run's") {
  RunEngine e(LoadCustom(R"({"items":[{"event":"a","delay_ms":5},{"event":"b"},{"event":"c","delay_ms":0}]})"),
              kVars);
  CHECK(e.NextDelayMs(100) == 5);
  EngineEvent ev;
  REQUIRE(e.Next(&ev));
  CHECK(e.NextDelayMs(100) == 100);
  REQUIRE(e.Next(&ev));
  CHECK(e.NextDelayMs(100) == 0);
  REQUIRE(e.Next(&ev));
  CHECK(e.NextDelayMs(100) == 100);
  // A scenario without a terminal event still ends with exactly one: workflow_completed.
  CHECK(e.state() == State::kRunning);
  REQUIRE(e.Next(&ev));
  CHECK(ev.type == "workflow_completed");
  CHECK(e.state() == State::kFinished);
  CHECK(e.outcome() == Outcome::kCompleted);
  CHECK_FALSE(e.Next(&ev));
}

TEST_CASE("placeholders are filled in one pass: a task is never scanned again") {
  RunEngine e(LoadCustom(R"({"items":[{"event":"a","data":{"t":"{task}","m":"{model}","n":"{n}","w":"{pct}"}}]})"),
              {{"run_id", "r"}, {"task", "x {model} {i} \"q\""}, {"model", "sim"}});
  EngineEvent ev;
  REQUIRE(e.Next(&ev));
  CHECK(ev.data == R"({"t":"x {model} {i} \"q\"","m":"sim","n":1,"w":100})");
}

TEST_CASE("an answer too soon (MARS): acknowledged, the request gone, then the run fails at the wait") {
  RunEngine e(LoadBuiltin("demo"), kVars);
  ToGate(e);
  std::vector<EngineEvent> out;
  std::string err;
  CHECK_FALSE(e.FailLostApproval(&out));  // nothing was answered yet
  REQUIRE(e.ResolveTooSoon("approval-s3", "approve", "", &out, &err));
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == "approval_received");
  CHECK(e.state() == State::kAwaitingApproval);  // the executor has not waited yet
  EngineEvent next;
  CHECK_FALSE(e.Next(&next));
  CHECK_FALSE(e.Resolve("approval-s3", "approve", "", &out, &err));
  CHECK(err == "Approval approval-s3 not found or already resolved");
  out.clear();
  REQUIRE(e.FailLostApproval(&out));
  REQUIRE(out.size() == 2);
  CHECK(out[0].type == "dag_node_status_changed");
  CHECK(GetString(Data(out[0]), "node_id") == "s3");
  CHECK(GetString(Data(out[0]), "new_status") == "failed");
  CHECK(out[1].type == "workflow_failed");
  CHECK(GetString(Data(out[1]), "message") == "Approval approval-s3 not found");
  CHECK(e.outcome() == Outcome::kFailed);
  CHECK_FALSE(e.FailLostApproval(&out));
}
