// The MCP chat assistant server (backends.md §5, documented only): /ws/chat?session_id=, a first
// status frame, {"type":"message"} both ways. `execute TASK` is one exchange: our message, then
// tool executions, ending with the assistant's message.
#include "dialects/adapters.h"

namespace wsflow {

namespace {

class ChatDialect : public Dialect {
 public:
  const char* name() const override { return "chat"; }
  std::string Path(const std::string& run_id) const override { return "/ws/chat?session_id=" + run_id; }
  ResumeKind resume() const override { return ResumeKind::kNone; }

  bool Start(const StartRequest& r, std::vector<std::string>* frames, std::string*) const override {
    frames->push_back(JsonObject(
        {{"type", Quote("message")},
         {"data", JsonObject({{"content", Quote(r.task)}, {"session_id", Quote(r.run_id)}, {"message_history", "[]"}})}}));
    return true;
  }
  bool Attach(const std::string&, int64_t, int64_t, const std::string&, std::vector<std::string>*,
              std::string*) const override {
    return true;  // the path names the session
  }

  void Convert(ReceivedFrame& frame, const std::string& run_id, Incoming* out) const override {
    const JsonValue& v = frame.dom();
    std::string_view type = GetString(v, "type");
    out->event_type = std::string(type);
    const JsonValue* data = GetObject(v, "data");
    std::string_view status = data ? GetString(*data, "status") : std::string_view();
    if (type.empty()) {
      out->kind = Incoming::kUnknown;
      return;
    }
    if (type == "pong") {
      out->kind = Incoming::kPong;
      return;
    }
    if (type == "status" && (status == "connected" || status == "heartbeat")) {
      out->kind = status == "connected" ? Incoming::kIgnore : Incoming::kHeartbeat;
      return;
    }
    out->kind = Incoming::kEvent;
    BuildEnvelope(&out->envelope, type, GetString(v, "timestamp"), run_id, "chat", data);
    out->outcome = EndOf(type, data);
  }

  Outcome EndOf(std::string_view type, const JsonValue* data) const override {
    if (type == "message" && data && GetString(*data, "role", "assistant") == "assistant")
      return Outcome::kCompleted;  // the reply ends the exchange
    if (type == "error") return Outcome::kFailed;
    return Outcome::kNone;
  }
};

}  // namespace

std::unique_ptr<Dialect> MakeChatDialect() { return std::make_unique<ChatDialect>(); }

}  // namespace wsflow
