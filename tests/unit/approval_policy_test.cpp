#include <catch2/catch.hpp>

#include "core/approval_policy.h"

using namespace wsflow;

namespace {
ApprovalRequest Request(std::vector<std::string> options, std::string checkpoint = "after_planning",
                        std::string action = "review_plan") {
  ApprovalRequest r;
  r.approval_id = "a1";
  r.checkpoint_type = std::move(checkpoint);
  r.action = std::move(action);
  r.options = std::move(options);
  return r;
}
}  // namespace

TEST_CASE("rules parse as CHECKPOINT=RESOLUTION") {
  ApprovalRule r;
  std::string err;
  REQUIRE(ParseApprovalRule("after_planning=approve", &r, &err));
  CHECK(r.checkpoint == "after_planning");
  CHECK(r.resolution == "approve");
  for (const char* bad : {"approve", "=approve", "x=", ""}) {
    INFO(bad);
    CHECK_FALSE(ParseApprovalRule(bad, &r, &err));
  }
}

TEST_CASE("the first matching rule answers: checkpoint, action or *") {
  ApprovalPolicy p;
  p.rules = {{"deploy", "abort"}, {"review_plan", "modify"}, {"*", "approve"}};
  auto d = p.Decide(Request({"approve", "reject", "modify"}));
  CHECK(d.kind == ApprovalDecision::kAnswer);
  CHECK(d.resolution == "modify");  // matched by action
  d = p.Decide(Request({"approve"}, "deploy", "x"));
  CHECK(d.resolution == "abort");  // matched by checkpoint
  d = p.Decide(Request({"approve"}, "other", "other"));
  CHECK(d.resolution == "approve");
  CHECK(d.why == "rule *=approve");
}

TEST_CASE("auto-approve takes the request's first approve-like option") {
  ApprovalPolicy p;
  p.auto_approve = true;
  CHECK(p.Decide(Request({"reject", "continue", "approve"})).resolution == "continue");
  CHECK(p.Decide(Request({"allow_session", "allow", "deny"})).resolution == "allow");
  auto d = p.Decide(Request({"left", "right"}));
  CHECK(d.kind == ApprovalDecision::kAsk);  // nothing approve-like: unanswered
}

TEST_CASE("no rule and no auto-approve: ask") {
  ApprovalPolicy p;
  CHECK(p.empty());
  CHECK(p.Decide(Request({"approve"})).kind == ApprovalDecision::kAsk);
}

TEST_CASE("first approve-like and reject-like options") {
  CHECK(FirstApproveLike({"retry", "skip", "abort"}) == "retry");
  CHECK(FirstRejectLike({"retry", "skip", "abort"}) == "abort");
  CHECK(FirstRejectLike({"allow", "allow_session", "deny", "edit"}) == "deny");
  CHECK(FirstApproveLike({"submit", "exit"}) == "submit");
  CHECK(FirstRejectLike({"left"}).empty());
}

TEST_CASE("a request is read from an approval_requested envelope") {
  JsonDoc d;
  std::string err;
  REQUIRE(ParseJson(R"({"event_type":"approval_requested","data":{"approval_id":"x","checkpoint_type":"c",
      "action":"a","message":"m","options":["approve","reject",3]}})", &d, &err));
  ApprovalRequest r;
  REQUIRE(ReadApprovalRequest(d, &r));
  CHECK(r.approval_id == "x");
  CHECK(r.options == std::vector<std::string>{"approve", "reject"});
  JsonDoc none;
  REQUIRE(ParseJson(R"({"event_type":"approval_requested","data":{}})", &none, &err));
  CHECK_FALSE(ReadApprovalRequest(none, &r));
}
