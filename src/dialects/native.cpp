#include "dialects/native.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace wsflow::native {

namespace {
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Put(Writer& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
void PutIf(Writer& w, const char* key, std::string_view value) {
  if (!value.empty()) Put(w, key, value);
}
std::string Done(rapidjson::StringBuffer& buf) { return std::string(buf.GetString(), buf.GetSize()); }
}  // namespace

std::string ExecuteFrame(std::string_view task, std::string_view config_json, std::string_view run_id,
                         std::string_view request_id, int64_t since_seq) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Put(w, "type", "execute");
  Put(w, "task", task);
  w.Key("config");
  if (config_json.empty()) {
    w.StartObject();
    w.EndObject();
  } else {
    w.RawValue(config_json.data(), config_json.size(), rapidjson::kObjectType);
  }
  PutIf(w, "run_id", run_id);
  PutIf(w, "request_id", request_id);
  if (since_seq > 0) {
    w.Key("since_seq");
    w.Int64(since_seq);
  }
  w.EndObject();
  return Done(buf);
}

std::string SubscribeFrame(std::string_view run_id, int64_t since_seq, std::string_view request_id,
                           int64_t tail) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Put(w, "type", "subscribe");
  Put(w, "run_id", run_id);
  if (tail >= 0) {
    w.Key("tail");
    w.Int64(tail);
  } else {
    w.Key("since_seq");
    w.Int64(since_seq);
  }
  PutIf(w, "request_id", request_id);
  w.EndObject();
  return Done(buf);
}

std::string ControlFrame(std::string_view type, std::string_view run_id, std::string_view request_id) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Put(w, "type", type);
  PutIf(w, "run_id", run_id);
  PutIf(w, "request_id", request_id);
  w.EndObject();
  return Done(buf);
}

std::string ResolveApprovalFrame(std::string_view run_id, std::string_view approval_id,
                                 std::string_view resolution, std::string_view feedback,
                                 std::string_view request_id, std::string_view modifications) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Put(w, "type", "resolve_approval");
  PutIf(w, "run_id", run_id);
  Put(w, "approval_id", approval_id);
  Put(w, "resolution", resolution);
  Put(w, "feedback", feedback);
  Put(w, "modifications", modifications);
  PutIf(w, "request_id", request_id);
  w.EndObject();
  return Done(buf);
}

std::string PingFrame() { return R"({"type":"ping"})"; }

Frame Classify(const JsonValue& v) {
  Frame f;
  std::string err;
  if (!ReadEnvelope(v, &f.env, &err)) return f;  // kUnknown
  if (f.env.seq > 0) {
    f.kind = FrameKind::kEvent;
    return f;
  }
  const JsonValue* data = GetObject(v, "data");
  static const JsonValue kEmpty(rapidjson::kObjectType);
  const JsonValue& d = data ? *data : kEmpty;
  f.request_id = GetString(v, "request_id");
  std::string_view type = f.env.event_type;
  if (type == "ack") {
    f.kind = FrameKind::kAck;
    f.action = GetString(d, "action");
    f.last_seq = GetInt(d, "last_seq", -1);
    f.from_seq = GetInt(d, "from_seq", -1);
  } else if (type == "error") {
    f.kind = FrameKind::kError;
    f.error_type = GetString(d, "error_type");
    f.message = GetString(d, "message", "(no message)");
  } else if (type == "pong") {
    f.kind = FrameKind::kPong;
  } else if (type == "heartbeat") {
    f.kind = FrameKind::kHeartbeat;
  } else {
    f.kind = FrameKind::kOther;
  }
  return f;
}

Outcome TerminalOutcome(std::string_view event_type, const JsonValue& envelope) {
  return TerminalOutcomeOfData(event_type, GetObject(envelope, "data"));
}

Outcome TerminalOutcomeOfData(std::string_view event_type, const JsonValue* data) {
  if (event_type == "workflow_completed") return Outcome::kCompleted;
  if (event_type == "workflow_cancelled") return Outcome::kCancelled;
  if (event_type == "workflow_failed") {
    if (data && GetString(*data, "status") == "cancelled") return Outcome::kCancelled;
    return Outcome::kFailed;
  }
  return Outcome::kNone;
}

}  // namespace wsflow::native
