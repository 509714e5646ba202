#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "fake_transport.h"
#include "server/log_cache.h"
#include "server/run_log.h"
#include "server/run_store.h"

using namespace wsflow::serve;
using wsflow::serve::testing::TempDir;

namespace {

std::string Event(size_t i, size_t pad = 0) {
  return "{\"seq\":" + std::to_string(i + 1) + ",\"pad\":\"" + std::string(pad, 'p') + "\"}";
}

std::string LineAt(RunLog& log, size_t i) {
  std::string_view out;
  std::string err;
  INFO(err);
  REQUIRE(log.Line(i, &out, &err));
  return std::string(out);
}

struct Fixture {
  TempDir dir;
  RunStore store{dir.path()};
  LogCache cache{64 * 1024};
  Fixture() {
    std::string err;
    REQUIRE(store.Open(&err));
  }
};

}  // namespace

TEST_CASE("RunLog: appended lines read back by position, from memory and from disk") {
  Fixture f;
  RunLog log(&f.store, &f.cache, "r-1");
  const size_t n = 3 * RunLog::kBlockLines + 17;  // several closed blocks and an open one
  for (size_t i = 0; i < n; ++i) log.Append(Event(i, 200));
  f.store.Flush();
  REQUIRE(log.size() == n);
  // the cache holds 64 KiB: most closed blocks were dropped and are read from the file
  CHECK(f.cache.bytes() <= f.cache.budget());
  for (size_t i : {size_t(0), size_t(1), RunLog::kBlockLines - 1, RunLog::kBlockLines, n - 18, n - 1})
    CHECK(LineAt(log, i) == Event(i, 200));
  for (size_t i = 0; i < n; ++i) REQUIRE(LineAt(log, i) == Event(i, 200));
  std::string_view out;
  std::string err;
  CHECK_FALSE(log.Line(n, &out, &err));
  CHECK(err.find("no event") != std::string::npos);
}

TEST_CASE("RunLog: a block closes at kBlockBytes too, so long lines do not make huge blocks") {
  Fixture f;
  RunLog log(&f.store, &f.cache, "big");
  for (size_t i = 0; i < 40; ++i) log.Append(Event(i, 4000));  // 8 lines make a block
  CHECK(log.held_bytes() < 2 * RunLog::kBlockBytes);
  f.store.Flush();
  for (size_t i = 0; i < 40; ++i) REQUIRE(LineAt(log, i) == Event(i, 4000));
}

TEST_CASE("RunLog: Seal lets a finished run's last block leave memory") {
  Fixture f;
  RunLog log(&f.store, &f.cache, "r");
  for (size_t i = 0; i < 10; ++i) log.Append(Event(i, 100));
  size_t before = log.held_bytes();
  log.Seal();
  f.store.Flush();
  CHECK(log.held_bytes() < before);
  f.cache.Forget(&log);  // as if evicted
  for (size_t i = 0; i < 10; ++i) REQUIRE(LineAt(log, i) == Event(i, 100));
}

TEST_CASE("RunLog: a stored run is read only when a line is asked for") {
  Fixture f;
  {
    RunLog writer(&f.store, &f.cache, "old");
    for (size_t i = 0; i < 600; ++i) writer.Append(Event(i, 50));
    f.store.Flush();
  }
  RunLog log(&f.store, &f.cache, "old");
  log.SetStored(600);
  CHECK_FALSE(log.loaded());
  CHECK(log.size() == 600);
  CHECK(LineAt(log, 599) == Event(599, 50));
  CHECK(log.loaded());
  CHECK(LineAt(log, 0) == Event(0, 50));
  CHECK(LineAt(log, 300) == Event(300, 50));
}

TEST_CASE("RunLog: Load sees every line, cuts a torn last one, and appending goes on after it") {
  Fixture f;
  {
    RunLog writer(&f.store, &f.cache, "cut");
    for (size_t i = 0; i < 300; ++i) writer.Append(Event(i));
    f.store.Flush();
  }
  { std::ofstream(f.store.EventsPath("cut"), std::ios::app) << "{\"seq\":301,\"tor"; }  // killed mid-write
  RunLog log(&f.store, &f.cache, "cut");
  std::vector<std::string> seen;
  std::string err;
  REQUIRE(log.Load([&](std::string_view line, std::string*) { seen.emplace_back(line); return true; }, true, &err));
  REQUIRE(seen.size() == 300);
  CHECK(seen.back() == Event(299));
  CHECK(log.size() == 300);
  log.Append(Event(300));
  f.store.Flush();
  CHECK(LineAt(log, 300) == Event(300));
  CHECK(LineAt(log, 299) == Event(299));
  CHECK(LineAt(log, 0) == Event(0));
  std::ifstream in(f.store.EventsPath("cut"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("tor") == std::string::npos);
  CHECK(text.substr(text.size() - Event(300).size() - 1) == Event(300) + "\n");
}

TEST_CASE("RunLog: Load stops with the error `each` gives") {
  Fixture f;
  {
    RunLog writer(&f.store, &f.cache, "bad");
    for (size_t i = 0; i < 5; ++i) writer.Append(i == 3 ? "not json" : Event(i));
    f.store.Flush();
  }
  RunLog log(&f.store, &f.cache, "bad");
  std::string err;
  size_t n = 0;
  CHECK_FALSE(log.Load(
      [&](std::string_view line, std::string* why) {
        ++n;
        if (line != "not json") return true;
        *why = "line " + std::to_string(n) + " is not JSON";
        return false;
      },
      true, &err));
  CHECK(err == "line 4 is not JSON");
  CHECK_FALSE(log.loaded());
}
