#include <catch2/catch.hpp>

#include <sstream>

#include "fake_transport.h"
#include "server/faults.h"

using namespace wsflow::serve;
using wsflow::serve::testing::FakeTransport;

TEST_CASE("FaultInjector: nothing configured, nothing happens") {
  FakeTransport t;
  FaultInjector f(&t, {});
  CHECK_FALSE(f.any());
  for (int i = 0; i < 100; ++i) CHECK_FALSE(f.AfterEvent(1));
  CHECK_FALSE(f.AtRunEnd(1));
  CHECK(t.sent(1).empty());
}

TEST_CASE("FaultInjector: garbage after every N events, counted per connection") {
  FakeTransport t;
  FaultInjector f(&t, {0, 0, 3, 0, false, nullptr});
  for (int i = 0; i < 7; ++i) CHECK_FALSE(f.AfterEvent(1));
  CHECK(f.AfterEvent(2) == false);
  CHECK(t.sent(1) == std::vector<std::string>{"{this is not json", "{this is not json"});
  CHECK(t.sent(2).empty());
  f.Forget(1);  // a new connection starts from 0
  CHECK_FALSE(f.AfterEvent(1));
  CHECK(t.sent(1).size() == 2);
}

TEST_CASE("FaultInjector: a text frame that is not UTF-8 after every N events, sent unchecked") {
  FakeTransport t;
  FaultInjector::Options o;
  o.invalid_utf8_every = 2;
  FaultInjector f(&t, o);
  CHECK(f.any());
  for (int i = 0; i < 4; ++i) CHECK_FALSE(f.AfterEvent(1));
  REQUIRE(t.sent(1).size() == 2);
  CHECK(t.peer(1).raw == 2);  // through SendRawText: Send's frames are checked to be UTF-8
  CHECK(t.sent(1)[0] == "{\"not_utf8\":\"\xff\"}");
}

TEST_CASE("FaultInjector: stall after N events, logged with -v") {
  FakeTransport t;
  std::ostringstream log;
  FaultInjector f(&t, {0, 2, 0, 0, true, &log});
  CHECK_FALSE(f.AfterEvent(1));
  CHECK(f.AfterEvent(1));
  CHECK(t.peer(1).stalled);
  CHECK(log.str() == "wsflow serve: fault: stalled a connection after 2 events\n");
}

TEST_CASE("FaultInjector: drop after every N events, or close with the code") {
  FakeTransport t;
  FaultInjector drop(&t, {2, 0, 0, 0, false, nullptr});
  CHECK_FALSE(drop.AfterEvent(1));
  CHECK(drop.AfterEvent(1));
  CHECK(t.peer(1).dropped);
  CHECK_FALSE(drop.AtRunEnd(1));  // --close-code is not given

  FaultInjector close(&t, {2, 0, 0, 4001, false, nullptr});
  CHECK_FALSE(close.AfterEvent(2));
  CHECK(close.AfterEvent(2));
  CHECK(t.peer(2).close_code == 4001);
  CHECK(t.peer(2).close_reason == "fault injection");
  CHECK_FALSE(close.AtRunEnd(3));  // with --drop-every, not at a run's end
}

TEST_CASE("FaultInjector: garbage, then stall, then drop on the same event") {
  FakeTransport t;
  FaultInjector f(&t, {1, 1, 1, 0, false, nullptr});
  CHECK(f.AfterEvent(1));
  CHECK(t.sent(1) == std::vector<std::string>{"{this is not json"});
  CHECK(t.peer(1).stalled);
  CHECK_FALSE(t.peer(1).dropped);  // a stalled connection is not dropped as well
}

TEST_CASE("FaultInjector: --close-code alone closes a connection once it sent a run's end") {
  FakeTransport t;
  FaultInjector f(&t, {0, 0, 0, 4000, false, nullptr});
  CHECK_FALSE(f.AfterEvent(1));
  CHECK(f.AtRunEnd(1));
  CHECK(t.peer(1).close_code == 4000);
  CHECK(t.peer(1).close_reason == "run finished");
}
