// cmbagent (MARS): MARS envelopes without seq, the real executor's step names, two run ids, two
// timestamp styles, the legacy frames at the end (docs/dialects.md#cmbagent). One socket per
// task_id: a newer one closes the older with "Reconnection"; with --mars-strict, as the real
// server does, resume is refused and the newer socket loses its control answers.
#include <rapidjson/error/error.h>

#include "core/timestamp.h"
#include "server/dialect_host.h"
#include "server/server_dialect_internal.h"

namespace wsflow::serve {

namespace {

// A frame of the task executor: "...Z" timestamps, no null fields.
std::string ExecFrame(std::string_view type, Clock::time_point t, const std::string& run_id,
                      const std::string& session_id, std::string_view data) {
  return JsonObject({{"event_type", Quote(type)},
                     {"timestamp", Quote(PyIsoTimestamp(t, true, "Z"))},
                     {"run_id", Quote(run_id)},
                     {"session_id", session_id.empty() ? "" : Quote(session_id)},
                     {"data", std::string(data)}});
}

// A frame of the connection manager: "...+00:00" timestamps and always "session_id":null.
std::string CmFrame(std::string_view type, Clock::time_point t, const std::string& task_id, std::string_view data) {
  return JsonObject({{"event_type", Quote(type)},
                     {"timestamp", Quote(PyIsoTimestamp(t, true, "+00:00"))},
                     {"run_id", Quote(task_id)},
                     {"session_id", "null"},
                     {"data", std::string(data)}});
}

std::string Message(std::string_view m) { return JsonObject({{"message", Quote(m)}}); }

// approval_received as MARS's connection manager sends it: the resolution as answered (an answer
// by flag, {"approved": bool}, is "approved" or "rejected"), and "approved" true only for the
// resolutions "approved" and "modified" -- so the "approve" that the request offers, and that
// MARS's own UI sends, is acknowledged with "approved": false although the run goes on.
std::string Acknowledgement(const RunContext& ctx, const JsonValue& data) {
  std::string resolution(GetString(data, "resolution"));
  if (ctx.answer_by_flag) resolution = GetBool(data, "approved", false) ? "approved" : "rejected";
  bool approved = resolution == "approved" || resolution == "modified";
  JsonDoc out;
  out.CopyFrom(data, out.GetAllocator());
  out.RemoveMember("resolution");
  out.RemoveMember("approved");
  out.AddMember("approved", approved, out.GetAllocator());
  out.AddMember("resolution", Str(resolution, out.GetAllocator()), out.GetAllocator());
  return ToJson(out);
}

// Python's json.loads message for a frame that is not JSON, roughly ("Expecting value: line 1
// column 1 (char 0)"), from where the one parser stopped.
std::string PyJsonError(const JsonParser& parser, std::string_view text) {
  size_t at = std::min(parser.error_offset(), text.size());
  std::string what = "Expecting value";
  switch (parser.error_code()) {
    case rapidjson::kParseErrorObjectMissName:
      what = "Expecting property name enclosed in double quotes";
      break;
    case rapidjson::kParseErrorObjectMissColon:
      what = "Expecting ':' delimiter";
      break;
    case rapidjson::kParseErrorObjectMissCommaOrCurlyBracket:
    case rapidjson::kParseErrorArrayMissCommaOrSquareBracket:
      what = "Expecting ',' delimiter";
      break;
    case rapidjson::kParseErrorStringMissQuotationMark:
      what = "Unterminated string starting at";
      break;
    case rapidjson::kParseErrorDocumentRootNotSingular:
      what = "Extra data";
      break;
    default:
      break;
  }
  size_t line = 1, col = 1;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return what + ": line " + std::to_string(line) + " column " + std::to_string(col) + " (char " + std::to_string(at) +
         ")";
}

const char* PyTypeName(const JsonValue& v) {
  if (v.IsArray()) return "list";
  if (v.IsString()) return "str";
  if (v.IsBool()) return "bool";
  if (v.IsInt64() || v.IsUint64()) return "int";
  if (v.IsNumber()) return "float";
  return "NoneType";
}

bool Match(const std::string& path, Endpoint* ep) {
  ep->kind = Endpoint::Kind::kTask;
  return dialect_detail::PathParameter(path, "/ws/", &ep->id);
}

ClientAction Parse(const DialectOptions&, const Endpoint& ep, bool binary, std::string_view payload,
                   Clock::time_point now) {
  using K = ClientAction::Kind;
  ClientAction a;
  if (binary) {  // Starlette's receive_json() looks for the text of the message
    a.kind = K::kBadFrame;
    a.reply = "Execution error: 'text'";
    return a;
  }
  JsonParser parser;
  std::string err;
  if (!parser.Parse(payload, &err)) {
    a.kind = K::kBadFrame;
    a.reply = "Execution error: " + PyJsonError(parser, payload);
    return a;
  }
  const JsonDoc& doc = parser.doc();
  if (!doc.IsObject()) {  // data.get("task") on a list, a number, ...
    a.kind = K::kBadFrame;
    a.reply = std::string("Execution error: '") + PyTypeName(doc) + "' object has no attribute 'get'";
    return a;
  }
  a.task = std::string(GetString(doc, "task"));
  a.has_task = !a.task.empty();
  if (const JsonValue* config = GetObject(doc, "config")) {
    a.config = ToJson(*config);
    a.model = std::string(GetString(*config, "model"));
  }
  std::string type(GetString(doc, "type"));
  auto approved = doc.FindMember("approved");
  if (approved != doc.MemberEnd()) a.approved = approved->value.IsBool() && approved->value.GetBool() ? 1 : 0;
  a.approval_id = std::string(GetString(doc, "approval_id"));
  a.feedback = std::string(GetString(doc, "feedback"));
  if (type == "ping") {
    a.kind = K::kPing;
    a.reply = CmFrame("pong", now, ep.id, "{}");
  } else if (type == "pause") {
    a.kind = K::kPause;
  } else if (type == "resume") {
    a.kind = K::kResume;
  } else if (type == "cancel") {
    a.kind = K::kCancel;
  } else if (type == "request_state") {
    a.kind = K::kRequestState;
    a.since = GetDouble(doc, "since", 0);
  } else if (type == "resolve_approval") {
    a.kind = K::kApprove;
    a.resolution = std::string(GetString(doc, "resolution"));
  } else if (type == "approval_response") {
    a.kind = K::kApprove;
    if (a.approved < 0) a.approved = 0;
  } else if (type.empty() && a.has_task) {
    a.kind = K::kStart;
  } else if (type.empty() && approved != doc.MemberEnd()) {  // the legacy answer {"approved": true}
    a.kind = K::kApprove;
  }
  return a;
}

std::vector<DialectFrame> Map(const DialectOptions&, RunContext& ctx, std::string_view type, const JsonValue& data,
                              Clock::time_point t, bool* close_after) {
  const std::string& task_id = ctx.public_id;
  auto exec = [&](std::string_view ty, const std::string& run_id, std::string_view d) {
    return DialectFrame{ExecFrame(ty, t, run_id, ctx.session_id, d)};
  };
  auto cm = [&](std::string_view ty, std::string_view d, int delay_ms = 0) {  // stamped when it is sent
    return DialectFrame{CmFrame(ty, t + std::chrono::milliseconds(delay_ms), task_id, d), true, delay_ms};
  };
  std::string json = ToJson(data);
  if (type == "workflow_started" || type == "dag_created" || type == "dag_updated")
    return {exec(type, ctx.uuid, WithStringMember(data, "run_id", ctx.uuid))};
  if (type == "dag_node_status_changed") return {exec(type, ctx.uuid, json)};
  if (type == "step_started") return {exec("step_start", task_id, json)};
  if (type == "step_completed") return {exec("step_complete", task_id, json)};
  if (type == "approval_received") return {cm(type, Acknowledgement(ctx, data))};
  if (type == "workflow_paused" || type == "workflow_resumed") return {cm(type, json)};
  if (type == "workflow_completed") {
    *close_after = true;
    return {exec(type, ctx.uuid, json), exec("complete", task_id, Message("Task completed successfully"))};
  }
  if (type == "workflow_failed") {
    *close_after = true;
    std::string message(GetString(data, "message", "Workflow failed"));
    return {exec(type, task_id, json),  // the executor's, then the handler's
            exec(type, task_id,
                 JsonObject({{"message", Quote(message)}, {"status", Quote("failed")}, {"error", Quote(message)}})),
            exec("error", task_id, JsonObject({{"message", Quote(message)}, {"error_type", Quote("execution_error")}}))};
  }
  if (type == "workflow_cancelled") {
    *close_after = true;
    return {cm("workflow_failed", JsonObject({{"message", Quote("Workflow cancelled by user")},
                                              {"status", Quote("cancelled")}})),
            cm(type, json, 300)};
  }
  return {exec(type, task_id, json)};
}

// While the run executes (not paused, not ended), about every second.
std::string Heartbeat(const Endpoint& ep, const RunContext* run, bool executing, Clock::time_point now) {
  if (!run || !executing) return "";
  double unix_seconds = std::chrono::duration<double>(now.time_since_epoch()).count();  // time.time()
  return ExecFrame("heartbeat", now, ep.id, run->session_id, JsonObject({{"timestamp", JsonNumber(unix_seconds)}}));
}

// ---- connections ----

DialectRun* OnOpen(DialectHost& host, DialectConn& c) {
  // One socket per task_id: a newer one closes the older with "Reconnection".
  auto& sockets = host.task_sockets();
  auto o = sockets.find(c.ep.id);
  if (o != sockets.end() && o->second != c.id) {
    DialectConn* old = host.Conn(o->second);
    if (old && !old->dead) {
      host.Close(*old, 1000, "Reconnection");
      // the old handler's clean-up unregisters the new socket: its control answers are lost
      if (host.options().mars_strict) host.Orphan(c);
    }
  }
  sockets[c.ep.id] = c.id;
  return nullptr;
}

std::string Status(const RunEngine& e) {
  switch (e.state()) {
    case RunEngine::State::kRunning: return "executing";
    case RunEngine::State::kAwaitingApproval: return "waiting_approval";
    case RunEngine::State::kPaused: return "paused";
    case RunEngine::State::kFinished: break;
  }
  switch (e.outcome()) {
    case Outcome::kCompleted: return "completed";
    case Outcome::kCancelled: return "cancelled";
    default: return "failed";
  }
}

void Control(DialectHost& host, DialectConn& c, DialectRun& run, const ClientAction& a) {
  using K = ClientAction::Kind;
  auto now = Clock::now();
  RunEngine& engine = run.run->engine();
  std::vector<EngineEvent> caused;
  std::string err;
  switch (a.kind) {
    case K::kPing:
      if (!c.orphaned) host.Reply(c, a.reply);
      return;
    case K::kPause:  // a refused control is not answered
      if (engine.Pause(&caused, &err)) host.Apply(run, caused);
      return;
    case K::kResume:
      if (engine.Resume(&caused, &err)) host.Apply(run, caused);
      return;
    case K::kCancel:
      if (engine.Cancel(&caused, &err)) host.Apply(run, caused);
      return;
    case K::kApprove: {
      std::string id = a.approval_id.empty() ? engine.pending_approval_id() : a.approval_id;
      std::string resolution = a.resolution;
      if (resolution.empty() && a.approved >= 0) resolution = engine.ResolutionFor(a.approved == 1);
      int64_t window = host.options().mars_strict ? host.options().mars_answer_window_ms : 0;
      int64_t waits_in = window - std::chrono::duration_cast<std::chrono::milliseconds>(host.Now() - run.asked).count();
      bool too_soon = waits_in > 0 && run.asked != MonoClock::time_point{} && !id.empty() && id == engine.pending_approval_id();
      bool ok = !id.empty() && (too_soon ? engine.ResolveTooSoon(id, resolution, a.feedback, &caused, &err)
                                         : engine.Resolve(id, resolution, a.feedback, &caused, &err));
      if (id.empty()) err = "Approval None not found or already resolved";
      if (!ok) return host.Reply(c, cmbagent::ErrorFrame(c.ep.id, err, now));
      run.ctx.answer_by_flag = a.resolution.empty();
      host.Apply(run, caused);
      run.ctx.answer_by_flag = false;
      if (too_soon) {  // the executor begins to wait, and finds nothing
        std::string key = run.key();
        host.After(waits_in, [&host, key] {
          DialectRun* r = host.Find(key);
          std::vector<EngineEvent> failed;
          if (r && r->run->engine().FailLostApproval(&failed)) host.Apply(*r, failed);
        });
      }
      return;
    }
    case K::kRequestState: {
      if (c.orphaned) return;
      std::string status = Status(engine);
      host.Reply(c, cmbagent::StateFrame(c.ep.id, status, "Workflow is " + status, now));
      if (host.options().mars_strict) return;  // the real replay queue discards
      // The run's frames pushed after `since`: kept 300 s, at most 1000.
      double horizon = std::chrono::duration<double>(now.time_since_epoch()).count() - 300;
      std::vector<size_t> picked;
      for (size_t i = 0; i < run.frames.size(); ++i)
        if (run.frame_times[i] > a.since && run.frame_times[i] >= horizon) picked.push_back(i);
      size_t skip = picked.size() > 1000 ? picked.size() - 1000 : 0;
      for (size_t k = skip; k < picked.size(); ++k)
        if (!host.SendCounted(c, run.frames[picked[k]])) return;
      return;
    }
    default:  // unknown types, a second task, frames that are not JSON: ignored
      return;
  }
}

void StartRun(DialectHost& host, DialectConn& c, const ClientAction& a) {
  const std::string& task_id = c.ep.id;
  std::string key = task_id;  // a task frame on a known task_id starts a new run: key "task_id#N"
  for (int n = 2; host.Exists(key); ++n) key = task_id + "#" + std::to_string(n);
  std::string err;
  DialectRun* run = host.Start(key, task_id, a.task, a.model, a.config, &err);
  if (!run) {
    host.Reply(c, cmbagent::ErrorFrame(task_id, "Execution error: " + err, Clock::now()));
    return host.Close(c, 1000, "");
  }
  c.drive = key;
  host.Attach(c, *run, 0);
}

void OnAction(DialectHost& host, DialectConn& c, const ClientAction& a) {
  using K = ClientAction::Kind;
  const std::string& task_id = c.ep.id;
  if (!c.started) {  // the first frame: a task, or (documented resume) a frame for the task's run
    c.started = true;
    if (a.kind == K::kBadFrame) {
      host.Reply(c, cmbagent::ErrorFrame(task_id, a.reply, Clock::now()));
      return host.Close(c, 1000, "");
    }
    if (a.has_task) return StartRun(host, c, a);
    DialectRun* run = host.options().mars_strict ? nullptr : host.Latest(task_id);
    if (!run) {
      host.Reply(c, cmbagent::ErrorFrame(task_id, "No task provided", Clock::now()));
      return host.Close(c, 1000, "");
    }
    c.drive = run->key();
    host.Attach(c, *run, run->frames.size(), false);  // a reconnect: live from here on
    Control(host, c, *run, a);
    return host.Pump(c);
  }
  if (DialectRun* run = host.Find(c.drive)) Control(host, c, *run, a);
}

// The backend closes the run's socket once its last frame is out.
void OnDrained(DialectHost& host, DialectConn& c, DialectRun& run) {
  if (run.closing && c.drive == run.key()) host.Close(c, 1000, "");
}

}  // namespace

namespace cmbagent {

std::string ErrorFrame(const std::string& task_id, const std::string& message, Clock::time_point t) {
  return ExecFrame("error", t, task_id, "", Message(message));
}

std::string StateFrame(const std::string& task_id, const std::string& status, const std::string& message,
                       Clock::time_point t) {
  return CmFrame("workflow_state_changed", t, task_id,
                 JsonObject({{"status", Quote(status)}, {"message", Quote(message)}}));
}

}  // namespace cmbagent

namespace dialect_detail {

const DialectSpec kCmbagent = {ServerDialect::kCmbagent,
                               "cmbagent",
                               "/ws/{task_id}",
                               /*default_heartbeat_ms=*/1000,
                               /*protocol_ping_ms=*/20000,
                               /*ping_is_heartbeat=*/false,
                               /*app_heartbeat=*/true,
                               /*auto_approves=*/false,
                               /*only_starts_wait=*/false,
                               /*replay_on_connect=*/0,
                               1001,
                               "server shutting down",
                               Match,
                               Parse,
                               Map,
                               nullptr,
                               nullptr,
                               Heartbeat,
                               OnOpen,
                               OnAction,
                               OnDrained};

}  // namespace dialect_detail

}  // namespace wsflow::serve
