#include "core/run_board.h"

#include <catch2/catch.hpp>
#include <algorithm>

#include "core/exit_status.h"
#include "core/json.h"
#include "core/utf8.h"

using namespace wsflow;

namespace {
JsonDoc Env(const std::string& text) {
  JsonDoc d;
  std::string err;
  REQUIRE(ParseJson(text, &d, &err));
  return d;
}
int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }
}  // namespace

TEST_CASE("RunBoard: a line per run still going, waiting runs too, then the counts") {
  RunBoard b(false);
  CHECK(b.Render(80, 24).empty());
  b.Add("r-1");
  b.Add("r-2");
  b.Apply(Env(R"({"event_type":"workflow_started","run_id":"r-1","data":{}})"));
  b.Apply(Env(R"({"event_type":"step_started","run_id":"r-1","data":{"step_id":"s1","step_number":1,"goal":"Fetch"}})"));
  b.Apply(Env(R"({"event_type":"step_progress","run_id":"r-1","data":{"step_id":"s1","step_number":1,"progress_percentage":40}})"));
  std::string board = b.Render(80, 24);
  CHECK(board ==
        "r-1 running | step 1/1 Fetch | 40% | 3 events\n"
        "r-2 waiting\n"
        "2 runs: 1 waiting, 1 running, 0 completed\n");
}

TEST_CASE("RunBoard: an ended run leaves the board and gives its final line once") {
  RunBoard b(false);
  b.Add("r-1");
  b.Add("r-2");
  b.Apply(Env(R"({"event_type":"workflow_started","run_id":"r-2","timestamp":"2026-01-01T00:00:00Z","data":{}})"));
  b.Apply(Env(R"({"event_type":"workflow_failed","run_id":"r-2","timestamp":"2026-01-01T00:00:02.500Z","data":{"message":"boom"}})"));
  std::string last = b.End("r-2", kExitFailed, "boom", 80);
  CHECK(last == "r-2 failed: boom | 2 events | 2.5 s\n");
  CHECK(b.End("r-2", kExitFailed, "boom", 80).empty());  // once
  CHECK(b.End("r-9", kExitFailed, "", 80).empty());      // unknown
  CHECK(b.Render(80, 24) == "r-1 waiting\n2 runs: 1 waiting, 0 completed, 1 failed\n");
  // A run that never started ends too (e.g. the command was interrupted).
  CHECK(b.End("r-1", kExitInterrupted, "", 80) == "r-1 interrupted | 0 events\n");
  CHECK(b.Render(80, 24) == "2 runs: 0 completed, 2 failed\n");
}

TEST_CASE("RunBoard: more runs than rows end in a count of those not shown; lines fit the width") {
  RunBoard b(false);
  for (int i = 0; i < 50; ++i) b.Add("r-" + std::to_string(i));
  std::string board = b.Render(40, 10);
  CHECK(Lines(board) == 10);
  CHECK(board.find("r-7 waiting\n") != std::string::npos);
  CHECK(board.find("r-8 ") == std::string::npos);
  CHECK(board.find("… and 42 more\n") != std::string::npos);
  size_t start = 0;
  for (size_t nl; (nl = board.find('\n', start)) != std::string::npos; start = nl + 1)
    CHECK(nl - start <= 39 + 2);  // "…" is 3 bytes, one column
}

TEST_CASE("RunBoard: colour paints the outcome of a final line only") {
  RunBoard b(true);
  b.Add("r-1");
  CHECK(b.End("r-1", kExitCompleted, "", 80) == "r-1 \x1b[1;32mcompleted\x1b[0m | 0 events\n");
  b.Add("r-2");
  CHECK(b.End("r-2", kExitCancelled, "stop", 80) == "r-2 \x1b[1;33mcancelled\x1b[0m: stop | 0 events\n");
}

TEST_CASE("RunBoard: text from the backend cannot move the cursor") {
  RunBoard b(false);
  b.Apply(Env(R"({"event_type":"step_started","run_id":"r-\u001b[2J","data":{"step_id":"s1","step_number":1,"goal":"a\u001b[Hb"}})"));
  std::string board = b.Render(80, 24);
  CHECK(board.find('\x1b') == std::string::npos);
}

// A step named in CJK takes two columns a character: cut by columns, no line is wider than the
// window, so none wraps (a wrapped line would throw off the erase of the board before a redraw).
TEST_CASE("RunBoard: lines with wide characters fit the width in columns") {
  RunBoard b(false);
  b.Add("r-1");
  b.Apply(Env(R"({"event_type":"workflow_started","run_id":"r-1","data":{}})"));
  b.Apply(Env(
      R"({"event_type":"step_started","run_id":"r-1","data":{"step_id":"s1","step_number":1,"goal":"数据处理与分析报告生成"}})"));
  for (int cols : {20, 30, 41, 60}) {
    std::string board = b.Render(cols, 10);
    size_t start = 0;
    for (size_t nl; (nl = board.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string line = board.substr(start, nl - start);
      INFO(cols << ": " << line);
      CHECK(DisplayWidth(line) < static_cast<size_t>(cols));
    }
  }
}
