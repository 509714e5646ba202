// a2a: the video pipeline's coordinator routes: info on connect, progress frames, an error frame
// before a failure, "Coordinator not available" unless one is attached (docs/dialects.md#a2a).
#include <algorithm>

#include "server/scenario.h"
#include "server/server_dialect_internal.h"

namespace wsflow::serve {

namespace {

std::string NaiveUtc(Clock::time_point t) { return PyIsoTimestamp(t, true, ""); }

std::string Progress(RunContext& ctx, Clock::time_point t, const std::string& state, double progress,
                     const std::string& stage, std::string_view message, std::string_view details) {
  if (state == "running" && progress < ctx.a2a_progress) progress = ctx.a2a_progress;  // never backwards
  if (progress < 0) progress = 0;
  if (progress > 1) progress = 1;
  ctx.a2a_state = state;
  ctx.a2a_progress = progress;
  ctx.a2a_stage = stage;
  return JsonObj()
      .Str("type", "progress")
      .Str("workflow_id", ctx.public_id)
      .Str("timestamp", NaiveUtc(t))
      .Str("state", state)
      .Num("progress", progress)
      .Str("stage", stage)
      .Str("message", message)
      .Raw("details", details)
      .str();
}

}  // namespace

namespace a2a {

std::string ErrorFrame(const std::string& message) {
  return JsonObj().Str("type", "error").Str("message", message).str();
}

std::string ControlResponse(const std::string& action, const std::string& status, const std::string& message) {
  return JsonObj()
      .Str("type", "control_response")
      .Str("action", action)
      .Str("status", status)
      .Str("message", message)
      .str();
}

std::string Metrics(int64_t total_messages, int64_t total_workflows, int64_t agents, int64_t active,
                    Clock::time_point t) {
  return JsonObj()
      .Str("type", "coordinator_metrics")
      .Int("total_messages", total_messages)
      .Int("total_workflows", total_workflows)
      .Int("registered_agents", agents)
      .Int("healthy_agents", agents)
      .Int("active_workflows", active)
      .Str("timestamp", NaiveUtc(t))
      .str();
}

}  // namespace a2a

namespace dialect_detail {

ClientAction ParseA2a(const DialectOptions& o, const Endpoint& ep, bool binary, std::string_view payload) {
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
    a.reply = JsonObj().Str("type", "pong").str();
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

std::vector<DialectFrame> MapA2a(RunContext& ctx, std::string_view type, const JsonValue& data, Clock::time_point t) {
  int64_t step = GetInt(data, "step_number", ctx.current_step);
  int64_t total = std::max<int64_t>({ctx.total_steps, step, ctx.current_step, 1});
  double done = static_cast<double>(ctx.done_steps) / static_cast<double>(total);
  std::string goal = ctx.step_goal.count(step) ? ctx.step_goal[step] : std::string(GetString(data, "goal"));
  std::string n = std::to_string(step);
  if (type == "workflow_started") {
    return {{Progress(ctx, t, "pending", 0, "queued", "Workflow " + ctx.public_id + " started",
                      JsonObj().Str("task", ctx.task).Str("model", ctx.model).str())}};
  }
  if (type == "step_started") {
    std::string step_id(GetString(data, "step_id"));
    auto agent = ctx.step_agent.find(step_id);
    JsonObj details;
    details.Int("step", step);
    if (agent != ctx.step_agent.end()) details.Str("agent", agent->second);
    return {{Progress(ctx, t, "running", done, goal, "Step " + n + " started: " + goal, details.str())}};
  }
  if (type == "step_progress") {
    double pct = GetDouble(data, "progress_percentage", 0);
    return {{Progress(ctx, t, "running", (ctx.done_steps + pct / 100.0) / total, goal, GetString(data, "message"),
                      JsonObj().Int("step", step).Num("percent", pct).str())}};
  }
  if (type == "step_completed") {
    auto result = data.FindMember("result");
    JsonObj details;
    details.Int("step", step);
    if (result != data.MemberEnd()) details.Val("result", result->value);
    return {{Progress(ctx, t, "running", static_cast<double>(ctx.done_steps + 1) / total, goal,
                      "Step " + n + " completed: " + goal, details.str())}};
  }
  if (type == "step_failed") {
    std::string error(GetString(data, "error"));
    return {{Progress(ctx, t, "running", done, goal, "Step " + n + " failed: " + error,
                      JsonObj().Int("step", step).Str("error", error).str())}};
  }
  if (type == "step_retry_started") {
    return {{Progress(ctx, t, "running", done, goal,
                      "Retrying step " + n + " (attempt " + std::to_string(GetInt(data, "attempt_number", 0)) + " of " +
                          std::to_string(GetInt(data, "max_attempts", 0)) + ")",
                      ToJson(data))}};
  }
  if (type == "workflow_completed") {
    return {{Progress(ctx, t, "completed", 1, "completed", "Workflow completed",
                      JsonObj().Int("steps_completed", ctx.done_steps).str())}};
  }
  if (type == "workflow_failed") {
    std::string message(GetString(data, "message", "Workflow failed"));
    std::string error = JsonObj()
                            .Str("type", "error")
                            .Str("message", message)
                            .Str("error_type", ctx.last_error_type.empty() ? "WorkflowError" : ctx.last_error_type)
                            .Bool("retryable", false)
                            .Str("target_type", "workflow")
                            .Str("target_id", ctx.public_id)
                            .Raw("details", JsonObj().Int("step", ctx.current_step).str())
                            .Str("timestamp", NaiveUtc(t))
                            .str();
    return {{error}, {Progress(ctx, t, "failed", ctx.a2a_progress, "failed", message, "{}")}};
  }
  if (type == "workflow_cancelled") {
    return {{Progress(ctx, t, "failed", ctx.a2a_progress, "cancelled", "Workflow cancelled", "{}")}};
  }
  return {};
}

std::vector<std::string> GreetingA2a(const DialectOptions& o, const Endpoint& ep, const std::string& client_id,
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
  std::vector<std::string> out = {JsonObj()
                                      .Str("type", "info")
                                      .Str("message", "Connected to " + what)
                                      .Str("client_id", client_id)
                                      .Str("room", room)
                                      .Str("timestamp", NaiveUtc(now))
                                      .str()};
  if (o.a2a_coordinator && ep.kind == Endpoint::Kind::kWorkflow && run) {
    out.push_back(JsonObj()
                      .Str("type", "status")
                      .Str("workflow_id", ep.id)
                      .Raw("status", JsonObj()
                                         .Str("workflow_id", ep.id)
                                         .Str("state", run->a2a_state)
                                         .Num("progress", run->a2a_progress)
                                         .Str("stage", run->a2a_stage)
                                         .str())
                      .str());
  }
  return out;
}

std::string HeartbeatA2a(Clock::time_point now) {
  return JsonObj().Str("type", "heartbeat").Str("timestamp", NaiveUtc(now)).str();
}

}  // namespace dialect_detail

}  // namespace wsflow::serve
