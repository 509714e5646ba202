// The dispatcher and its followers against a fake session: frames in, frames out, exit statuses.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "session/dispatcher.h"

using namespace wsflow;

namespace {
struct FakeSession : SessionPort {
  std::vector<std::string> sent;
  std::vector<std::function<void()>> posted;
  std::vector<std::pair<Millis, std::function<void()>>> timers;
  bool open = false;
  int closed_with = 0;
  bool stopped = false;
  int paused = 0;
  int64_t reconnect_count = 0;
  int progress = 0;
  std::string url_ = "ws://127.0.0.1:1/ws/r-1";

  void SendNow(const std::string& frame) override {
    if (open) sent.push_back(frame);
  }
  bool is_open() const override { return open; }
  void Close(int code, const std::string&) override { closed_with = code; }
  void Stop() override { stopped = true; }
  void MarkProgress() override { ++progress; }
  void PauseReading() override { ++paused; }
  void ResumeReading() override {}
  void Post(std::function<void()> fn) override { posted.push_back(std::move(fn)); }
  void After(Millis d, std::function<void()> fn) override { timers.emplace_back(d, std::move(fn)); }
  int64_t reconnects() const override { return reconnect_count; }
  const std::string& url() const override { return url_; }
  void RunPosted() {
    while (!posted.empty()) {
      auto p = std::move(posted);
      posted.clear();
      for (auto& f : p) f();
    }
  }
};

// stdout of the command under test: a temporary file read back at the end.
struct Capture {
  std::FILE* file = std::tmpfile();
  NdjsonWriter writer{Opts()};
  NdjsonWriter::Options Opts() {
    NdjsonWriter::Options o;
    o.fd = ::fileno(file);
    return o;
  }
  ~Capture() { std::fclose(file); }
  std::vector<std::string> Lines() {
    writer.Close();
    std::rewind(file);
    std::vector<std::string> lines;
    char buf[65536];
    while (std::fgets(buf, sizeof buf, file)) {
      std::string l(buf);
      if (!l.empty() && l.back() == '\n') l.pop_back();
      lines.push_back(l);
    }
    return lines;
  }
};

// std::cerr, captured for the test's scope.
struct StderrCapture {
  std::ostringstream buf;
  std::streambuf* old = std::cerr.rdbuf(buf.rdbuf());
  ~StderrCapture() { std::cerr.rdbuf(old); }
  std::string text() const { return buf.str(); }
};

std::string Ev(const std::string& run, int64_t seq, const std::string& type, const std::string& data = "{}") {
  return R"({"event_type":")" + type + R"(","timestamp":"2026-01-01T00:00:00.000Z","run_id":")" + run +
         R"(","seq":)" + std::to_string(seq) + R"(,"data":)" + data + "}";
}
std::string Ack(const std::string& run, const std::string& rid, int64_t last, const std::string& action = "subscribe") {
  return R"({"event_type":"ack","timestamp":"t","run_id":")" + run + R"(","data":{"action":")" + action +
         R"(","last_seq":)" + std::to_string(last) + R"(,"from_seq":0},"request_id":")" + rid + "\"}";
}
std::string RequestId(const std::string& frame) {
  JsonDoc d;
  std::string err;
  REQUIRE(ParseJson(frame, &d, &err));
  return std::string(GetString(d, "request_id"));
}

struct Rig {
  Capture out;
  Output output{&out.writer, nullptr, nullptr, false};
  FakeSession session;
  StreamOptions opts;
  Dispatcher d;
  explicit Rig(const std::string& dialect = "native") : d(dialect, &output, nullptr, 3, true, 0) {
    opts.quiet = true;
    opts.approvals.quiet = true;
    d.SetSession(&session);
  }
  RunFollower& Watch(const std::string& run) {
    RunTarget t;
    t.run_id = run;
    return d.AddRun(opts, t, nullptr);
  }
  void Open(bool reconnect = false) {
    session.open = true;
    d.OnOpen(reconnect);
  }
};
}  // namespace

