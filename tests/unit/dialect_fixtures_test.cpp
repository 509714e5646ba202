// Every frame in tests/fixtures/<dialect>/*.ndjson (captured from `serve --dialect`, or written by
// hand from backends.md) converts without crashing into a well-formed envelope of a known type,
// from which alone (as replay reads saved output) each recorded run ends the way it did.
#include <catch2/catch.hpp>

#include <dirent.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/envelope.h"
#include "dialects/dialect.h"
#include "dialects/event_types.h"

using namespace wsflow;

namespace {
std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 7 && n.compare(n.size() - 7, 7, ".ndjson") == 0) out.push_back(dir + "/" + n);
    }
    ::closedir(d);
  }
  return out;
}

struct Seen {
  Outcome first_outcome = Outcome::kNone;
  int events = 0, errors = 0;
};

Seen ConvertFile(const std::string& dialect, const std::string& path) {
  auto d = MakeDialect(dialect);
  REQUIRE(d);
  std::ifstream in(path);
  Seen seen;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    INFO(path << ":" << n);
    ReceivedFrame frame;
    std::string err;
    REQUIRE(frame.Reset(line, &err));
    Incoming out;
    // aladdin ignores other executions on a shared connection: follow them all ("")
    d->Convert(frame, dialect == "aladdin" ? "" : "run-under-test", &out);
    if (out.kind == Incoming::kError) ++seen.errors;
    if (out.kind != Incoming::kEvent || out.passthrough) continue;
    ++seen.events;
    EnvelopeFields env;
    REQUIRE(ReadEnvelope(out.envelope, &env, &err));
    CHECK(env.timestamp.size() == 24);  // 2026-01-22T10:00:00.123Z
    CHECK(env.timestamp.back() == 'Z');
    CHECK(GetObject(out.envelope, "data") != nullptr);
    CHECK(GetString(out.envelope, "dialect") == dialect);
    // Replay reads saved output: the envelope alone must tell how the run ends, as the frame did.
    CHECK(d->EndOf(GetString(out.envelope, "event_type"), GetObject(out.envelope, "data")) == out.outcome);
    CHECK(IsKnownEventType(out.event_type));  // --until warns about types outside the list
    if (out.outcome != Outcome::kNone && seen.first_outcome == Outcome::kNone) seen.first_outcome = out.outcome;
  }
  return seen;
}
}  // namespace

TEST_CASE("every fixture frame converts into a well-formed envelope") {
  int files = 0;
  for (const char* dialect : {"cmbagent", "ryx", "a2a", "aladdin", "chat"}) {
    for (const auto& path : Files(std::string(WSFLOW_FIXTURES) + "/" + dialect)) {
      ++files;
      ConvertFile(dialect, path);
    }
  }
  CHECK(files >= 15);
}

TEST_CASE("recorded runs end as they did") {
  const std::string root = WSFLOW_FIXTURES;
  struct Case {
    const char* dialect;
    const char* file;
    Outcome outcome;
  };
  const Case cases[] = {
      {"cmbagent", "demo.ndjson", Outcome::kCompleted},
      {"cmbagent", "fail.ndjson", Outcome::kFailed},
      {"cmbagent", "pause_resume_cancel.ndjson", Outcome::kCancelled},
      {"ryx", "implemented.ndjson", Outcome::kCompleted},
      {"ryx", "documented.ndjson", Outcome::kCompleted},
      {"ryx", "fail.ndjson", Outcome::kFailed},
      {"a2a", "demo.ndjson", Outcome::kCompleted},
      {"a2a", "fail.ndjson", Outcome::kFailed},
      {"aladdin", "demo.ndjson", Outcome::kCompleted},
      {"aladdin", "fail.ndjson", Outcome::kFailed},
      {"chat", "session.ndjson", Outcome::kCompleted},
  };
  for (const auto& c : cases) {
    INFO(c.dialect << "/" << c.file);
    Seen seen = ConvertFile(c.dialect, root + "/" + c.dialect + "/" + c.file);
    CHECK(seen.events > 0);
    CHECK(seen.first_outcome == c.outcome);
  }
  // MARS answers a socket without a task with an error, never an event
  Seen errors = ConvertFile("cmbagent", root + "/cmbagent/first_frame_errors.ndjson");
  CHECK(errors.errors == 2);
  CHECK(errors.events == 0);
}
