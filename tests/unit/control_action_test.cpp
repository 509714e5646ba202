#include <catch2/catch.hpp>

#include "session/control_action.h"

using namespace wsflow;

namespace {
ApprovalRequest Request(std::vector<std::string> options) {
  ApprovalRequest r;
  r.approval_id = "a-1";
  r.options = std::move(options);
  return r;
}
}  // namespace

TEST_CASE("BuildActionFrame: controls in the run's dialect, refused once the run ended") {
  auto native = MakeDialect("native");
  ActionContext ctx;
  ctx.dialect = native.get();
  ctx.run_id = "r-1";
  ControlAction act;
  act.type = "cancel";
  std::string frame, msg;
  int status = 0;
  REQUIRE(BuildActionFrame(&act, ctx, "q-1", &frame, &status, &msg));
  CHECK(frame == R"({"type":"cancel","run_id":"r-1","request_id":"q-1"})");
  ctx.outcome = Outcome::kCompleted;
  CHECK_FALSE(BuildActionFrame(&act, ctx, "q-2", &frame, &status, &msg));
  CHECK(status == kExitProtocol);
  CHECK_THAT(msg, Catch::Contains("has already ended (completed)"));

  auto aladdin = MakeDialect("aladdin");  // no controls at all
  ActionContext none;
  none.dialect = aladdin.get();
  none.run_id = "x";
  CHECK_FALSE(BuildActionFrame(&act, none, "q-3", &frame, &status, &msg));
  CHECK(status == kExitUsage);
}

TEST_CASE("BuildActionFrame: an approve takes the request's options into account") {
  auto native = MakeDialect("native");
  ApprovalRequest req = Request({"approve", "reject", "modify"});
  ActionContext ctx;
  ctx.dialect = native.get();
  ctx.run_id = "r-1";
  ctx.request = &req;
  std::string frame, msg;
  int status = 0;

  ControlAction plain;
  plain.type = "approve";
  plain.approval_id = "a-1";
  REQUIRE(BuildActionFrame(&plain, ctx, "q", &frame, &status, &msg));
  CHECK(plain.resolution == "approve");
  CHECK_THAT(frame, Catch::Contains(R"("resolution":"approve")"));

  ControlAction reject = plain;
  reject.resolution.clear();
  reject.reject = true;
  REQUIRE(BuildActionFrame(&reject, ctx, "q", &frame, &status, &msg));
  CHECK(reject.resolution == "reject");

  ControlAction odd = plain;
  odd.resolution = "maybe";
  CHECK_FALSE(BuildActionFrame(&odd, ctx, "q", &frame, &status, &msg));
  CHECK(status == kExitUsage);
  CHECK_THAT(msg, Catch::Contains("allowed: approve, reject, modify"));

  ApprovalRequest only_exit = Request({"submit", "exit"});
  ctx.request = &only_exit;
  ControlAction none = plain;
  none.resolution.clear();
  REQUIRE(BuildActionFrame(&none, ctx, "q", &frame, &status, &msg));
  CHECK(none.resolution == "submit");

  ctx.answered = true;
  CHECK_FALSE(BuildActionFrame(&none, ctx, "q", &frame, &status, &msg));
  CHECK(status == kExitProtocol);
  CHECK_THAT(msg, Catch::Contains("already answered"));

  ActionContext unseen;  // the stream did not show the request: the backend judges
  unseen.dialect = native.get();
  unseen.run_id = "r-1";
  ControlAction blind = plain;
  blind.resolution.clear();
  blind.reject = true;
  REQUIRE(BuildActionFrame(&blind, unseen, "q", &frame, &status, &msg));
  CHECK(blind.resolution == "reject");
}

TEST_CASE("Confirms recognises the event that acknowledges each action") {
  JsonDoc env;
  std::string err;
  REQUIRE(ParseJson(R"({"event_type":"approval_received","data":{"approval_id":"a-1"}})", &env, &err));
  Event received("approval_received", 5, Outcome::kNone, R"({})", &env);
  ControlAction approve{"approve", "a-1"};
  CHECK(Confirms(approve, received));
  ControlAction other{"approve", "a-2"};
  CHECK_FALSE(Confirms(other, received));

  Event paused("workflow_paused", 6, Outcome::kNone, R"({})", &env);
  CHECK(Confirms(ControlAction{"pause"}, paused));
  CHECK_FALSE(Confirms(ControlAction{"resume"}, paused));
  Event cancelled("workflow_failed", 7, Outcome::kCancelled, R"({})", &env);
  Event failed("workflow_failed", 7, Outcome::kFailed, R"({})", &env);
  CHECK(Confirms(ControlAction{"cancel"}, cancelled));
  CHECK_FALSE(Confirms(ControlAction{"cancel"}, failed));
  CHECK(AwaitedBy(approve) == "approval_received for a-1");
  CHECK(AwaitedBy(ControlAction{"pause"}) == "the pause to be acknowledged");
}
