// watch, execute, approve, cancel, pause and resume from start to end: where to connect, the
// local session to go through, the output, the recording, the session and its dispatcher, the
// local control socket, the timeout; then the exit status, the closing line, the summary.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/pretty.h"
#include "core/status_line.h"
#include "session/run_follower.h"
#include "session/ws_session.h"

namespace wsflow {

struct FollowCommand {
  std::string base_url;          ///< as given; a URL without a path gets the dialect's path for the run
  std::string dialect = "auto";  ///< native, cmbagent, ryx, a2a, aladdin, chat, or auto (detect)
  SessionOptions session;        ///< url is filled in from base_url
  StreamOptions stream;
  RunTarget run;
  Millis timeout{0};             ///< --timeout (0: none)
  bool direct = false;           ///< never go through a local session holding the run
  bool listen = true;            ///< a holder of the run offers the local control socket
  std::string record_file;       ///< --record: every frame in and out, with timing
  std::string summary_file;      ///< --summary: a JSON summary for CI
  // For people (watch/execute --output pretty, --progress). Null: NDJSON only, as always.
  std::shared_ptr<PrettyPrinter> pretty;  ///< stdout gets its lines instead of the JSON, and a summary
  std::shared_ptr<StatusLine> status;     ///< a live one-line status on stderr
  /// Several runs with pretty output on a terminal: a live board of the runs (run_board.h).
  bool board = false;
};

/// Runs the command; returns its exit status.
int RunFollowCommand(FollowCommand cmd);

/// The URL a run is followed on: `base` itself when it has a path, else the dialect's path for
/// the run (native: /ws/RUN). Also the key of the run's local control socket.
std::string RunUrl(const std::string& base, const Dialect* dialect, const std::string& run_id);
/// What --summary says of one run (README "Summary file").
struct RunSummaryFields {
  std::string run_id;
  std::string reason;  ///< why it did not complete ("" when it did)
  int64_t events = 0;  ///< the run's own events printed
  int64_t last_seq = 0;
  int64_t reconnects = 0;
  int64_t duplicates = 0;
  int64_t gaps = 0;
  int64_t invalid_frames = 0;
  const RunView* view = nullptr;  ///< duration, cost, first and last event (none: left out)
};
/// --summary's fields of one run: into the object `obj`.
void AddRunSummary(const RunSummaryFields& f, int exit_status, JsonValue* obj, rapidjson::MemoryPoolAllocator<>& a);
/// The same, of a run followed by `f`.
void AddRunSummary(const RunFollower& f, int exit_status, int64_t reconnects, JsonValue* obj,
                   rapidjson::MemoryPoolAllocator<>& a);
/// Writes `doc` and a newline to `path`; false with the reason when it could not be written whole.
bool WriteJsonFile(const std::string& path, const JsonDoc& doc, std::string* err);
/// A path an option will write at the end (--summary): false with the reason when it cannot be
/// created or written (checked before connecting; exit 2).
bool CheckOutputPath(const char* option, const std::string& path, std::string* err);

}  // namespace wsflow
