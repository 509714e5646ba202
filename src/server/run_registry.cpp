#include "server/run_registry.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/envelope.h"
#include "core/frame_scan.h"
#include "core/timestamp.h"

namespace wsflow::serve {

namespace {
struct StateName {
  RunState state;
  const char* name;
};
const StateName kStates[] = {{RunState::kRunning, "running"},     {RunState::kPaused, "paused"},
                             {RunState::kWaiting, "waiting"},     {RunState::kCompleted, "completed"},
                             {RunState::kFailed, "failed"},       {RunState::kCancelled, "cancelled"}};

const char* TerminalType(Outcome o) {
  switch (o) {
    case Outcome::kFailed: return "workflow_failed";
    case Outcome::kCancelled: return "workflow_cancelled";
    default: return "workflow_completed";
  }
}

Outcome OutcomeFromName(std::string_view name) {
  if (name == "failed") return Outcome::kFailed;
  if (name == "cancelled") return Outcome::kCancelled;
  return Outcome::kCompleted;
}

// An engine with nothing left to do that ended with `outcome`: what an ended run needs to answer
// controls ("run has already ended") without its scenario or its events.
std::unique_ptr<RunEngine> EndedEngine(Outcome outcome) {
  auto e = std::make_unique<RunEngine>(Scenario{}, std::vector<std::pair<std::string, std::string>>{});
  e->Restore(TerminalType(outcome), JsonValue(rapidjson::kObjectType));
  return e;
}

WallClock::time_point FromUnixSeconds(double s) {
  return WallClock::time_point(std::chrono::duration_cast<WallClock::duration>(std::chrono::duration<double>(s)));
}
}  // namespace

const char* RunStateName(RunState s) {
  for (const auto& n : kStates)
    if (n.state == s) return n.name;
  return "running";
}

bool ParseRunState(std::string_view name, RunState* out) {
  for (const auto& n : kStates)
    if (name == n.name) {
      *out = n.state;
      return true;
    }
  return false;
}

const char* RunStateNames() { return "running, paused, waiting, completed, failed, cancelled"; }

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kCompleted: return "completed";
    case Outcome::kFailed: return "failed";
    case Outcome::kCancelled: return "cancelled";
    default: return "";
  }
}

// ---- Run ----

Run::Run(RunStore* store, LogCache* cache, std::string id) : id_(std::move(id)), log_(store, cache, id_) {}

RunState Run::state() const {
  switch (engine_->state()) {
    case RunEngine::State::kRunning: return RunState::kRunning;
    case RunEngine::State::kAwaitingApproval: return RunState::kWaiting;
    case RunEngine::State::kPaused: return RunState::kPaused;
    case RunEngine::State::kFinished: break;
  }
  switch (engine_->outcome()) {
    case Outcome::kFailed: return RunState::kFailed;
    case Outcome::kCancelled: return RunState::kCancelled;
    default: return RunState::kCompleted;
  }
}

std::string Run::SummaryJson() const {
  const char* outcome = OutcomeName(this->outcome());
  return JsonObject({{"run_id", Quote(id_)},
                     {"state", Quote(RunStateName(state()))},
                     {"task", Quote(task_)},
                     {"created", Quote(created_)},
                     {"updated", Quote(updated())},
                     {"last_seq", std::to_string(last_seq())},
                     {"outcome", *outcome ? Quote(outcome) : "null"}});
}

// ---- RunRegistry ----

RunRegistry::RunRegistry(RunStore* store, LogCache* cache, Timers* timers, Options opts)
    : store_(store), cache_(cache), timers_(timers), opts_(std::move(opts)) {}

RunRegistry::~RunRegistry() = default;

std::ostream& RunRegistry::Log() const { return opts_.log ? *opts_.log : std::cerr; }

