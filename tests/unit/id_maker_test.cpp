#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include "server/id_maker.h"

using namespace wsflow::serve;

TEST_CASE("IdMaker: run ids are r- and 12 hex digits, UUIDs are version 4") {
  IdMaker ids(1);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = ids.RunId();
    REQUIRE(std::regex_match(id, std::regex("r-[0-9a-f]{12}")));
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
  std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  CHECK(std::regex_match(ids.Uuid(), uuid));
  CHECK(ids.Uuid() != ids.Uuid());
}

TEST_CASE("StableUuid: the same seed always gives the same UUID, another seed another") {
  std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  CHECK(std::regex_match(StableUuid("task-1"), uuid));
  CHECK(StableUuid("task-1") == StableUuid("task-1"));
  CHECK(StableUuid("task-1") != StableUuid("task-2"));
}
