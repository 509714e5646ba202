#include "session/control_action.h"

#include <algorithm>

#include "core/event_filter.h"

namespace wsflow {

bool IsControlActionType(std::string_view type) {
  return type == "approve" || type == "cancel" || type == "pause" || type == "resume";
}

bool BuildActionFrame(ControlAction* act, const ActionContext& ctx, const std::string& request_id, std::string* frame,
                      int* status, std::string* message) {
  auto fail = [&](int s, const std::string& m) {
    *status = s;
    *message = m;
    return false;
  };
  if (ctx.outcome != Outcome::kNone) {
    return fail(kExitProtocol, "wsflow: run " + ctx.run_id + " has already ended (" +
                                   ExitStatusName(ExitStatusFor(ctx.outcome)) + "); nothing to " + act->type);
  }
  std::string err;
  if (act->type != "approve") {
    if (!ctx.dialect->Control(act->type, ctx.run_id, request_id, frame, &err)) return fail(kExitUsage, "wsflow: " + err);
    return true;
  }
  if (const ApprovalRequest* req = ctx.request) {
    const std::vector<std::string>& options = req->options;
    if (ctx.answered)
      return fail(kExitProtocol, "wsflow: approval " + act->approval_id + " of run " + ctx.run_id + " was already answered");
    if (act->reject) {
      act->resolution = FirstRejectLike(options);
      if (act->resolution.empty())
        return fail(kExitUsage, "wsflow: approval " + act->approval_id + " offers no reject-like option; allowed: " +
                                    JoinList(options));
    } else if (act->resolution.empty()) {
      act->resolution = FirstApproveLike(options);
      if (act->resolution.empty())
        return fail(kExitUsage, "wsflow: approval " + act->approval_id +
                                    " offers no approve-like option; choose one with --resolution: " + JoinList(options));
    } else if (!options.empty() && std::find(options.begin(), options.end(), act->resolution) == options.end()) {
      return fail(kExitUsage, "wsflow: '" + act->resolution + "' is not an option of approval " + act->approval_id +
                                  "; allowed: " + JoinList(options));
    }
  } else {  // the stream did not show the request: the backend judges the answer
    if (act->reject) act->resolution = "reject";
    if (act->resolution.empty()) act->resolution = "approve";
  }
  if (!ctx.dialect->Approve(ctx.run_id, act->approval_id, act->resolution, act->feedback, act->modifications,
                            request_id, frame, &err))
    return fail(kExitUsage, "wsflow: " + err);
  return true;
}

bool Confirms(const ControlAction& act, Event& event) {
  std::string_view type = event.type();
  if (act.type == "approve") {
    if (type != "approval_received") return false;
    const JsonValue* data = GetObject(event.envelope(), "data");
    return data && GetString(*data, "approval_id") == act.approval_id;
  }
  if (act.type == "pause") return type == "workflow_paused";
  if (act.type == "resume") return type == "workflow_resumed";
  return event.outcome() == Outcome::kCancelled;
}

std::string AwaitedBy(const ControlAction& act) {
  if (act.type == "approve") return "approval_received for " + act.approval_id;
  return "the " + act.type + " to be acknowledged";
}

}  // namespace wsflow
