#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "cli/run_table.h"
#include "core/json.h"

using namespace wsflow;

namespace {
JsonDoc Runs(const std::string& text) {
  JsonDoc d;
  std::string err;
  REQUIRE(ParseJson(text, &d, &err));
  return d;
}
}  // namespace

TEST_CASE("RunsTable: aligned columns, short times, the task cut to the width") {
  JsonDoc runs = Runs(R"([
    {"run_id":"r-1","state":"waiting","task":"write a report","created":"2026-11-29T15:57:23.170Z","updated":"2026-11-29T15:58:00.000Z","last_seq":16,"outcome":null},
    {"run_id":"r-long-id","state":"completed","task":"a task with a very long description that will not fit","created":"2026-11-29T15:00:00.000Z","updated":"2026-11-29T15:01:00.000Z","last_seq":1004,"outcome":"completed"}])");
  std::string table = RunsTable(runs, 2, 100);
  std::istringstream in(table);
  std::string header, one, two, extra;
  std::getline(in, header);
  std::getline(in, one);
  std::getline(in, two);
  CHECK_FALSE(std::getline(in, extra));
  CHECK(header.rfind("RUN        STATE      EVENTS  CREATED              UPDATED              TASK", 0) == 0);
  CHECK(one == "r-1        waiting    16      2026-11-29 15:57:23  2026-11-29 15:58:00  write a report");
  CHECK(two.rfind("r-long-id  completed  1004    2026-11-29 15:00:00  2026-11-29 15:01:00  a task", 0) == 0);
  CHECK(two.size() <= 100 + 2);  // the ellipsis is 3 bytes, one column
  CHECK(two.substr(two.size() - 3) == "\xE2\x80\xA6");
}

TEST_CASE("RunsTable: says when runs were left out, or when there are none") {
  JsonDoc one = Runs(R"([{"run_id":"a","state":"running","task":"t\nwith a newline","created":"","updated":"","last_seq":0}])");
  std::string table = RunsTable(one, 120, 80);
  CHECK(table.find("t with a newline") != std::string::npos);
  CHECK(table.find("(1 of 120 runs; --limit N shows more)") != std::string::npos);
  JsonDoc none = Runs("[]");
  CHECK(RunsTable(none, 0, 80) == "RUN  STATE  EVENTS  CREATED  UPDATED  TASK\n(no runs)\n");
}

TEST_CASE("ShortTime: ISO 8601 to date and time; anything else as it is") {
  CHECK(ShortTime("2026-11-29T15:57:23.170Z") == "2026-11-29 15:57:23");
  CHECK(ShortTime("yesterday") == "yesterday");
}
