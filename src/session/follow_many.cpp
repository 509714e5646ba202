#include "session/follow_many.h"

#include <deque>
#include <iostream>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "core/run_tally.h"
#include "core/url.h"
#include "session/dispatcher.h"
#include "session/held_run.h"
#include "session/loop.h"
#include "session/messages.h"
#include "session/run_id_reader.h"
#include "session/session_host.h"

namespace wsflow {

namespace {
constexpr Millis kStatusEvery{250};   // the counts on the status line
constexpr Millis kBoardEvery{100};    // the board on a terminal

// Posts to the loop from any thread until the loop has ended (then drops).
struct Poster {
  std::mutex mu;
  Loop* loop = nullptr;
  void Post(std::function<void()> fn) {
    std::lock_guard<std::mutex> lk(mu);
    if (loop) loop->Post(std::move(fn));
  }
  void Close() {
    std::lock_guard<std::mutex> lk(mu);
    loop = nullptr;
  }
  /// A function that posts through `p`, for parts that take one.
  static std::function<void(std::function<void()>)> Fn(const std::shared_ptr<Poster>& p) {
    return [p](std::function<void()> fn) { p->Post(std::move(fn)); };
  }
};

class ManyRuns {
 public:
  explicit ManyRuns(FollowManyCommand& cmd);
  int Run();

 private:
  struct Unit {
    std::unique_ptr<Dispatcher> dispatcher;
    std::unique_ptr<Session> session;
    bool started = false;
    bool stopped = false;
    int gave_up = -1;  ///< the status its runs got when the connection was given up
    std::function<void()> cancel;  ///< --cancel-rest of a run still waiting: sent once it connects
  };
  struct Slot {
    std::string run_id;
    Unit* unit = nullptr;
    RunFollower* follower = nullptr;  ///< null until the run is followed
    bool ended = false;
    int status = kExitIncomplete;  ///< until it has ended
    std::string reason;
    std::shared_ptr<HeldRun> held;  ///< followed through the local process that holds it
    RunSummaryFields held_summary;  ///< a held run's counts (it has no follower of ours)
    RunView held_view;
  };

  void Add(const std::string& run_id);
  bool FollowHeld(Slot& s, const std::string& url);
  void PrintHeld(Slot& s, const std::string& line);
  void ReadStdin();
  void StdinClosed();
  Unit& NewUnit(const std::string& url);
  void Start(Unit& u);
  void StartMore();
  void Ended(Slot& slot, int status, const std::string& reason);
  void OnRunEnded(RunFollower& f);
  void EndAll(int status, const std::string& reason, bool cancel);
  void MaybeStop();
  void DrawStatus();
  int ExitStatus() const;
  bool WriteSummary(int exit) const;

