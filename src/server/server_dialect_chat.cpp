// chat: the chat assistant server (documented only): a status frame on connect, then for each
// user message a few tool_execution frames and the assistant's message (docs/dialects.md#chat).
// A message waits for the reply before it; anything else is answered at once.
#include "server/dialect_host.h"
#include "server/server_dialect_internal.h"

namespace wsflow::serve {

namespace {

std::string Str(std::string_view v) { return Quote(v); }

std::string Frame(std::string_view type, std::string data, Clock::time_point t) {
  return JsonObject({{"type", Str(type)}, {"data", std::move(data)}, {"timestamp", Str(PyIsoTimestamp(t, true, ""))}});
}

std::string Error(const std::string& message, Clock::time_point t) {
  return Frame("error", JsonObject({{"message", Str(message)}}), t);
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

bool Match(const std::string& path, Endpoint* ep) {
  if (path != "/ws/chat") return false;
  ep->kind = Endpoint::Kind::kChat;
  if (auto it = ep->query.find("session_id"); it != ep->query.end()) ep->id = it->second;
  return true;
}

ClientAction Parse(const DialectOptions&, const Endpoint&, bool binary, std::string_view payload,
                   Clock::time_point now) {
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
      a.config = dialect_detail::ConfigFrom(*data);
    }
  } else {
    a.reply = Error("Unknown message type: " + type, now);
  }
  return a;
}

std::vector<DialectFrame> Map(const DialectOptions&, RunContext& ctx, std::string_view type, const JsonValue& data,
                              Clock::time_point t, bool*) {
  if (type == "agent_tool_call") {
    auto result = data.FindMember("tool_result");
    bool done = result != data.MemberEnd();
    const JsonValue* args = GetObject(data, "tool_args");
    std::string details =
        JsonObject({{"args", args ? ToJson(*args) : "{}"}, {"result", done ? ToJson(result->value) : ""}});
    return {{Frame("tool_execution",
                   JsonObject({{"tool", Str(GetString(data, "tool_name"))},
                               {"status", Str(done ? "completed" : "running")},
                               {"details", details}}),
                   t)}};
  }
  if (type == "step_failed") {
    std::string tool = ctx.step_goal.count(ctx.current_step) ? ctx.step_goal[ctx.current_step] : "step";
    return {{Frame("tool_execution",
                   JsonObject({{"tool", Str(tool)},
                               {"status", Str("failed")},
                               {"details", JsonObject({{"error", Str(GetString(data, "error"))}})}}),
                   t)}};
  }
  if (type == "agent_message")
    return {{Frame("message", JsonObject({{"content", Str(GetString(data, "message"))}, {"role", Str("assistant")}}),
                   t)}};
  if (type == "workflow_failed" || type == "workflow_cancelled")
    return {{Error(std::string(GetString(data, "message", "The assistant failed")), t)}};
  return {};
}

std::vector<std::string> Greet(const DialectOptions&, const Endpoint& ep, const std::string&, const RunContext*,
                                  Clock::time_point now) {
  return {Frame("status", JsonObject({{"status", Str("connected")}, {"session_id", Str(ep.id)}}), now)};
}

bool IsGreeting(const JsonValue& frame) {
  const JsonValue* data = GetObject(frame, "data");
  return GetString(frame, "type") == "status" && data && GetString(*data, "status") == "connected";
}

std::string Heartbeat(const Endpoint&, const RunContext*, bool, Clock::time_point now) {
  return Frame("status", JsonObject({{"status", Str("heartbeat")}}), now);
}

// ---- connections: a reply (a run) per message ----

DialectRun* OnOpen(DialectHost& host, DialectConn& c) {
  if (c.ep.id.empty()) c.ep.id = host.ids().Uuid();
  return nullptr;
}

void OnAction(DialectHost& host, DialectConn& c, const ClientAction& a) {
  using K = ClientAction::Kind;
  switch (a.kind) {
    case K::kReply:
    case K::kPing:
      return host.Reply(c, a.reply);
    case K::kStart: {
      std::string err;
      if (!host.StartTurn(c, a, c.ep.id, &err)) host.Reply(c, Error(err, Clock::now()));
      return;
    }
    default:
      return;
  }
}

void OnDrained(DialectHost& host, DialectConn& c, DialectRun& run) { host.EndTurn(c, run); }

}  // namespace

const char* ChatScenarioJson() { return kChatScenario; }

namespace dialect_detail {

const DialectSpec kChat = {ServerDialect::kChat,
                           "chat",
                           "/ws/chat?session_id=S",
                           /*default_heartbeat_ms=*/30000,
                           /*protocol_ping_ms=*/0,
                           /*ping_is_heartbeat=*/false,
                           /*app_heartbeat=*/true,
                           /*auto_approves=*/true,
                           /*only_starts_wait=*/true,
                           /*replay_on_connect=*/0,
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
                           OnDrained};

}  // namespace dialect_detail

}  // namespace wsflow::serve