bool RunRegistry::LoadScenarioFor(const JsonValue& config, Scenario* out, std::string* err) const {
  std::string file(GetString(config, "scenario_file"));
  std::string name(GetString(config, "scenario", opts_.default_scenario));
  if (file.empty()) {
    auto own = opts_.own_scenarios.find(name);
    if (own != opts_.own_scenarios.end()) {
      JsonDoc doc;
      return ParseJson(own->second, &doc, err) && LoadScenario(doc, out, err);
    }
    if (BuiltinScenario(name, config, out, err)) return true;
    if (opts_.scenario_dir.empty() || name.find('/') != std::string::npos) return false;
    file = opts_.scenario_dir + "/" + name + ".json";
  }
  std::ifstream in(file);
  if (!in) {
    *err = "cannot read scenario file " + file;
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  JsonDoc doc;
  if (!ParseJson(ss.str(), &doc, err) || !LoadScenario(doc, out, err)) {
    *err = file + ": " + *err;
    return false;
  }
  return true;
}

std::unique_ptr<Run> RunRegistry::MakeRun(const RunSpec& spec, std::string* err) {
  JsonDoc config;
  if (!ParseJson(spec.config_json.empty() ? "{}" : spec.config_json, &config, err)) return nullptr;
  if (!config.IsObject()) config.SetObject();
  Scenario scenario;
  if (!LoadScenarioFor(config, &scenario, err)) return nullptr;
  auto run = std::make_unique<Run>(store_, cache_, spec.run_id);
  run->public_id_ = spec.public_id.empty() ? spec.run_id : spec.public_id;
  run->request_id_ = spec.request_id;
  run->task_ = spec.task;
  run->model_ = spec.model;
  run->config_json_ = ToJson(config);
  run->delay_ms_ = std::max(0, static_cast<int>(GetInt(config, "delay_ms", scenario.delay_ms)));
  run->engine_ = std::make_unique<RunEngine>(
      std::move(scenario), std::vector<std::pair<std::string, std::string>>{
                               {"run_id", run->public_id_}, {"task", spec.task}, {"model", spec.model.empty() ? "sim-1" : spec.model}});
  return run;
}

bool RunRegistry::Open(std::string* err) {
  std::vector<StoredRunEntry> entries;
  if (!store_->Index(&entries, err)) return false;
  for (auto& e : entries) {
    JsonDoc meta;
    std::string why;
    if (!ParseJson(e.meta, &meta, &why) || !meta.IsObject()) {
      *err = "run " + e.run_id + " in the data dir: its .run.json is not a JSON object" + (why.empty() ? "" : ": " + why);
      return false;
    }
    const JsonValue* config = GetObject(meta, "config");
    RunSpec spec;
    spec.run_id = e.run_id;
    spec.public_id = std::string(GetString(meta, "public_id", e.run_id));
    spec.task = std::string(GetString(meta, "task"));
    spec.model = std::string(GetString(meta, "model"));
    spec.request_id = std::string(GetString(meta, "request_id"));
    spec.config_json = config ? ToJson(*config) : "{}";
    std::unique_ptr<Run> run;
    JsonDoc end;
    if (!e.end.empty() && ParseJson(e.end, &end, &why) && end.IsObject()) {
      // Ended: its scenario and events are not needed until someone reads it.
      run = std::make_unique<Run>(store_, cache_, e.run_id);
      run->public_id_ = spec.public_id;
      run->request_id_ = spec.request_id;
      run->task_ = spec.task;
      run->model_ = spec.model;
      run->config_json_ = spec.config_json;
      run->engine_ = EndedEngine(OutcomeFromName(GetString(end, "outcome")));
      run->log_.SetStored(static_cast<size_t>(std::max<int64_t>(0, GetInt(end, "last_seq", 0))));
      run->updated_ = std::string(GetString(end, "updated"));
      run->end_written_ = true;
      run->restored_ = !opts_.restore_all;
    } else {
      run = MakeRun(spec, &why);
      if (!run) {
        *err = "run " + e.run_id + " in the data dir: " + why;
        return false;
      }
      run->restored_ = false;
    }
    run->created_ = std::string(GetString(meta, "created"));
    if (run->created_.empty()) run->created_ = IsoTimestamp(FromUnixSeconds(e.meta_mtime));
    Run& r = *run;
    runs_[e.run_id] = std::move(run);
    if (listener_) listener_->OnRunAdded(r);
  }
  return true;
}

void RunRegistry::Start() {
  for (auto& [id, run] : runs_)
    if (!run->restored_) to_restore_.push_back(id);
  if (!to_restore_.empty()) timers_->SetTimer(0, [this] { RestoreNext(); });
}

// One run per loop turn: clients are served between two runs being read back.
void RunRegistry::RestoreNext() {
  while (!to_restore_.empty()) {
    auto it = runs_.find(to_restore_.front());
    to_restore_.pop_front();
    if (it == runs_.end() || it->second->restored_) continue;
    Restore(*it->second);
    break;
  }
  if (!to_restore_.empty()) timers_->SetTimer(0, [this] { RestoreNext(); });
}

bool RunRegistry::Restore(Run& run) {
  run.restored_ = true;
  bool was_ended = run.ended();
  JsonParser parser;
  size_t line_no = 0;
  std::string updated;
  std::string err;
  bool ok = run.log_.Load(
      [&](std::string_view line, std::string* why) {
        ++line_no;
        if (!parser.Parse(line, why) || !parser.doc().IsObject()) {
          if (why->empty()) *why = "not a JSON object";
          *why = store_->EventsPath(run.id_) + ":" + std::to_string(line_no) + ": " + *why;
          return false;
        }
        const JsonDoc& ev = parser.doc();
        std::string ts(GetString(ev, "timestamp"));
        double t = 0;
        ParseIsoTimestamp(ts, &t);
        updated = ts;
        const JsonValue* data = GetObject(ev, "data");
        JsonValue empty(rapidjson::kObjectType);
        std::string_view type = GetString(ev, "event_type");
        if (!was_ended) run.engine_->Restore(type, data ? *data : empty);
        Ingest(run, type, data ? *data : empty, static_cast<int64_t>(line_no), FromUnixSeconds(t), true);
        return true;
      },
      /*cut_torn=*/!was_ended, &err);
  if (!ok) {
    run.damaged_ = err;
    Log() << "wsflow serve: run " << run.id_ << " in the data dir cannot be read back: " << err << "\n";
    return false;
  }
  if (!updated.empty()) run.updated_ = updated;
  if (run.ended()) {
    run.log_.Seal();
    if (!run.end_written_) {  // ended before a restart that came before its summary: write it now
      std::string why;
      if (store_->End(run.id_, run.SummaryJson(), &why)) run.end_written_ = true;
    }
  }
  if (listener_) listener_->OnRunRestored(run);
  ScheduleTick(run, 0);
  return true;
}

Run* RunRegistry::Find(const std::string& id, std::string* err) {
  err->clear();
  auto it = runs_.find(id);
  if (it == runs_.end()) return nullptr;
  Run& run = *it->second;
  if (!run.restored_) Restore(run);
  if (!run.damaged_.empty()) {
    *err = "run " + id + " cannot be read back from the data dir: " + run.damaged_;
    return nullptr;
  }
  return &run;
}

Run* RunRegistry::Create(const RunSpec& spec, std::string* error_type, std::string* err) {
  if (runs_.count(spec.run_id)) {
    *error_type = "run_exists";
    *err = "run " + spec.run_id + " already exists";
    return nullptr;
  }
  auto run = MakeRun(spec, err);
  if (!run) {
    *error_type = "invalid_request";
    return nullptr;
  }
  run->created_ = IsoTimestamp(Now());
  JsonDoc config;
  std::string ignored;
  ParseJson(run->config_json_, &config, &ignored);
  std::string meta = JsonObject({{"run_id", Quote(spec.run_id)},
                                 {"task", Quote(spec.task)},
                                 {"model", Quote(spec.model)},
                                 {"config", run->config_json_},
                                 {"request_id", Quote(spec.request_id)},
                                 {"public_id", run->public_id_ != spec.run_id ? Quote(run->public_id_) : ""},
                                 {"created", Quote(run->created_)}});
  if (!store_->Create(spec.run_id, meta, err)) {
    *error_type = "server_error";
    return nullptr;
  }
  if (!opts_.quiet) {
    Log() << "wsflow serve: run " << spec.run_id << " started";
    if (run->public_id_ != spec.run_id) Log() << " (" << run->public_id_ << ")";
    Log() << "\n";
  }
  Run& r = *run;
  runs_[spec.run_id] = std::move(run);
  if (listener_) listener_->OnRunAdded(r);
  ScheduleTick(r, 0);
  return &r;
}

Run* RunRegistry::AddRecording(const std::string& run_id, const std::vector<std::string>& lines, Pacing pacing) {
  auto run = std::make_unique<Run>(store_, cache_, run_id);
  run->public_id_ = run_id;
  run->created_ = IsoTimestamp(Now());
  Outcome outcome = Outcome::kCompleted;  // nothing is left to simulate, whatever the recording shows
  FrameScanner scan;
  std::string err;
  for (const auto& line : lines) {
    run->log_.Append(line);
    if (scan.Scan(line, &err)) {
      std::string_view type = scan.fields().event_type;
      if (type == "workflow_failed") outcome = Outcome::kFailed;
      if (type == "workflow_cancelled") outcome = Outcome::kCancelled;
      if (!scan.fields().timestamp.empty()) run->updated_ = std::string(scan.fields().timestamp);
    }
  }
  store_->Create(run_id, JsonObject({{"run_id", Quote(run_id)}, {"created", Quote(run->created_)}}), &err);
  store_->Flush();
  run->log_.Seal();
  run->engine_ = EndedEngine(outcome);
  run->end_written_ = true;  // a recording is served, not kept
  pacing.offsets_ms.resize(lines.size(), pacing.offsets_ms.empty() ? 0 : pacing.offsets_ms.back());
  run->pacing_ = std::move(pacing);
  Run& r = *run;
  runs_[run_id] = std::move(run);
  if (listener_) listener_->OnRunAdded(r);
  return &r;
}

void RunRegistry::Ingest(Run& run, std::string_view type, const JsonValue& data, int64_t seq,
                         WallClock::time_point t, bool restoring) {
  if (type == "approval_requested") {
    run.pending_seq_ = seq;
    run.pending_data_.CopyFrom(data, run.pending_data_.GetAllocator());
  } else if (type == "approval_received" || type == "workflow_completed" || type == "workflow_failed" ||
             type == "workflow_cancelled") {
    run.pending_seq_ = 0;
    run.pending_data_.SetNull();
  }
  if (listener_) listener_->OnRunEvent(run, type, data, t, restoring);
}

void RunRegistry::Emit(Run& run, const EngineEvent& e) {
  JsonDoc data;
  std::string err;
  ParseJson(e.data, &data, &err);  // the engine's own JSON
  WallClock::time_point now = Now();
  std::string ts = IsoTimestamp(now);
  int64_t seq = run.last_seq() + 1;
  run.log_.Append(EnvelopeLine({e.type, ts, run.id_, seq, &data}));
  run.updated_ = std::move(ts);
  if (run.ended() && !opts_.quiet)
    Log() << "wsflow serve: run " << run.id_ << " " << ExitStatusName(ExitStatusFor(run.outcome())) << "\n";
  Ingest(run, e.type, data, seq, now, false);
}

// Written before it is sent: a restarted server still has every event a client saw.
void RunRegistry::Publish(Run& run) {
  store_->Flush();
  if (run.ended() && !run.end_written_) {
    run.log_.Seal();
    std::string err;
    if (store_->End(run.id_, run.SummaryJson(), &err)) run.end_written_ = true;
    else Log() << "wsflow serve: " << err << "\n";
  }
  if (listener_) listener_->OnRunPublished(run);
}

void RunRegistry::EmitCaused(Run& run, const std::vector<EngineEvent>& caused) {
  for (const auto& e : caused) Emit(run, e);
}

void RunRegistry::Apply(Run& run, const std::vector<EngineEvent>& caused) {
  for (const auto& e : caused) Emit(run, e);
  Publish(run);
  ScheduleTick(run, 0);
}

void RunRegistry::ScheduleTick(Run& run, int delay_ms) {
  if (run.tick_scheduled_ || !run.restored_ || !run.damaged_.empty() || stopped_ ||
      run.engine_->state() != RunEngine::State::kRunning)
    return;
  run.tick_scheduled_ = true;
  std::string id = run.id_;
  timers_->SetTimer(delay_ms, [this, id] {
    auto it = runs_.find(id);
    if (it == runs_.end()) return;
    it->second->tick_scheduled_ = false;
    if (!stopped_) Tick(*it->second);
  });
}

void RunRegistry::Tick(Run& run) {
  EngineEvent e;
  // Without a delay, events go out in batches; an item with a delay of its own ends the batch.
  for (int i = 0; i < kBatch && run.engine_->Next(&e); ++i) {
    Emit(run, e);
    if (run.engine_->NextDelayMs(run.delay_ms_) > 0) break;
  }
  Publish(run);
  ScheduleTick(run, run.engine_->NextDelayMs(run.delay_ms_));
}

std::vector<Run*> RunRegistry::List(const RunState* state, size_t limit, size_t* total) {
  std::vector<Run*> out;
  for (auto& [id, run] : runs_) {
    if (!run->restored_) Restore(*run);  // its state is in its events
    if (!run->damaged_.empty()) continue;
    if (state && run->state() != *state) continue;
    out.push_back(run.get());
  }
  *total = out.size();
  std::sort(out.begin(), out.end(), [](const Run* a, const Run* b) {
    if (a->created() != b->created()) return a->created() > b->created();  // ISO 8601 UTC sorts as text
    return a->id() > b->id();
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

const std::string* RunRegistry::Remembered(const Run& run, const std::string& request_id) const {
  if (request_id.empty()) return nullptr;
  auto it = run.replies_.find(request_id);
  return it == run.replies_.end() ? nullptr : &it->second;
}

void RunRegistry::Remember(Run& run, const std::string& request_id, const std::string& reply) {
  if (request_id.empty()) return;
  if (run.replies_.emplace(request_id, reply).second) run.reply_order_.push_back(request_id);
  if (run.reply_order_.size() > kRememberedReplies) {
    run.replies_.erase(run.reply_order_.front());
    run.reply_order_.pop_front();
  }
}

bool RunRegistry::FirstAfter(Run& run, double unix_seconds, size_t* index, std::string* err) {
  FrameScanner scan;
  std::string why;
  for (size_t i = 0; i < run.size(); ++i) {
    std::string_view line;
    if (!run.Line(i, &line, err)) return false;
    double t = 0;
    if (scan.Scan(line, &why)) ParseIsoTimestamp(std::string(scan.fields().timestamp), &t);
    if (t > unix_seconds) {
      *index = i;
      return true;
    }
  }
  *index = run.size();
  return true;
}

}  // namespace wsflow::serve
