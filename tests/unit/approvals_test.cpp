#include <catch2/catch.hpp>

#include <functional>
#include <vector>

#include "core/terminal.h"
#include "session/approvals.h"

using namespace wsflow;

namespace {
struct FakeHost : ApprovalHost {
  struct Answer {
    std::string id, resolution, feedback, why;
  };
  std::vector<Answer> answers;
  int ended = -1;
  std::string end_message;
  std::vector<std::function<void()>> posted;
  void SendAnswer(const std::string& id, const std::string& r, const std::string& f, const std::string& w) override {
    answers.push_back({id, r, f, w});
  }
  void EndRun(int status, const std::string& message) override {
    if (ended < 0) ended = status, end_message = message;
  }
  void PostToLoop(std::function<void()> fn) override { posted.push_back(std::move(fn)); }
  void RunPosted() {
    auto p = std::move(posted);
    posted.clear();
    for (auto& f : p) f();
  }
};

struct Env {
  JsonDoc doc;
  std::string line;
  explicit Env(const std::string& text) : line(text) {
    std::string err;
    REQUIRE(ParseJson(text, &doc, &err));
  }
  Event event() { return Event(GetString(doc, "event_type"), 1, Outcome::kNone, line, &doc); }
};

Env Requested(const std::string& id, const std::string& options, const std::string& checkpoint = "after_planning") {
  return Env(R"({"event_type":"approval_requested","data":{"approval_id":")" + id + R"(","checkpoint_type":")" +
             checkpoint + R"(","message":"ok?","options":)" + options + "}}");
}
Env Received(const std::string& id) { return Env(R"({"event_type":"approval_received","data":{"approval_id":")" + id + "\"}}"); }

ApprovalOptions Quiet() {
  ApprovalOptions o;
  o.quiet = true;
  return o;
}
}  // namespace

TEST_CASE("Approvals: rules and --auto-approve answer open requests once; answered ones are left alone") {
  FakeHost host;
  ApprovalOptions o = Quiet();
  o.policy.rules.push_back({"after_planning", "modify"});
  o.policy.auto_approve = true;
  Approvals a(o, "r-1", &host);
  Env r1 = Requested("a-1", R"(["approve","reject","modify"])");
  Env r2 = Requested("a-2", R"(["continue","abort"])", "other");
  Env r3 = Requested("a-3", R"(["approve"])");
  Env got3 = Received("a-3");
  for (Env* e : {&r1, &r2, &r3, &got3}) {
    Event ev = e->event();
    a.Note(ev);
  }
  a.HandleOpen();
  REQUIRE(host.answers.size() == 2);
  CHECK(host.answers[0].id == "a-1");
  CHECK(host.answers[0].resolution == "modify");
  CHECK(host.answers[1].id == "a-2");
  CHECK(host.answers[1].resolution == "continue");
  a.HandleOpen();  // nothing twice
  CHECK(host.answers.size() == 2);
  CHECK(a.Answered("a-3"));
  CHECK_FALSE(a.Answered("a-1"));
  REQUIRE(a.Find("a-2"));
  CHECK(a.Find("a-2")->options.size() == 2);
  CHECK_FALSE(a.Find("nope"));
}

TEST_CASE("Approvals: a rule whose answer the request does not offer is a usage error") {
  FakeHost host;
  ApprovalOptions o = Quiet();
  o.policy.rules.push_back({"*", "yes"});
  Approvals a(o, "r-1", &host);
  Env r = Requested("a-1", R"(["approve","reject"])");
  Event ev = r.event();
  a.Note(ev);
  a.HandleOpen();
  CHECK(host.answers.empty());
  CHECK(host.ended == kExitUsage);
  CHECK_THAT(host.end_message, Catch::Contains("not one of its options: approve, reject"));
}

TEST_CASE("Approvals: --on-approval answers through the loop; its reject picks a reject-like option") {
  FakeHost host;
  ApprovalOptions o = Quiet();
  o.on_approval = "./decide";
  std::vector<std::function<void(HookAnswer)>> running;
  std::string input;
  HookRunner hook = [&](const std::string& cmd, const std::string& in, Millis, std::function<void(HookAnswer)> done) {
    CHECK(cmd == "./decide");
    input = in;
    running.push_back(std::move(done));
  };
  Approvals a(o, "r-1", &host, hook);
  Env r1 = Requested("a-1", R"(["approve","reject"])");
  Event ev = r1.event();
  a.Note(ev);
  a.HandleOpen();
  REQUIRE(running.size() == 1);
  CHECK_THAT(input, Catch::Contains(R"("approval_id":"a-1")"));
  a.HandleOpen();  // already being answered
  CHECK(running.size() == 1);
  HookAnswer no;
  no.answered = true;
  no.reject = true;
  running[0](no);
  CHECK(host.answers.empty());  // not before the loop runs it
  host.RunPosted();
  REQUIRE(host.answers.size() == 1);
  CHECK(host.answers[0].resolution == "reject");
  CHECK(host.answers[0].why == "--on-approval (non-zero exit)");
}

