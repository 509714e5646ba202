// The messages of the local control socket (docs/sessions.md), as pure functions: parsing a
// request line (outside input: any bytes another process of the user sends) and making the
// answer lines. Both sides use them: the holder of a run (session_host.h) and the process that
// asks it (local_session.h).
#pragma once

#include <cstdint>
#include <string>

#include "session/control_action.h"

namespace wsflow {

struct ControlRequestMsg {
  enum class Op { kHello, kWatch, kAction } op = Op::kHello;
  std::string run_id;     ///< the run asked about ("" : the holder's only run)
  int64_t since_seq = 0;  ///< watch: events after this seq
  ControlAction action;   ///< action
};

/// Parses one request line. False with the answer line to send back (`{"ok":false,"status":2,...}`).
bool ParseControlRequest(const std::string& line, ControlRequestMsg* out, std::string* refusal);

/// The request line for `msg`.
std::string ControlRequestLine(const ControlRequestMsg& msg);

/// `{"ok":false,"status":N,"message":"..."}`.
std::string RefusalLine(int status, const std::string& message);
/// `{"ok":true,"event":<envelope line>}`.
std::string AcceptedLine(std::string_view event_line);
/// `{"end":true,"exit_status":N}`, with a reason when the holder ended the watch itself, and
/// `since_seq` when the watch may go on from there on a new connection (a watcher that read too
/// slowly; -1: none).
std::string WatchEndLine(int exit_status, const std::string& reason = "", int64_t since_seq = -1);

}  // namespace wsflow
