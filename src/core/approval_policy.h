// Who answers an approval request inside watch/execute, decided from the request alone:
// --approve CHECKPOINT=RESOLUTION rules (CHECKPOINT matches checkpoint_type, else action; * any),
// then --auto-approve (the first option among approve, continue, submit, allow, retry).
// Hooks (--on-approval) and the interactive prompt are the caller's, when this says kAsk.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"

namespace wsflow {

struct ApprovalRule {
  std::string checkpoint;  ///< "*" matches any
  std::string resolution;
};

/// The resolutions backends commonly offer, approve-like first: what shell completion suggests.
std::vector<std::string> CommonResolutions();

/// Parses "CHECKPOINT=RESOLUTION". False with a reason.
bool ParseApprovalRule(const std::string& text, ApprovalRule* out, std::string* err);

/// The request's fields that matter here, read from an approval_requested envelope.
struct ApprovalRequest {
  std::string approval_id;
  std::string checkpoint_type;
  std::string action;
  std::string message;
  std::vector<std::string> options;
};
bool ReadApprovalRequest(const JsonValue& envelope, ApprovalRequest* out);

struct ApprovalDecision {
  enum Kind { kAnswer, kAsk } kind = kAsk;  ///< kAsk: no rule answers; hooks/prompt/--no-input decide
  std::string resolution;
  std::string why;  ///< for the stderr line: "rule after_planning=approve", "--auto-approve"
};

class ApprovalPolicy {
 public:
  std::vector<ApprovalRule> rules;
  bool auto_approve = false;

  ApprovalDecision Decide(const ApprovalRequest& req) const;
  bool empty() const { return rules.empty() && !auto_approve; }
};

/// The first option of `options` that is approve-like (for --auto-approve and `approve`).
std::string FirstApproveLike(const std::vector<std::string>& options);
/// The first reject-like option (reject, abort, deny, exit) of `options` (for --reject).
std::string FirstRejectLike(const std::vector<std::string>& options);

}  // namespace wsflow
