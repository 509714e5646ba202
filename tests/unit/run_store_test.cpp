#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "server/run_store.h"

using namespace wsflow;

namespace {

// A fresh directory under $TMPDIR (or /tmp), removed with its files at the end of the test.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/wsflow-run-store-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    REQUIRE(::mkdtemp(buf.data()) != nullptr);
    path_ = buf.data();
  }
  ~TempDir() {
    if (DIR* d = ::opendir(path_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") ::unlink((path_ + "/" + name).c_str());
      }
      ::closedir(d);
    }
    ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

std::string Line(int seq) {
  return R"({"event_type":"step_progress","timestamp":"2026-01-01T00:00:00.000Z","run_id":"r-1","seq":)" +
         std::to_string(seq) + R"(,"data":{}})";
}

const StoredRun* Find(const std::vector<StoredRun>& runs, const std::string& id) {
  for (const auto& r : runs)
    if (r.run_id == id) return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("RunStore: Create, Append and Flush, then Load gets the runs back") {
  TempDir dir;
  const std::string meta1 = R"({"run_id":"r-1","task":"t","model":"m","config":{},"request_id":"q"})";
  const std::string meta2 = R"({"run_id":"run/2 x","task":"t2","model":"m","config":{},"request_id":""})";
  {
    RunStore store(dir.path());
    std::vector<StoredRun> none;
    std::string err;
    REQUIRE(store.Load(&none, &err));
    CHECK(none.empty());
    CHECK(store.persistent());
    REQUIRE(store.Create("r-1", meta1, &err));
    REQUIRE(store.Create("run/2 x", meta2, &err));
    store.Append("r-1", Line(1));
    store.Append("r-1", Line(2));
    store.Append("run/2 x", Line(1));
    store.Flush();
    // Flushed: on disk now, while the store is still open.
    CHECK(Slurp(dir.path() + "/r-1.events.ndjson") == Line(1) + "\n" + Line(2) + "\n");
    store.Append("r-1", Line(3));
    store.Finish("r-1");
    CHECK(Slurp(dir.path() + "/r-1.events.ndjson") == Line(1) + "\n" + Line(2) + "\n" + Line(3) + "\n");
  }
  // The id is percent-encoded in the file names.
  CHECK(Slurp(dir.path() + "/run%2F2%20x.run.json") == meta2);

  RunStore again(dir.path());
  std::vector<StoredRun> runs;
  std::string err;
  REQUIRE(again.Load(&runs, &err));
  REQUIRE(runs.size() == 2);
  const StoredRun* r1 = Find(runs, "r-1");
  const StoredRun* r2 = Find(runs, "run/2 x");
  REQUIRE(r1);
  REQUIRE(r2);
  CHECK(r1->meta == meta1);
  CHECK(r1->events == std::vector<std::string>{Line(1), Line(2), Line(3)});
  CHECK(r2->meta == meta2);
  CHECK(r2->events == std::vector<std::string>{Line(1)});

  // Appending after a reload continues the same file.
  again.Append("r-1", Line(4));
  again.Flush();
  std::vector<StoredRun> more;
  REQUIRE(RunStore(dir.path()).Load(&more, &err));
  REQUIRE(Find(more, "r-1"));
  CHECK(Find(more, "r-1")->events.size() == 4);
}

TEST_CASE("RunStore: a run with no events yet loads with none") {
  TempDir dir;
  RunStore store(dir.path());
  std::string err;
  REQUIRE(store.Create("empty", R"({"run_id":"empty"})", &err));
  std::vector<StoredRun> runs;
  REQUIRE(RunStore(dir.path()).Load(&runs, &err));
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].run_id == "empty");
  CHECK(runs[0].events.empty());
}

TEST_CASE("RunStore: Load creates a missing directory") {
  TempDir dir;
  std::string sub = dir.path() + "/sub";
  RunStore store(sub);
  std::vector<StoredRun> runs;
  std::string err;
  REQUIRE(store.Load(&runs, &err));
  CHECK(runs.empty());
  struct stat st;
  REQUIRE(::stat(sub.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  ::rmdir(sub.c_str());
}

TEST_CASE("RunStore: a torn last line is cut off and the file truncated") {
  TempDir dir;
  Spit(dir.path() + "/r-1.run.json", R"({"run_id":"r-1"})");
  const std::string good = Line(1) + "\n" + Line(2) + "\n";
  const std::string events_path = dir.path() + "/r-1.events.ndjson";
  Spit(events_path, good + R"({"event_type":"step_prog)");

  RunStore store(dir.path());
  std::vector<StoredRun> runs;
  std::string err;
  REQUIRE(store.Load(&runs, &err));
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].events == std::vector<std::string>{Line(1), Line(2)});
  CHECK(Slurp(events_path) == good);

  // New events then start on a line of their own.
  store.Append("r-1", Line(3));
  store.Flush();
  CHECK(Slurp(events_path) == good + Line(3) + "\n");
}

TEST_CASE("RunStore: a file that is only a torn line loads as no events") {
  TempDir dir;
  Spit(dir.path() + "/r.run.json", R"({"run_id":"r"})");
  Spit(dir.path() + "/r.events.ndjson", R"({"event_ty)");
  std::vector<StoredRun> runs;
  std::string err;
  REQUIRE(RunStore(dir.path()).Load(&runs, &err));
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].events.empty());
  CHECK(Slurp(dir.path() + "/r.events.ndjson").empty());
}

TEST_CASE("RunStore: a corrupt line in the middle is an error naming file and line") {
  TempDir dir;
  Spit(dir.path() + "/r-1.run.json", R"({"run_id":"r-1"})");
  const std::string events_path = dir.path() + "/r-1.events.ndjson";
  const std::string text = Line(1) + "\n" + "{not json\n" + Line(3) + "\n";
  Spit(events_path, text);
  std::vector<StoredRun> runs;
  std::string err;
  CHECK_FALSE(RunStore(dir.path()).Load(&runs, &err));
  CHECK_THAT(err, Catch::Contains(events_path + ":2:"));
  // Nothing is cut from a file with a bad middle line.
  CHECK(Slurp(events_path) == text);
}

TEST_CASE("RunStore: an unreadable meta file is an error naming it") {
  TempDir dir;
  Spit(dir.path() + "/r-1.run.json", "{broken");
  std::vector<StoredRun> runs;
  std::string err;
  CHECK_FALSE(RunStore(dir.path()).Load(&runs, &err));
  CHECK_THAT(err, Catch::Contains(dir.path() + "/r-1.run.json"));
}

TEST_CASE("RunStore: memory only stores nothing and loads nothing") {
  RunStore store("");
  CHECK_FALSE(store.persistent());
  std::vector<StoredRun> runs{StoredRun{"x", "{}", {}}};
  std::string err;
  REQUIRE(store.Load(&runs, &err));
  CHECK(runs.empty());
  REQUIRE(store.Create("r-1", R"({"run_id":"r-1"})", &err));
  store.Append("r-1", Line(1));
  store.Flush();
  store.Finish("r-1");
  REQUIRE(store.Load(&runs, &err));
  CHECK(runs.empty());
  // Nothing was written to the working directory either.
  struct stat st;
  CHECK(::stat("r-1.run.json", &st) != 0);
  CHECK(::stat("/r-1.run.json", &st) != 0);
}