TEST_CASE("Dispatcher: a native watch prints every event once, as received, and ends with the run") {
  Rig rig;
  RunFollower& f = rig.Watch("r-1");
  rig.Open();
  REQUIRE(rig.session.sent.size() == 1);
  CHECK_THAT(rig.session.sent[0], Catch::Contains(R"("type":"subscribe","run_id":"r-1","since_seq":0)"));
  std::string rid = RequestId(rig.session.sent[0]);
  rig.d.OnText(Ack("r-1", rid, 2));
  std::string e1 = Ev("r-1", 1, "step_started"), e2 = Ev("r-1", 2, "step_progress");
  rig.d.OnText(e1);
  rig.d.OnText(e1);  // a duplicate is dropped
  rig.d.OnText(e2);
  CHECK_FALSE(f.finished());
  rig.d.OnText(Ev("r-1", 3, "workflow_completed"));
  CHECK(f.finished());
  CHECK(f.exit_status() == kExitCompleted);
  CHECK(rig.session.closed_with == 1000);
  CHECK(f.duplicates() == 1);
  CHECK(rig.session.progress == 3);
  auto lines = rig.out.Lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == e1);
  CHECK(lines[1] == e2);
}

TEST_CASE("Dispatcher: a gap is never printed past; the run is asked again from the last seq") {
  Rig rig;
  RunFollower& f = rig.Watch("r-1");
  rig.Open();
  rig.d.OnText(Ev("r-1", 1, "a"));
  rig.d.OnText(Ev("r-1", 3, "c"));  // 2 is missing
  REQUIRE(rig.session.sent.size() == 2);
  CHECK_THAT(rig.session.sent[1], Catch::Contains(R"("since_seq":1)"));
  rig.d.OnText(Ev("r-1", 4, "d"));  // still past the gap: once until acknowledged
  CHECK(rig.session.sent.size() == 2);
  rig.d.OnText(Ev("r-1", 2, "b"));
  rig.d.OnText(Ev("r-1", 3, "c"));
  CHECK(f.gaps() == 1);
  CHECK(f.last_seq() == 3);
  auto lines = rig.out.Lines();
  REQUIRE(lines.size() == 3);
  CHECK_THAT(lines[2], Catch::Contains(R"("seq":3)"));
}

TEST_CASE("Dispatcher: several runs share one connection; one ending leaves the others going") {
  Rig rig;
  RunFollower& a = rig.Watch("a");
  RunFollower& b = rig.Watch("b");
  rig.Open();
  REQUIRE(rig.session.sent.size() == 2);
  rig.d.OnText(Ack("b", RequestId(rig.session.sent[1]), 0));
  rig.d.OnText(Ev("a", 1, "x"));
  rig.d.OnText(Ev("b", 1, "y"));
  rig.d.OnText(Ev("a", 2, "workflow_failed", R"({"status":"failed"})"));
  CHECK(a.finished());
  CHECK(a.exit_status() == kExitFailed);
  CHECK_FALSE(b.finished());
  CHECK(rig.session.closed_with == 0);  // b still needs the connection
  rig.d.OnText(Ev("a", 3, "late"));   // a's stream is over: ignored
  rig.d.OnText(Ev("b", 2, "workflow_completed"));
  CHECK(b.exit_status() == kExitCompleted);
  CHECK(rig.session.closed_with == 1000);
  auto lines = rig.out.Lines();
  CHECK(lines.size() == 4);
}

TEST_CASE("Dispatcher: after a reconnect every run resubscribes from its own last seq") {
  Rig rig;
  rig.Watch("a");
  rig.Watch("b");
  rig.Open();
  rig.d.OnText(Ev("a", 1, "x"));
  rig.d.OnText(Ev("a", 2, "x"));
  rig.d.OnText(Ev("b", 1, "y"));
  Disconnect lost;
  lost.was_open = true;
  lost.close_code = 1006;
  lost.reason = "closed without a close frame";
  rig.session.open = false;
  CHECK(rig.d.ShouldReconnect(lost));
  rig.session.sent.clear();
  rig.session.reconnect_count = 1;
  rig.Open(true);
  REQUIRE(rig.session.sent.size() == 2);
  CHECK_THAT(rig.session.sent[0], Catch::Contains(R"("run_id":"a","since_seq":2)"));
  CHECK_THAT(rig.session.sent[1], Catch::Contains(R"("run_id":"b","since_seq":1)"));
}

