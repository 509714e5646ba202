#include <catch2/catch.hpp>
#include <string>

#include "core/status_line.h"

using namespace wsflow;

namespace {
void Apply(RunView* v, const std::string& line) {
  JsonDoc d;
  std::string err;
  REQUIRE(ParseJson(line, &d, &err));
  v->Apply(d);
}
}  // namespace

TEST_CASE("the status line says state, step, percent, cost and reconnects") {
  RunView v;
  Apply(&v, R"({"event_type":"workflow_started","run_id":"r-1","data":{}})");
  CHECK(StatusLine::Render(v, 0, 200) == "wsflow: r-1 running | 1 event");
  Apply(&v, R"({"event_type":"dag_created","run_id":"r-1","data":{"nodes":[{"id":"s1","label":"Plan","step_number":1},
      {"id":"s2","label":"Write","step_number":2}]}})");
  Apply(&v, R"({"event_type":"step_started","run_id":"r-1","data":{"step_id":"s1","step_number":1,"goal":"Plan"}})");
  Apply(&v, R"({"event_type":"step_progress","run_id":"r-1","data":{"step_id":"s1","step_number":1,"progress_percentage":42.4}})");
  Apply(&v, R"({"event_type":"cost_update","run_id":"r-1","data":{"cost_usd":0.012,"total_cost_usd":0.012}})");
  CHECK(StatusLine::Render(v, 2, 200) == "wsflow: r-1 running | step 1/2 Plan | 42% | $0.012 | 5 events | 2 reconnects");
  Apply(&v, R"({"event_type":"step_completed","run_id":"r-1","data":{"step_id":"s1","step_number":1}})");
  Apply(&v, R"({"event_type":"approval_requested","run_id":"r-1","data":{"approval_id":"a"}})");
  CHECK(StatusLine::Render(v, 0, 200) == "wsflow: r-1 waiting for approval | 1/2 steps done | $0.012 | 7 events");
  // kept shorter than the terminal, so that \r redraws all of it
  CHECK(StatusLine::Render(v, 0, 20).size() <= 19 + 2);
}