TEST_CASE("Approvals: a hook that gives no answer ends the run with exit 4") {
  FakeHost host;
  ApprovalOptions o = Quiet();
  o.on_approval = "./slow";
  HookRunner hook = [&](const std::string&, const std::string&, Millis, std::function<void(HookAnswer)> done) {
    HookAnswer none;
    none.problem = "timed out after 1s";
    done(none);
  };
  Approvals a(o, "r-1", &host, hook);
  Env r1 = Requested("a-1", R"(["approve"])");
  Event ev = r1.event();
  a.Note(ev);
  a.HandleOpen();
  host.RunPosted();
  CHECK(host.ended == kExitProtocol);
  CHECK_THAT(host.end_message, Catch::Contains("was not answered: timed out after 1s"));
}

// Answered elsewhere (`wsflow approve` from another terminal, the web UI): the request's
// approval_received withdraws the prompt, and the prompt's empty-handed return answers nothing.
TEST_CASE("Approvals: a prompt is withdrawn when its request is answered elsewhere") {
  FakeHost host;
  ApprovalOptions o = Quiet();
  o.interactive = true;
  std::shared_ptr<std::atomic<bool>> flag;
  std::function<void(HookAnswer)> finish;
  PromptRunner prompt = [&](const std::string&, const std::vector<std::string>&,
                            std::shared_ptr<std::atomic<bool>> withdrawn, std::function<void(HookAnswer)> done) {
    flag = withdrawn;
    finish = done;
  };
  Approvals a(o, "r-1", &host, RunApprovalHookAsync, prompt);
  Env r1 = Requested("a-1", R"(["approve","reject"])");
  Event ev = r1.event();
  a.Note(ev);
  a.HandleOpen();
  REQUIRE(flag != nullptr);
  CHECK_FALSE(flag->load());
  Env got = Received("a-1");
  Event rev = got.event();
  a.Note(rev);
  CHECK(flag->load());  // the prompt goes
  HookAnswer none;
  none.problem = terminal::kAnsweredElsewhere;
  finish(none);
  host.RunPosted();
  CHECK(host.answers.empty());
  CHECK(host.ended < 0);  // the run goes on
}

TEST_CASE("Approvals: the prompt, --no-input, and --until approval") {
  {
    FakeHost host;
    ApprovalOptions o = Quiet();
    o.interactive = true;
    std::string asked;
    PromptRunner prompt = [&](const std::string& p, const std::vector<std::string>& options,
                              std::shared_ptr<std::atomic<bool>> withdrawn, std::function<void(HookAnswer)> done) {
      asked = p;
      REQUIRE(withdrawn != nullptr);
      CHECK_FALSE(withdrawn->load());
      CHECK(options.size() == 2);
      HookAnswer ans;
      ans.answered = true;
      ans.resolution = "reject";
      done(ans);
    };
    Approvals a(o, "r-1", &host, RunApprovalHookAsync, prompt);
    Env r1 = Requested("a-1", R"(["approve","reject"])");
    Event ev = r1.event();
    a.Note(ev);
    a.HandleOpen();
    CHECK_THAT(asked, Catch::Contains("options: approve, reject"));
    host.RunPosted();
    REQUIRE(host.answers.size() == 1);
    CHECK(host.answers[0].resolution == "reject");
    CHECK(host.answers[0].why == "the terminal");
  }
  {
    FakeHost host;
    ApprovalOptions o = Quiet();
    o.no_input = true;
    Approvals a(o, "r-1", &host);
    Env r1 = Requested("a-1", R"(["approve"])");
    Event ev = r1.event();
    a.Note(ev);
    a.HandleOpen();
    CHECK(host.ended == kExitProtocol);
    CHECK_THAT(host.end_message, Catch::Contains("--no-input"));
  }
  {
    FakeHost host;
    ApprovalOptions o = Quiet();
    o.until_approval = true;
    o.policy.auto_approve = true;  // waiting for the request wins over answering it
    Approvals a(o, "r-1", &host);
    Env r1 = Requested("a-1", R"(["approve"])");
    Event ev = r1.event();
    a.Note(ev);
    a.HandleOpen();
    CHECK(host.ended == kExitCompleted);
    CHECK(host.answers.empty());
  }
}
