#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "fake_transport.h"
#include "server/run_registry.h"

using namespace wsflow;
using namespace wsflow::serve;
using wsflow::serve::testing::FakeTransport;
using wsflow::serve::testing::Parsed;
using wsflow::serve::testing::TempDir;

namespace {

struct Recorder : RunListener {
  std::vector<std::string> added, events, published, restored;
  void OnRunAdded(Run& run) override { added.push_back(run.id()); }
  void OnRunEvent(Run& run, std::string_view type, const JsonValue&, WallClock::time_point, bool restoring) override {
    events.push_back(run.id() + ":" + std::string(type) + (restoring ? " (restored)" : ""));
  }
  void OnRunRestored(Run& run) override { restored.push_back(run.id()); }
  void OnRunPublished(Run& run) override { published.push_back(run.id()); }
};

// A registry on a data dir, with the fake loop's timers.
struct Server {
  FakeTransport loop;
  RunStore store;
  LogCache cache{1 << 20};
  Recorder recorder;
  RunRegistry runs;
  explicit Server(const std::string& dir, RunRegistry::Options opts = {})
      : store(dir), runs(&store, &cache, &loop, Quiet(std::move(opts))) {
    std::string err;
    REQUIRE(store.Open(&err));
    runs.SetListener(&recorder);
    INFO(err);
    REQUIRE(runs.Open(&err));
  }
  static RunRegistry::Options Quiet(RunRegistry::Options o) {
    o.quiet = true;
    return o;
  }
  Run& Create(const std::string& id, const std::string& config, const std::string& request_id = "") {
    RunSpec spec;
    spec.run_id = id;
    spec.task = "task of " + id;
    spec.config_json = config;
    spec.request_id = request_id;
    std::string type, err;
    Run* run = runs.Create(spec, &type, &err);
    INFO(type << ": " << err);
    REQUIRE(run);
    return *run;
  }
  std::vector<std::string> Lines(Run& run) {
    std::vector<std::string> out;
    for (size_t i = 0; i < run.size(); ++i) {
      std::string_view line;
      std::string err;
      REQUIRE(run.Line(i, &line, &err));
      out.emplace_back(line);
    }
    return out;
  }
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* kFast = R"({"delay_ms":0})";
const char* kLong = R"({"scenario":"long","events":1000,"delay_ms":0})";

}  // namespace

TEST_CASE("RunRegistry: a run makes its events on its clock, stored before they are published") {
  TempDir dir;
  Server s(dir.path());
  Run& run = s.Create("r-1", R"({"delay_ms":10})");
  CHECK(run.state() == RunState::kRunning);
  CHECK(run.size() == 0);
  s.loop.Advance(0);
  CHECK(run.size() == 1);  // workflow_started at once, then one event per 10 ms
  s.loop.Advance(10);
  CHECK(run.size() == 2);
  CHECK(s.recorder.published.size() == 2);
  // written before published: the file holds every event published
  std::string file = Slurp(s.store.EventsPath("r-1"));
  CHECK(std::count(file.begin(), file.end(), '\n') == 2);
  CHECK(s.loop.AdvanceUntil([&] { return run.state() == RunState::kWaiting; }, 1000, 10));
  CHECK(run.pending_approval());
  CHECK(GetString(*run.pending_approval(), "approval_id") == "approval-s3");
  JsonDoc first = Parsed(s.Lines(run)[0]);
  CHECK(GetString(first, "event_type") == "workflow_started");
  CHECK(GetInt(first, "seq", 0) == 1);
  CHECK(GetString(first, "run_id") == "r-1");
}

TEST_CASE("RunRegistry: a long run without a delay runs to its end, numbered without gaps") {
  TempDir dir;
  Server s(dir.path());
  Run& run = s.Create("r", kLong);
  CHECK(s.loop.AdvanceUntil([&] { return run.ended(); }, 100));
  CHECK(run.size() == 1004);
  CHECK(run.outcome() == Outcome::kCompleted);
  CHECK(run.state() == RunState::kCompleted);
  auto lines = s.Lines(run);
  for (size_t i = 0; i < lines.size(); ++i) REQUIRE(GetInt(Parsed(lines[i]), "seq", 0) == static_cast<int64_t>(i + 1));
  // the summary that lets a restarted server list it without reading its events
  JsonDoc end = Parsed(Slurp(dir.path() + "/r.end.json"));
  CHECK(GetString(end, "state") == "completed");
  CHECK(GetInt(end, "last_seq", 0) == 1004);
}

TEST_CASE("RunRegistry: after a restart, ended runs are indexed, not read, and read back whole when asked") {
  TempDir dir;
  std::vector<std::string> before;
  {
    Server s(dir.path());
    Run& run = s.Create("done", kLong);
    REQUIRE(s.loop.AdvanceUntil([&] { return run.ended(); }, 100));
    before = s.Lines(run);
  }
  Server s(dir.path());
  std::string err;
  CHECK(s.recorder.added == std::vector<std::string>{"done"});
  Run* run = s.runs.Find("done", &err);
  REQUIRE(run);
  CHECK_FALSE(run->log().loaded());  // nothing of its history was read to list or find it
  CHECK(run->state() == RunState::kCompleted);
  CHECK(run->last_seq() == 1004);
  CHECK(s.Lines(*run) == before);
  CHECK(s.recorder.events.empty());  // no engine replay for an ended run
  // a control on it is refused as on any ended run
  std::vector<EngineEvent> caused;
  CHECK_FALSE(run->engine().Cancel(&caused, &err));
  CHECK(err == "run has already ended");
}

TEST_CASE("RunRegistry: a run cut short by a restart is read back after Start and goes on where it was") {
  TempDir dir;
  std::vector<std::string> seen;
  {
    Server s(dir.path());
    Run& run = s.Create("gate", kFast);
    REQUIRE(s.loop.AdvanceUntil([&] { return run.state() == RunState::kWaiting; }, 100));
    seen = s.Lines(run);
  }
  Server s(dir.path());
  std::string err;
  CHECK(s.recorder.added == std::vector<std::string>{"gate"});
  s.runs.Start();
  s.loop.RunDue();
  CHECK(s.recorder.restored == std::vector<std::string>{"gate"});
  Run* run = s.runs.Find("gate", &err);
  REQUIRE(run);
  CHECK(run->state() == RunState::kWaiting);
  CHECK(run->last_seq() == static_cast<int64_t>(seen.size()));
  REQUIRE(run->pending_approval());
  CHECK(run->pending_seq() == run->last_seq());
  std::vector<EngineEvent> caused;
  REQUIRE(run->engine().Resolve("approval-s3", "approve", "", &caused, &err));
  s.runs.Apply(*run, caused);
  REQUIRE(s.loop.AdvanceUntil([&] { return run->ended(); }, 100));
  auto lines = s.Lines(*run);
  CHECK(lines.size() == 27);
  CHECK(std::vector<std::string>(lines.begin(), lines.begin() + seen.size()) == seen);
  CHECK(GetInt(Parsed(lines.back()), "seq", 0) == 27);
  CHECK_FALSE(run->pending_approval());
}

TEST_CASE("RunRegistry: Find reads a run back at once when a client names it before its turn") {
  TempDir dir;
  {
    Server s(dir.path());
    Run& run = s.Create("a", kFast);
    REQUIRE(s.loop.AdvanceUntil([&] { return run.state() == RunState::kWaiting; }, 100));
  }
  Server s(dir.path());
  s.runs.Start();  // not run yet: the loop has not turned
  std::string err;
  Run* run = s.runs.Find("a", &err);
  REQUIRE(run);
  CHECK(run->state() == RunState::kWaiting);
  s.loop.RunDue();
  CHECK(s.recorder.restored == std::vector<std::string>{"a"});  // once
}

TEST_CASE("RunRegistry: a damaged events file makes that run unavailable with a reason, not the server") {
  TempDir dir;
  {
    Server s(dir.path());
    Run& run = s.Create("bad", kFast);
    REQUIRE(s.loop.AdvanceUntil([&] { return run.state() == RunState::kWaiting; }, 100));
    s.Create("good", kFast);
    s.loop.Advance(0);
  }
  { std::ofstream(dir.path() + "/bad.events.ndjson", std::ios::app) << "{not json}\n{\"x\":1}\n"; }
  std::ostringstream log;
  RunRegistry::Options o;
  o.log = &log;
  Server s(dir.path(), o);
  std::string err;
  CHECK_FALSE(s.runs.Find("bad", &err));
  CHECK(err.find("bad.events.ndjson:") != std::string::npos);
  CHECK(log.str().find("cannot be read back") != std::string::npos);
  CHECK(s.runs.Find("good", &err));
  size_t total = 0;
  CHECK(s.runs.List(nullptr, 10, &total).size() == 1);
}

TEST_CASE("RunRegistry: an unfinished run whose scenario is gone stops the start, naming the run") {
  TempDir dir, scenarios;
  std::string file = scenarios.path() + "/gone.json";
  std::ofstream(file) << R"({"items":[{"event":"step_started","delay_ms":100000},{"event":"workflow_completed"}]})";
  {
    Server s(dir.path());
    s.Create("r", "{\"scenario_file\":\"" + file + "\"}");
    s.loop.Advance(0);
  }
  ::unlink(file.c_str());
  FakeTransport loop;
  RunStore store(dir.path());
  LogCache cache(1 << 20);
  RunRegistry runs(&store, &cache, &loop, {});
  std::string err;
  REQUIRE(store.Open(&err));
  CHECK_FALSE(runs.Open(&err));
  CHECK(err.find("run r in the data dir") != std::string::npos);
  CHECK(err.find("gone.json") != std::string::npos);
}

TEST_CASE("RunRegistry: List is newest first, filtered by state, limited, with the total") {
  TempDir dir;
  auto t = WallClock::now();
  int64_t tick = 0;
  RunRegistry::Options o;
  o.now = [&] { return t + std::chrono::seconds(tick); };
  Server s(dir.path(), o);
  for (int i = 0; i < 5; ++i) {
    tick = i;
    s.Create("r" + std::to_string(i), i % 2 ? kLong : kFast);
  }
  REQUIRE(s.loop.AdvanceUntil([&] {
    std::string err;
    return s.runs.Find("r3", &err)->ended() && s.runs.Find("r0", &err)->state() == RunState::kWaiting;
  }, 200));
  size_t total = 0;
  auto all = s.runs.List(nullptr, 100, &total);
  REQUIRE(all.size() == 5);
  CHECK(total == 5);
  CHECK(all[0]->id() == "r4");
  CHECK(all[4]->id() == "r0");
  RunState waiting = RunState::kWaiting;
  auto w = s.runs.List(&waiting, 2, &total);
  CHECK(total == 3);
  REQUIRE(w.size() == 2);
  CHECK(w[0]->id() == "r4");
  CHECK(w[1]->id() == "r2");
  JsonDoc summary = Parsed(all[1]->SummaryJson());
  CHECK(GetString(summary, "run_id") == "r3");
  CHECK(GetString(summary, "state") == "completed");
  CHECK(GetString(summary, "outcome") == "completed");
  CHECK(GetInt(summary, "last_seq", 0) == 1004);
  CHECK(GetString(summary, "task") == "task of r3");
  JsonDoc open = Parsed(all[0]->SummaryJson());
  CHECK(open["outcome"].IsNull());
  CHECK(GetString(open, "state") == "waiting");
}

TEST_CASE("RunRegistry: Create refuses an existing id and a scenario that does not load") {
  TempDir dir;
  Server s(dir.path());
  s.Create("r", kFast);
  RunSpec spec;
  spec.run_id = "r";
  std::string type, err;
  CHECK_FALSE(s.runs.Create(spec, &type, &err));
  CHECK(type == "run_exists");
  spec.run_id = "r2";
  spec.config_json = R"({"scenario":"nope"})";
  CHECK_FALSE(s.runs.Create(spec, &type, &err));
  CHECK(type == "invalid_request");
  CHECK(err.find("nope") != std::string::npos);
}

TEST_CASE("RunRegistry: remembered replies, bounded per run") {
  TempDir dir;
  Server s(dir.path());
  Run& run = s.Create("r", kFast);
  CHECK_FALSE(s.runs.Remembered(run, "q1"));
  s.runs.Remember(run, "q1", "first");
  s.runs.Remember(run, "q1", "second");  // the first answer stays
  REQUIRE(s.runs.Remembered(run, "q1"));
  CHECK(*s.runs.Remembered(run, "q1") == "first");
  CHECK_FALSE(s.runs.Remembered(run, ""));
  for (size_t i = 0; i < RunRegistry::kRememberedReplies; ++i) s.runs.Remember(run, "x" + std::to_string(i), "a");
  CHECK_FALSE(s.runs.Remembered(run, "q1"));  // the oldest went
  CHECK(s.runs.Remembered(run, "x4095"));
}

TEST_CASE("RunRegistry: FirstAfter finds the first event later than a time") {
  TempDir dir;
  auto t0 = WallClock::time_point(std::chrono::seconds(1769076000));
  int64_t ms = 0;
  RunRegistry::Options o;
  o.now = [&] { return t0 + std::chrono::milliseconds(ms); };
  Server s(dir.path(), o);
  Run& run = s.Create("r", R"({"delay_ms":100})");
  s.loop.Advance(0);
  for (int i = 1; i < 5; ++i) {  // one event a second
    ms = i * 1000;
    s.loop.Advance(100);
  }
  REQUIRE(run.size() == 5);
  size_t at = 99;
  std::string err;
  REQUIRE(s.runs.FirstAfter(run, 1769076001.5, &at, &err));
  CHECK(at == 2);
  REQUIRE(s.runs.FirstAfter(run, 0, &at, &err));
  CHECK(at == 0);
  REQUIRE(s.runs.FirstAfter(run, 1769076000.0 * 1000, &at, &err));  // milliseconds: the future
  CHECK(at == 5);
}

TEST_CASE("RunRegistry: a recording is a run of its lines, ended, paced as recorded") {
  TempDir dir;
  Server s(dir.path());
  std::vector<std::string> lines = {R"({"event_type":"workflow_started","timestamp":"2026-01-01T00:00:00.000Z","seq":1,"data":{}})",
                                    R"({"event_type":"workflow_failed","timestamp":"2026-01-01T00:00:01.000Z","seq":2,"data":{}})"};
  Pacing pacing;
  pacing.offsets_ms = {0, 1000};
  pacing.speed = 2;
  Run* run = s.runs.AddRecording("rec", lines, pacing);
  REQUIRE(run);
  CHECK(run->ended());
  CHECK(run->state() == RunState::kFailed);
  CHECK(s.Lines(*run) == lines);
  REQUIRE(run->pacing());
  CHECK(run->pacing()->offsets_ms == std::vector<int64_t>{0, 1000});
  CHECK(run->updated() == "2026-01-01T00:00:01.000Z");
}

TEST_CASE("RunRegistry: with restore_all, ended runs are read back too (dialects rebuild frames from events)") {
  TempDir dir;
  {
    Server s(dir.path());
    Run& run = s.Create("d", kFast);
    REQUIRE(s.loop.AdvanceUntil([&] { return run.state() == RunState::kWaiting; }, 100));
    std::vector<EngineEvent> caused;
    std::string err;
    REQUIRE(run.engine().Resolve("approval-s3", "approve", "", &caused, &err));
    s.runs.Apply(run, caused);
    REQUIRE(s.loop.AdvanceUntil([&] { return run.ended(); }, 100));
  }
  RunRegistry::Options o;
  o.restore_all = true;
  Server s(dir.path(), o);
  s.runs.Start();
  s.loop.RunDue();
  CHECK(s.recorder.events.size() == 27);
  CHECK(s.recorder.events.front() == "d:workflow_started (restored)");
  CHECK(s.recorder.events.back() == "d:workflow_completed (restored)");
}
