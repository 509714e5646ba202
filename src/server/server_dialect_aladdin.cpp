// aladdin: the agent orchestration event bus: subscribe by executionId (or conversationId), the
// answer is a pong, events are {"type":"event","executionId","event":{...}} (docs/dialects.md#aladdin).
// Any path is an endpoint; a subscriber gets what happens from now on (no replay), and
// executionId "all" is a monitor of every execution.
#include <ostream>

#include "core/timestamp.h"
#include "server/dialect_host.h"
#include "server/run_engine.h"
#include "server/server_dialect_internal.h"

namespace wsflow::serve {

namespace {

std::string Str(std::string_view v) { return Quote(v); }
std::string Int(int64_t v) { return std::to_string(v); }

std::string Pong(Clock::time_point now) {
  return JsonObject({{"type", Str("pong")}, {"timestamp", Str(IsoTimestamp(now))}});
}

// One bus event: {"type":"event","executionId":ID,"event":{"id","type","executionId","timestamp",...},"timestamp"};
// `fields` (a JSON object) are the event's own members.
std::string Event(RunContext& ctx, Clock::time_point t, std::string_view type, const std::string& fields) {
  const char* id_key = ctx.conversation ? "conversationId" : "executionId";
  std::string ts = IsoTimestamp(t);
  std::string e = JsonObject({{"id", Str(ctx.key + ":" + std::to_string(++ctx.event_counter))},
                              {"type", Str(type)},
                              {id_key, Str(ctx.public_id)},
                              {"timestamp", Str(ts)}});
  if (fields.size() > 2) e = e.substr(0, e.size() - 1) + "," + fields.substr(1);
  return JsonObject({{"type", Str("event")}, {id_key, Str(ctx.public_id)}, {"event", e}, {"timestamp", Str(ts)}});
}

std::string AgentOf(const RunContext& ctx, const std::string& step_id, int64_t step) {
  auto it = ctx.step_agent.find(step_id);
  return it != ctx.step_agent.end() ? it->second : "agent-" + std::to_string(step);
}

bool Match(const std::string&, Endpoint* ep) {
  ep->kind = Endpoint::Kind::kAny;
  return true;
}

ClientAction Parse(const DialectOptions&, const Endpoint&, bool binary, std::string_view payload,
                   Clock::time_point now) {
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
    a.config = dialect_detail::ConfigFrom(doc);
  } else if (type == "unsubscribe") {
    a.kind = K::kUnsubscribe;
  }
  return a;
}

std::vector<DialectFrame> Map(const DialectOptions&, RunContext& ctx, std::string_view type, const JsonValue& data,
                              Clock::time_point t, bool*) {
  std::string step_id(GetString(data, "step_id", ctx.current_step_id));
  int64_t step = GetInt(data, "step_number", ctx.current_step);
  std::string agent = AgentOf(ctx, step_id, step);
  std::string dept = "dept-" + (step_id.empty() ? std::to_string(step) : step_id);
  if (type == "workflow_started")
    return {{Event(ctx, t, "orchestration-start", JsonObject({{"task", Str(ctx.task)}, {"model", Str(ctx.model)}}))}};
  if (type == "step_started") {
    std::string goal(GetString(data, "goal"));
    return {{Event(ctx, t, "department-start", JsonObject({{"departmentId", Str(dept)}, {"name", Str(goal)}}))},
            {Event(ctx, t, "agent-start",
                   JsonObject({{"agentId", Str(agent)}, {"agentName", Str(agent)}, {"departmentId", Str(dept)}, {"task", Str(goal)}}))}};
  }
  if (type == "agent_message" || type == "step_progress") {
    std::string who(GetString(data, "agent", agent));
    bool progress = type == "step_progress";
    return {{Event(ctx, t, "agent-thinking",
                   JsonObject({{"agentId", Str(who)},
                               {"thought", Str(GetString(data, "message"))},
                               {"progress", progress ? JsonNumber(GetDouble(data, "progress_percentage", 0)) : ""}}))}};
  }
  if (type == "step_failed" || type == "step_retry_started") {
    std::string thought = type == "step_failed"
                              ? "Step failed: " + std::string(GetString(data, "error"))
                              : "Retrying, attempt " + std::to_string(GetInt(data, "attempt_number", 0));
    return {{Event(ctx, t, "agent-thinking", JsonObject({{"agentId", Str(agent)}, {"thought", Str(thought)}}))}};
  }
  if (type == "agent_tool_call") {
    std::string who(GetString(data, "agent", agent)), tool(GetString(data, "tool_name"));
    const JsonValue* args = GetObject(data, "tool_args");
    auto result = data.FindMember("tool_result");
    return {{Event(ctx, t, "tool-call",
                   JsonObject({{"agentId", Str(who)}, {"toolName", Str(tool)}, {"args", args ? ToJson(*args) : "{}"}}))},
            {Event(ctx, t, "tool-result",
                   JsonObject({{"agentId", Str(who)},
                    {"toolName", Str(tool)},
                    {"success", JsonBool(true)},
                    {"result", result != data.MemberEnd() ? ToJson(result->value) : Str("ok")}}))}};
  }
  if (type == "approval_requested") {
    return {{Event(ctx, t, "quality-check",
                   JsonObject({{"agentId", Str(agent)},
                    {"checkId", Str(GetString(data, "approval_id"))},
                    {"check", Str(GetString(data, "action"))},
                    {"description", Str(GetString(data, "description"))},
                    {"status", Str("pending")}}))}};
  }
  if (type == "approval_received") {
    std::string_view resolution = GetString(data, "resolution");
    const char* decision = IsApproveLike(resolution)  ? "approved"
                           : IsRejectLike(resolution) ? "rejected"
                                                      : "revision-needed";
    return {{Event(ctx, t, "review-status",
                   JsonObject({{"checkId", Str(GetString(data, "approval_id"))},
                    {"decision", Str(decision)},
                    {"feedback", Str(GetString(data, "feedback"))}}))}};
  }
  if (type == "step_completed") {
    auto result = data.FindMember("result");
    return {{Event(ctx, t, "agent-complete",
                   JsonObject({{"agentId", Str(agent)}, {"result", result != data.MemberEnd() ? ToJson(result->value) : ""}}))},
            {Event(ctx, t, "department-complete", JsonObject({{"departmentId", Str(dept)}, {"success", JsonBool(true)}}))}};
  }
  if (type == "workflow_completed") {
    int64_t duration = MillisBetween(ctx.started, t);
    return {{Event(ctx, t, "orchestration-complete",
                   JsonObject({{"result", Str(GetString(data, "message", "Workflow completed"))},
                    {"metrics", JsonObject({{"durationMs", Int(duration)},
                                            {"stepsCompleted", Int(ctx.done_steps)},
                                            {"totalTokens", Int(ctx.tokens)},
                                            {"totalCostUsd", JsonNumber(ctx.cost_usd)}})}}))}};
  }
  if (type == "workflow_failed" || type == "workflow_cancelled") {
    std::string message(GetString(data, "message", "Workflow failed"));
    std::string code = type == "workflow_cancelled"  ? "CANCELLED"
                       : ctx.last_error_type.empty() ? "EXECUTION_FAILED"
                                                     : ctx.last_error_type;
    return {{Event(ctx, t, "tool-result",
                   JsonObject({{"agentId", Str(agent)},
                    {"toolName", Str("execute_step")},
                    {"success", JsonBool(false)},
                    {"error", Str(message)}}))},
            {Event(ctx, t, "error",
                   JsonObject({{"error", JsonObject({{"message", Str(message)},
                                          {"code", Str(code)},
                                          {"recoverable", JsonBool(false)}})}}))}};
  }
  return {};
}

std::vector<std::string> Greet(const DialectOptions&, const Endpoint&, const std::string&, const RunContext*,
                                  Clock::time_point now) {
  return {JsonObject({{"type", Str("ping")}, {"timestamp", Str(IsoTimestamp(now))}})};
}

bool IsGreeting(const JsonValue& frame) { return GetString(frame, "type") == "ping"; }

// ---- connections ----

void OnAction(DialectHost& host, DialectConn& c, const ClientAction& a) {
  using K = ClientAction::Kind;
  switch (a.kind) {
    case K::kPing:
      return host.Reply(c, a.reply);
    case K::kSubscribe: {
      host.Reply(c, a.reply);  // the pong, even for a subscribe without ids
      if (a.target.empty()) return;
      if (a.target == "all") {  // a monitor: every execution from now on
        c.watch_all = true;
        host.ForEachRun([&](DialectRun& run) {
          if (!host.Attached(c, run.key())) host.Attach(c, run, run.frames.size(), false);
        });
        return;
      }
      c.watch.insert(a.target);
      if (DialectRun* run = host.Find(a.target)) {  // no replay for a late subscriber
        if (!host.Attached(c, a.target)) host.Attach(c, *run, run->frames.size());
        return;
      }
      std::string config = a.config;
      if (a.conversation) {  // keyed by a conversationId
        JsonDoc doc;
        std::string err;
        if (!ParseJson(config, &doc, &err) || !doc.IsObject()) doc.SetObject();
        doc.AddMember("conversation", true, doc.GetAllocator());
        config = ToJson(doc);
      }
      std::string err;
      std::string task = a.task.empty() ? "execution " + a.target : a.task;
      DialectRun* run = host.Start(a.target, a.target, task, a.model, config, &err);
      if (!run) {
        if (host.verbose()) host.Log() << "wsflow serve: cannot start " << a.target << ": " << err << "\n";
        return;
      }
      return host.Attach(c, *run, 0);
    }
    case K::kUnsubscribe: {
      if (a.target == "all") {
        c.watch_all = false;
        for (const auto& key : host.AttachedKeys(c))
          if (!c.watch.count(key)) host.Detach(c, key);
      } else if (!a.target.empty()) {
        c.watch.erase(a.target);
        if (!c.watch_all) host.Detach(c, a.target);
      }
      return;
    }
    default:  // unknown types, bad JSON, null: no reply
      return;
  }
}

}  // namespace

namespace dialect_detail {

const DialectSpec kAladdin = {ServerDialect::kAladdin,
                              "aladdin",
                              "any path",
                              /*default_heartbeat_ms=*/30000,
                              /*protocol_ping_ms=*/0,
                              /*ping_is_heartbeat=*/true,
                              /*app_heartbeat=*/false,
                              /*auto_approves=*/true,
                              /*only_starts_wait=*/false,
                              /*replay_on_connect=*/0,
                              1000,
                              "Server shutting down",
                              Match,
                              Parse,
                              Map,
                              Greet,
                              IsGreeting,
                              nullptr,
                              nullptr,
                              OnAction,
                              nullptr};

}  // namespace dialect_detail

}  // namespace wsflow::serve
