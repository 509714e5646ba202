#include <catch2/catch.hpp>

#include "session/control_request.h"

using namespace wsflow;

TEST_CASE("ParseControlRequest reads each op and refuses the rest in one answer line") {
  ControlRequestMsg m;
  std::string refusal;
  REQUIRE(ParseControlRequest(R"({"op":"hello"})", &m, &refusal));
  CHECK(m.op == ControlRequestMsg::Op::kHello);
  REQUIRE(ParseControlRequest(R"({"op":"watch","since_seq":12,"run_id":"r-1"})", &m, &refusal));
  CHECK(m.op == ControlRequestMsg::Op::kWatch);
  CHECK(m.since_seq == 12);
  CHECK(m.run_id == "r-1");
  REQUIRE(ParseControlRequest(R"({"op":"watch","since_seq":-5})", &m, &refusal));
  CHECK(m.since_seq == 0);
  REQUIRE(ParseControlRequest(R"({"op":"action","type":"approve","approval_id":"a","resolution":"ok","reject":true,"feedback":"f"})",
                              &m, &refusal));
  CHECK(m.action.type == "approve");
  CHECK(m.action.reject);
  CHECK(m.action.feedback == "f");
  for (const std::string& bad : {std::string("nope"), std::string("[]"), std::string(R"({"op":"explode"})"),
                                std::string(R"({"op":"action","type":"delete"})"), std::string(200000, '[')}) {
    INFO(bad.substr(0, 30));
    refusal.clear();
    CHECK_FALSE(ParseControlRequest(bad, &m, &refusal));
    JsonDoc d;
    std::string err;
    REQUIRE(ParseJson(refusal, &d, &err));
    CHECK_FALSE(GetBool(d, "ok", true));
    CHECK(GetInt(d, "status", 0) == kExitUsage);
  }
}

TEST_CASE("Request lines read back as the same request") {
  ControlRequestMsg m;
  m.op = ControlRequestMsg::Op::kAction;
  m.run_id = "r\"1";
  m.action = ControlAction{"approve", "a-1", "approve", false, "fine\n", "{}"};
  ControlRequestMsg back;
  std::string refusal;
  REQUIRE(ParseControlRequest(ControlRequestLine(m), &back, &refusal));
  CHECK(back.run_id == m.run_id);
  CHECK(back.action.approval_id == "a-1");
  CHECK(back.action.feedback == "fine\n");
  CHECK(WatchEndLine(7, "slow") == R"({"end":true,"exit_status":7,"reason":"slow"})");
  CHECK(WatchEndLine(0) == R"({"end":true,"exit_status":0})");
  CHECK(WatchEndLine(7, "slow", 12) == R"({"end":true,"exit_status":7,"reason":"slow","since_seq":12})");
  CHECK(AcceptedLine(R"({"a":1})") == R"({"ok":true,"event":{"a":1}})");
}
