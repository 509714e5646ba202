#include "core/exit_status.h"

#include <csignal>

namespace wsflow {

ExitStatus ExitStatusFor(Outcome outcome) {
  switch (outcome) {
    case Outcome::kCompleted: return kExitCompleted;
    case Outcome::kFailed: return kExitFailed;
    case Outcome::kCancelled: return kExitCancelled;
    case Outcome::kNone: break;
  }
  return kExitProtocol;
}

const char* ExitStatusName(int status) {
  switch (status) {
    case kExitCompleted: return "completed";
    case kExitFailed: return "failed";
    case kExitUsage: return "usage error";
    case kExitCancelled: return "cancelled";
    case kExitProtocol: return "protocol error";
    case kExitConnection: return "connection failed";
    case kExitAuth: return "authentication rejected";
    case kExitIncomplete: return "stream incomplete";
    case kExitOutput: return "output failed";
    case kExitTimeout: return "timed out";
    case kExitHangup: return "hung up";
    case kExitInterrupted: return "interrupted";
    case kExitTerminated: return "terminated";
  }
  return "unknown";
}

int ExitStatusForSignal(int signo) {
  if (signo == SIGINT) return kExitInterrupted;
  if (signo == SIGHUP) return kExitHangup;
  return kExitTerminated;
}

bool IsSignalStatus(int status) {
  return status == kExitInterrupted || status == kExitTerminated || status == kExitHangup;
}

int RemapCliExitCode(int cli11_code) {
  // 0 is --help/--version (CLI11 reports them as "errors" with code 0).
  return cli11_code == 0 ? kExitCompleted : kExitUsage;
}

}  // namespace wsflow
