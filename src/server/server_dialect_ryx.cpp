// ryx: step_start / step_complete / task_complete as the server implements them, or with
// --ryx-documented the {"event":...} frames its documents describe (docs/dialects.md#ryx).
#include "server/scenario.h"
#include "server/server_dialect_internal.h"

namespace wsflow::serve::dialect_detail {

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

std::vector<DialectFrame> Implemented(RunContext& ctx, std::string_view type, const JsonValue& data,
                                      Clock::time_point t) {
  if (type == "step_started") {
    return {{JsonObj()
                 .Str("type", "step_start")
                 .Int("step", GetInt(data, "step_number", ctx.current_step + 1))
                 .Str("action", GetString(data, "goal"))
                 .Str("timestamp", PyIsoTimestamp(t, false, ""))  // naive local time
                 .str()}};
  }
  if (type == "step_completed") {
    int64_t step = GetInt(data, "step_number", ctx.current_step);
    auto started = ctx.step_started.find(step);
    int64_t latency = started == ctx.step_started.end() ? 0 : MillisBetween(started->second, t);
    std::string result = ResultJson(data);
    ctx.results.push_back(JsonObj()
                              .Int("step", step)
                              .Str("action", ctx.step_goal[step])
                              .Raw("result", result)
                              .Int("latency_ms", latency)
                              .str());
    return {{JsonObj()
                 .Str("type", "step_complete")
                 .Int("step", step)
                 .Int("latency_ms", latency)
                 .Raw("result", result)
                 .str()}};
  }
  if (type == "workflow_completed") {
    return {{JsonObj()
                 .Str("type", "task_complete")
                 .Int("total_latency_ms", MillisBetween(ctx.started, t))
                 .Raw("results", ResultsArray(ctx))
                 .str()}};
  }
  if (type == "workflow_failed" || type == "workflow_cancelled")
    return {{JsonObj().Str("type", "error").Str("message", GetString(data, "message", "Workflow failed")).str()}};
  return {};
}

std::string Documented(std::string_view event, const std::string& step, const std::string& node,
                       std::string_view message, double latency, std::string_view data) {
  return JsonObj()
      .Str("event", event)
      .Str("step", step)
      .Str("node", node)
      .Str("message", message)
      .Num("latency", latency)
      .Raw("data", data)
      .str();
}

std::vector<DialectFrame> AsDocumented(RunContext& ctx, std::string_view type, const JsonValue& data,
                                       Clock::time_point t) {
  std::string step_id(GetString(data, "step_id", ctx.current_step_id));
  if (type == "step_started") {
    return {{Documented("step_start", step_id, Agent(ctx, step_id), GetString(data, "goal"), 0,
                        JsonObj().Int("step_number", GetInt(data, "step_number", 0)).str())}};
  }
  if (type == "step_completed") {
    int64_t step = GetInt(data, "step_number", ctx.current_step);
    auto started = ctx.step_started.find(step);
    double latency = started == ctx.step_started.end() ? 0 : MillisFloat(started->second, t);
    std::string result = ResultJson(data);
    ctx.results.push_back(JsonObj().Str("step", step_id).Raw("result", result).str());
    return {{Documented("step_complete", step_id, Agent(ctx, step_id), "Completed: " + ctx.step_goal[step], latency,
                        JsonObj().Raw("result", result).str())}};
  }
  if (type == "agent_tool_call") {
    std::string tool(GetString(data, "tool_name"));
    std::string node(GetString(data, "agent", "agent"));
    const JsonValue* args = GetObject(data, "tool_args");
    std::vector<DialectFrame> out = {
        {Documented("tool_call", ctx.current_step_id, node, "Calling " + tool, 0,
                    JsonObj().Str("tool", tool).Raw("args", args ? ToJson(*args) : "{}").str())}};
    auto res = data.FindMember("tool_result");
    if (res != data.MemberEnd())
      out.push_back({Documented("tool_result", ctx.current_step_id, node, tool + " returned", 0,
                                JsonObj().Str("tool", tool).Val("result", res->value).str())});
    return out;
  }
  if (type == "workflow_completed") {
    return {{Documented("workflow_complete", "complete", "output", "Workflow completed", MillisFloat(ctx.started, t),
                        JsonObj().Raw("results", ResultsArray(ctx)).str())}};
  }
  if (type == "workflow_failed" || type == "workflow_cancelled") {
    return {{Documented("error", ctx.current_step_id.empty() ? "error" : ctx.current_step_id, "error",
                        GetString(data, "message", "Workflow failed"), MillisFloat(ctx.started, t), "{}")}};
  }
  return {};
}

}  // namespace

ClientAction ParseRyx(const DialectOptions& o, bool binary, std::string_view payload) {
  using K = ClientAction::Kind;
  const char* tag = o.ryx_documented ? "event" : "type";
  ClientAction a;
  JsonDoc doc;
  std::string err;
  if (binary || !ParseJson(payload, &doc, &err)) {
    a.kind = K::kReply;
    a.reply = JsonObj().Str(tag, "error").Str("message", "Invalid JSON data").str();
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
    a.config = ConfigFrom(doc);
    return a;
  }
  a.kind = K::kReply;
  a.reply = JsonObj().Str(tag, "acknowledged").Raw("data", ToJson(doc)).str();
  return a;
}

std::vector<DialectFrame> MapRyx(const DialectOptions& o, RunContext& ctx, std::string_view type, const JsonValue& data,
                                 Clock::time_point t) {
  return o.ryx_documented ? AsDocumented(ctx, type, data, t) : Implemented(ctx, type, data, t);
}

}  // namespace wsflow::serve::dialect_detail
