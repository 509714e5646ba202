#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "fake_transport.h"
#include "server/script_playback.h"

using namespace wsflow::serve;
using wsflow::serve::testing::FakeTransport;

namespace {
// An a2a recording: the greeting before the client spoke, the client's frame, then two frames.
std::vector<ScriptFrame> Script() {
  return {{false, R"({"type":"info","message":"Connected to workflow w"})", 0},
          {true, R"({"type":"ping"})", 1000},
          {false, R"({"type":"pong"})", 1000},
          {false, R"({"type":"progress","state":"completed"})", 3000}};
}
}  // namespace

TEST_CASE("ScriptPlayback: the frames before the client's first go out on connect; the rest wait for it") {
  FakeTransport t;
  ScriptPlayback::Options o;
  o.dialect = ServerDialect::kA2a;
  ScriptPlayback play(Script(), o, &t);
  CHECK(play.gate() == 1);
  play.OnOpen(1, "/ws/workflow/w");
  t.Advance(10000);
  CHECK(t.sent(1) == std::vector<std::string>{R"({"type":"info","message":"Connected to workflow w"})"});
  play.OnMessage(1, false, "anything");
  t.RunDue();
  CHECK(t.sent(1).size() == 3);
  play.OnMessage(1, false, "more");  // not answered
  t.Advance(10000);
  CHECK(t.sent(1).size() == 3);
}

TEST_CASE("ScriptPlayback: at speed 1 the recorded clock restarts at the client's first frame") {
  FakeTransport t;
  ScriptPlayback::Options o;
  o.dialect = ServerDialect::kA2a;
  o.speed = 1;
  ScriptPlayback play(Script(), o, &t);
  play.OnOpen(1, "/ws/workflow/w");
  CHECK(t.sent(1).size() == 1);
  t.Advance(5000);
  play.OnMessage(1, false, "{}");
  t.RunDue();
  CHECK(t.sent(1).size() == 2);  // the pong, recorded right after the client's frame
  t.Advance(1999);
  CHECK(t.sent(1).size() == 2);
  t.Advance(2);
  CHECK(t.sent(1).size() == 3);  // two seconds later, as recorded
}

TEST_CASE("ScriptPlayback: --loop plays from the client's first frame on again, after a breath") {
  FakeTransport t;
  ScriptPlayback::Options o;
  o.dialect = ServerDialect::kA2a;
  o.loop = true;
  ScriptPlayback play(Script(), o, &t);
  play.OnOpen(1, "/ws/workflow/w");
  play.OnMessage(1, false, "{}");
  t.RunDue();
  CHECK(t.sent(1).size() == 3);
  t.Advance(1001);
  CHECK(t.sent(1).size() == 5);
  CHECK(t.sent(1)[3] == R"({"type":"pong"})");
}

TEST_CASE("ScriptPlayback: a recording where the client never spoke is sent on connect, all of it") {
  FakeTransport t;
  ScriptPlayback::Options o;
  o.dialect = ServerDialect::kAladdin;
  std::vector<ScriptFrame> s = {{false, R"({"type":"ping"})", 0}, {false, R"({"type":"event"})", 10}};
  ScriptPlayback play(s, o, &t);
  play.OnOpen(1, "/x");
  CHECK(t.sent(1).size() == 2);
  Refusal r;
  CHECK(play.Accepts("/any/path", &r));
  CHECK(play.ShutdownClose().first == 1000);
}

TEST_CASE("ScriptPlayback: a slow reader's queue bounds what is sent; the rest follows as it drains") {
  FakeTransport t;
  ScriptPlayback::Options o;
  o.dialect = ServerDialect::kAladdin;
  o.queue_bytes = 50;
  std::vector<ScriptFrame> s;
  for (int i = 0; i < 100; ++i) s.push_back({false, R"({"type":"event","n":)" + std::to_string(i) + "}", i});
  ScriptPlayback play(s, o, &t);
  t.SlowReader(1);
  play.OnOpen(1, "/");
  CHECK(t.sent(1).size() < 10);
  t.Drain(1);
  t.Advance(10);
  CHECK(t.sent(1).size() == 100);
}
