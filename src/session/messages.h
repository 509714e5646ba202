// What every client command (watch, execute, the control commands, send) says about its
// connection and its recording, written once.
#pragma once

#include <string>

#include "core/duration.h"
#include "core/text.h"  // Count
#include "replay/recording.h"
#include "session/ws_session.h"

namespace wsflow {

/// The stderr line for a connection that ended and will be retried.
std::string RetryLine(const Disconnect& why, Millis delay, int attempt, int max_attempts);
/// The line that says which dialect --dialect auto chose, and why: "wsflow: dialect ryx (from
/// the URL path /api/workflow/stream)". Said once; not with -q, not for wsflow's own protocol.
std::string DialectLine(const std::string& dialect, const std::string& why);
/// The exit status for a session that gave up: 4 when the server broke the protocol, 6 when
/// credentials were refused, else 5.
int GiveUpStatus(const Disconnect& why);

/// Opens --record's file (`path` empty: nothing). 0, or the exit status after saying why.
int StartRecording(RecordingWriter* recorder, const std::string& path, const RecordingHeader& header);

}  // namespace wsflow
