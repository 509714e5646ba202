// cmbagent (MARS): MARS envelopes without seq, the real executor's step names, two run ids, two
// timestamp styles, the legacy frames at the end (docs/dialects.md#cmbagent).
#include <rapidjson/error/error.h>

#include "server/scenario.h"
#include "server/server_dialect_internal.h"

namespace wsflow::serve {

namespace {

// A frame of the task executor: "...Z" timestamps, no null fields.
std::string ExecFrame(std::string_view type, Clock::time_point t, const std::string& run_id,
                      const std::string& session_id, std::string_view data) {
  JsonObj o;
  o.Str("event_type", type).Str("timestamp", PyIsoTimestamp(t, true, "Z")).Str("run_id", run_id);
  if (!session_id.empty()) o.Str("session_id", session_id);
  return o.Raw("data", data).str();
}

// A frame of the connection manager: "...+00:00" timestamps and always "session_id":null.
std::string CmFrame(std::string_view type, Clock::time_point t, const std::string& task_id, std::string_view data) {
  return JsonObj()
      .Str("event_type", type)
      .Str("timestamp", PyIsoTimestamp(t, true, "+00:00"))
      .Str("run_id", task_id)
      .Null("session_id")
      .Raw("data", data)
      .str();
}

// Python's json.loads message for a frame that is not JSON, roughly ("Expecting value: line 1
// column 1 (char 0)").
std::string PyJsonError(std::string_view text) {
  JsonDoc doc;  // iterative: a deeply nested frame must not recurse (json.h)
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(), text.size());
  size_t at = doc.GetErrorOffset();
  if (at > text.size()) at = text.size();
  std::string what = "Expecting value";
  switch (doc.GetParseError()) {
    case rapidjson::kParseErrorObjectMissName:
      what = "Expecting property name enclosed in double quotes";
      break;
    case rapidjson::kParseErrorObjectMissColon:
      what = "Expecting ':' delimiter";
      break;
    case rapidjson::kParseErrorObjectMissCommaOrCurlyBracket:
      what = "Expecting ',' delimiter";
      break;
    case rapidjson::kParseErrorArrayMissCommaOrSquareBracket:
      what = "Expecting ',' delimiter";
      break;
    case rapidjson::kParseErrorStringMissQuotationMark:
      what = "Unterminated string starting at";
      break;
    case rapidjson::kParseErrorDocumentRootNotSingular:
      what = "Extra data";
      break;
    default:
      break;
  }
  size_t line = 1, col = 1;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return what + ": line " + std::to_string(line) + " column " + std::to_string(col) + " (char " + std::to_string(at) +
         ")";
}

const char* PyTypeName(const JsonValue& v) {
  if (v.IsArray()) return "list";
  if (v.IsString()) return "str";
  if (v.IsBool()) return "bool";
  if (v.IsInt64() || v.IsUint64()) return "int";
  if (v.IsNumber()) return "float";
  return "NoneType";
}

}  // namespace

namespace mars {

std::string ErrorFrame(const std::string& task_id, const std::string& message, Clock::time_point t) {
  return ExecFrame("error", t, task_id, "", JsonObj().Str("message", message).str());
}

std::string StateFrame(const std::string& task_id, const std::string& status, const std::string& message,
                       Clock::time_point t) {
  return CmFrame("workflow_state_changed", t, task_id, JsonObj().Str("status", status).Str("message", message).str());
}

}  // namespace mars

