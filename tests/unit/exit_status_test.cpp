#include <catch2/catch.hpp>

#include <csignal>
#include <set>
#include <string>

#include "core/exit_status.h"

using namespace wsflow;

TEST_CASE("ExitStatusFor maps every outcome") {
  CHECK(ExitStatusFor(Outcome::kCompleted) == kExitCompleted);
  CHECK(ExitStatusFor(Outcome::kFailed) == kExitFailed);
  CHECK(ExitStatusFor(Outcome::kCancelled) == kExitCancelled);
  // A run that did not end is a protocol error.
  CHECK(ExitStatusFor(Outcome::kNone) == kExitProtocol);

  CHECK(static_cast<int>(ExitStatusFor(Outcome::kCompleted)) == 0);
  CHECK(static_cast<int>(ExitStatusFor(Outcome::kFailed)) == 1);
  CHECK(static_cast<int>(ExitStatusFor(Outcome::kCancelled)) == 3);
  CHECK(static_cast<int>(ExitStatusFor(Outcome::kNone)) == 4);
}

TEST_CASE("exit status numbers are the documented ones") {
  CHECK(kExitCompleted == 0);
  CHECK(kExitFailed == 1);
  CHECK(kExitUsage == 2);
  CHECK(kExitCancelled == 3);
  CHECK(kExitProtocol == 4);
  CHECK(kExitConnection == 5);
  CHECK(kExitAuth == 6);
  CHECK(kExitIncomplete == 7);
  CHECK(kExitOutput == 8);
  CHECK(kExitTimeout == 124);
  CHECK(kExitInterrupted == 130);
  CHECK(kExitTerminated == 143);
  CHECK(kExitHangup == 129);
}

TEST_CASE("every exit status has its own name, unknown numbers are 'unknown'") {
  std::set<std::string> names;
  for (int s : {0, 1, 2, 3, 4, 5, 6, 7, 8, 124, 129, 130, 143}) {
    INFO(s);
    std::string name = ExitStatusName(s);
    CHECK(name != "unknown");
    CHECK_FALSE(name.empty());
    names.insert(name);
  }
  CHECK(names.size() == 13);
  CHECK(std::string(ExitStatusName(0)) == "completed");
  CHECK(std::string(ExitStatusName(1)) == "failed");
  CHECK(std::string(ExitStatusName(3)) == "cancelled");
  CHECK(std::string(ExitStatusName(124)) == "timed out");
  for (int s : {-1, 9, 100, 123, 125, 255}) {
    INFO(s);
    CHECK(std::string(ExitStatusName(s)) == "unknown");
  }
}

TEST_CASE("RemapCliExitCode: 0 stays 0, CLI11 parse errors become usage errors") {
  CHECK(RemapCliExitCode(0) == 0);
  // CLI11: 105 ConversionError, 106 ValidationError, 109 ExtrasError, and the rest of 100+.
  for (int code : {100, 101, 105, 106, 107, 108, 109, 110, 113, 255}) {
    INFO(code);
    CHECK(RemapCliExitCode(code) == kExitUsage);
    CHECK(RemapCliExitCode(code) == 2);
  }
}

TEST_CASE("signals map to their exit statuses") {
  CHECK(ExitStatusForSignal(SIGINT) == 130);
  CHECK(ExitStatusForSignal(SIGTERM) == 143);
  CHECK(ExitStatusForSignal(SIGHUP) == 129);
  CHECK(IsSignalStatus(129));
  CHECK(IsSignalStatus(130));
  CHECK(IsSignalStatus(143));
  CHECK_FALSE(IsSignalStatus(124));
  CHECK(std::string(ExitStatusName(129)) == "hung up");
}
