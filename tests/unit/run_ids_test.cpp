#include "core/run_ids.h"

#include <catch2/catch.hpp>

using namespace wsflow;

TEST_CASE("ParseRunIdLine takes jq -r's plain ids and execute --detach's JSON lines") {
  std::string id, err;
  REQUIRE(ParseRunIdLine("r-1234\n", &id, &err));
  CHECK(id == "r-1234");
  REQUIRE(ParseRunIdLine("  r-5 \r", &id, &err));
  CHECK(id == "r-5");
  REQUIRE(ParseRunIdLine(R"({"run_id":"r-9"})", &id, &err));
  CHECK(id == "r-9");
}

TEST_CASE("ParseRunIdLine skips blank lines and comments") {
  std::string id = "x", err;
  REQUIRE(ParseRunIdLine("", &id, &err));
  CHECK(id.empty());
  REQUIRE(ParseRunIdLine("   \t", &id, &err));
  CHECK(id.empty());
  REQUIRE(ParseRunIdLine("# nightly runs", &id, &err));
  CHECK(id.empty());
}

TEST_CASE("ParseRunIdLine refuses what is not one run id, saying why") {
  std::string id, err;
  CHECK_FALSE(ParseRunIdLine("r-1 r-2", &id, &err));
  CHECK(err.find("white space") != std::string::npos);
  CHECK_FALSE(ParseRunIdLine(R"({"id":"r-9"})", &id, &err));
  CHECK(err.find("run_id") != std::string::npos);
  CHECK_FALSE(ParseRunIdLine(R"({"run_id":)", &id, &err));
  CHECK_FALSE(ParseRunIdLine(std::string(300, 'a'), &id, &err));
  CHECK_FALSE(ParseRunIdLine(std::string("r-\x01"), &id, &err));
  CHECK_FALSE(ParseRunIdLine("{\"a\":" + std::string(200000, '['), &id, &err));  // the depth limit, not a crash
}

TEST_CASE("RunIdLines: ids as their lines complete, across chunks, the last without its newline") {
  RunIdLines lines;
  std::vector<RunIdLines::Item> out;
  lines.Feed("r-1\nr-", &out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].id == "r-1");
  lines.Feed("2\n\n# a comment\n{\"run_id\":\"r-3\"}\n", &out);
  REQUIRE(out.size() == 3);
  CHECK(out[1].id == "r-2");
  CHECK(out[2].id == "r-3");
  lines.Feed("two words\nr-4", &out);
  REQUIRE(out.size() == 4);
  CHECK(out[3].id.empty());
  CHECK(out[3].skipped.rfind("line 6: ", 0) == 0);  // counted over blank and comment lines too
  lines.End(&out);
  REQUIRE(out.size() == 5);
  CHECK(out[4].id == "r-4");
  lines.End(&out);  // nothing left
  CHECK(out.size() == 5);
}

TEST_CASE("RunIdLines: a bad last line without its newline is said too") {
  RunIdLines lines;
  std::vector<RunIdLines::Item> out;
  lines.Feed("r-1\nbad id", &out);
  lines.End(&out);
  REQUIRE(out.size() == 2);
  CHECK(out[1].skipped.rfind("line 2: ", 0) == 0);
}
