#include "core/approval_policy.h"

#include <algorithm>

namespace wsflow {

namespace {
const char* kApproveLike[] = {"approve", "continue", "submit", "allow", "retry"};
const char* kRejectLike[] = {"reject", "abort", "deny", "exit"};

template <size_t N>
std::string FirstOf(const std::vector<std::string>& options, const char* (&wanted)[N]) {
  for (const auto& o : options)
    for (const char* w : wanted)
      if (o == w) return o;
  return "";
}
}  // namespace

std::vector<std::string> CommonResolutions() {
  std::vector<std::string> all(std::begin(kApproveLike), std::end(kApproveLike));
  all.insert(all.end(), std::begin(kRejectLike), std::end(kRejectLike));
  return all;
}

std::string FirstApproveLike(const std::vector<std::string>& options) { return FirstOf(options, kApproveLike); }
std::string FirstRejectLike(const std::vector<std::string>& options) { return FirstOf(options, kRejectLike); }

bool ParseApprovalRule(const std::string& text, ApprovalRule* out, std::string* err) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    *err = "'" + text + "' is not CHECKPOINT=RESOLUTION (e.g. after_planning=approve, *=approve)";
    return false;
  }
  out->checkpoint = text.substr(0, eq);
  out->resolution = text.substr(eq + 1);
  return true;
}

bool ReadApprovalRequest(const JsonValue& envelope, ApprovalRequest* out) {
  *out = ApprovalRequest{};
  const JsonValue* data = GetObject(envelope, "data");
  if (!data) return false;
  out->approval_id = std::string(GetString(*data, "approval_id"));
  out->checkpoint_type = std::string(GetString(*data, "checkpoint_type"));
  out->action = std::string(GetString(*data, "action"));
  out->message = std::string(GetString(*data, "message", GetString(*data, "description")));
  if (const JsonValue* opts = GetArray(*data, "options"))
    for (auto& o : opts->GetArray())
      if (o.IsString()) out->options.emplace_back(o.GetString(), o.GetStringLength());
  return !out->approval_id.empty();
}

ApprovalDecision ApprovalPolicy::Decide(const ApprovalRequest& req) const {
  ApprovalDecision d;
  for (const auto& r : rules) {
    bool hit = r.checkpoint == "*" || r.checkpoint == req.checkpoint_type || r.checkpoint == req.action;
    if (!hit) continue;
    d.kind = ApprovalDecision::kAnswer;
    d.resolution = r.resolution;
    d.why = "rule " + r.checkpoint + "=" + r.resolution;
    return d;
  }
  if (auto_approve) {
    std::string choice = FirstApproveLike(req.options);
    if (!choice.empty()) {
      d.kind = ApprovalDecision::kAnswer;
      d.resolution = choice;
      d.why = "--auto-approve";
    }
  }
  return d;
}

}  // namespace wsflow
