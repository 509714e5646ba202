#include "core/run_tally.h"

#include <catch2/catch.hpp>

#include "core/exit_status.h"

using namespace wsflow;

TEST_CASE("CombinedStatus: every run completed is 0, else the first run, in order, that did not") {
  CHECK(CombinedStatus({}) == kExitCompleted);
  CHECK(CombinedStatus({0, 0, 0}) == kExitCompleted);
  CHECK(CombinedStatus({0, kExitCancelled, kExitFailed}) == kExitCancelled);
  CHECK(CombinedStatus({kExitFailed, kExitCancelled}) == kExitFailed);
  CHECK(CombinedStatus({0, kExitConnection}) == kExitConnection);
}

TEST_CASE("CombinedStatus: a status of the whole command wins over any run's") {
  CHECK(CombinedStatus({kExitFailed, kExitTimeout, kExitTimeout}) == kExitTimeout);
  CHECK(CombinedStatus({kExitFailed, 0, kExitOutput}) == kExitOutput);
  CHECK(CombinedStatus({kExitCancelled, 130}) == 130);
  CHECK(CombinedStatus({0, 143, 0}) == 143);
  CHECK(CombinedStatus({kExitFailed, kExitUsage}) == kExitUsage);
  CHECK(IsCommandStatus(129));
  CHECK_FALSE(IsCommandStatus(kExitFailed));
  CHECK_FALSE(IsCommandStatus(kExitIncomplete));
}

TEST_CASE("NotCompletedLine names the run, how it ended and why") {
  CHECK(NotCompletedLine("r-2", kExitFailed, "step s1 failed after 2 attempts") ==
        "wsflow: run r-2 failed: step s1 failed after 2 attempts");
  CHECK(NotCompletedLine("r-3", kExitCancelled, "") == "wsflow: run r-3 cancelled");
}

TEST_CASE("RunTally counts runs by state and renders the non-empty ones") {
  RunTally t;
  t.running = 3;
  CHECK(t.Render() == "3 runs: 3 running, 0 completed");
  t.running = 0;
  t.Count(kExitCompleted);
  t.Count(kExitFailed);
  t.Count(kExitCancelled);
  t.Count(kExitConnection);
  CHECK(t.completed == 1);
  CHECK(t.failed == 2);
  CHECK(t.cancelled == 1);
  CHECK(t.Render() == "4 runs: 1 completed, 2 failed, 1 cancelled");
  RunTally one;
  one.waiting = 1;
  CHECK(one.Render() == "1 run: 1 waiting, 0 completed");
}
