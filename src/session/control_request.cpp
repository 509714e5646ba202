#include "session/control_request.h"

namespace wsflow {

bool ParseControlRequest(const std::string& line, ControlRequestMsg* out, std::string* refusal) {
  JsonDoc d;
  std::string err;
  if (!ParseJson(line, &d, &err) || !d.IsObject()) {  // garbage: refused, the run goes on
    *refusal = RefusalLine(kExitUsage, "wsflow: a control message must be a JSON object");
    return false;
  }
  *out = ControlRequestMsg{};
  out->run_id = std::string(GetString(d, "run_id"));
  std::string_view op = GetString(d, "op");
  if (op == "hello") {
    out->op = ControlRequestMsg::Op::kHello;
    return true;
  }
  if (op == "watch") {
    out->op = ControlRequestMsg::Op::kWatch;
    out->since_seq = std::max<int64_t>(0, GetInt(d, "since_seq", 0));
    return true;
  }
  if (op == "action") {
    out->op = ControlRequestMsg::Op::kAction;
    ControlAction& act = out->action;
    act.type = std::string(GetString(d, "type"));
    act.approval_id = std::string(GetString(d, "approval_id"));
    act.resolution = std::string(GetString(d, "resolution"));
    act.reject = GetBool(d, "reject", false);
    act.feedback = std::string(GetString(d, "feedback"));
    act.modifications = std::string(GetString(d, "modifications"));
    if (IsControlActionType(act.type)) return true;
    *refusal = RefusalLine(kExitUsage, "wsflow: unknown control action");
    return false;
  }
  *refusal = RefusalLine(kExitUsage, "wsflow: unknown control op");
  return false;
}

std::string ControlRequestLine(const ControlRequestMsg& m) {
  std::string run = m.run_id.empty() ? "" : Quote(m.run_id);
  switch (m.op) {
    case ControlRequestMsg::Op::kHello: return JsonObject({{"op", Quote("hello")}, {"run_id", run}});
    case ControlRequestMsg::Op::kWatch:
      return JsonObject({{"op", Quote("watch")}, {"run_id", run}, {"since_seq", std::to_string(m.since_seq)}});
    case ControlRequestMsg::Op::kAction: break;
  }
  const ControlAction& a = m.action;
  return JsonObject({{"op", Quote("action")},
                     {"run_id", run},
                     {"type", Quote(a.type)},
                     {"approval_id", Quote(a.approval_id)},
                     {"resolution", Quote(a.resolution)},
                     {"reject", a.reject ? "true" : "false"},
                     {"feedback", Quote(a.feedback)},
                     {"modifications", Quote(a.modifications)}});
}

std::string RefusalLine(int status, const std::string& message) {
  return JsonObject({{"ok", "false"}, {"status", std::to_string(status)}, {"message", Quote(message)}});
}

std::string AcceptedLine(std::string_view event_line) { return R"({"ok":true,"event":)" + std::string(event_line) + "}"; }

std::string WatchEndLine(int exit_status, const std::string& reason, int64_t since_seq) {
  return JsonObject({{"end", "true"}, {"exit_status", std::to_string(exit_status)},
                     {"reason", reason.empty() ? "" : Quote(reason)},
                     {"since_seq", since_seq < 0 ? "" : std::to_string(since_seq)}});
}

}  // namespace wsflow
