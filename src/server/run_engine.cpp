#include "server/run_engine.h"

#include <algorithm>

namespace wsflow {

namespace {
const char* kRejectLike[] = {"reject", "abort", "deny", "exit"};
const char* kApproveLike[] = {"approve", "continue", "submit", "allow", "retry"};

bool IsTerminalType(std::string_view t) {
  return t == "workflow_completed" || t == "workflow_failed" || t == "workflow_cancelled";
}

// Whether the gate just emitted fails the run on a reject-like answer. The gate is the last item
// before the cursor that was not skipped: Advance() also steps over repeat-0 items after it.
bool GateFailsOnReject(const std::vector<ScenarioItem>& items, size_t cursor) {
  while (cursor > 0 && items[cursor - 1].repeat == 0) --cursor;
  return cursor > 0 && items[cursor - 1].fail_on_reject;
}
}  // namespace

bool IsRejectLike(std::string_view r) {
  return std::any_of(std::begin(kRejectLike), std::end(kRejectLike), [&](const char* x) { return r == x; });
}
bool IsApproveLike(std::string_view r) {
  return std::any_of(std::begin(kApproveLike), std::end(kApproveLike), [&](const char* x) { return r == x; });
}

RunEngine::RunEngine(Scenario scenario, const std::vector<std::pair<std::string, std::string>>& vars)
    : items_(std::move(scenario.items)), vars_(vars) {}

// {i}, {n}, {pct} and the run's variables in one pass: text that came from a user (the task) is
// never scanned for placeholders again.
std::string RunEngine::Render(const ScenarioItem& item) const {
  if (item.data_template.find('{', 1) == std::string::npos) return item.data_template;  // no placeholder
  std::string i = std::to_string(rep_ + 1), n = std::to_string(item.repeat);
  std::string pct = std::to_string(item.repeat ? (rep_ + 1) * 100 / item.repeat : 100);
  std::vector<Placeholder> values = {{"i", i, i}, {"n", n, n}, {"pct", pct, pct}};
  for (const auto& [key, value] : vars_) {
    std::string esc = JsonEscape(value);
    values.push_back({key, "\"" + esc + "\"", esc});
  }
  return SubstituteAll(item.data_template, values);
}

RunEngine::State RunEngine::state() const {
  if (outcome_ != Outcome::kNone) return State::kFinished;
  if (paused_) return State::kPaused;
  if (awaiting_) return State::kAwaitingApproval;
  return State::kRunning;  // a scenario that ran out still owes its terminal event
}

int RunEngine::NextDelayMs(int run_delay_ms) const {
  if (item_ < items_.size() && items_[item_].delay_ms >= 0) return items_[item_].delay_ms;
  return run_delay_ms;
}

void RunEngine::Advance() {
  if (++rep_ >= items_[item_].repeat) {
    ++item_;
    rep_ = 0;
  }
  while (item_ < items_.size() && items_[item_].repeat == 0) ++item_;  // repeat 0: skipped
}

void RunEngine::Finish(std::string_view type) {
  if (type == "workflow_completed") outcome_ = Outcome::kCompleted;
  else if (type == "workflow_cancelled") outcome_ = Outcome::kCancelled;
  else outcome_ = Outcome::kFailed;
}

bool RunEngine::Next(EngineEvent* out) {
  if (state() != State::kRunning) return false;
  if (reject_pending_) {
    reject_pending_ = false;
    *out = {"workflow_failed", R"({"message":"rejected at approval )" + JsonEscape(approval_id_) +
                                   R"(","status":"failed"})"};
    Finish(out->type);
    return true;
  }
  while (item_ < items_.size() && items_[item_].repeat == 0) ++item_;
  if (item_ >= items_.size()) {  // every run ends with exactly one terminal event
    *out = {"workflow_completed", R"({"message":"Workflow completed","status":"completed"})"};
    Finish(out->type);
    return true;
  }
  const ScenarioItem& item = items_[item_];
  out->type = item.event_type;
  out->data = Render(item);
  if (item.kind == ScenarioItem::Kind::kApproval) {
    JsonDoc d;
    std::string err;
    ParseJson(out->data, &d, &err);
    approval_id_ = std::string(GetString(d, "approval_id"));
    approval_step_ = std::string(GetString(d, "step_id"));
    lost_id_.clear();
    options_.clear();
    if (const JsonValue* opts = GetArray(d, "options"))
      for (auto& o : opts->GetArray())
        if (o.IsString()) options_.emplace_back(o.GetString(), o.GetStringLength());
    awaiting_ = true;
  }
  Advance();
  if (IsTerminalType(out->type)) Finish(out->type);
  return true;
}

