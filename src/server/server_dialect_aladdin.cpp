// aladdin: the agent orchestration event bus: subscribe by executionId (or conversationId), the
// answer is a pong, events are {"type":"event","executionId","event":{...}} (docs/dialects.md#aladdin).
#include <functional>

#include "server/run_engine.h"
#include "server/scenario.h"
#include "server/server_dialect_internal.h"

namespace wsflow::serve::dialect_detail {

namespace {

std::string Pong(Clock::time_point now) {
  return JsonObj().Str("type", "pong").Str("timestamp", JsIsoTimestamp(now)).str();
}

// One bus event: {"type":"event","executionId":ID,"event":{"id","type","executionId","timestamp",...},"timestamp"}.
std::string Event(RunContext& ctx, Clock::time_point t, std::string_view type,
                  const std::function<void(JsonObj&)>& fill) {
  const char* id_key = ctx.conversation ? "conversationId" : "executionId";
  std::string ts = JsIsoTimestamp(t);
  JsonObj e;
  e.Str("id", ctx.key + ":" + std::to_string(++ctx.event_counter))
      .Str("type", type)
      .Str(id_key, ctx.public_id)
      .Str("timestamp", ts);
  fill(e);
  return JsonObj().Str("type", "event").Str(id_key, ctx.public_id).Raw("event", e.str()).Str("timestamp", ts).str();
}

std::string AgentOf(const RunContext& ctx, const std::string& step_id, int64_t step) {
  auto it = ctx.step_agent.find(step_id);
  return it != ctx.step_agent.end() ? it->second : "agent-" + std::to_string(step);
}

}  // namespace

ClientAction ParseAladdin(bool binary, std::string_view payload, Clock::time_point now) {
  using K = ClientAction::Kind;
  ClientAction a;
  JsonDoc doc;
  std::string err;
  if (binary || !ParseJson(payload, &doc, &err) || !doc.IsObject()) return a;  // no reply at all
  std::string type(GetString(doc, "type"));
  a.target = std::string(GetString(doc, "executionId"));
  if (a.target.empty()) {
    a.target = std::string(GetString(doc, "conversationId"));
    a.conversation = !a.target.empty();
  }
  if (type == "ping") {
    a.kind = K::kPing;
    a.reply = Pong(now);
  } else if (type == "subscribe") {
    a.kind = K::kSubscribe;
    a.reply = Pong(now);  // the acknowledgement is the same frame as the answer to a ping
    a.task = std::string(GetString(doc, "task"));
    a.model = std::string(GetString(doc, "model"));
    a.config = ConfigFrom(doc);
  } else if (type == "unsubscribe") {
    a.kind = K::kUnsubscribe;
  }
  return a;
}

std::vector<DialectFrame> MapAladdin(RunContext& ctx, std::string_view type, const JsonValue& data,
                                     Clock::time_point t) {
  std::string step_id(GetString(data, "step_id", ctx.current_step_id));
  int64_t step = GetInt(data, "step_number", ctx.current_step);
  std::string agent = AgentOf(ctx, step_id, step);
  std::string dept = "dept-" + (step_id.empty() ? std::to_string(step) : step_id);
  if (type == "workflow_started") {
    return {
        {Event(ctx, t, "orchestration-start", [&](JsonObj& e) { e.Str("task", ctx.task).Str("model", ctx.model); })}};
  }
  if (type == "step_started") {
    std::string goal(GetString(data, "goal"));
    return {{Event(ctx, t, "department-start", [&](JsonObj& e) { e.Str("departmentId", dept).Str("name", goal); })},
            {Event(ctx, t, "agent-start", [&](JsonObj& e) {
              e.Str("agentId", agent).Str("agentName", agent).Str("departmentId", dept).Str("task", goal);
            })}};
  }
  if (type == "agent_message" || type == "step_progress") {
    std::string who(GetString(data, "agent", agent));
    return {{Event(ctx, t, "agent-thinking", [&](JsonObj& e) {
      e.Str("agentId", who).Str("thought", GetString(data, "message"));
      if (type == "step_progress") e.Num("progress", GetDouble(data, "progress_percentage", 0));
    })}};
  }
  if (type == "step_failed" || type == "step_retry_started") {
    std::string thought = type == "step_failed"
                              ? "Step failed: " + std::string(GetString(data, "error"))
                              : "Retrying, attempt " + std::to_string(GetInt(data, "attempt_number", 0));
    return {{Event(ctx, t, "agent-thinking", [&](JsonObj& e) { e.Str("agentId", agent).Str("thought", thought); })}};
  }
  if (type == "agent_tool_call") {
    std::string who(GetString(data, "agent", agent)), tool(GetString(data, "tool_name"));
    const JsonValue* args = GetObject(data, "tool_args");
    auto result = data.FindMember("tool_result");
    return {{Event(ctx, t, "tool-call",
                   [&](JsonObj& e) {
                     e.Str("agentId", who).Str("toolName", tool).Raw("args", args ? ToJson(*args) : "{}");
                   })},
            {Event(ctx, t, "tool-result", [&](JsonObj& e) {
              e.Str("agentId", who).Str("toolName", tool).Bool("success", true);
              if (result != data.MemberEnd())
                e.Val("result", result->value);
              else
                e.Str("result", "ok");
            })}};
  }
  if (type == "approval_requested") {
    return {{Event(ctx, t, "quality-check", [&](JsonObj& e) {
      e.Str("agentId", agent)
          .Str("checkId", GetString(data, "approval_id"))
          .Str("check", GetString(data, "action"))
          .Str("description", GetString(data, "description"))
          .Str("status", "pending");
    })}};
  }
  if (type == "approval_received") {
    std::string_view resolution = GetString(data, "resolution");
    const char* decision = IsApproveLike(resolution)  ? "approved"
                           : IsRejectLike(resolution) ? "rejected"
                                                      : "revision-needed";
    return {{Event(ctx, t, "review-status", [&](JsonObj& e) {
      e.Str("checkId", GetString(data, "approval_id"))
          .Str("decision", decision)
          .Str("feedback", GetString(data, "feedback"));
    })}};
  }
  if (type == "step_completed") {
    auto result = data.FindMember("result");
    return {
        {Event(ctx, t, "agent-complete",
               [&](JsonObj& e) {
                 e.Str("agentId", agent);
                 if (result != data.MemberEnd()) e.Val("result", result->value);
               })},
        {Event(ctx, t, "department-complete", [&](JsonObj& e) { e.Str("departmentId", dept).Bool("success", true); })}};
  }
  if (type == "workflow_completed") {
    int64_t duration = MillisBetween(ctx.started, t);
    return {{Event(ctx, t, "orchestration-complete", [&](JsonObj& e) {
      e.Str("result", GetString(data, "message", "Workflow completed"))
          .Raw("metrics", JsonObj()
                              .Int("durationMs", duration)
                              .Int("stepsCompleted", ctx.done_steps)
                              .Int("totalTokens", ctx.tokens)
                              .Num("totalCostUsd", ctx.cost_usd)
                              .str());
    })}};
  }
  if (type == "workflow_failed" || type == "workflow_cancelled") {
    std::string message(GetString(data, "message", "Workflow failed"));
    std::string code = type == "workflow_cancelled"  ? "CANCELLED"
                       : ctx.last_error_type.empty() ? "EXECUTION_FAILED"
                                                     : ctx.last_error_type;
    return {
        {Event(ctx, t, "tool-result",
               [&](JsonObj& e) {
                 e.Str("agentId", agent).Str("toolName", "execute_step").Bool("success", false).Str("error", message);
               })},
        {Event(ctx, t, "error", [&](JsonObj& e) {
          e.Raw("error", JsonObj().Str("message", message).Str("code", code).Bool("recoverable", false).str());
        })}};
  }
  return {};
}

std::vector<std::string> GreetingAladdin(Clock::time_point now) {
  return {JsonObj().Str("type", "ping").Str("timestamp", JsIsoTimestamp(now)).str()};
}

}  // namespace wsflow::serve::dialect_detail
