// a2a: the video pipeline's coordinator routes: info on connect, progress frames, an error frame
// before a failure, "Coordinator not available" unless one is attached (docs/dialects.md#a2a).
// A workflow socket starts its workflow's run if there is none and gets its last 50 frames on
// every connect.
#include <algorithm>

#include "core/timestamp.h"
#include "server/dialect_host.h"
#include "server/server_dialect_internal.h"

namespace wsflow::serve {

namespace {

std::string Str(std::string_view v) { return Quote(v); }
std::string Int(int64_t v) { return std::to_string(v); }
std::string NaiveUtc(Clock::time_point t) { return PyIsoTimestamp(t, true, ""); }

std::string Progress(RunContext& ctx, Clock::time_point t, const std::string& state, double progress,
                     const std::string& stage, std::string_view message, std::string details) {
  if (state == "running" && progress < ctx.a2a_progress) progress = ctx.a2a_progress;  // never backwards
  progress = std::clamp(progress, 0.0, 1.0);
  ctx.a2a_state = state;
  ctx.a2a_progress = progress;
  ctx.a2a_stage = stage;
  return JsonObject({{"type", Str("progress")},
                     {"workflow_id", Str(ctx.public_id)},
                     {"timestamp", Str(NaiveUtc(t))},
                     {"state", Str(state)},
                     {"progress", JsonNumber(progress)},
                     {"stage", Str(stage)},
                     {"message", Str(message)},
                     {"details", std::move(details)}});
}

bool Match(const std::string& p, Endpoint* ep) {
  if (p == "/ws/coordinator") {
    ep->kind = Endpoint::Kind::kCoordinator;
    return true;
  }
  if (dialect_detail::PathParameter(p, "/ws/workflow/", &ep->id)) {
    ep->kind = Endpoint::Kind::kWorkflow;
    return true;
  }
  if (dialect_detail::PathParameter(p, "/ws/agent/", &ep->id)) {
    ep->kind = Endpoint::Kind::kAgent;
    return true;
  }
  return false;
}

ClientAction Parse(const DialectOptions& o, const Endpoint& ep, bool binary, std::string_view payload,
                   Clock::time_point) {
  using K = ClientAction::Kind;
  ClientAction a;
  JsonDoc doc;
  std::string err;
  if (binary) {  // receive_text() fails: the handler ends
    a.kind = K::kClose;
    return a;
  }
  if (!ParseJson(payload, &doc, &err)) {
    a.kind = K::kReply;
    a.reply = a2a::ErrorFrame("Invalid JSON format");
    return a;
  }
  if (!doc.IsObject()) {  // message.get() raises: the handler ends
    a.kind = K::kClose;
    return a;
  }
  std::string type(GetString(doc, "type"));
  a.kind = K::kReply;
  if (type == "ping") {
    a.kind = K::kPing;
    a.reply = JsonObject({{"type", Str("pong")}});
  } else if (type == "control") {
    std::string action(GetString(doc, "action"));
    a.target = std::string(GetString(doc, "workflow_id"));
    if (a.target.empty() && ep.kind == Endpoint::Kind::kWorkflow) a.target = ep.id;
    if (!o.a2a_coordinator)
      a.reply = a2a::ErrorFrame("Coordinator not available");
    else if (action == "cancel")
      a.kind = K::kCancel;
    else if (action == "pause" || action == "resume")
      a.reply = a2a::ControlResponse(action, "not_implemented",
                                     (action == "pause" ? "Pause" : "Resume") + std::string(" is not implemented yet"));
    else
      a.reply = a2a::ErrorFrame("Unknown action: " + action);
  } else if (type == "get_metrics") {
    if (o.a2a_coordinator)
      a.kind = K::kMetrics;
    else
      a.reply = a2a::ErrorFrame("Coordinator not available");
  } else {
    a.reply = a2a::ErrorFrame("Unknown message type: " + type);
  }
  return a;
}

std::vector<DialectFrame> Map(const DialectOptions&, RunContext& ctx, std::string_view type, const JsonValue& data,
                              Clock::time_point t, bool*) {
  int64_t step = GetInt(data, "step_number", ctx.current_step);
  int64_t total = std::max<int64_t>({ctx.total_steps, step, ctx.current_step, 1});
  double done = static_cast<double>(ctx.done_steps) / static_cast<double>(total);
  std::string goal = ctx.step_goal.count(step) ? ctx.step_goal[step] : std::string(GetString(data, "goal"));
  std::string n = std::to_string(step);
  if (type == "workflow_started") {
    return {{Progress(ctx, t, "pending", 0, "queued", "Workflow " + ctx.public_id + " started",
                      JsonObject({{"task", Str(ctx.task)}, {"model", Str(ctx.model)}}))}};
  }
  if (type == "step_started") {
    std::string step_id(GetString(data, "step_id"));
    auto agent = ctx.step_agent.find(step_id);
    std::string details =
        JsonObject({{"step", Int(step)}, {"agent", agent != ctx.step_agent.end() ? Str(agent->second) : ""}});
    return {{Progress(ctx, t, "running", done, goal, "Step " + n + " started: " + goal, details)}};
  }
  if (type == "step_progress") {
    double pct = GetDouble(data, "progress_percentage", 0);
    return {{Progress(ctx, t, "running", (ctx.done_steps + pct / 100.0) / total, goal, GetString(data, "message"),
                      JsonObject({{"step", Int(step)}, {"percent", JsonNumber(pct)}}))}};
  }
  if (type == "step_completed") {
    auto result = data.FindMember("result");
    std::string details =
        JsonObject({{"step", Int(step)}, {"result", result != data.MemberEnd() ? ToJson(result->value) : ""}});
    return {{Progress(ctx, t, "running", static_cast<double>(ctx.done_steps + 1) / total, goal,
                      "Step " + n + " completed: " + goal, details)}};
  }
  if (type == "step_failed") {
    std::string error(GetString(data, "error"));
    return {{Progress(ctx, t, "running", done, goal, "Step " + n + " failed: " + error,
                      JsonObject({{"step", Int(step)}, {"error", Str(error)}}))}};
  }
  if (type == "step_retry_started") {
    return {{Progress(ctx, t, "running", done, goal,
                      "Retrying step " + n + " (attempt " + std::to_string(GetInt(data, "attempt_number", 0)) + " of " +
                          std::to_string(GetInt(data, "max_attempts", 0)) + ")",
                      ToJson(data))}};
  }
  if (type == "workflow_completed") {
    return {{Progress(ctx, t, "completed", 1, "completed", "Workflow completed",
                      JsonObject({{"steps_completed", Int(ctx.done_steps)}}))}};
  }
  if (type == "workflow_failed") {
    std::string message(GetString(data, "message", "Workflow failed"));
    std::string error =
        JsonObject({{"type", Str("error")},
                    {"message", Str(message)},
                    {"error_type", Str(ctx.last_error_type.empty() ? "WorkflowError" : ctx.last_error_type)},
                    {"retryable", JsonBool(false)},
                    {"target_type", Str("workflow")},
                    {"target_id", Str(ctx.public_id)},
                    {"details", JsonObject({{"step", Int(ctx.current_step)}})},
                    {"timestamp", Str(NaiveUtc(t))}});
    return {{error}, {Progress(ctx, t, "failed", ctx.a2a_progress, "failed", message, "{}")}};
  }
  if (type == "workflow_cancelled") {
    return {{Progress(ctx, t, "failed", ctx.a2a_progress, "cancelled", "Workflow cancelled", "{}")}};
  }
  return {};
}

std::vector<std::string> Greet(const DialectOptions& o, const Endpoint& ep, const std::string& client_id,
                                  const RunContext* run, Clock::time_point now) {
  std::string room, what;
  switch (ep.kind) {
    case Endpoint::Kind::kWorkflow:
      room = "workflow:" + ep.id, what = "workflow " + ep.id;
      break;
    case Endpoint::Kind::kAgent:
      room = "agent:" + ep.id, what = "agent " + ep.id;
      break;
    default:
      room = "coordinator", what = "coordinator";
      break;
  }
  std::vector<std::string> out = {JsonObject({{"type", Str("info")},
                                              {"message", Str("Connected to " + what)},
                                              {"client_id", Str(client_id)},
                                              {"room", Str(room)},
                                              {"timestamp", Str(NaiveUtc(now))}})};
  if (o.a2a_coordinator && ep.kind == Endpoint::Kind::kWorkflow && run) {
    out.push_back(JsonObject({{"type", Str("status")},
                              {"workflow_id", Str(ep.id)},
                              {"status", JsonObject({{"workflow_id", Str(ep.id)},
                                                     {"state", Str(run->a2a_state)},
                                                     {"progress", JsonNumber(run->a2a_progress)},
                                                     {"stage", Str(run->a2a_stage)}})}}));
  }
  return out;
}

bool IsGreeting(const JsonValue& frame) {
  std::string_view type = GetString(frame, "type");
  return type == "info" || type == "status";
}

std::string Heartbeat(const Endpoint&, const RunContext*, bool, Clock::time_point now) {
  return JsonObject({{"type", Str("heartbeat")}, {"timestamp", Str(NaiveUtc(now))}});
}

// ---- connections ----

// The run of /ws/workflow/{id}, started by the first socket (?scenario=, ?delay_ms=, ?events=,
// ?task=, ?model=).
DialectRun* WorkflowRun(DialectHost& host, DialectConn& c) {
  if (DialectRun* run = host.Find(c.ep.id)) return run;
  auto q = [&c](const char* k) {
    auto it = c.ep.query.find(k);
    return it == c.ep.query.end() ? std::string() : it->second;
  };
  std::string events = q("events"), delay = q("delay_ms");
  std::string config = JsonObject({{"scenario", q("scenario").empty() ? "" : Str(q("scenario"))},
                                   {"delay_ms", delay.empty() ? "" : Int(std::atoll(delay.c_str()))},
                                   {"events", events.empty() ? "" : Int(std::atoll(events.c_str()))}});
  std::string task = q("task").empty() ? "workflow " + c.ep.id : q("task");
  std::string err;
  DialectRun* run = host.Start(c.ep.id, c.ep.id, task, q("model"), config, &err);
  if (!run) host.Reply(c, a2a::ErrorFrame("Cannot start workflow " + c.ep.id + ": " + err));
  return run;
}

DialectRun* OnOpen(DialectHost& host, DialectConn& c) {
  auto cid = c.ep.query.find("client_id");
  c.client_id = cid != c.ep.query.end() && !cid->second.empty() ? cid->second : host.ids().Uuid();
  return c.ep.kind == Endpoint::Kind::kWorkflow ? WorkflowRun(host, c) : nullptr;
}

void OnAction(DialectHost& host, DialectConn& c, const ClientAction& a) {
  using K = ClientAction::Kind;
  switch (a.kind) {
    case K::kReply:
    case K::kPing:
      return host.Reply(c, a.reply);
    case K::kClose:
      return host.Close(c, 1000, "");
    case K::kCancel: {
      DialectRun* run = host.Find(a.target);
      if (!run) return host.Reply(c, a2a::ControlResponse("cancel", "error", "Workflow " + a.target + " not found"));
      std::vector<EngineEvent> caused;
      std::string err;
      if (!run->run->engine().Cancel(&caused, &err))
        return host.Reply(c, a2a::ControlResponse("cancel", "error", "Workflow " + a.target + ": " + err));
      host.Reply(c, a2a::ControlResponse("cancel", "success", "Workflow " + a.target + " cancelled"));
      return host.Apply(*run, caused);
    }
    case K::kMetrics: {
      int64_t frames = 0, active = 0, agents = 0, workflows = 0;
      host.ForEachRun([&](DialectRun& r) {
        ++workflows;
        frames += static_cast<int64_t>(r.frames.size());
        if (!r.run->ended()) ++active;
      });
      host.ForEachConn([&](DialectConn& conn) {
        if (conn.ep.kind == Endpoint::Kind::kAgent) ++agents;
      });
      return host.Reply(c, a2a::Metrics(frames, workflows, agents, active, Clock::now()));
    }
    default:
      return;
  }
}

}  // namespace

namespace a2a {

std::string ErrorFrame(const std::string& message) {
  return JsonObject({{"type", Str("error")}, {"message", Str(message)}});
}

std::string ControlResponse(const std::string& action, const std::string& status, const std::string& message) {
  return JsonObject({{"type", Str("control_response")},
                     {"action", Str(action)},
                     {"status", Str(status)},
                     {"message", Str(message)}});
}

std::string Metrics(int64_t total_messages, int64_t total_workflows, int64_t agents, int64_t active,
                    Clock::time_point t) {
  return JsonObject({{"type", Str("coordinator_metrics")},
                     {"total_messages", Int(total_messages)},
                     {"total_workflows", Int(total_workflows)},
                     {"registered_agents", Int(agents)},
                     {"healthy_agents", Int(agents)},
                     {"active_workflows", Int(active)},
                     {"timestamp", Str(NaiveUtc(t))}});
}

}  // namespace a2a

namespace dialect_detail {

const DialectSpec kA2a = {ServerDialect::kA2a,
                          "a2a",
                          "/ws/workflow/{id}, /ws/agent/{name} or /ws/coordinator",
                          /*default_heartbeat_ms=*/30000,
                          /*protocol_ping_ms=*/20000,
                          /*ping_is_heartbeat=*/false,
                          /*app_heartbeat=*/true,
                          /*auto_approves=*/true,
                          /*only_starts_wait=*/false,
                          /*replay_on_connect=*/50,
                          1001,
                          "server shutting down",
                          Match,
                          Parse,
                          Map,
                          Greet,
                          IsGreeting,
                          Heartbeat,
                          OnOpen,
                          OnAction,
                          nullptr};

}  // namespace dialect_detail

}  // namespace wsflow::serve
