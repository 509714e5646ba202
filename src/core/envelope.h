// The event envelope: wsflow's stdout contract (docs/events.md, docs/event.schema.json).
//   {"event_type":"step_progress","timestamp":"<ISO 8601>","run_id":"r-1","seq":17,"data":{...}}
// optional: event_id, session_id, dialect, raw; events wsflow makes itself carry "origin":"client"
// and no seq.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"

namespace wsflow {

/// Envelope schema version; also in docs/event.schema.json's $id and `wsflow --version`.
inline constexpr const char* kEnvelopeVersion = "1";

/// The envelope fields wsflow reasons about, as views into a parsed frame.
struct EnvelopeFields {
  std::string_view event_type;
  std::string_view run_id;
  std::string_view timestamp;
  int64_t seq = -1;  ///< -1: the frame carries no seq
};

/// Reads the envelope fields of `v`. False (with a reason in `*err`) when `v` is not an envelope:
/// not an object, no string event_type, a seq that is not a positive integer, a non-string run_id.
bool ReadEnvelope(const JsonValue& v, EnvelopeFields* out, std::string* err);

/// What an envelope line is made of, for the code that makes events (server, client, dialects).
struct EnvelopeParts {
  std::string_view event_type;
  std::string_view timestamp;  ///< empty: now
  std::string_view run_id;     ///< empty: omitted
  int64_t seq = -1;            ///< -1: omitted
  const JsonValue* data = nullptr;  ///< null: {}
  bool client_origin = false;       ///< adds "origin":"client"
  std::string_view dialect;         ///< non-empty: adds "dialect"
  std::string_view event_id;        ///< non-empty: adds "event_id"
  std::string_view session_id;      ///< non-empty: adds "session_id"
  const JsonValue* raw = nullptr;   ///< non-null: adds "raw" (the frame as received)
};

/// The compact one-line JSON of an envelope, members in the documented order.
std::string EnvelopeLine(const EnvelopeParts& parts);

/// What the backend said about a run that failed or was cancelled, from its terminal event:
/// data.error (a string, or an object with a message), else data.message, else data.reason; "".
std::string EndMessage(const JsonValue& envelope);

}  // namespace wsflow
