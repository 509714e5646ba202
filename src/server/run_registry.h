// Every run serve knows: made by an execute, read back after a restart, or played from a
// recording. The registry loads their scenarios, makes their events on each run's clock (tick,
// emit, publish: written to disk before anyone is told), keeps the replies that make controls
// idempotent, and answers what `list_runs` and `run_status` ask.
//
// A run that ended before serve started is only indexed (its summary, not its events): its
// history is read when someone asks for it. A run cut short by a restart is read back after
// serve listens, one per loop turn, or at once when a client names it, and then goes on.
//
// Thread contract: the server's loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/exit_status.h"
#include "core/json.h"
#include "server/feed.h"
#include "server/log_cache.h"
#include "server/run_engine.h"
#include "server/run_log.h"
#include "server/run_store.h"
#include "server/transport.h"

namespace wsflow::serve {

using WallClock = std::chrono::system_clock;

/// What `list_runs` filters on and reports.
enum class RunState { kRunning, kWaiting, kPaused, kCompleted, kFailed, kCancelled };
const char* RunStateName(RunState s);
bool ParseRunState(std::string_view name, RunState* out);
/// "running|paused|waiting|completed|failed|cancelled", for messages.
const char* RunStateNames();
/// "completed", "failed", "cancelled", or "" for a run that has not ended.
const char* OutcomeName(Outcome o);

/// What starts a run.
struct RunSpec {
  std::string run_id;     ///< the server's key
  std::string public_id;  ///< dialects: the id the backend shows (empty: run_id)
  std::string task, model;
  std::string config_json = "{}";  ///< a JSON object
  std::string request_id;          ///< the execute that made it (a retried execute attaches)
};

class Run : public Feed {
 public:
  Run(RunStore* store, LogCache* cache, std::string id);

  const std::string& id() const { return id_; }
  const std::string& public_id() const { return public_id_; }
  const std::string& request_id() const { return request_id_; }
  const std::string& task() const { return task_; }
  const std::string& model() const { return model_; }
  const std::string& config_json() const { return config_json_; }
  const std::string& created() const { return created_; }
  /// The timestamp of the last event (the creation time before the first).
  const std::string& updated() const { return updated_.empty() ? created_ : updated_; }
  int64_t last_seq() const { return static_cast<int64_t>(log_.size()); }
  RunState state() const;
  Outcome outcome() const { return engine_->outcome(); }
  bool ended() const { return engine_->state() == RunEngine::State::kFinished; }
  RunEngine& engine() { return *engine_; }
  RunLog& log() { return log_; }
  /// The approval_requested event awaited now: its seq and its data (null when none).
  int64_t pending_seq() const { return pending_seq_; }
  const JsonDoc* pending_approval() const { return pending_seq_ > 0 ? &pending_data_ : nullptr; }
  /// The compact summary list_runs reports.
  std::string SummaryJson() const;

  // Feed
  const std::string& key() const override { return id_; }
  size_t size() const override { return log_.size(); }
  bool Line(size_t i, std::string_view* out, std::string* err) override { return log_.Line(i, out, err); }
  bool done() const override { return ended(); }
  const Pacing* pacing() const override { return pacing_.speed > 0 || pacing_.loop ? &pacing_ : nullptr; }

 private:
  friend class RunRegistry;
  std::string id_, public_id_, request_id_, task_, model_, config_json_, created_, updated_;
  std::unique_ptr<RunEngine> engine_;
  RunLog log_;
  int delay_ms_ = 0;
  bool restored_ = true;     ///< its events are read back (false: waiting for Restore)
  std::string damaged_;      ///< why its events cannot be read back (it is not served)
  bool end_written_ = false;
  bool tick_scheduled_ = false;
  int64_t pending_seq_ = 0;
  JsonDoc pending_data_;
  Pacing pacing_;
  std::map<std::string, std::string> replies_;  ///< request_id -> the reply it got
  std::deque<std::string> reply_order_;
};

/// Told what runs do; the protocols send what they make.
class RunListener {
 public:
  virtual ~RunListener() = default;
  /// A run was created, indexed or played from a recording.
  virtual void OnRunAdded(Run& run) { (void)run; }
  /// A run made an event (`restoring`: read back from disk, with its stored time).
  virtual void OnRunEvent(Run& run, std::string_view type, const JsonValue& data, WallClock::time_point t,
                          bool restoring) {
    (void)run, (void)type, (void)data, (void)t, (void)restoring;
  }
  /// A run's events were read back from disk (after a restart); it goes on from here.
  virtual void OnRunRestored(Run& run) { (void)run; }
  /// The run's new events are on disk: send them.
  virtual void OnRunPublished(Run& run) = 0;
};

class RunRegistry {
 public:
  struct Options {
    std::string scenario_dir;                           ///< config.scenario NAME also loads NAME.json here
    std::string default_scenario = "demo";              ///< when config names none
    std::map<std::string, std::string> own_scenarios;   ///< name -> JSON, before the built-in ones
    bool restore_all = false;  ///< dialects: ended runs are read back too (their frames come from the events)
    bool quiet = false;        ///< no "run X started" lines
    std::ostream* log = nullptr;                        ///< stderr when null
    std::function<WallClock::time_point()> now;         ///< the wall clock (tests fix it)
  };
  /// Events made per loop turn by a run without a delay.
  static constexpr int kBatch = 256;
  /// Request ids remembered per run.
  static constexpr size_t kRememberedReplies = 4096;

