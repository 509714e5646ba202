#include <catch2/catch.hpp>

#include <string>

#include "core/pretty.h"
#include "core/utf8.h"

using namespace wsflow;

namespace {
Style Plain(int width = 0, bool tty = false) {
  Style s;
  s.width = width;
  s.tty = tty;
  s.local_time = false;
  return s;
}

std::string Ev(const std::string& type, const std::string& data, const std::string& ts = "2026-01-22T10:00:00.000Z") {
  return R"({"event_type":")" + type + R"(","timestamp":")" + ts + R"(","run_id":"r-1","seq":1,"data":)" + data + "}";
}

bool HasEscape(const std::string& s) { return s.find('\x1b') != std::string::npos; }
}  // namespace

TEST_CASE("colour is wanted on a terminal unless NO_COLOR or TERM=dumb; always and never win") {
  CHECK(ColorWanted(ColorMode::kAuto, true, nullptr, "xterm"));
  CHECK_FALSE(ColorWanted(ColorMode::kAuto, false, nullptr, "xterm"));
  CHECK_FALSE(ColorWanted(ColorMode::kAuto, true, "1", "xterm"));
  CHECK(ColorWanted(ColorMode::kAuto, true, "", "xterm"));  // NO_COLOR set but empty: ignored
  CHECK_FALSE(ColorWanted(ColorMode::kAuto, true, nullptr, "dumb"));
  CHECK(ColorWanted(ColorMode::kAlways, false, "1", "dumb"));
  CHECK_FALSE(ColorWanted(ColorMode::kNever, true, nullptr, "xterm"));
  ColorMode m;
  CHECK(ParseColorMode("always", &m));
  CHECK(m == ColorMode::kAlways);
  CHECK_FALSE(ParseColorMode("sometimes", &m));
}

TEST_CASE("one line per event: time, run, type and the message of that type") {
  PrettyPrinter p(Plain());
  std::string line = p.Format(Ev("step_started", R"({"step_id":"s1","step_number":1,"goal":"Plan the work"})"));
  CHECK(line == "10:00:00 r-1 step_started         step 1: Plan the work\n");
  CHECK(p.Format(Ev("agent_message", R"({"agent":"planner","message":"Splitting.","role":"assistant"})")) ==
        "10:00:00 r-1 agent_message        planner: Splitting.\n");
  CHECK(p.Format(Ev("agent_tool_call", R"({"agent":"researcher","tool_name":"web_search","tool_args":{"q":"x"}})"))
            .find("researcher calls web_search {\"q\":\"x\"}") != std::string::npos);
  CHECK(p.Format(Ev("step_failed", R"({"step_id":"s1","step_number":1,"error":"boom"})")).find("step 1 failed: boom") !=
        std::string::npos);
}

TEST_CASE("step durations come from the events' timestamps") {
  PrettyPrinter p(Plain());
  p.Format(Ev("step_started", R"({"step_id":"s1","step_number":1,"goal":"g"})", "2026-01-22T10:00:00.000Z"));
  std::string done = p.Format(Ev("step_completed", R"({"step_id":"s1","step_number":1,"result":"ok"})",
                                 "2026-01-22T10:00:01.500Z"));
  CHECK(done.find("step 1 done in 1.5 s: ok") != std::string::npos);
}

TEST_CASE("approval requests show their options; cost updates a running total") {
  PrettyPrinter p(Plain());
  std::string a = p.Format(Ev("approval_requested", R"({"approval_id":"ap-1","message":"Approve the plan?",
      "options":["approve","reject","modify"],"checkpoint_type":"after_planning"})"));
  CHECK(a.find("ap-1: Approve the plan? [approve | reject | modify] (after_planning)") != std::string::npos);
  // Without total_cost_usd the total is the sum; with it, the backend's total.
  CHECK(p.Format(Ev("cost_update", R"({"cost_usd":0.01,"tokens":100})")).find("+$0.01 (100 tokens), total $0.01") !=
        std::string::npos);
  CHECK(p.Format(Ev("cost_update", R"({"cost_usd":0.002})")).find("total $0.012") != std::string::npos);
  CHECK(p.Format(Ev("cost_update", R"({"cost_usd":0.5,"total_cost_usd":1.5})")).find("total $1.50") != std::string::npos);
}

TEST_CASE("colours only when asked") {
  Style s = Plain();
  PrettyPrinter plain(s);
  CHECK_FALSE(HasEscape(plain.Format(Ev("workflow_failed", R"({"message":"no"})"))));
  s.color = true;
  PrettyPrinter coloured(s);
  std::string line = coloured.Format(Ev("workflow_failed", R"({"message":"no"})"));
  CHECK(line.find("\x1b[1;31mworkflow_failed\x1b[0m") != std::string::npos);
}

