#include "dialects/event_types.h"

#include <algorithm>

namespace wsflow {

namespace {
std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}
}  // namespace

const std::vector<std::string>& KnownEventTypes() {
  static const std::vector<std::string> kTypes = Sorted({
      // wsflow's protocol and CMBAgent/MARS (the same names), with MARS's legacy frames
      "workflow_started", "workflow_state_changed", "workflow_paused", "workflow_resumed", "workflow_completed",
      "workflow_failed", "workflow_cancelled", "step_started", "step_progress", "step_completed", "step_failed",
      "step_start", "step_complete", "step_retry_started", "step_retry_backoff", "step_retry_succeeded",
      "step_retry_exhausted", "dag_created", "dag_updated", "dag_node_status_changed", "agent_message",
      "agent_thinking", "agent_tool_call", "approval_requested", "approval_received", "cost_update",
      "metric_update", "file_created", "file_updated", "event_captured", "error_occurred", "task_stage_started",
      "task_stage_completed", "task_stage_failed", "task_progress", "heartbeat", "pong", "ack", "error", "status",
      "output", "result", "complete",
      // made by wsflow: connection events, frames that are not envelopes, `send`'s own lines
      "connected", "disconnected", "reconnected", "unknown", "text", "binary",
      // ryx (implemented and documented)
      "task_complete", "workflow_complete", "tool_call", "tool_result", "acknowledged",
      // a2a
      "info", "progress", "agent_status", "coordinator_metrics", "control_response",
      // aladdin (the event's own type; "event" and "ping" are the envelope's)
      "orchestration-start", "orchestration-complete", "department-start", "department-complete", "agent-start",
      "agent-thinking", "agent-complete", "tool-call", "tool-result", "quality-check", "review-status", "event",
      "ping",
      // chat
      "message", "tool_execution",
  });
  return kTypes;
}

bool IsKnownEventType(std::string_view type) {
  const auto& t = KnownEventTypes();
  return std::binary_search(t.begin(), t.end(), type);
}

}  // namespace wsflow
