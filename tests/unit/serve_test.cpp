#include <catch2/catch.hpp>

#include <csignal>
#include <sstream>

#include "fake_transport.h"
#include "server/serve.h"

using namespace wsflow;
using namespace wsflow::serve;
using wsflow::serve::testing::FakeTransport;
using wsflow::serve::testing::TempDir;

namespace {
struct Recording : Protocol {
  std::vector<std::string> calls;
  bool Accepts(const std::string& resource, Refusal* refusal) override {
    if (resource.rfind("/ok", 0) == 0) return true;
    refusal->status = 404;
    refusal->body = "nope";
    return false;
  }
  void OnOpen(ConnId id, const std::string& r) override { calls.push_back("open " + std::to_string(id) + " " + r); }
  void OnMessage(ConnId id, bool, std::string_view p) override {
    calls.push_back("message " + std::to_string(id) + " " + std::string(p));
  }
  void OnClose(ConnId id) override { calls.push_back("close " + std::to_string(id)); }
  std::pair<int, std::string> ShutdownClose() const override { return {1000, "bye"}; }
};
}  // namespace

TEST_CASE("Authorized: the bearer header, or access_token/token in the query, percent-decoded") {
  CHECK(Authorized({"/ws", "Bearer s3cret"}, "s3cret"));
  CHECK_FALSE(Authorized({"/ws", "Bearer other"}, "s3cret"));
  CHECK_FALSE(Authorized({"/ws", "bearer s3cret"}, "s3cret"));
  CHECK(Authorized({"/ws?access_token=s3cret", ""}, "s3cret"));
  CHECK(Authorized({"/ws?x=1&token=a%2Fb", ""}, "a/b"));
  CHECK_FALSE(Authorized({"/ws?token=a%2Fb", ""}, "a%2Fb"));
  CHECK_FALSE(Authorized({"/ws?tokenx=s3cret&token", ""}, "s3cret"));
  CHECK(Authorized({"/ws?token=%4g", ""}, "%4g"));  // a bad escape stays as it is
}

TEST_CASE("Server: a token is required before the protocol sees the upgrade") {
  TempDir dir;
  FakeTransport t;
  RunStore store(dir.path());
  LogCache cache(1 << 20);
  RunRegistry runs(&store, &cache, &t, {});
  Recording protocol;
  Server server(&protocol, &t, &runs, &store, "tok", true, nullptr);
  Refusal r;
  CHECK_FALSE(server.OnUpgrade({"/ok", ""}, &r));
  CHECK(r.status == 401);
  CHECK(r.headers == std::vector<std::pair<std::string, std::string>>{{"WWW-Authenticate", "Bearer"}});
  CHECK(server.OnUpgrade({"/ok", "Bearer tok"}, &r));
  Refusal r2;
  CHECK_FALSE(server.OnUpgrade({"/other", "Bearer tok"}, &r2));
  CHECK(r2.status == 404);
}

TEST_CASE("Server: connections go to the protocol; a signal closes them with the protocol's code") {
  TempDir dir;
  FakeTransport t;
  RunStore store(dir.path());
  LogCache cache(1 << 20);
  RunRegistry runs(&store, &cache, &t, {});
  Recording protocol;
  std::ostringstream log;
  Server server(&protocol, &t, &runs, &store, "", false, &log);
  Refusal r;
  CHECK(server.OnUpgrade({"/ok", ""}, &r));
  server.OnOpen(1, "/ok");
  server.OnMessage(1, false, "hi");
  server.OnSignal(SIGTERM);
  server.OnMessage(1, false, "late");  // shutting down: no new work
  server.OnClose(1);
  CHECK(protocol.calls == std::vector<std::string>{"open 1 /ok", "message 1 hi", "close 1"});
  CHECK(t.shutdown_code == 1000);
  CHECK(t.shutdown_reason == "bye");
  CHECK(t.shutdown_ms == 2000);
  CHECK(log.str() == "wsflow serve: shutting down\n");
  CHECK(server.shutting_down());
}

TEST_CASE("an upgrade whose request target is not UTF-8 is refused with 400 before any protocol sees it") {
  // Found by fuzz/serve_fuzz.cpp: /ws/%FF became the run id "\xFF", echoed in a native error frame
  // that was not UTF-8 (a client then fails the connection, 1007); cmbagent, a2a and chat echoed
  // the path or the query the same way.
  for (const char* bad : {"/ws/%FF", "/ws/r\xFF", "/ws/chat?session_id=sess-1%C3", "/ws/workflow/w?x=%ED%A0%80"}) {
    INFO(bad);
    Refusal r;
    CHECK_FALSE(ResourceIsText(bad, &r));
    CHECK(r.status == 400);
    CHECK(r.body == "wsflow serve: the request target is not UTF-8\n");
  }
  Refusal r;
  CHECK(ResourceIsText("/ws/caf%C3%A9?token=a%20b", &r));
  CHECK(ResourceIsText("/ws/r-1", &r));
}