namespace dialect_detail {

ClientAction ParseCmbagent(const DialectOptions&, const Endpoint& ep, bool binary, std::string_view payload,
                           Clock::time_point now) {
  using K = ClientAction::Kind;
  ClientAction a;
  if (binary) {  // Starlette's receive_json() looks for the text of the message
    a.kind = K::kBadFrame;
    a.reply = "Execution error: 'text'";
    return a;
  }
  JsonDoc doc;
  std::string err;
  if (!ParseJson(payload, &doc, &err)) {
    a.kind = K::kBadFrame;
    a.reply = "Execution error: " + PyJsonError(payload);
    return a;
  }
  if (!doc.IsObject()) {  // data.get("task") on a list, a number, ...
    a.kind = K::kBadFrame;
    a.reply = std::string("Execution error: '") + PyTypeName(doc) + "' object has no attribute 'get'";
    return a;
  }
  a.task = std::string(GetString(doc, "task"));
  a.has_task = !a.task.empty();
  if (const JsonValue* config = GetObject(doc, "config")) {
    a.config = ToJson(*config);
    a.model = std::string(GetString(*config, "model"));
  }
  std::string type(GetString(doc, "type"));
  auto approved = doc.FindMember("approved");
  if (approved != doc.MemberEnd()) a.approved = approved->value.IsBool() && approved->value.GetBool() ? 1 : 0;
  a.approval_id = std::string(GetString(doc, "approval_id"));
  a.feedback = std::string(GetString(doc, "feedback"));
  if (type == "ping") {
    a.kind = K::kPing;
    a.reply = CmFrame("pong", now, ep.id, "{}");
  } else if (type == "pause") {
    a.kind = K::kPause;
  } else if (type == "resume") {
    a.kind = K::kResume;
  } else if (type == "cancel") {
    a.kind = K::kCancel;
  } else if (type == "request_state") {
    a.kind = K::kRequestState;
    a.since = GetDouble(doc, "since", 0);
  } else if (type == "resolve_approval") {
    a.kind = K::kApprove;
    a.resolution = std::string(GetString(doc, "resolution"));
  } else if (type == "approval_response") {
    a.kind = K::kApprove;
    if (a.approved < 0) a.approved = 0;
  } else if (type.empty() && a.has_task) {
    a.kind = K::kStart;
  } else if (type.empty() && approved != doc.MemberEnd()) {  // the legacy answer {"approved": true}
    a.kind = K::kApprove;
  }
  return a;
}

std::vector<DialectFrame> MapCmbagent(const DialectOptions&, RunContext& ctx, std::string_view type,
                                      const JsonValue& data, Clock::time_point t, bool* close_after) {
  const std::string& task_id = ctx.public_id;
  auto exec = [&](std::string_view ty, const std::string& run_id, std::string_view d) {
    return DialectFrame{ExecFrame(ty, t, run_id, ctx.session_id, d)};
  };
  auto cm = [&](std::string_view ty, std::string_view d, int delay_ms = 0) {  // stamped when it is sent
    return DialectFrame{CmFrame(ty, t + std::chrono::milliseconds(delay_ms), task_id, d), true, delay_ms};
  };
  std::string json = ToJson(data);
  if (type == "workflow_started" || type == "dag_created" || type == "dag_updated")
    return {exec(type, ctx.uuid, WithStringMember(data, "run_id", ctx.uuid))};
  if (type == "dag_node_status_changed") return {exec(type, ctx.uuid, json)};
  if (type == "step_started") return {exec("step_start", task_id, json)};
  if (type == "step_completed") return {exec("step_complete", task_id, json)};
  if (type == "approval_received") {
    std::string_view resolution = GetString(data, "resolution");
    return {cm(type, resolution == "approve" ? WithStringMember(data, "resolution", "approved") : json)};
  }
  if (type == "workflow_paused" || type == "workflow_resumed") return {cm(type, json)};
  if (type == "workflow_completed") {
    *close_after = true;
    return {exec(type, ctx.uuid, json),
            exec("complete", task_id, JsonObj().Str("message", "Task completed successfully").str())};
  }
  if (type == "workflow_failed") {
    *close_after = true;
    std::string message(GetString(data, "message", "Workflow failed"));
    return {exec(type, task_id, json),  // the executor's, then the handler's
            exec(type, task_id, JsonObj().Str("message", message).Str("status", "failed").Str("error", message).str()),
            exec("error", task_id, JsonObj().Str("message", message).Str("error_type", "execution_error").str())};
  }
  if (type == "workflow_cancelled") {
    *close_after = true;
    return {
        cm("workflow_failed", JsonObj().Str("message", "Workflow cancelled by user").Str("status", "cancelled").str()),
        cm(type, json, 300)};
  }
  return {exec(type, task_id, json)};
}

std::string HeartbeatCmbagent(const RunContext* run, const Endpoint& ep, Clock::time_point now) {
  double unix_seconds = std::chrono::duration<double>(now.time_since_epoch()).count();  // time.time()
  return ExecFrame("heartbeat", now, ep.id, run ? run->session_id : "", JsonObj().Num("timestamp", unix_seconds).str());
}

}  // namespace dialect_detail

}  // namespace wsflow::serve
