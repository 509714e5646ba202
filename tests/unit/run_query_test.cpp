#include <catch2/catch.hpp>

#include <csignal>
#include <string>
#include <vector>

#include "cli/run_query.h"
#include "core/exit_status.h"

using namespace wsflow;

namespace {
struct FakeLink : QueryLink {
  std::vector<std::string> sent;
  int closes = 0;
  std::vector<std::pair<Millis, std::function<void()>>> timers;
  void SendNow(const std::string& frame) override { sent.push_back(frame); }
  void Close() override { ++closes; }
  void After(Millis d, std::function<void()> fn) override { timers.emplace_back(d, std::move(fn)); }
};

std::string Answer(const std::string& request_id, const std::string& type, const std::string& data) {
  return R"({"event_type":")" + type + R"(","timestamp":"2026-01-01T00:00:00.000Z","run_id":"r-1","data":)" + data +
         R"(,"request_id":")" + request_id + "\"}";
}
}  // namespace

TEST_CASE("RunQuery: sends the request with its own id on every connect; the ack with that id is the answer") {
  FakeLink link;
  RunQuery q(R"({"type":"list_runs","limit":5})", "runs");
  q.SetLink(&link);
  q.OnOpen(false);
  REQUIRE(link.sent.size() == 1);
  CHECK(link.sent[0] == R"({"type":"list_runs","limit":5,"request_id":")" + q.request_id() + "\"}");
  q.OnOpen(true);  // a reconnect asks again
  CHECK(link.sent.size() == 2);
  q.OnText("not json");
  q.OnText(Answer("someone-else", "ack", R"({"action":"list_runs","runs":[]})"));
  q.OnText(R"({"event_type":"step_progress","seq":3,"data":{}})");
  CHECK_FALSE(q.done());
  q.OnText(Answer(q.request_id(), "ack", R"({"action":"list_runs","runs":[{"run_id":"a"}],"total":1})"));
  CHECK(q.done());
  CHECK(q.exit_status() == kExitCompleted);
  CHECK(link.closes == 1);
  CHECK(GetInt(q.answer(), "total", 0) == 1);
  CHECK(q.run_id() == "r-1");
  q.OnText(Answer(q.request_id(), "error", R"({"error_type":"x","message":"late"})"));
  CHECK(q.exit_status() == kExitCompleted);  // the first answer counts
}

TEST_CASE("RunQuery: an error answer is exit 4 with the backend's message") {
  FakeLink link;
  RunQuery q(R"({"type":"run_status","run_id":"nope"})", "status");
  q.SetLink(&link);
  q.OnOpen(false);
  q.OnText(Answer(q.request_id(), "error", R"({"error_type":"unknown_run","message":"run nope not found"})"));
  CHECK(q.exit_status() == kExitProtocol);
  CHECK(q.message() == "wsflow: status: run nope not found");
  RunQuery old(R"({"type":"list_runs"})", "runs");
  old.SetLink(&link);
  old.OnText(Answer(old.request_id(), "error", R"({"error_type":"unknown_type","message":"unknown message type 'list_runs'"})"));
  CHECK(old.exit_status() == kExitProtocol);
  CHECK(old.message().find("does not answer runs requests") != std::string::npos);
}

TEST_CASE("RunQuery: connection failures, authentication, signals and the timeout") {
  FakeLink link;
  RunQuery refused(R"({"type":"list_runs"})", "runs");
  refused.SetLink(&link);
  refused.SetUrl("ws://127.0.0.1:1/ws");
  Disconnect d;
  d.reason = "connection refused";
  refused.OnGiveUp(d, true);
  CHECK(refused.exit_status() == kExitConnection);
  CHECK(refused.message() == "wsflow: giving up on ws://127.0.0.1:1/ws: connection refused");
  RunQuery auth(R"({"type":"list_runs"})", "runs");
  auth.SetLink(&link);
  d.auth = true;
  auth.OnGiveUp(d, false);
  CHECK(auth.exit_status() == kExitAuth);
  RunQuery sig(R"({"type":"list_runs"})", "runs");
  sig.SetLink(&link);
  sig.OnSignal(SIGINT);
  CHECK(sig.exit_status() == kExitInterrupted);
  RunQuery slow(R"({"type":"list_runs"})", "runs");
  slow.SetLink(&link);
  slow.SetTimeout(Millis(1500));
  slow.OnOpen(false);
  slow.OnOpen(true);
  REQUIRE(link.timers.size() == 1);  // one deadline, not one per connect
  CHECK(link.timers[0].first == Millis(1500));
  link.timers[0].second();
  CHECK(slow.exit_status() == kExitTimeout);
  CHECK(slow.message() == "wsflow: runs: no answer within 1.5 s");
}
