#include "session/messages.h"

#include <iostream>

#include "core/exit_status.h"

namespace wsflow {

std::string RetryLine(const Disconnect& why, Millis delay, int attempt, int max_attempts) {
  return std::string("wsflow: ") + (why.was_open ? "connection lost: " : "cannot connect: ") + why.reason +
         "; reconnecting in " + FormatDuration(delay) + " (attempt " + std::to_string(attempt) + "/" +
         (max_attempts > 0 ? std::to_string(max_attempts) : "unlimited") + ")";
}

std::string DialectLine(const std::string& dialect, const std::string& why) {
  return "wsflow: dialect " + dialect + " (" + why + ")";
}

int GiveUpStatus(const Disconnect& why) {
  if (why.protocol) return kExitProtocol;
  return why.auth ? kExitAuth : kExitConnection;
}

int StartRecording(RecordingWriter* recorder, const std::string& path, const RecordingHeader& header) {
  if (path.empty()) return 0;
  std::string err;
  if (recorder->Open(path, header, &err)) return 0;
  std::cerr << "wsflow: " << err << "\n";
  return kExitUsage;
}

}  // namespace wsflow