std::string RunEngine::ResolutionFor(bool approved) const {
  for (const auto& o : options_)
    if (approved ? IsApproveLike(o) : IsRejectLike(o)) return o;
  return approved ? "approve" : "reject";
}

bool RunEngine::CheckAnswer(std::string_view approval_id, std::string_view resolution, std::string* err) const {
  if (outcome_ != Outcome::kNone || !awaiting_ || approval_id_.empty() || approval_id != approval_id_) {
    *err = "Approval " + std::string(approval_id) + " not found or already resolved";
    return false;
  }
  if (std::find(options_.begin(), options_.end(), resolution) == options_.end()) {
    *err = "resolution '" + std::string(resolution) + "' is not one of the options:";
    for (const auto& o : options_) *err += " " + o;
    return false;
  }
  return true;
}

void RunEngine::Acknowledge(std::string_view resolution, std::string_view feedback,
                            std::vector<EngineEvent>* out) const {
  out->push_back({"approval_received", R"({"approval_id":")" + JsonEscape(approval_id_) +
                                           R"(","approved":)" + (IsRejectLike(resolution) ? "false" : "true") +
                                           R"(,"resolution":")" + JsonEscape(std::string(resolution)) +
                                           R"(","feedback":")" + JsonEscape(std::string(feedback)) + "\"}"});
}

bool RunEngine::Resolve(std::string_view approval_id, std::string_view resolution, std::string_view feedback,
                        std::vector<EngineEvent>* out, std::string* err) {
  if (!CheckAnswer(approval_id, resolution, err)) return false;
  awaiting_ = false;
  Acknowledge(resolution, feedback, out);
  if (IsRejectLike(resolution) && GateFailsOnReject(items_, item_)) reject_pending_ = true;
  return true;
}

bool RunEngine::ResolveTooSoon(std::string_view approval_id, std::string_view resolution, std::string_view feedback,
                               std::vector<EngineEvent>* out, std::string* err) {
  if (!CheckAnswer(approval_id, resolution, err)) return false;
  Acknowledge(resolution, feedback, out);
  lost_id_ = approval_id_;  // still awaiting_, for a request that is gone
  approval_id_.clear();
  options_.clear();
  return true;
}

bool RunEngine::FailLostApproval(std::vector<EngineEvent>* out) {
  if (outcome_ != Outcome::kNone || !awaiting_ || lost_id_.empty()) return false;
  std::string message = JsonEscape("Approval " + lost_id_ + " not found");
  if (!approval_step_.empty())
    out->push_back({"dag_node_status_changed", R"({"node_id":")" + JsonEscape(approval_step_) +
                                                   R"(","old_status":"running","new_status":"failed","error":")" +
                                                   message + "\"}"});
  out->push_back({"workflow_failed", R"({"message":")" + message + R"(","status":"failed"})"});
  awaiting_ = false;
  lost_id_.clear();
  Finish("workflow_failed");
  return true;
}

bool RunEngine::Pause(std::vector<EngineEvent>* out, std::string* err) {
  if (outcome_ != Outcome::kNone || paused_) {
    *err = paused_ ? "run is already paused" : "run has already ended";
    return false;
  }
  paused_ = true;
  out->push_back({"workflow_paused", R"({"message":"paused by client","status":"paused"})"});
  return true;
}

bool RunEngine::Resume(std::vector<EngineEvent>* out, std::string* err) {
  if (outcome_ != Outcome::kNone || !paused_) {
    *err = outcome_ != Outcome::kNone ? "run has already ended" : "run is not paused";
    return false;
  }
  paused_ = false;
  out->push_back({"workflow_resumed", R"({"message":"resumed by client","status":"running"})"});
  return true;
}

bool RunEngine::Cancel(std::vector<EngineEvent>* out, std::string* err) {
  if (state() == State::kFinished) {
    *err = "run has already ended";
    return false;
  }
  out->push_back({"workflow_cancelled", R"({"message":"cancelled by client","status":"cancelled"})"});
  Finish("workflow_cancelled");
  return true;
}

void RunEngine::Restore(std::string_view type, const JsonValue& data) {
  if (IsTerminalType(type)) {
    Finish(type);
  } else if (type == "workflow_paused") {
    paused_ = true;
  } else if (type == "workflow_resumed") {
    paused_ = false;
  } else if (type == "approval_received") {
    awaiting_ = false;
    std::string_view resolution = GetString(data, "resolution");
    reject_pending_ = IsRejectLike(resolution) && GateFailsOnReject(items_, item_);
  } else {
    EngineEvent ignored;
    Next(&ignored);  // a scenario event: walk past it exactly as when it was made
  }
}

}  // namespace wsflow