TEST_CASE("Dispatcher: garbage is counted, and ends the run under --strict") {
  Rig rig;
  rig.opts.strict = true;
  RunFollower& f = rig.Watch("r-1");
  rig.Open();
  rig.d.OnText(Ev("r-1", 1, "step_started"));
  StderrCapture err;
  rig.d.OnText("{this is not json");
  CHECK(f.finished());
  CHECK(f.exit_status() == kExitProtocol);
  CHECK(f.invalid_frames() == 1);
  // One line, and it says the run was ended, not that the frame was ignored.
  CHECK(err.text() == "wsflow: --strict: the server sent a frame that is not JSON (expected a member name at byte 1);"
                      " ending the run (last seq printed: 1)\n");
}

TEST_CASE("Dispatcher: garbage frames are said in plain words, the first three, then counted") {
  Rig rig;
  RunFollower& f = rig.Watch("r-1");
  rig.Open();
  StderrCapture err;
  for (int i = 0; i < 40; ++i) rig.d.OnText("{this is not json");
  rig.d.OnBinary("abc");
  rig.d.OnStopped();
  CHECK(f.invalid_frames() == 41);  // --summary's invalid_frames counts every one
  CHECK(err.text() ==
        "wsflow: skipped a frame that is not JSON (expected a member name at byte 1): {this is not json\n"
        "wsflow: skipped a frame that is not JSON (expected a member name at byte 1): {this is not json\n"
        "wsflow: skipped a frame that is not JSON (expected a member name at byte 1): {this is not json\n"
        "wsflow: further frames that are not JSON are counted, not shown\n"
        "wsflow: skipped a binary frame of 3 bytes\n"
        "wsflow: 40 frames that were not JSON were skipped (the first 3 shown above)\n");
}

TEST_CASE("Dispatcher: a filter and a predicate choose what is printed; --max-events ends the wait") {
  Rig rig;
  rig.opts.filter.Include({"step_progress"});
  Predicate p;
  std::string err;
  REQUIRE(Predicate::Parse("data.pct=50", &p, &err));
  rig.opts.match.push_back(p);
  rig.opts.wait.max_events = 1;
  RunFollower& f = rig.Watch("r-1");
  rig.Open();
  rig.d.OnText(Ev("r-1", 1, "step_started"));
  rig.d.OnText(Ev("r-1", 2, "step_progress", R"({"pct":10})"));
  rig.d.OnText(Ev("r-1", 3, "step_progress", R"({"pct":50})"));
  CHECK(f.finished());
  CHECK(f.exit_status() == kExitCompleted);
  auto lines = rig.out.Lines();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains(R"("pct":50)"));
}

TEST_CASE("Dispatcher: an action waits for the history, sends once, and prints only its confirmation") {
  Rig rig;
  RunTarget t;
  t.run_id = "r-1";
  t.action = ControlAction{"pause"};
  RunFollower& f = rig.d.AddRun(rig.opts, t, nullptr);
  rig.Open();
  rig.d.OnText(Ack("r-1", RequestId(rig.session.sent[0]), 2));
  rig.d.OnText(Ev("r-1", 1, "workflow_started"));
  CHECK(rig.session.sent.size() == 1);  // not before the history was read
  rig.d.OnText(Ev("r-1", 2, "step_started"));
  REQUIRE(rig.session.sent.size() == 2);
  CHECK_THAT(rig.session.sent[1], Catch::Contains(R"("type":"pause")"));
  rig.d.OnText(Ev("r-1", 3, "step_progress"));
  rig.d.OnText(Ev("r-1", 4, "workflow_paused"));
  CHECK(f.exit_status() == kExitCompleted);
  auto lines = rig.out.Lines();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains("workflow_paused"));
}

