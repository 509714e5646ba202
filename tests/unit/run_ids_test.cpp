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