  FollowManyCommand& cmd_;
  bool shared_;  ///< native: one connection for every run
  std::string dialect_;
  std::unique_ptr<Dialect> known_;
  Loop loop_;
  std::shared_ptr<Poster> poster_ = std::make_shared<Poster>();
  NdjsonWriter writer_{NdjsonWriter::Options{}};
  Output out_;
  SessionHost host_;
  std::deque<Unit> units_;
  std::deque<Slot> slots_;
  std::unordered_map<std::string, Slot*> by_run_;
  std::unordered_set<std::string> warned_twice_;
  bool stdin_open_ = false;
  bool stopping_ = false;
  int fail_status_ = -1;  ///< --fail-fast: the status of the run that ended it
  bool no_ids_ = false;   ///< stdin closed without a run id
  RunTally tally_;
};

ManyRuns::ManyRuns(FollowManyCommand& cmd)
    : cmd_(cmd),
      out_(&writer_, cmd.base.pretty, nullptr, cmd.base.stream.raw),
      host_(Poster::Fn(poster_), ControlServer::Limits{},
            cmd.base.session.verbose > 0) {
  WsUrl url;
  std::string err;
  ParseWsUrl(cmd.base.base_url, &url, &err);
  dialect_ = cmd.base.dialect;
  if (dialect_ == "auto" && url.has_path()) {
    dialect_ = DialectFromPath(url.path);
    if (!dialect_.empty() && !cmd.base.session.quiet) std::cerr << DialectLine(dialect_, "from the URL path " + url.path) << "\n";
  }
  if (dialect_.empty() || dialect_ == "auto") dialect_ = "native";  // several runs: our own protocol
  known_ = MakeDialect(dialect_);
  shared_ = dialect_ == "native";
  poster_->loop = &loop_;
  if (out_.pretty()) out_.UseSeveral();
  if (cmd_.base.board) out_.UseBoard();
  if (out_.board()) cmd_.base.status = nullptr;  // both would draw on the terminal
  cmd_.base.stream.several = true;
  cmd_.base.stream.keep_view = !cmd_.base.summary_file.empty();
}

ManyRuns::Unit& ManyRuns::NewUnit(const std::string& url) {
  units_.emplace_back();
  Unit& u = units_.back();
  const SessionOptions& so = cmd_.base.session;
  u.dispatcher = std::make_unique<Dispatcher>(dialect_, &out_, nullptr, so.backoff.retries, so.quiet, so.verbose);
  SessionOptions opts = so;
  opts.url = url;
  u.session = std::make_unique<Session>(opts, u.dispatcher.get(), &loop_);
  u.dispatcher->SetSession(u.session.get());
  u.dispatcher->OnRunEnded([this](RunFollower& f) { OnRunEnded(f); });
  u.dispatcher->OnSessionStopped([this, &u] {
    u.stopped = true;
    if (!shared_) StartMore();
    MaybeStop();
  });
  return u;
}

void ManyRuns::Start(Unit& u) {
  if (u.started) return;
  u.started = true;
  u.session->Start();
}

// Opens connections for runs still waiting, up to --max-connections; once the command is
// ending, only for the runs that --cancel-rest must still cancel.
void ManyRuns::StartMore() {
  int open = 0;
  for (const auto& u : units_) open += u.started && !u.stopped;
  for (auto& u : units_) {
    if (open >= cmd_.max_connections) break;
    if (u.started || (stopping_ && !u.cancel)) continue;
    Start(u);
    ++open;
    --tally_.waiting, ++tally_.running;
    if (u.cancel) u.cancel();
  }
}

void ManyRuns::Add(const std::string& run_id) {
  if (by_run_.count(run_id)) {
    if (!cmd_.base.session.quiet && warned_twice_.insert(run_id).second)
      std::cerr << "wsflow: run " << run_id << " was given more than once: following it once\n";
    return;
  }
  slots_.emplace_back();
  Slot& s = slots_.back();
  s.run_id = run_id;
  by_run_[run_id] = &s;
  out_.AddRun(run_id);
  if (stopping_) {
    ++tally_.running;
    return Ended(s, kExitIncomplete, "not followed: the command was ending");
  }
  RunTarget t = cmd_.base.run;
  t.run_id = run_id;
  t.since_seq = 0;
  t.tail = -1;
  std::string key = RunUrl(cmd_.base.base_url, shared_ ? nullptr : known_.get(), run_id);
  if (shared_) {
    if (units_.empty()) {
      WsUrl url;
      std::string err;
      ParseWsUrl(cmd_.base.base_url, &url, &err);
      NewUnit(url.has_path() ? cmd_.base.base_url : url.WithPath("/ws"));
    }
    Unit& u = units_.front();
    if (u.stopped) {  // the connection was given up: later runs cannot be followed either
      ++tally_.running;
      return Ended(s, u.gave_up >= 0 ? u.gave_up : kExitConnection, "not followed: the connection was given up");
    }
    s.unit = &u;
    s.follower = &u.dispatcher->AddRun(cmd_.base.stream, t, &host_);
    u.dispatcher->ExpectMore(stdin_open_);
    ++tally_.running;
    if (cmd_.base.listen) host_.Serve(key, run_id, s.follower, false);
    Start(u);
  } else {
    if (known_->one_socket_per_run() && !cmd_.base.direct && FollowHeld(s, key)) return;
    Unit& u = NewUnit(key);
    s.unit = &u;
    s.follower = &u.dispatcher->AddRun(cmd_.base.stream, t, &host_);
    ++tally_.waiting;
    if (cmd_.base.listen) host_.Serve(key, run_id, s.follower, known_->one_socket_per_run());
    StartMore();
  }
}

// A run whose one socket another wsflow process holds (a backend with a socket per run): its
// events come through that process's control socket, as `watch RUN` alone would get them.
bool ManyRuns::FollowHeld(Slot& s, const std::string& url) {
  LocalSessionRequest r;
  r.url = url;
  r.run_id = s.run_id;
  r.filter = cmd_.base.stream.filter;
  r.match = cmd_.base.stream.match;
  r.wait = cmd_.base.stream.wait;
  r.follow = cmd_.base.stream.follow;
  r.quiet = cmd_.base.stream.quiet;
  r.verbose = cmd_.base.stream.verbose;
  int64_t pid = 0;
  s.held = HeldRun::Find(r, &pid);
  if (!s.held) return false;
  ++tally_.running;
  if (!cmd_.base.session.quiet)
    std::cerr << "wsflow: run " << s.run_id << " through the local session of pid " << pid << " that holds it\n";
  s.held->Start(Poster::Fn(poster_),
                [this, &s](const std::string& line) { PrintHeld(s, line); },
                [this, &s](int status, const std::string& reason) { Ended(s, status, reason); });
  return true;
}

void ManyRuns::PrintHeld(Slot& s, const std::string& line) {
  JsonDoc env;
  std::string err;
  if (!ParseJson(line, &env, &err) || !env.IsObject()) return;
  int64_t seq = GetInt(env, "seq", -1);
  Event ev(GetString(env, "event_type"), seq, Outcome::kNone, line, &env);
  out_.PrintEvent(ev, 0);
  // stdout backlogged: hold the reader, as a session pauses its reading (resumed when drained)
  if (s.held && writer_.Backlogged() && writer_.AboveHighWater()) s.held->Pause();
  ++s.held_summary.events;
  if (seq > s.held_summary.last_seq) s.held_summary.last_seq = seq;
  if (cmd_.base.stream.keep_view) s.held_view.Apply(env);
}

// Ids on stdin as they arrive (session/run_id_reader), each added on the loop.
void ManyRuns::ReadStdin() {
  stdin_open_ = true;
  RunIdCallbacks cb;
  cb.id = [this](const std::string& id) { Add(id); };
  cb.skipped = [](const std::string& why) { std::cerr << "wsflow: --runs-from -: " << why << "; skipped\n"; };
  cb.closed = [this] { StdinClosed(); };
  StartRunIdReader(0, Poster::Fn(poster_), std::move(cb));
}

void ManyRuns::StdinClosed() {
  if (!stdin_open_) return;
  stdin_open_ = false;
  if (shared_ && !units_.empty()) units_.front().dispatcher->ExpectMore(false);
  if (slots_.empty() && !stopping_) {  // an empty fan-out is a pipeline that failed upstream, not success
    std::cerr << "wsflow: --runs-from -: no run ids\n";
    no_ids_ = true;
  }
  MaybeStop();
}

void ManyRuns::OnRunEnded(RunFollower& f) {
  auto it = by_run_.find(f.run_id());
  if (it == by_run_.end() || it->second->ended) return;
  Slot& s = *it->second;
  if (s.unit && s.unit->gave_up < 0 && f.exit_status() != kExitCompleted && !s.unit->session->is_open())
    s.unit->gave_up = f.exit_status();
  Ended(s, f.exit_status(), f.reason());
}

void ManyRuns::Ended(Slot& s, int status, const std::string& reason) {
  if (s.ended) return;
  s.ended = true;
  s.status = status;
  s.reason = reason;
  if (s.unit && !s.unit->started) --tally_.waiting;
  else --tally_.running;
  tally_.Count(status);
  // A status of the whole command (timeout, signal, output) was said once already. The board
  // says how every run ended in its final line.
  bool on_board = out_.RunEnded(s.run_id, status, reason);
  if (status != kExitCompleted && !cmd_.base.session.quiet && !IsCommandStatus(status) && !on_board)
    std::cerr << NotCompletedLine(s.run_id, status, reason) << "\n";
  if (status != kExitCompleted && cmd_.fail_fast && !stopping_ && !IsCommandStatus(status)) {
    fail_status_ = status;
    EndAll(cmd_.cancel_rest ? kExitCancelled : kExitIncomplete,
           "not followed to its end: --fail-fast after run " + s.run_id + " " + ExitStatusName(status), cmd_.cancel_rest);
  }
  DrawStatus();
  MaybeStop();
}

// Every run still going ends with `status`: those followed through their follower (cancelled
// first when asked), those still waiting for a connection at once, unless they are to be
// cancelled: that takes a connection of their own, opened as --max-connections allows.
void ManyRuns::EndAll(int status, const std::string& reason, bool cancel) {
  stopping_ = true;
  if (stdin_open_) StdinClosed();
  for (auto& s : slots_) {
    if (s.ended) continue;
    if (s.held && cancel) {
      if (s.held->Cancel(status, reason))
        std::cerr << "wsflow: " << reason << "; cancelling run " << s.run_id << " through the process that holds it\n";
    } else if (s.held) {
      s.held->Stop();
      Ended(s, status, reason);
    } else if (s.unit && s.unit->started && s.follower && !s.unit->stopped) {
      s.follower->EndEarly(status, reason, cancel);
    } else if (cancel && s.unit && !s.unit->started && s.follower) {
      s.unit->cancel = [f = s.follower, status, reason] { f->EndEarly(status, reason, true); };
    } else {
      Ended(s, status, reason);
    }
  }
  if (cancel && !shared_) StartMore();
  MaybeStop();
}

void ManyRuns::MaybeStop() {
  if (stdin_open_) return;
  for (const auto& s : slots_)
    if (!s.ended || (s.follower && s.follower->cancelling() && !s.follower->finished())) return;
  for (const auto& u : units_)
    if (u.started && !u.stopped) return;
  loop_.Stop();
}

void ManyRuns::DrawStatus() {
  if (cmd_.base.status) cmd_.base.status->Show("wsflow: " + tally_.Render() + " | " +
                                               Count(static_cast<int64_t>(writer_.lines()), "event", "events"));
}

int ManyRuns::ExitStatus() const {
  std::vector<int> statuses;
  for (const auto& s : slots_) statuses.push_back(s.status);
  if (no_ids_) return kExitUsage;
  int combined = CombinedStatus(statuses);
  if (fail_status_ >= 0 && !IsCommandStatus(combined)) return fail_status_;
  return combined;
}

bool ManyRuns::WriteSummary(int exit) const {
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  // Today's fields for the whole: counts summed; run_id and last_seq of the run that decided the
  // exit status (the first run when every run completed).
  const Slot* decided = nullptr;
  for (const auto& s : slots_)
    if (!decided || (decided->status == kExitCompleted && s.status != kExitCompleted && s.status == exit)) decided = &s;
  int64_t events = 0, dups = 0, gaps = 0, invalid = 0, reconnects = 0;
  for (const auto& u : units_) reconnects += u.session->reconnects();
  JsonValue runs(rapidjson::kArrayType);
  for (const auto& s : slots_) {
    JsonValue r(rapidjson::kObjectType);
    if (s.follower) {
      AddRunSummary(*s.follower, s.status, s.unit->session->reconnects(), &r, a);
      events += s.follower->events_printed(), dups += s.follower->duplicates();
      gaps += s.follower->gaps(), invalid += s.follower->invalid_frames();
    } else {  // followed through its holder, or not followed at all
      RunSummaryFields f = s.held_summary;
      f.run_id = s.run_id;
      f.reason = s.reason;
      if (s.held) f.view = &s.held_view;
      AddRunSummary(f, s.status, &r, a);
      events += f.events;
    }
    runs.PushBack(r, a);
  }
  d.AddMember("run_id", Str(decided ? decided->run_id : std::string(), a), a);
  d.AddMember("exit_status", exit, a);
  d.AddMember("outcome", Str(ExitStatusName(exit), a), a);
  d.AddMember("events", events, a);
  d.AddMember("last_seq", !decided ? 0 : decided->follower ? decided->follower->last_seq() : decided->held_summary.last_seq, a);
  d.AddMember("reconnects", reconnects, a);
  d.AddMember("duplicates_dropped", dups, a);
  d.AddMember("gaps", gaps, a);
  d.AddMember("invalid_frames", invalid, a);
  d.AddMember("runs", runs, a);
  std::string err;
  if (WriteJsonFile(cmd_.base.summary_file, d, &err)) return true;
  std::cerr << "wsflow: cannot write --summary " << cmd_.base.summary_file << ": " << err << "\n";
  return false;
}

int ManyRuns::Run() {
  WriterHooks hooks;
  auto p = poster_;
  hooks.post = Poster::Fn(p);
  hooks.drained = [p, this] {
    p->Post([this] {
      for (auto& u : units_)
        if (u.started && !u.stopped) u.session->ResumeReading();
      for (auto& s : slots_)
        if (s.held) s.held->Resume();
    });
  };
  hooks.end_all = [this](int status, const std::string& msg) {
    out_.EndBoard();  // output failed: the board cannot be kept up to date any more
    if (!msg.empty()) std::cerr << msg << "\n";
    EndAll(status, status == kExitOutput ? "output failed" : "", false);
  };
  WireWriter(writer_, std::move(hooks));
  loop_.OnSignal([this](int signo) {
    int status = ExitStatusForSignal(signo);
    if (stopping_) {  // a second signal while cancelling: leave now
      for (auto& u : units_) u.dispatcher->OnSignal(signo);
      return loop_.Stop();
    }
    out_.BreakLine();
    if (!cmd_.base.session.quiet) std::cerr << "wsflow: " << ExitStatusName(status) << "\n";
    EndAll(status, ExitStatusName(status), cmd_.base.stream.cancel_on_interrupt);
  });
  if (cmd_.base.timeout.count() > 0) {
    loop_.After(cmd_.base.timeout, [this] {
      if (!cmd_.base.session.quiet)
        std::cerr << "wsflow: timed out after " << FormatDuration(cmd_.base.timeout) << "\n";
      EndAll(kExitTimeout, "timed out after " + FormatDuration(cmd_.base.timeout), cmd_.base.stream.cancel_on_timeout);
    });
  }
  // Timers that set themselves again: they live as long as the loop runs, so not in a block.
  std::function<void()> tick = [this, &tick] {
    DrawStatus();
    loop_.After(kStatusEvery, tick);
  };
  std::function<void()> draw = [this, &draw] {
    out_.DrawBoard();
    loop_.After(kBoardEvery, draw);
  };
  if (cmd_.base.status) loop_.After(kStatusEvery, tick);
  if (out_.board()) loop_.After(kBoardEvery, draw);
  for (const auto& id : cmd_.run_ids) Add(id);
  if (cmd_.ids_from_stdin) ReadStdin();
  MaybeStop();
  if (!loop_.stopped()) loop_.Run();

  poster_->Close();
  for (auto& s : slots_)
    if (s.follower) s.follower->EndShares();
  for (auto& u : units_) u.dispatcher->StopPosting();
  host_.Stop();
  if (cmd_.base.status) cmd_.base.status->Stop();
  int exit = ExitStatus();
  if (!writer_.broken() && !writer_.failed()) out_.Finish();
  out_.EndBoard();
  exit = CloseWriter(writer_, exit);
  if (!cmd_.base.session.quiet && !writer_.broken() && !slots_.empty()) std::cerr << "wsflow: " << tally_.Render() << "\n";
  if (!cmd_.base.summary_file.empty() && !WriteSummary(exit)) exit = kExitOutput;
  return exit;
}
}  // namespace

int RunFollowMany(FollowManyCommand cmd) {
  std::string err;
  if (!CheckOutputPath("--summary", cmd.base.summary_file, &err)) {
    std::cerr << "wsflow: " << err << "\n";
    return kExitUsage;
  }
  ManyRuns runs(cmd);
  return runs.Run();
}

}  // namespace wsflow
