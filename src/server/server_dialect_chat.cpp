// chat: the chat assistant server (documented only): a status frame on connect, then for each
// user message a few tool_execution frames and the assistant's message (docs/dialects.md#chat).
#include "server/scenario.h"
#include "server/server_dialect_internal.h"

namespace wsflow::serve {

namespace {

std::string Frame(std::string_view type, std::string_view data, Clock::time_point t) {
  return JsonObj().Str("type", type).Raw("data", data).Str("timestamp", PyIsoTimestamp(t, true, "")).str();
}

std::string Error(const std::string& message, Clock::time_point t) {
  return Frame("error", JsonObj().Str("message", message).str(), t);
}

// The reply to one user message: two tools, then the answer.
const char* kChatScenario = R"JSON({"name":"chat","delay_ms":60,"items":[
{"event":"workflow_started","data":{"run_id":"{run_id}","task_description":"{task}","agent":"assistant","model":"{model}"}},
{"event":"agent_tool_call","data":{"agent":"assistant","tool_name":"search_documents","tool_args":{"query":"{task}"}}},
{"event":"agent_tool_call","data":{"agent":"assistant","tool_name":"search_documents","tool_args":{"query":"{task}"},"tool_result":{"documents":3}}},
{"event":"agent_tool_call","data":{"agent":"assistant","tool_name":"summarize","tool_args":{"documents":3}}},
{"event":"agent_tool_call","data":{"agent":"assistant","tool_name":"summarize","tool_args":{"documents":3},"tool_result":{"words":42}}},
{"event":"agent_message","data":{"agent":"assistant","message":"Here is what I found about \"{task}\": three documents cover it, summarised in 42 words.","role":"assistant"}},
{"event":"workflow_completed","data":{"message":"Workflow completed","status":"completed"}}
]})JSON";

}  // namespace

const char* ChatScenarioJson() { return kChatScenario; }

namespace dialect_detail {

ClientAction ParseChat(const Endpoint&, bool binary, std::string_view payload, Clock::time_point now) {
  using K = ClientAction::Kind;
  ClientAction a;
  a.kind = K::kReply;
  JsonDoc doc;
  std::string err;
  if (binary) {
    a.reply = Error("Binary messages are not supported", now);
    return a;
  }
  if (!ParseJson(payload, &doc, &err)) {
    a.reply = Error("Invalid JSON", now);
    return a;
  }
  if (!doc.IsObject()) {
    a.reply = Error("Invalid message format", now);
    return a;
  }
  std::string type(GetString(doc, "type"));
  if (type == "ping") {
    a.kind = K::kPing;
    a.reply = Frame("pong", "{}", now);
  } else if (type == "message") {
    const JsonValue* data = GetObject(doc, "data");
    std::string content(data ? GetString(*data, "content") : std::string_view());
    if (content.empty()) {
      a.reply = Error("Message content is required", now);
    } else {
      a.kind = K::kStart;
      a.task = content;
      a.model = std::string(GetString(*data, "model"));
      a.config = ConfigFrom(*data);
    }
  } else {
    a.reply = Error("Unknown message type: " + type, now);
  }
  return a;
}

std::vector<DialectFrame> MapChat(RunContext& ctx, std::string_view type, const JsonValue& data, Clock::time_point t) {
  if (type == "agent_tool_call") {
    auto result = data.FindMember("tool_result");
    bool done = result != data.MemberEnd();
    const JsonValue* args = GetObject(data, "tool_args");
    JsonObj details;
    details.Raw("args", args ? ToJson(*args) : "{}");
    if (done) details.Val("result", result->value);
    return {{Frame("tool_execution",
                   JsonObj()
                       .Str("tool", GetString(data, "tool_name"))
                       .Str("status", done ? "completed" : "running")
                       .Raw("details", details.str())
                       .str(),
                   t)}};
  }
  if (type == "step_failed") {
    return {{Frame("tool_execution",
                   JsonObj()
                       .Str("tool", ctx.step_goal.count(ctx.current_step) ? ctx.step_goal[ctx.current_step] : "step")
                       .Str("status", "failed")
                       .Raw("details", JsonObj().Str("error", GetString(data, "error")).str())
                       .str(),
                   t)}};
  }
  if (type == "agent_message")
    return {{Frame("message", JsonObj().Str("content", GetString(data, "message")).Str("role", "assistant").str(), t)}};
  if (type == "workflow_failed" || type == "workflow_cancelled")
    return {{Error(std::string(GetString(data, "message", "The assistant failed")), t)}};
  return {};
}

std::vector<std::string> GreetingChat(const Endpoint& ep, Clock::time_point now) {
  return {Frame("status", JsonObj().Str("status", "connected").Str("session_id", ep.id).str(), now)};
}

std::string HeartbeatChat(Clock::time_point now) {
  return Frame("status", JsonObj().Str("status", "heartbeat").str(), now);
}

}  // namespace dialect_detail

}  // namespace wsflow::serve