TEST_CASE("Dispatcher: signals, timeouts and giving up end every run with their statuses") {
  {
    Rig rig;
    RunFollower& f = rig.Watch("r-1");
    rig.Open();
    rig.d.OnSignal(SIGTERM);
    CHECK(f.exit_status() == kExitTerminated);
    CHECK(rig.session.closed_with == 1001);
    rig.d.OnSignal(SIGTERM);  // all ended: stop at once
    CHECK(rig.session.stopped);
  }
  {
    Rig rig;
    RunFollower& f = rig.Watch("r-1");
    rig.Open();
    rig.d.OnTimeout(Millis(1500));
    CHECK(f.exit_status() == kExitTimeout);
  }
  {
    Rig rig;
    RunFollower& a = rig.Watch("a");
    RunFollower& b = rig.Watch("b");
    Disconnect refused;
    refused.reason = "Connection refused";
    rig.d.OnGiveUp(refused, true);
    CHECK(a.exit_status() == kExitConnection);
    CHECK(b.exit_status() == kExitConnection);
    Rig auth;
    RunFollower& c = auth.Watch("c");
    Disconnect denied;
    denied.auth = true;
    auth.d.OnGiveUp(denied, false);
    CHECK(c.exit_status() == kExitAuth);
  }
}

TEST_CASE("Dispatcher: --cancel-on-interrupt that cannot reach the backend says the run may go on") {
  {
    Rig rig;
    rig.opts.cancel_on_interrupt = true;
    RunFollower& f = rig.Watch("r-1");
    rig.Open();
    rig.d.OnText(Ev("r-1", 1, "step_started"));
    rig.session.open = false;  // the connection is down at the signal
    StderrCapture err;
    rig.d.OnSignal(SIGINT);
    CHECK_FALSE(f.finished());  // it waits for the connection to come back
    REQUIRE(rig.session.timers.size() == 1);
    rig.session.timers[0].second();  // the grace passes without a connection
    CHECK(f.exit_status() == kExitInterrupted);
    CHECK(err.text() ==
          "wsflow: interrupted (last seq printed: 1); cancelling run r-1 once the connection is back\n"
          "wsflow: the cancel of run r-1 could not be sent: the connection was not back within 5.0 s; the run may "
          "still be running on the backend\n");
  }
  {
    Rig rig;
    rig.opts.cancel_on_interrupt = true;
    RunFollower& f = rig.Watch("r-1");
    rig.Open();
    rig.session.open = false;
    rig.d.OnSignal(SIGTERM);
    StderrCapture err;
    Disconnect refused;
    refused.reason = "Connection refused";
    rig.d.OnGiveUp(refused, true);  // the session gives up while the cancel waits
    CHECK(f.exit_status() == kExitTerminated);
    CHECK_THAT(err.text(), Catch::EndsWith("wsflow: the cancel of run r-1 could not be sent: the connection was not "
                                           "back before wsflow gave up; the run may still be running on the backend\n"));
  }
  {
    Rig rig;
    rig.opts.cancel_on_interrupt = true;
    RunFollower& f = rig.Watch("r-1");
    rig.Open();
    StderrCapture err;
    rig.d.OnSignal(SIGINT);  // open: the cancel leaves, and nothing confirms it
    CHECK_THAT(rig.session.sent.back(), Catch::Contains(R"("type":"cancel")"));
    rig.session.timers.back().second();
    CHECK(f.exit_status() == kExitInterrupted);
    CHECK_THAT(err.text(), Catch::EndsWith("wsflow: the cancel of run r-1 was not confirmed within 5.0 s; the run may "
                                           "still be running on the backend\n"));
  }
}

