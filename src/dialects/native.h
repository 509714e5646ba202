// The native protocol (docs/protocol.md): frames wsflow sends, and what the frames it receives
// mean. Pure functions over JSON, no networking.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/envelope.h"
#include "core/exit_status.h"
#include "core/json.h"

namespace wsflow::native {

// ---- client -> server ----
/// Starts a run. `config_json` is a JSON object text ("" = {}); `since_seq` > 0 when a retried
/// execute already saw events of the run it started.
std::string ExecuteFrame(std::string_view task, std::string_view config_json, std::string_view run_id,
                         std::string_view request_id, int64_t since_seq = 0);
/// Attaches to a run: every event after `since_seq`, then live ones. With `tail` >= 0 instead: the
/// last `tail` events (0: live ones only).
std::string SubscribeFrame(std::string_view run_id, int64_t since_seq, std::string_view request_id,
                           int64_t tail = -1);
/// pause, resume, cancel.
std::string ControlFrame(std::string_view type, std::string_view run_id, std::string_view request_id);
std::string ResolveApprovalFrame(std::string_view run_id, std::string_view approval_id,
                                 std::string_view resolution, std::string_view feedback,
                                 std::string_view request_id, std::string_view modifications = {});
std::string PingFrame();

// ---- server -> client ----
enum class FrameKind {
  kEvent,      ///< a run event: an envelope with seq
  kAck,        ///< event_type "ack": a control request was applied
  kError,      ///< event_type "error" without seq: a request was refused or malformed
  kPong,       ///< answer to {"type":"ping"}
  kHeartbeat,  ///< event_type "heartbeat" without seq
  kOther,      ///< an envelope without seq that is none of the above
  kUnknown,    ///< JSON that is not an envelope
};

struct Frame {
  FrameKind kind = FrameKind::kUnknown;
  EnvelopeFields env;
  std::string_view request_id;  ///< ack, error
  std::string_view action;      ///< ack: what was applied ("subscribe", "execute", ...)
  std::string_view error_type;  ///< error
  std::string_view message;     ///< error
  int64_t last_seq = -1;        ///< ack of subscribe/execute: the run's last seq then
  int64_t from_seq = -1;        ///< ack of subscribe/execute: events after this seq follow
};

/// What a parsed server frame is.
Frame Classify(const JsonValue& v);

/// How a native run event ends the run, if it does: workflow_completed, workflow_failed (with
/// data.status "cancelled" it is a cancellation), workflow_cancelled.
Outcome TerminalOutcome(std::string_view event_type, const JsonValue& envelope);
/// The same, from the event's data (null: none).
Outcome TerminalOutcomeOfData(std::string_view event_type, const JsonValue* data);

}  // namespace wsflow::native
