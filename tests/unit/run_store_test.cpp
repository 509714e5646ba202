#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fake_transport.h"
#include "server/run_store.h"

using namespace wsflow::serve;
using wsflow::serve::testing::TempDir;

namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

const StoredRunEntry* Find(const std::vector<StoredRunEntry>& entries, const std::string& id) {
  for (const auto& e : entries)
    if (e.run_id == id) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("RunStore: Create, Append and Flush, End, then Index gets the records without the events") {
  TempDir dir;
  std::string err;
  {
    RunStore store(dir.path());
    REQUIRE(store.Open(&err));
    REQUIRE(store.Create("r-1", R"({"run_id":"r-1","task":"t"})", &err));
    REQUIRE(store.Create("run/2 x", R"({"run_id":"run/2 x","task":"t2"})", &err));
    store.Append("r-1", R"({"seq":1})");
    store.Append("run/2 x", R"({"seq":1})");
    store.Append("r-1", R"({"seq":2})");
    CHECK(Slurp(store.EventsPath("r-1")).empty());  // buffered until Flush
    store.Flush();
    CHECK(Slurp(store.EventsPath("r-1")) == "{\"seq\":1}\n{\"seq\":2}\n");
    REQUIRE(store.End("r-1", R"({"state":"completed","last_seq":2})", &err));
  }
  // the id is percent-encoded in the file names
  CHECK(dir.Files() == std::vector<std::string>{"r-1.end.json", "r-1.events.ndjson", "r-1.run.json",
                                                "run%2F2%20x.events.ndjson", "run%2F2%20x.run.json"});
  RunStore again(dir.path());
  REQUIRE(again.Open(&err));
  std::vector<StoredRunEntry> entries;
  REQUIRE(again.Index(&entries, &err));
  REQUIRE(entries.size() == 2);
  const StoredRunEntry* one = Find(entries, "r-1");
  const StoredRunEntry* two = Find(entries, "run/2 x");
  REQUIRE(one);
  REQUIRE(two);
  CHECK(one->meta == R"({"run_id":"r-1","task":"t"})");
  CHECK(one->end == R"({"state":"completed","last_seq":2})");
  CHECK(two->end.empty());  // not ended
  CHECK(one->meta_mtime > 0);
}

TEST_CASE("RunStore: Read and Scan give the events file back; Truncate cuts it") {
  TempDir dir;
  std::string err;
  RunStore store(dir.path());
  REQUIRE(store.Open(&err));
  store.Append("r", "aaa");
  store.Append("r", "bb");
  std::string out;
  REQUIRE(store.Read("r", 4, 3, &out, &err));  // pending appends are written first
  CHECK(out == "bb\n");
  CHECK_FALSE(store.Read("r", 4, 10, &out, &err));  // past the end: an error, not a short read
  CHECK(err.find("r.events.ndjson") != std::string::npos);
  std::string all;
  uint64_t size = 0;
  REQUIRE(store.Scan("r", [&](std::string_view chunk) { all.append(chunk); return true; }, &size, &err));
  CHECK(all == "aaa\nbb\n");
  CHECK(size == 7);
  REQUIRE(store.Truncate("r", 4, &err));
  REQUIRE(store.Scan("r", [&](std::string_view) { return true; }, &size, &err));
  CHECK(size == 4);
  // a run without an events file scans as empty
  REQUIRE(store.Scan("none", [&](std::string_view) { return true; }, &size, &err));
  CHECK(size == 0);
}

TEST_CASE("RunStore: a thousand runs appending keep a bounded number of files open") {
  TempDir dir;
  std::string err;
  RunStore store(dir.path());
  REQUIRE(store.Open(&err));
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000; ++i) store.Append("r-" + std::to_string(i), "line " + std::to_string(round));
    store.Flush();
    CHECK(store.open_files() <= RunStore::kMaxOpenFiles);
  }
  CHECK(Slurp(store.EventsPath("r-7")) == "line 0\nline 1\nline 2\n");
  CHECK(Slurp(store.EventsPath("r-999")) == "line 0\nline 1\nline 2\n");
}

TEST_CASE("RunStore: without a directory, a temporary one is made and removed with the store") {
  std::string path;
  {
    RunStore store("");
    std::string err;
    REQUIRE(store.Open(&err));
    path = store.dir();
    CHECK(store.temporary());
    CHECK(path.find("wsflow-serve-") != std::string::npos);
    REQUIRE(store.Create("r", "{}", &err));
    store.Append("r", "x");
    store.Flush();
    CHECK(Exists(path + "/r.events.ndjson"));
  }
  CHECK_FALSE(Exists(path));
}

TEST_CASE("RunStore: a given directory is created if needed and never removed") {
  TempDir parent;
  std::string dir = parent.path() + "/data";
  {
    RunStore store(dir);
    std::string err;
    REQUIRE(store.Open(&err));
    CHECK_FALSE(store.temporary());
  }
  CHECK(Exists(dir));
  ::rmdir(dir.c_str());
}

TEST_CASE("RunStore: a data dir that is a file, or a record that cannot be read, is an error naming it") {
  TempDir dir;
  std::string file = dir.path() + "/plain";
  std::ofstream(file) << "x";
  RunStore bad(file);
  std::string err;
  CHECK_FALSE(bad.Open(&err));
  CHECK(err.find(file) != std::string::npos);

  RunStore store(dir.path());
  REQUIRE(store.Open(&err));
  ::mkdir((dir.path() + "/x.run.json").c_str(), 0700);  // a directory where a record should be
  std::vector<StoredRunEntry> entries;
  CHECK_FALSE(store.Index(&entries, &err));
  CHECK(err.find("x.run.json") != std::string::npos);
  ::rmdir((dir.path() + "/x.run.json").c_str());
}
