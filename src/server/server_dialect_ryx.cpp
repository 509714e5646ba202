// ryx: step_start / step_complete / task_complete as the server implements them, or with
// --ryx-documented the {"event":...} frames its documents describe (docs/dialects.md#ryx). One
// frame at a time: a frame received while a run goes on waits for the run's end.
#include "server/dialect_host.h"
#include "server/server_dialect_internal.h"

namespace wsflow::serve {

namespace {

double MillisFloat(Clock::time_point a, Clock::time_point b) {
  double ms = std::chrono::duration<double, std::milli>(b - a).count();
  return ms < 0 ? 0 : static_cast<int64_t>(ms * 100) / 100.0;  // two decimals, as the documents show
}

std::string ResultJson(const JsonValue& data) {
  auto it = data.IsObject() ? data.FindMember("result") : data.MemberEnd();
  return data.IsObject() && it != data.MemberEnd() ? ToJson(it->value) : "null";
}

std::string ResultsArray(const RunContext& ctx) {
  std::string out = "[";
  for (size_t i = 0; i < ctx.results.size(); ++i) out += (i ? "," : "") + ctx.results[i];
  return out + "]";
}

std::string Agent(const RunContext& ctx, const std::string& step_id) {
  auto it = ctx.step_agent.find(step_id);
  return it == ctx.step_agent.end() ? "agent" : it->second;
}

std::string Str(std::string_view v) { return Quote(v); }
std::string Int(int64_t v) { return std::to_string(v); }

std::vector<DialectFrame> Implemented(RunContext& ctx, std::string_view type, const JsonValue& data,
                                      Clock::time_point t) {
  if (type == "step_started") {
    return {{JsonObject({{"type", Str("step_start")},
                         {"step", Int(GetInt(data, "step_number", ctx.current_step + 1))},
                         {"action", Str(GetString(data, "goal"))},
                         {"timestamp", Str(PyIsoTimestamp(t, false, ""))}})}};  // naive local time
  }
  if (type == "step_completed") {
    int64_t step = GetInt(data, "step_number", ctx.current_step);
    auto started = ctx.step_started.find(step);
    int64_t latency = started == ctx.step_started.end() ? 0 : MillisBetween(started->second, t);
    std::string result = ResultJson(data);
    ctx.results.push_back(JsonObject(
        {{"step", Int(step)}, {"action", Str(ctx.step_goal[step])}, {"result", result}, {"latency_ms", Int(latency)}}));
    return {{JsonObject(
        {{"type", Str("step_complete")}, {"step", Int(step)}, {"latency_ms", Int(latency)}, {"result", result}})}};
  }
  if (type == "workflow_completed") {
    return {{JsonObject({{"type", Str("task_complete")},
                         {"total_latency_ms", Int(MillisBetween(ctx.started, t))},
                         {"results", ResultsArray(ctx)}})}};
  }
  if (type == "workflow_failed" || type == "workflow_cancelled")
    return {{JsonObject({{"type", Str("error")}, {"message", Str(GetString(data, "message", "Workflow failed"))}})}};
  return {};
}

std::string Documented(std::string_view event, const std::string& step, const std::string& node,
                       std::string_view message, double latency, std::string data) {
  return JsonObject({{"event", Str(event)},
                     {"step", Str(step)},
                     {"node", Str(node)},
                     {"message", Str(message)},
                     {"latency", JsonNumber(latency)},
                     {"data", std::move(data)}});
}

std::vector<DialectFrame> AsDocumented(RunContext& ctx, std::string_view type, const JsonValue& data,
                                       Clock::time_point t) {
  std::string step_id(GetString(data, "step_id", ctx.current_step_id));
  if (type == "step_started") {
    return {{Documented("step_start", step_id, Agent(ctx, step_id), GetString(data, "goal"), 0,
                        JsonObject({{"step_number", Int(GetInt(data, "step_number", 0))}}))}};
  }
  if (type == "step_completed") {
    int64_t step = GetInt(data, "step_number", ctx.current_step);
    auto started = ctx.step_started.find(step);
    double latency = started == ctx.step_started.end() ? 0 : MillisFloat(started->second, t);
    std::string result = ResultJson(data);
    ctx.results.push_back(JsonObject({{"step", Str(step_id)}, {"result", result}}));
    return {{Documented("step_complete", step_id, Agent(ctx, step_id), "Completed: " + ctx.step_goal[step], latency,
                        JsonObject({{"result", result}}))}};
  }
  if (type == "agent_tool_call") {
    std::string tool(GetString(data, "tool_name"));
    std::string node(GetString(data, "agent", "agent"));
    const JsonValue* args = GetObject(data, "tool_args");
    std::vector<DialectFrame> out = {{Documented("tool_call", ctx.current_step_id, node, "Calling " + tool, 0,
                                                 JsonObject({{"tool", Str(tool)}, {"args", args ? ToJson(*args) : "{}"}}))}};
    auto res = data.FindMember("tool_result");
    if (res != data.MemberEnd())
      out.push_back({Documented("tool_result", ctx.current_step_id, node, tool + " returned", 0,
                                JsonObject({{"tool", Str(tool)}, {"result", ToJson(res->value)}}))});
    return out;
  }
  if (type == "workflow_completed") {
    return {{Documented("workflow_complete", "complete", "output", "Workflow completed", MillisFloat(ctx.started, t),
                        JsonObject({{"results", ResultsArray(ctx)}}))}};
  }
  if (type == "workflow_failed" || type == "workflow_cancelled") {
    return {{Documented("error", ctx.current_step_id.empty() ? "error" : ctx.current_step_id, "error",
                        GetString(data, "message", "Workflow failed"), MillisFloat(ctx.started, t), "{}")}};
  }
  return {};
}

const char* Tag(const DialectOptions& o) { return o.ryx_documented ? "event" : "type"; }

bool Match(const std::string& path, Endpoint* ep) {
  ep->kind = Endpoint::Kind::kStream;
  return path == "/api/workflow/stream";
}

ClientAction Parse(const DialectOptions& o, const Endpoint&, bool binary, std::string_view payload,
                   Clock::time_point) {
  using K = ClientAction::Kind;
  ClientAction a;
  JsonDoc doc;
  std::string err;
  if (binary || !ParseJson(payload, &doc, &err)) {
    a.kind = K::kReply;
    a.reply = JsonObject({{Tag(o), Str("error")}, {"message", Str("Invalid JSON data")}});
    return a;
  }
  if (!doc.IsObject()) {  // the handler's data.get() raises: the connection just ends
    a.kind = K::kDrop;
    return a;
  }
  std::string_view action = GetString(doc, "action");
  if (action.empty()) action = GetString(doc, "type");
  if (action == "execute_workflow") {
    a.kind = K::kStart;
    a.task = std::string(GetString(doc, "input"));
    a.model = std::string(GetString(doc, "model"));
    a.config = dialect_detail::ConfigFrom(doc);
    return a;
  }
  a.kind = K::kReply;
  a.reply = JsonObject({{Tag(o), Str("acknowledged")}, {"data", ToJson(doc)}});
  return a;
}

std::vector<DialectFrame> Map(const DialectOptions& o, RunContext& ctx, std::string_view type, const JsonValue& data,
                              Clock::time_point t, bool*) {
  return o.ryx_documented ? AsDocumented(ctx, type, data, t) : Implemented(ctx, type, data, t);
}

// ---- connections: a run per execute_workflow, one frame at a time ----

void OnAction(DialectHost& host, DialectConn& c, const ClientAction& a) {
  using K = ClientAction::Kind;
  switch (a.kind) {
    case K::kReply:
    case K::kPing:
      return host.Reply(c, a.reply);
    case K::kDrop:
      return host.Drop(c);
    case K::kStart: {
      std::string err;
      if (!host.StartTurn(c, a, "", &err))
        host.Reply(c, JsonObject({{Tag(host.options()), Str("error")}, {"message", Str(err)}}));
      return;
    }
    default:
      return;
  }
}

void OnDrained(DialectHost& host, DialectConn& c, DialectRun& run) { host.EndTurn(c, run); }

}  // namespace

namespace dialect_detail {

const DialectSpec kRyx = {ServerDialect::kRyx,
                          "ryx",
                          "/api/workflow/stream",
                          /*default_heartbeat_ms=*/0,
                          /*protocol_ping_ms=*/20000,
                          /*ping_is_heartbeat=*/false,
                          /*app_heartbeat=*/false,
                          /*auto_approves=*/true,
                          /*only_starts_wait=*/false,
                          /*replay_on_connect=*/0,
                          1001,
                          "server shutting down",
                          Match,
                          Parse,
                          Map,
                          nullptr,
                          nullptr,
                          nullptr,
                          nullptr,
                          OnAction,
                          OnDrained};

}  // namespace dialect_detail

}  // namespace wsflow::serve
