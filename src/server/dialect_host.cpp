#include "server/dialect_host.h"

#include <cstdlib>
#include <iostream>

namespace wsflow::serve {

namespace {
double UnixSeconds(Clock::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }
}  // namespace

bool DialectRun::Line(size_t i, std::string_view* out, std::string* err) {
  if (i >= frames.size()) {
    *err = "run " + ctx.key + " has no frame " + std::to_string(i + 1);
    return false;
  }
  *out = frames[i];
  return true;
}

DialectHost::DialectHost(const DialectOptions& opts, RunRegistry* runs, Fanout* fanout, Transport* transport,
                         IdMaker* ids, bool verbose, std::ostream* log)
    : opts_(opts),
      spec_(SpecOf(opts.dialect)),
      runs_(runs),
      fanout_(fanout),
      transport_(transport),
      ids_(ids),
      verbose_(verbose),
      log_(log) {}

std::ostream& DialectHost::Log() const { return log_ ? *log_ : std::cerr; }

DialectConn* DialectHost::Conn(ConnId id) {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : it->second.get();
}

// ---- connections ----

bool DialectHost::Accepts(const std::string& resource, Refusal* refusal) {
  Endpoint ep;
  if (MatchEndpoint(opts_.dialect, resource, &ep)) return true;
  refusal->status = 404;
  refusal->body = EndpointHelp(opts_.dialect, ep.path);
  return false;
}

void DialectHost::OnOpen(ConnId id, const std::string& resource) {
  auto owned = std::make_unique<DialectConn>();
  DialectConn& c = *owned;
  c.id = id;
  conns_[id] = std::move(owned);
  MatchEndpoint(opts_.dialect, resource, &c.ep);
  DialectRun* run = spec_.on_open ? spec_.on_open(*this, c) : nullptr;
  for (const auto& line : Greeting(opts_, c.ep, c.client_id, run ? &run->ctx : nullptr, Clock::now())) Reply(c, line);
  if (run && spec_.replay_on_connect) {
    size_t n = run->frames.size();
    Attach(c, *run, n > spec_.replay_on_connect ? n - spec_.replay_on_connect : 0);
  }
  int64_t hb = opts_.heartbeat_ms;
  if (spec_.app_heartbeat && hb > 0) ScheduleHeartbeat(id, hb);
  int64_t ping = spec_.ping_is_heartbeat ? hb : spec_.protocol_ping_ms;
  if (ping > 0) ScheduleProtocolPing(id, ping);
}

void DialectHost::OnClose(ConnId id) {
  fanout_->Remove(id);
  for (auto it = task_sockets_.begin(); it != task_sockets_.end();) {
    if (it->second == id) it = task_sockets_.erase(it);
    else ++it;
  }
  conns_.erase(id);
}

void DialectHost::OnPong(ConnId id) {
  if (DialectConn* c = Conn(id)) c->awaiting_pong = false;
}

void DialectHost::OnMessage(ConnId id, bool binary, std::string_view payload) {
  DialectConn* c = Conn(id);
  if (!c || c->dead) return;
  if (c->busy && spec_.only_starts_wait) {  // chat: only a new message waits for the reply
    ClientAction a = ParseClientFrame(opts_, c->ep, binary, payload, Clock::now());
    if (a.kind != ClientAction::Kind::kStart) return spec_.on_action(*this, *c, a);
  }
  if (c->busy || !c->waiting.empty()) {  // ryx: one frame at a time; this one waits for the run's end
    c->waiting.emplace_back(binary, std::string(payload));
    return;
  }
  HandleFrame(*c, binary, std::string(payload));
}

void DialectHost::HandleFrame(DialectConn& c, bool binary, const std::string& payload) {
  spec_.on_action(*this, c, ParseClientFrame(opts_, c.ep, binary, payload, Clock::now()));
}

void DialectHost::HandleWaitingLater(DialectConn& c) {
  ConnId id = c.id;
  transport_->SetTimer(0, [this, id] {
    DialectConn* c = Conn(id);
    while (c && !c->busy && !c->dead && !c->waiting.empty()) {
      auto frame = std::move(c->waiting.front());
      c->waiting.pop_front();
      HandleFrame(*c, frame.first, frame.second);
      c = Conn(id);
    }
  });
}

bool DialectHost::StartTurn(DialectConn& c, const ClientAction& a, const std::string& public_id, std::string* err) {
  std::string key = ids_->RunId();
  while (runs_->Exists(key)) key = ids_->RunId();
  DialectRun* run = Start(key, public_id.empty() ? key : public_id, a.task, a.model, a.config, err);
  if (!run) return false;
  c.drive = key;
  c.busy = true;
  Attach(c, *run, 0);
  return true;
}

void DialectHost::EndTurn(DialectConn& c, DialectRun& run) {
  if (!c.busy || c.drive != run.key()) return;
  c.busy = false;  // the next frame that waited is handled now
  HandleWaitingLater(c);
}

void DialectHost::Reply(DialectConn& c, const std::string& frame) {
  if (!c.dead) transport_->Send(c.id, frame);
}

void DialectHost::Close(DialectConn& c, int code, const std::string& reason) {
  c.dead = true;
  transport_->Close(c.id, code, reason);
}

void DialectHost::Drop(DialectConn& c) {
  c.dead = true;
  transport_->Drop(c.id);
}

bool DialectHost::SendCounted(DialectConn& c, const std::string& frame) {
  return !c.dead && fanout_->SendCounted(c.id, frame);
}

void DialectHost::Orphan(DialectConn& c) {
  c.orphaned = true;
  fanout_->SkipControlAnswers(c.id);
}

void DialectHost::ScheduleHeartbeat(ConnId id, int64_t ms) {
  transport_->SetTimer(ms, [this, id, ms] {
    DialectConn* c = Conn(id);
    if (!c || c->dead) return;
    SendHeartbeat(*c);
    ScheduleHeartbeat(id, ms);
  });
}

void DialectHost::SendHeartbeat(DialectConn& c) {
  DialectRun* run = c.drive.empty() ? nullptr : Find(c.drive);
  bool executing = false;
  if (run) {
    auto st = run->run->engine().state();
    executing = st == RunEngine::State::kRunning || st == RunEngine::State::kAwaitingApproval;
  }
  std::string line = HeartbeatFrame(opts_, c.ep, run ? &run->ctx : nullptr, executing, Clock::now());
  if (!line.empty()) Reply(c, line);
}

// WebSocket pings from the backend's HTTP stack; aladdin closes a client that did not answer the
// previous one, without a status code.
void DialectHost::ScheduleProtocolPing(ConnId id, int64_t ms) {
  transport_->SetTimer(ms, [this, id, ms] {
    DialectConn* c = Conn(id);
    if (!c || c->dead) return;
    if (spec_.ping_is_heartbeat && c->awaiting_pong) {
      Close(*c, 0, "");
      return;
    }
    if (transport_->Ping(id)) c->awaiting_pong = true;  // a stalled socket is not pinged
    ScheduleProtocolPing(id, ms);
  });
}

// ---- runs ----

DialectRun* DialectHost::Find(const std::string& key) {
  std::string err;
  if (!runs_->Find(key, &err)) return nullptr;  // reads it back first when it waits for that
  auto it = dialect_runs_.find(key);
  return it == dialect_runs_.end() ? nullptr : it->second.get();
}

DialectRun* DialectHost::Latest(const std::string& public_id) {
  auto l = latest_.find(public_id);
  return Find(l == latest_.end() ? public_id : l->second);
}

DialectRun* DialectHost::Start(const std::string& key, const std::string& public_id, const std::string& task,
                               const std::string& model, const std::string& config_json, std::string* err) {
  RunSpec spec;
  spec.run_id = key;
  spec.public_id = public_id;
  spec.task = task;
  spec.model = model;
  spec.config_json = config_json;
  std::string error_type;
  Run* run = runs_->Create(spec, &error_type, err);
  if (!run) return nullptr;
  DialectRun& r = *dialect_runs_[key];
  for (auto& [id, conn] : conns_)  // aladdin monitors see every execution
    if (conn->watch_all && !conn->dead) Attach(*conn, r, 0, false);
  return &r;
}

void DialectHost::Attach(DialectConn& c, DialectRun& run, size_t from, bool pump) {
  fanout_->Subscribe(c.id, &run, from, pump);
}

void DialectHost::Detach(DialectConn& c, const std::string& key) { fanout_->Unsubscribe(c.id, key); }

void DialectHost::OnRunAdded(Run& run) {
  auto dr = std::make_unique<DialectRun>();
  dr->run = &run;
  JsonDoc config;
  std::string err;
  if (!ParseJson(run.config_json(), &config, &err) || !config.IsObject()) config.SetObject();
  InitRunContext(opts_, run.id(), run.public_id(), run.task(), run.model(), config, &dr->ctx);
  dialect_runs_[run.id()] = std::move(dr);
  // cmbagent: a task frame on a known task_id starts "task_id#2", ...: the latest is followed.
  const std::string& pub = run.public_id();
  auto suffix = [&pub](const std::string& k) -> long {
    return k.size() > pub.size() + 1 ? std::atol(k.c_str() + pub.size() + 1) : 1;
  };
  std::string& cur = latest_[pub];
  if (cur.empty() || suffix(run.id()) > suffix(cur)) cur = run.id();
}

void DialectHost::OnRunEvent(Run& run, std::string_view type, const JsonValue& data, WallClock::time_point t,
                             bool restoring) {
  auto it = dialect_runs_.find(run.id());
  if (it == dialect_runs_.end()) return;
  DialectRun& dr = *it->second;
  bool close_after = false;
  std::vector<DialectFrame> frames = MapEvent(opts_, dr.ctx, type, data, t, &close_after);
  AppendFrames(dr, std::move(frames), 0, close_after, restoring, t);
  if (!restoring && type == "approval_requested") {
    dr.asked = transport_->Now();
    AutoApprove(dr);
  }
}

void DialectHost::OnRunRestored(Run& run) {
  auto it = dialect_runs_.find(run.id());
  if (it != dialect_runs_.end()) AutoApprove(*it->second);
}

void DialectHost::OnRunPublished(Run& run) { fanout_->Publish(run.id()); }

void DialectHost::OnDrained(ConnId id, Feed& feed) {
  DialectConn* c = Conn(id);
  if (c && spec_.on_drained) spec_.on_drained(*this, *c, static_cast<DialectRun&>(feed));
}

// Appends frames[from..]; a frame with a delay, and all after it, come later (not when restoring).
void DialectHost::AppendFrames(DialectRun& run, std::vector<DialectFrame> frames, size_t from, bool close_after,
                               bool restoring, Clock::time_point t) {
  for (size_t i = from; i < frames.size(); ++i) {
    if (frames[i].delay_ms > 0 && !restoring) {
      int delay = frames[i].delay_ms;
      frames[i].delay_ms = 0;
      ++run.deferred;
      std::string key = run.ctx.key;
      transport_->SetTimer(delay, [this, key, frames, i, close_after] {
        auto it = dialect_runs_.find(key);
        if (it == dialect_runs_.end()) return;
        --it->second->deferred;
        AppendFrames(*it->second, frames, i, close_after, false, Clock::now());
        fanout_->Publish(key);
      });
      return;
    }
    run.frames.push_back(std::move(frames[i].text));
    run.frame_times.push_back(UnixSeconds(t));
    run.frame_cm.push_back(frames[i].control_answer ? 1 : 0);
  }
  if (close_after) run.closing = true;
}

// Backends without approvals: the gate is passed at once, as if approved.
void DialectHost::AutoApprove(DialectRun& run) {
  RunEngine& engine = run.run->engine();
  if (!spec_.auto_approves || engine.state() != RunEngine::State::kAwaitingApproval) return;
  std::vector<EngineEvent> caused;
  std::string err;
  if (engine.Resolve(engine.pending_approval_id(), engine.ResolutionFor(true), "", &caused, &err))
    runs_->EmitCaused(*run.run, caused);
}

}  // namespace wsflow::serve
