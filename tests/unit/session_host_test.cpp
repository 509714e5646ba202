// The holder's control socket: hello, watch with history from a file, actions, and a watcher that
// does not read, which is dropped without holding up the run or the other watchers.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "fake_loop.h"
#include "session/control_request.h"
#include "session/session_host.h"

using namespace wsflow;

namespace {
constexpr int kTimeoutMs = 10000;

using Loop = wsflow_test::FakeLoop;  // what the control threads post runs when the test pumps it

struct FakeRun : HostedRun {
  std::vector<ControlAction> actions;
  std::shared_ptr<ControlClient> client;
  std::string Describe() const override { return R"({"run_id":"r-1","state":"open"})"; }
  void RemoteAction(ControlAction act, std::shared_ptr<ControlClient> c) override {
    actions.push_back(act);
    client = c;
  }
};

struct RuntimeDir {
  std::string dir;
  RuntimeDir() {
    char tmpl[] = "/tmp/wsflow-host-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    ::setenv("XDG_RUNTIME_DIR", dir.c_str(), 1);
  }
  ~RuntimeDir() { std::system(("rm -rf " + dir).c_str()); }
};

int Connect(const std::string& url, const std::string& run) {
  std::string dir, err;
  REQUIRE(ControlDir(&dir, &err));
  int fd = ConnectControl(ControlSocketPath(dir, url, run), &err);
  REQUIRE(fd >= 0);
  return fd;
}

void SendLine(int fd, const std::string& line) {
  std::string l = line + "\n";
  REQUIRE(::send(fd, l.data(), l.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(l.size()));
}

// Reads whole lines until `want` lines came, the peer closed, or nothing came for a while.
std::vector<std::string> ReadLines(int fd, size_t want) {
  std::vector<std::string> lines;
  std::string buf;
  char chunk[65536];
  while (lines.size() < want) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kTimeoutMs) <= 0) break;
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      lines.push_back(buf.substr(0, nl));
      buf.erase(0, nl + 1);
    }
  }
  return lines;
}
}  // namespace

TEST_CASE("SessionHost answers hello, streams history then live events, and ends watchers") {
  RuntimeDir rt;
  Loop loop;
  FakeRun run;
  SessionHost host([&](std::function<void()> fn) { loop.Post(std::move(fn)); }, ControlServer::Limits{}, false);
  REQUIRE(host.Serve("ws://h/ws/r-1", "r-1", &run, true));
  for (int i = 1; i <= 3; ++i) host.Share("r-1", R"({"seq":)" + std::to_string(i) + "}");

  int hello = Connect("ws://h/ws/r-1", "r-1");
  SendLine(hello, R"({"op":"hello"})");
  REQUIRE(loop.RunOne());
  std::vector<std::string> got = ReadLines(hello, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == R"({"run_id":"r-1","state":"open"})");
  ::close(hello);

  int w = Connect("ws://h/ws/r-1", "r-1");
  SendLine(w, R"({"op":"watch","since_seq":1})");
  REQUIRE(loop.RunOne());  // the request reaches the loop, then a live event, then the run ends
  host.Share("r-1", R"({"seq":4})");
  host.End("r-1", 0);
  std::vector<std::string> watched = ReadLines(w, 4);
  REQUIRE(watched.size() == 4);
  CHECK(watched[0] == R"({"seq":2})");
  CHECK(watched[2] == R"({"seq":4})");
  CHECK(watched[3] == R"({"end":true,"exit_status":0})");
  ::close(w);
  host.Stop();
}

TEST_CASE("SessionHost: a watcher that does not read is dropped; the run and other watchers go on") {
  RuntimeDir rt;
  Loop loop;
  FakeRun run;
  ControlServer::Limits limits;
  limits.queue_bytes = 1 << 20;
  limits.end_grace = Millis(200);
  SessionHost host([&](std::function<void()> fn) { loop.Post(std::move(fn)); }, limits, false);
  REQUIRE(host.Serve("ws://h/ws/r-1", "r-1", &run, false));

  int stalled = Connect("ws://h/ws/r-1", "r-1");
  SendLine(stalled, R"({"op":"watch"})");
  int reading = Connect("ws://h/ws/r-1", "r-1");
  SendLine(reading, R"({"op":"watch"})");
  REQUIRE(loop.RunOne());  // both requests reach the loop
  REQUIRE(loop.RunOne());
  const int n = 20000;  // ~4 MB: far more than the stalled watcher's queue and its socket hold
  std::string pad(180, 'x');
  std::vector<std::string> got;
  std::thread reader([&] { got = ReadLines(reading, static_cast<size_t>(n) + 1); });
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 1; i <= n; ++i) {
    host.Share("r-1", R"({"seq":)" + std::to_string(i) + R"(,"pad":")" + pad + "\"}");
    if (i % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the reader keeps up
  }
  host.End("r-1", 0);
  // Share never blocked on the stalled watcher: the whole run was handed out well within the bound.
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(kTimeoutMs));
  reader.join();
  REQUIRE(got.size() == static_cast<size_t>(n) + 1);
  CHECK(got.back() == R"({"end":true,"exit_status":0})");
  // The stalled one: what was queued before it fell behind, then its last line (read now, late).
  std::vector<std::string> late;
  while (late.empty() || late.back().find("\"end\"") == std::string::npos) {
    std::vector<std::string> more = ReadLines(stalled, 1);
    REQUIRE_FALSE(more.empty());
    late.insert(late.end(), more.begin(), more.end());
  }
  REQUIRE_FALSE(late.empty());
  CHECK(late.size() < static_cast<size_t>(n));
  CHECK_THAT(late.back(), Catch::Contains(R"("end":true,"exit_status":7)"));
  CHECK_THAT(late.back(), Catch::Contains("read too slowly"));
  // ... and from where a new watch goes on: the lines it was sent before the end line
  CHECK_THAT(late.back(), Catch::Contains(R"("since_seq":)" + std::to_string(late.size() - 1) + "}"));
  ::close(stalled);
  ::close(reading);
  host.Stop();
}

TEST_CASE("SessionHost passes actions to the run and refuses garbage without disturbing it") {
  RuntimeDir rt;
  Loop loop;
  FakeRun run;
  SessionHost host([&](std::function<void()> fn) { loop.Post(std::move(fn)); }, ControlServer::Limits{}, false);
  REQUIRE(host.Serve("ws://h/ws/r-1", "r-1", &run, false));
  int bad = Connect("ws://h/ws/r-1", "r-1");
  SendLine(bad, "not json");
  REQUIRE(loop.RunOne());
  std::vector<std::string> refused = ReadLines(bad, 1);
  REQUIRE(refused.size() == 1);
  CHECK_THAT(refused[0], Catch::Contains(R"("ok":false,"status":2)"));
  ::close(bad);

  int act = Connect("ws://h/ws/r-1", "r-1");
  SendLine(act, R"({"op":"action","type":"cancel"})");
  REQUIRE(loop.RunOne());
  REQUIRE(run.actions.size() == 1);
  CHECK(run.actions[0].type == "cancel");
  run.client->End(AcceptedLine(R"({"event_type":"workflow_cancelled"})"));
  std::vector<std::string> answer = ReadLines(act, 1);
  REQUIRE(answer.size() == 1);
  CHECK_THAT(answer[0], Catch::Contains(R"("ok":true)"));
  ::close(act);
  host.Stop();
}
