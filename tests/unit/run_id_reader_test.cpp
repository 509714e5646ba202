#include "session/run_id_reader.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "fake_loop.h"

using namespace wsflow;

TEST_CASE("StartRunIdReader posts ids as lines arrive, then the end") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  wsflow_test::FakeLoop loop;
  std::vector<std::string> ids, skipped;
  bool closed = false;
  RunIdCallbacks cb;
  cb.id = [&](const std::string& id) { ids.push_back(id); };
  cb.skipped = [&](const std::string& why) { skipped.push_back(why); };
  cb.closed = [&] { closed = true; };
  StartRunIdReader(p[0], loop.Poster(), cb);

  REQUIRE(::write(p[1], "r-1\n", 4) == 4);
  REQUIRE(loop.RunUntil([&] { return ids.size() == 1; }));  // before the input has ended
  CHECK(ids[0] == "r-1");
  CHECK_FALSE(closed);
  REQUIRE(::write(p[1], "a b\nr-2", 7) == 7);
  ::close(p[1]);
  REQUIRE(loop.RunUntil([&] { return closed; }));
  CHECK(ids == std::vector<std::string>{"r-1", "r-2"});
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].rfind("line 2: ", 0) == 0);
  ::close(p[0]);  // the thread has ended: closed was its last post
}
