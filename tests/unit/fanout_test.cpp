#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "fake_transport.h"
#include "server/fanout.h"

using namespace wsflow::serve;
using wsflow::serve::testing::FakeTransport;

namespace {

struct VectorFeed : Feed {
  std::string name;
  std::vector<std::string> lines;
  bool finished = false;
  std::vector<char> cm;
  Pacing pace;
  bool paced = false;
  explicit VectorFeed(std::string n) : name(std::move(n)) {}
  void Add(size_t n) {
    for (size_t i = 0; i < n; ++i) lines.push_back(name + ":" + std::to_string(lines.size() + 1));
  }
  const std::string& key() const override { return name; }
  size_t size() const override { return lines.size(); }
  bool Line(size_t i, std::string_view* out, std::string*) override {
    *out = lines[i];
    return true;
  }
  bool done() const override { return finished; }
  bool control_answer(size_t i) const override { return i < cm.size() && cm[i]; }
  const Pacing* pacing() const override { return paced ? &pace : nullptr; }
};

struct Drains : FanoutListener {
  std::vector<std::pair<ConnId, std::string>> seen;
  void OnDrained(ConnId id, Feed& feed) override { seen.emplace_back(id, feed.key()); }
};

std::vector<std::string> Numbered(const std::string& key, size_t from, size_t to) {
  std::vector<std::string> out;
  for (size_t i = from; i <= to; ++i) out.push_back(key + ":" + std::to_string(i));
  return out;
}

}  // namespace

TEST_CASE("Fanout: every watcher gets the whole stream from where it subscribed, then live lines") {
  FakeTransport t;
  Fanout fan(&t, nullptr, {});
  VectorFeed run("r");
  run.Add(5);
  fan.Subscribe(1, &run, 0);
  fan.Subscribe(2, &run, 3);
  CHECK(t.sent(1) == Numbered("r", 1, 5));
  CHECK(t.sent(2) == Numbered("r", 4, 5));
  run.Add(2);
  fan.Publish("r");
  CHECK(t.sent(1) == Numbered("r", 1, 7));
  CHECK(t.sent(2) == Numbered("r", 4, 7));
  CHECK(fan.watchers("r") == 2);
  fan.Unsubscribe(2, "r");
  run.Add(1);
  fan.Publish("r");
  CHECK(t.sent(1).size() == 8);
  CHECK(t.sent(2).size() == 4);
  fan.Subscribe(1, &run, 6);  // subscribing again moves the cursor back
  CHECK(t.sent(1).size() == 10);
  CHECK(t.sent(1).back() == "r:8");
}

TEST_CASE("Fanout: 200 watchers of one run each get every line") {
  FakeTransport t;
  Fanout fan(&t, nullptr, {});
  VectorFeed run("r");
  for (ConnId id = 1; id <= 200; ++id) fan.Subscribe(id, &run, 0);
  for (int round = 0; round < 50; ++round) {
    run.Add(100);
    fan.Publish("r");
  }
  for (ConnId id = 1; id <= 200; ++id) REQUIRE(t.sent(id) == Numbered("r", 1, 5000));
}

TEST_CASE("Fanout: one connection following 1,000 runs gets every line of each, runs taking turns") {
  FakeTransport t;
  Fanout fan(&t, nullptr, {});
  std::vector<std::unique_ptr<VectorFeed>> runs;
  for (int i = 0; i < 1000; ++i) {
    runs.push_back(std::make_unique<VectorFeed>("r" + std::to_string(i)));
    runs.back()->Add(3);
    fan.Subscribe(1, runs.back().get(), 0);
  }
  for (auto& r : runs) {
    r->Add(2);
    r->finished = true;
    fan.Publish(r->name);
  }
  std::map<std::string, std::vector<std::string>> by_run;
  for (const auto& line : t.sent(1)) by_run[line.substr(0, line.find(':'))].push_back(line);
  REQUIRE(by_run.size() == 1000);
  for (auto& r : runs) REQUIRE(by_run[r->name] == Numbered(r->name, 1, 5));
}

TEST_CASE("Fanout: a long history is sent kSlice lines at a time per run, in turns") {
  FakeTransport t;
  Fanout fan(&t, nullptr, {});
  VectorFeed a("a"), b("b");
  a.Add(200);
  b.Add(200);
  fan.Subscribe(1, &a, 0, false);
  fan.Subscribe(1, &b, 0, false);
  fan.Pump(1);
  const auto& sent = t.sent(1);
  REQUIRE(sent.size() == 400);
  CHECK(sent[Fanout::kSlice - 1] == "a:" + std::to_string(Fanout::kSlice));
  CHECK(sent[Fanout::kSlice] == "b:1");  // b's turn after a slice of a
}

TEST_CASE("Fanout: a full queue stops feeding a slow watcher without slowing the others") {
  FakeTransport t;
  std::ostringstream log;
  Fanout::Options o;
  o.queue_bytes = 100;
  o.verbose = true;
  o.log = &log;
  Fanout fan(&t, nullptr, o);
  VectorFeed run("r");
  t.SlowReader(1);
  fan.Subscribe(1, &run, 0);
  fan.Subscribe(2, &run, 0);
  run.Add(1000);
  fan.Publish("r");
  CHECK(t.sent(2).size() == 1000);  // the fast one has everything
  size_t held = t.sent(1).size();
  CHECK(held < 30);                 // the slow one: its queue's worth
  CHECK(t.Buffered(1) >= 100);
  CHECK(fan.blocked() == 1);
  CHECK(log.str().find("backpressure") != std::string::npos);
  // it drains: the sweep feeds it again, from where it stopped, nothing lost or repeated
  t.Drain(1);
  t.Advance(Fanout::kSweepMs);
  CHECK(fan.blocked() == 0);
  CHECK(t.sent(1) == Numbered("r", 1, 1000));
}

