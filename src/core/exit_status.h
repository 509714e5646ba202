// Exit statuses: how a run ended, or why wsflow could not tell. The README, the man page and
// docs/ list the same table; tests check the numbers, so change them only with all of those.
#pragma once

#include <string>

namespace wsflow {

enum ExitStatus : int {
  kExitCompleted = 0,       ///< run completed (terminal event, or a satisfied --until)
  kExitFailed = 1,          ///< run failed
  kExitUsage = 2,           ///< usage or configuration error
  kExitCancelled = 3,       ///< run cancelled
  kExitProtocol = 4,        ///< peer sent something unusable, refused a request, or does not know the run
  kExitConnection = 5,      ///< connection failed: refused, DNS, TLS, handshake rejected, retries exhausted
  kExitAuth = 6,            ///< authentication rejected (HTTP 401/403, proxy 407)
  kExitIncomplete = 7,      ///< connection lost and the backend cannot resume: events may be missing
  kExitOutput = 8,          ///< output failed: stdout, --record or --summary could not be written
  kExitTimeout = 124,       ///< --timeout reached
  kExitHangup = 129,        ///< SIGHUP (the terminal went away)
  kExitInterrupted = 130,   ///< SIGINT
  kExitTerminated = 143,    ///< SIGTERM
};

/// The outcome of a run as its terminal event tells it.
enum class Outcome { kNone, kCompleted, kFailed, kCancelled };

/// The exit status that reports `outcome` (kNone: the run did not end, which is a protocol error).
ExitStatus ExitStatusFor(Outcome outcome);

/// A short word for an exit status ("completed", "failed", ...), for summaries and messages.
const char* ExitStatusName(int status);

/// The exit status for a signal that ends the command: 130 SIGINT, 143 SIGTERM, 129 SIGHUP.
int ExitStatusForSignal(int signo);
/// True for the statuses of signals.
bool IsSignalStatus(int status);

/// CLI11 parse errors use 100 and up; wsflow reports every usage error as kExitUsage.
int RemapCliExitCode(int cli11_code);

}  // namespace wsflow