TEST_CASE("on a terminal step_progress redraws one bar in place") {
  PrettyPrinter p(Plain(100, true));
  std::string a = p.Format(Ev("step_progress", R"({"step_id":"s1","step_number":1,"progress_percentage":50,"message":"half"})"));
  CHECK(a.rfind("\r\x1b[K", 0) == 0);
  CHECK(a.back() != '\n');
  CHECK(a.find("[##########----------]  50% half") != std::string::npos);
  std::string b = p.Format(Ev("step_progress", R"({"step_id":"s1","step_number":1,"progress_percentage":100})"));
  CHECK(b.rfind("\r\x1b[K", 0) == 0);  // the same step: drawn over
  std::string c = p.Format(Ev("step_progress", R"({"step_id":"s2","step_number":2,"progress_percentage":10})"));
  CHECK(c.rfind("\n\r\x1b[K", 0) == 0);  // another step: the last bar stays on its line
  std::string d = p.Format(Ev("step_completed", R"({"step_id":"s2","step_number":2})"));
  CHECK(d.front() == '\n');
  CHECK(d.back() == '\n');
  CHECK(p.Finish().empty());
  p.Format(Ev("step_progress", R"({"step_id":"s3","progress_percentage":10})"));
  CHECK(p.Finish() == "\n");
}

TEST_CASE("piped, step_progress is a line like any other") {
  PrettyPrinter p(Plain());
  std::string a = p.Format(Ev("step_progress", R"({"step_id":"s1","step_number":1,"progress_percentage":30})"));
  CHECK(a.find('\r') == std::string::npos);
  CHECK(a.back() == '\n');
}

TEST_CASE("unknown types show their data, compact, cut to the width") {
  PrettyPrinter p(Plain(60));
  std::string line = p.Format(Ev("custom_thing", R"({"a":1,"b":"x"})"));
  CHECK(line == "10:00:00 r-1 custom_thing   {\"a\":1,\"b\":\"x\"}\n");
  std::string long_line = p.Format(Ev("custom_thing", R"({"text":")" + std::string(200, 'y') + R"("})"));
  CHECK(long_line.size() - 1 <= 62);  // 59 columns and a 3-byte ellipsis
  CHECK(long_line.find("\xE2\x80\xA6\n") != std::string::npos);
}

TEST_CASE("text from the peer cannot drive the terminal") {
  PrettyPrinter p(Plain());
  std::string line = p.Format(Ev("agent_message", R"({"agent":"a","message":"\u001b[2Jgone\nnext"})"));
  CHECK_FALSE(HasEscape(line));
  CHECK(line.find("gone next") != std::string::npos);
  CHECK(SafeText("a\xC2\x9B" "b") == "a b");  // C1 CSI
  CHECK(SafeText("caf\xC3\xA9") == "caf\xC3\xA9");
}

TEST_CASE("heartbeats are not shown; a line that is not JSON is shown as it is") {
  PrettyPrinter p(Plain());
  CHECK(p.Format(Ev("heartbeat", "{}")).empty());
  CHECK(p.Format("not json") == "not json\n");
}

TEST_CASE("truncation counts terminal columns, not bytes") {
  CHECK(Truncate("abcdef", 4) == "abc\xE2\x80\xA6");
  CHECK(Truncate("abc", 4) == "abc");
  CHECK(Truncate("\xC3\xA9\xC3\xA9\xC3\xA9", 3) == "\xC3\xA9\xC3\xA9\xC3\xA9");
  // a CJK step name takes two columns a character: cut to fit, never inside a character
  CHECK(Truncate("\xE6\x95\xB0\xE6\x8D\xAE\xE5\xA4\x84\xE7\x90\x86", 6) == "\xE6\x95\xB0\xE6\x8D\xAE\xE2\x80\xA6");  // 数据…
  CHECK(Truncate("\xE6\x95\xB0\xE6\x8D\xAE\xE5\xA4\x84\xE7\x90\x86", 5) == "\xE6\x95\xB0\xE6\x8D\xAE\xE2\x80\xA6");  // 数据… (4+1)
  CHECK(DisplayWidth(Truncate("\xE6\x95\xB0\xE6\x8D\xAE\xE5\xA4\x84\xE7\x90\x86", 4)) <= 4);
  CHECK(Truncate("anything", 0) == "anything");
  CHECK(ProgressBar(50, 10) == "[#####-----]");
  CHECK(ProgressBar(150, 4) == "[####]");
}

TEST_CASE("the summary counts steps from the DAG, their times, the cost and the outcome") {
  PrettyPrinter p(Plain());
  p.Format(Ev("dag_created", R"({"nodes":[{"id":"s1","label":"Plan","agent":"planner","step_number":1},
      {"id":"s2","label":"Write","step_number":2},{"id":"s3","label":"Check","step_number":3}],"edges":[]})",
              "2026-01-22T10:00:00.000Z"));
  p.Format(Ev("step_started", R"({"step_id":"s1","step_number":1,"goal":"Plan"})", "2026-01-22T10:00:00.000Z"));
  p.Format(Ev("step_completed", R"({"step_id":"s1","step_number":1})", "2026-01-22T10:00:02.000Z"));
  p.Format(Ev("step_started", R"({"step_id":"s2","step_number":2})", "2026-01-22T10:00:02.000Z"));
  p.Format(Ev("step_retry_started", R"({"step_id":"s2","step_number":2,"attempt_number":2})", "2026-01-22T10:00:03.000Z"));
  p.Format(Ev("step_retry_exhausted", R"({"step_id":"s2","step_number":2,"total_attempts":3,"final_error":"503"})",
              "2026-01-22T10:00:04.000Z"));
  p.Format(Ev("cost_update", R"({"cost_usd":0.25,"total_cost_usd":0.25})", "2026-01-22T10:00:04.000Z"));
  p.Format(Ev("workflow_failed", R"({"message":"s2 failed","status":"failed"})", "2026-01-22T10:00:05.000Z"));
  std::string s = p.Summary();
  INFO(s);
  CHECK(s.find("run r-1 failed in 5.0 s, 3 steps: 1 completed, 1 failed, 1 not done, cost $0.25, 8 events\n") == 0);
  CHECK(s.find("  s1  completed  2.0 s") != std::string::npos);
  CHECK(s.find("Plan (planner)") != std::string::npos);
  CHECK(s.find("  s2  failed     2.0 s") != std::string::npos);
  CHECK(s.find("Write (3 attempts): 503") != std::string::npos);
  CHECK(s.find("  s3  pending") != std::string::npos);
}