  RunRegistry(RunStore* store, LogCache* cache, Timers* timers, Options opts);
  ~RunRegistry();
  void SetListener(RunListener* listener) { listener_ = listener; }

  /// Indexes the store: ended runs by their summaries, the others with their scenarios loaded
  /// (a scenario that cannot be loaded stops the start). No event is read here.
  bool Open(std::string* err);
  /// Reads back the runs that wait for it, one per loop turn, and lets unfinished ones go on.
  void Start();
  /// Stops making events (shutdown).
  void Stop() { stopped_ = true; }

  /// The run, read back first when it waits for that; null when unknown, or with `*err` set when
  /// its events in the data dir cannot be read.
  Run* Find(const std::string& id, std::string* err);
  bool Exists(const std::string& id) const { return runs_.count(id) > 0; }
  /// Starts a run. Null with `*error_type` (invalid_request, server_error) and a reason.
  Run* Create(const RunSpec& spec, std::string* error_type, std::string* err);
  /// `replay --serve`: a run made of a recording's envelope lines, paced by `pacing`.
  Run* AddRecording(const std::string& run_id, const std::vector<std::string>& lines, Pacing pacing);

  /// Emits the events a control caused, publishes them and lets the run go on.
  void Apply(Run& run, const std::vector<EngineEvent>& caused);
  /// Emits the events a control caused while the run is making events (a listener answering an
  /// approval as it is requested): the turn that made the request publishes them.
  void EmitCaused(Run& run, const std::vector<EngineEvent>& caused);

  /// Runs in `state` (all when null), newest first, at most `limit`; `*total` is how many match.
  std::vector<Run*> List(const RunState* state, size_t limit, size_t* total);
  template <class Fn>
  void ForEach(Fn fn) {
    for (auto& [id, run] : runs_) fn(*run);
  }
  size_t size() const { return runs_.size(); }

  /// The reply remembered for `request_id` (null: none).
  const std::string* Remembered(const Run& run, const std::string& request_id) const;
  void Remember(Run& run, const std::string& request_id, const std::string& reply);

  /// The first event index whose timestamp is later than `unix_seconds` (request_state).
  bool FirstAfter(Run& run, double unix_seconds, size_t* index, std::string* err);

  RunStore& store() { return *store_; }
  LogCache& cache() { return *cache_; }
  WallClock::time_point Now() const { return opts_.now ? opts_.now() : WallClock::now(); }

 private:
  std::ostream& Log() const;
  bool LoadScenarioFor(const JsonValue& config, Scenario* out, std::string* err) const;
  std::unique_ptr<Run> MakeRun(const RunSpec& spec, std::string* err);
  bool Restore(Run& run);
  void Ingest(Run& run, std::string_view type, const JsonValue& data, int64_t seq, WallClock::time_point t,
              bool restoring);
  void Emit(Run& run, const EngineEvent& e);
  void Publish(Run& run);
  void ScheduleTick(Run& run, int delay_ms);
  void Tick(Run& run);
  void RestoreNext();

  RunStore* store_;
  LogCache* cache_;
  Timers* timers_;
  Options opts_;
  RunListener* listener_ = nullptr;
  std::map<std::string, std::unique_ptr<Run>> runs_;
  std::deque<std::string> to_restore_;
  bool stopped_ = false;
};

}  // namespace wsflow::serve