TEST_CASE("Fanout: a watcher whose full queue does not drain is closed with 1013 and can resume") {
  FakeTransport t;
  Fanout::Options o;
  o.queue_bytes = 100;
  o.slow_timeout_ms = 500;
  Fanout fan(&t, nullptr, o);
  VectorFeed run("r");
  run.Add(1000);
  t.SlowReader(1);
  fan.Subscribe(1, &run, 0);
  size_t got = t.sent(1).size();
  t.Advance(400);
  CHECK_FALSE(t.peer(1).closing);
  t.Advance(200);
  CHECK(t.peer(1).closing);
  CHECK(t.peer(1).close_code == Fanout::kSlowCloseCode);
  CHECK(t.peer(1).close_reason.find("since_seq") != std::string::npos);
  CHECK(t.sent(1).size() == got);
  fan.Remove(1);
  // the client comes back with since_seq = what it got, and gets the rest
  fan.Subscribe(7, &run, got);
  CHECK(t.sent(7) == Numbered("r", got + 1, 1000));
}

TEST_CASE("Fanout: a queue that drains slowly but steadily is never closed") {
  FakeTransport t;
  Fanout::Options o;
  o.queue_bytes = 100;
  o.slow_timeout_ms = 100;
  Fanout fan(&t, nullptr, o);
  VectorFeed run("r");
  run.Add(2000);
  t.SlowReader(1);
  fan.Subscribe(1, &run, 0);
  for (int i = 0; i < 300 && t.sent(1).size() < 2000; ++i) {
    t.Advance(50);
    t.Drain(1, false);  // reads what is queued every 50 ms, never keeps up
  }
  CHECK_FALSE(t.peer(1).closing);
  CHECK(t.sent(1) == Numbered("r", 1, 2000));
}

TEST_CASE("Fanout: the end of a done feed is told once; faults act on it first") {
  FakeTransport t;
  Drains drains;
  Fanout fan(&t, nullptr, {});
  fan.SetListener(&drains);
  VectorFeed run("r");
  run.Add(2);
  fan.Subscribe(1, &run, 0);
  CHECK(drains.seen.empty());
  run.Add(1);
  run.finished = true;
  fan.Publish("r");
  fan.Publish("r");
  CHECK(drains.seen == std::vector<std::pair<ConnId, std::string>>{{1, "r"}});
  // subscribing to a run that already ended tells at once, even with nothing to send
  fan.Subscribe(2, &run, 3);
  CHECK(drains.seen.size() == 2);

  FaultInjector faults(&t, {0, 0, 0, 4000, false, nullptr});
  Fanout closing(&t, &faults, {});
  closing.SetListener(&drains);
  closing.Subscribe(3, &run, 0);
  CHECK(t.peer(3).close_code == 4000);
  CHECK(drains.seen.size() == 2);
}

TEST_CASE("Fanout: faults stop the feeding of that connection only") {
  FakeTransport t;
  FaultInjector faults(&t, {0, 3, 0, 0, false, nullptr});
  Fanout fan(&t, &faults, {});
  VectorFeed run("r");
  run.Add(10);
  fan.Subscribe(1, &run, 0);
  fan.Subscribe(2, &run, 0);
  CHECK(t.sent(1) == Numbered("r", 1, 3));
  CHECK(t.peer(1).stalled);
  CHECK(t.sent(2) == Numbered("r", 1, 3));
  CHECK(fan.SendCounted(3, "x"));
}

TEST_CASE("Fanout: a superseded MARS socket skips the connection manager's lines") {
  FakeTransport t;
  Fanout fan(&t, nullptr, {});
  VectorFeed run("r");
  run.Add(4);
  run.cm = {0, 1, 0, 1};
  fan.SkipControlAnswers(1);
  fan.Subscribe(1, &run, 0);
  fan.Subscribe(2, &run, 0);
  CHECK(t.sent(1) == std::vector<std::string>{"r:1", "r:3"});
  CHECK(t.sent(2).size() == 4);
}

TEST_CASE("Fanout: a recording goes out at its recorded pace, resumes in pace, and loops") {
  FakeTransport t;
  Fanout fan(&t, nullptr, {});
  VectorFeed rec("rec");
  rec.Add(3);
  rec.finished = true;
  rec.paced = true;
  rec.pace.offsets_ms = {0, 1000, 3000};
  rec.pace.speed = 2;  // twice as fast: at 0, 500 and 1500 ms
  fan.Subscribe(1, &rec, 0);
  CHECK(t.sent(1).size() == 1);
  t.Advance(499);
  CHECK(t.sent(1).size() == 1);
  t.Advance(2);
  CHECK(t.sent(1).size() == 2);
  t.Advance(1002);
  CHECK(t.sent(1).size() == 3);
  // a resumed subscription keeps the pace: line 2 now, line 3 one second later
  fan.Subscribe(2, &rec, 1);
  CHECK(t.sent(2) == std::vector<std::string>{"rec:2"});
  t.Advance(1001);
  CHECK(t.sent(2).size() == 2);

  VectorFeed loop("loop");
  loop.Add(2);
  loop.finished = true;
  loop.paced = true;
  loop.pace.loop = true;
  fan.Subscribe(3, &loop, 0);
  CHECK(t.sent(3).size() == 2);
  t.Advance(1001);  // again after a breath
  CHECK(t.sent(3) == std::vector<std::string>{"loop:1", "loop:2", "loop:1", "loop:2"});
}