TEST_CASE("Dispatcher: a server that broke the protocol ends every run with exit 4, without retrying") {
  Rig rig;
  RunFollower& f = rig.Watch("r-1");
  rig.Open();
  rig.d.OnText(Ev("r-1", 1, "step_started"));
  StderrCapture err;
  Disconnect bad;
  bad.protocol = true;
  bad.retryable = false;
  bad.reason = "the server sent a text frame that is not valid UTF-8";
  rig.d.OnGiveUp(bad, false);
  CHECK(f.exit_status() == kExitProtocol);
  CHECK(err.text() == "wsflow: the server sent a text frame that is not valid UTF-8; not retrying (last seq printed: 1)\n");
}

TEST_CASE("Dispatcher: --dialect auto detects the backend from the first frames") {
  Rig rig("auto");
  RunTarget t;
  t.run_id = "task-1";
  t.execute = true;
  t.task = "do it";
  rig.opts.approvals.policy.auto_approve = true;
  rig.opts.approvals.answer_delay = Millis(0);  // (cmbagent's 1 s is the next test's)
  RunFollower& f = rig.d.AddRun(rig.opts, t, nullptr);
  rig.Open();
  REQUIRE(rig.session.sent.size() == 1);  // the native execute: MARS takes its task
  CHECK(rig.d.dialect() == nullptr);
  rig.d.OnText(R"({"event_type":"workflow_started","timestamp":"2026-01-22T10:00:00Z","run_id":"db-1","data":{}})");
  REQUIRE(rig.d.dialect());
  CHECK(std::string(rig.d.dialect()->name()) == "cmbagent");
  rig.d.OnText(R"({"event_type":"approval_requested","timestamp":"2026-01-22T10:00:01Z","data":{"approval_id":"ap-1","options":["approve","reject"]}})");
  REQUIRE(rig.session.sent.size() == 2);
  CHECK_THAT(rig.session.sent[1], Catch::Contains(R"("type":"resolve_approval")"));
  CHECK_THAT(rig.session.sent[1], Catch::Contains(R"("approval_id":"ap-1")"));
  rig.d.OnText(R"({"event_type":"workflow_completed","timestamp":"2026-01-22T10:00:02Z","data":{}})");
  CHECK(f.exit_status() == kExitCompleted);
  auto lines = rig.out.Lines();
  REQUIRE(lines.size() == 3);
  CHECK_THAT(lines[0], Catch::Contains(R"("run_id":"task-1","seq":1)"));  // keyed by the task id, numbered here
  CHECK_THAT(lines[2], Catch::Contains(R"("seq":3)"));
}

TEST_CASE("Dispatcher: work posted from other threads is dropped once posting stopped") {
  Rig rig;
  int ran = 0;
  rig.d.Post([&] { ++ran; });
  rig.d.StopPosting();
  rig.d.Post([&] { ++ran; });
  rig.session.RunPosted();
  CHECK(ran == 1);
}

TEST_CASE("Dispatcher: an answer to a cmbagent approval waits out the dialect's answer delay") {
  Rig rig("cmbagent");
  RunTarget t;
  t.run_id = "task-1";
  t.execute = true;
  t.task = "do it";
  rig.opts.approvals.policy.auto_approve = true;
  rig.d.AddRun(rig.opts, t, nullptr);
  rig.Open();
  size_t before = rig.session.sent.size();
  size_t timers = rig.session.timers.size();
  rig.d.OnText(R"({"event_type":"approval_requested","timestamp":"2026-01-22T10:00:01Z","data":{"approval_id":"ap-1","options":["approve","reject"]}})");
  CHECK(rig.session.sent.size() == before);  // not yet: MARS would lose it
  REQUIRE(rig.session.timers.size() == timers + 1);
  CHECK(rig.session.timers.back().first > Millis(900));
  CHECK(rig.session.timers.back().first <= Millis(1000));
  rig.session.timers.back().second();
  REQUIRE(rig.session.sent.size() == before + 1);
  CHECK_THAT(rig.session.sent.back(), Catch::Contains(R"("approval_id":"ap-1")"));
}