TEST_CASE("a cancel reported as workflow_failed with status cancelled is a cancellation") {
  PrettyPrinter p(Plain());
  p.Format(Ev("workflow_failed", R"({"message":"stopped","status":"cancelled"})"));
  CHECK(p.view().state() == "cancelled");
  CHECK(p.Summary().rfind("run r-1 cancelled", 0) == 0);
}

namespace {
// The columns a line takes on the screen (UTF-8 code points, no colour here).
size_t ScreenColumns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 && c != '\n';
  return n;
}
}  // namespace

TEST_CASE("on a narrow terminal the run id and the type give up room to the content") {
  std::string ev = R"({"event_type":"agent_message","timestamp":"2026-01-22T10:00:00.000Z","run_id":"r-1a2b3c4d5e6f",)"
                   R"("seq":1,"data":{"agent":"writer","message":"Drafting the report, section by section, with care."}})";
  PrettyPrinter wide(Plain(120, true));
  CHECK(wide.Format(ev).rfind("10:00:00 r-1a2b3c4d5e6f agent_message        writer: Drafting", 0) == 0);
  PrettyPrinter p(Plain(60, true));
  std::string line = p.Format(ev);
  CHECK(line.rfind("10:00:00 \xE2\x80\xA6" "4d5e6f agent_message  writer: Drafting the repor\xE2\x80\xA6", 0) == 0);
  CHECK(ScreenColumns(line) == 59);  // the last column stays free on a terminal
  size_t content = ScreenColumns(line.substr(line.find("writer:")));
  CHECK(content >= 25);  // 13 before
  // A progress bar shrinks too, and the very narrow lose the run id.
  std::string bar = p.Format(R"({"event_type":"step_progress","timestamp":"2026-01-22T10:00:00.000Z","run_id":"r-1",)"
                             R"("data":{"step_id":"s1","step_number":1,"progress_percentage":50}})");
  CHECK(bar.find("[#####-----]") != std::string::npos);
  PrettyPrinter tiny(Plain(40, false));
  CHECK(tiny.Format(ev).rfind("10:00:00 agent_message  writer:", 0) == 0);
}

TEST_CASE("counts of one are singular") {
  PrettyPrinter p(Plain());
  std::string dag = p.Format(Ev("dag_created", R"({"nodes":[{"id":"s1","label":"only"}],"edges":[{"source":"s1","target":"s1"}],"levels":1})"));
  CHECK(dag.find("1 node, 1 edge, 1 level: s1 only") != std::string::npos);
  CHECK(p.Format(Ev("step_retry_exhausted", R"({"step_id":"s1","step_number":1,"total_attempts":1})"))
            .find("gave up after 1 attempt\n") != std::string::npos);
  CHECK(p.Format(Ev("cost_update", R"({"cost_usd":0.5,"tokens":1})")).find("(1 token)") != std::string::npos);
  CHECK(p.Summary().find("3 events") != std::string::npos);
  PrettyPrinter one(Plain());
  one.Format(Ev("step_started", R"({"step_id":"s1","step_number":1})"));
  std::string summary = one.Summary();
  CHECK(summary.find("1 step: 0 completed") != std::string::npos);
  CHECK(summary.find(", 1 event\n") != std::string::npos);
}

TEST_CASE("approval_received shows the resolution answered, not MARS's approved flag") {
  PrettyPrinter p(Plain());
  std::string line = p.Format(Ev("approval_received", R"({"approval_id":"approval-s3","approved":false,"resolution":"approve"})"));
  CHECK(line.find("approval-s3: approve") != std::string::npos);
  CHECK(line.find("rejected") == std::string::npos);
}
