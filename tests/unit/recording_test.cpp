#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "replay/recording.h"

using namespace wsflow;

namespace {
std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
const char* kEv1 = R"({"event_type":"workflow_started","timestamp":"2026-01-01T00:00:00.000Z","run_id":"r","seq":1,"data":{}})";
const char* kEv2 = R"({"event_type":"workflow_failed","timestamp":"2026-01-01T00:00:01.000Z","run_id":"r","seq":2,"data":{"status":"failed"}})";
}  // namespace

TEST_CASE("credential-like query values are masked") {
  CHECK(MaskUrlSecrets("ws://h:1/ws/r?token=abc&x=1&api_key=k&Password=p") ==
        "ws://h:1/ws/r?token=***&x=1&api_key=***&Password=***");
  CHECK(MaskUrlSecrets("ws://h:1/ws/r") == "ws://h:1/ws/r");
  // a recording's header kept the password of user:password@ (there were two maskers; one masked it)
  CHECK(MaskUrlSecrets("wss://me:hunter2@h:1/ws/r?sig=s") == "wss://me:***@h:1/ws/r?sig=***");
  CHECK(MaskUrlSecrets("ws://h/?flag") == "ws://h/?flag");
  // a "://" inside a query value is not the URL's own (found by fuzz/url: masking twice differed)
  std::string odd = "x?token=A://u:p@h?&y=B://v:q@i";
  CHECK(MaskUrlSecrets(odd) == "x?token=***&y=B://v:q@i");
  CHECK(MaskUrlSecrets(MaskUrlSecrets(odd)) == MaskUrlSecrets(odd));
}

TEST_CASE("a written recording reads back") {
  char tmpl[] = "/tmp/wsflow-rec-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  close(fd);
  {
    RecordingWriter w;
    RecordingHeader h;
    h.command = "execute";
    h.url = "ws://h:1/ws/r?token=secret";
    h.run_id = "r";
    h.task = "a \"quoted\" task";
    h.config_json = R"({"scenario":"fail"})";
    std::string err;
    REQUIRE(w.Open(tmpl, h, &err));
    w.Out(R"({"type":"execute"})");
    w.In(kEv1, kEv1);
    w.In("not json", "");
    w.In(kEv2, kEv2);
    w.End(1);
  }
  std::string text = Slurp(tmpl);
  CHECK(text.find("secret") == std::string::npos);
  Recording r;
  std::string err;
  REQUIRE(ParseRecording(text, tmpl, false, &r, &err));
  CHECK(r.has_header);
  CHECK(r.header.task == "a \"quoted\" task");
  CHECK(r.header.config_json == R"({"scenario":"fail"})");
  CHECK(r.header.url == "ws://h:1/ws/r?token=***");
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].line == kEv1);
  REQUIRE(r.frames.size() == 4);
  CHECK_FALSE(r.frames[0].in);
  CHECK(r.frames[0].text == R"({"type":"execute"})");
  CHECK(r.frames[1].in);
  CHECK(r.frames[1].text == kEv1);
  CHECK(r.frames[2].text == "not json");
  CHECK(RecordedDialect(r) == "native");
  CHECK(r.end_status == 1);
  CHECK(RecordedOutcome(r) == Outcome::kFailed);
  std::remove(tmpl);
}

TEST_CASE("the recorded dialect: the events' own, else the header's") {
  const char* mars = R"({"event_type":"step_start","timestamp":"2026-01-01T00:00:00.000Z","run_id":"t","seq":1,"dialect":"cmbagent","data":{}})";
  Recording r;
  std::string err;
  // written before the client detected the dialect: the header says auto, the events tell
  std::string rec = std::string(R"({"wsflow_recording":1,"dialect":"auto","run_id":"t"})") + "\n" +
                    R"({"dir":"in","t_ms":3,"frame":{"event_type":"step_start"},"event":)" + mars + "}\n";
  REQUIRE(ParseRecording(rec, "x", false, &r, &err));
  CHECK(RecordedDialect(r) == "cmbagent");
  REQUIRE(r.frames.size() == 1);
  CHECK(r.frames[0].t_ms == 3);
  REQUIRE(ParseRecording(R"({"wsflow_recording":1,"dialect":"ryx"})" "\n", "x", false, &r, &err));
  CHECK(RecordedDialect(r) == "ryx");
  REQUIRE(ParseRecording(R"({"wsflow_recording":1,"dialect":"auto"})" "\n", "x", false, &r, &err));
  CHECK(RecordedDialect(r) == "native");
}

TEST_CASE("plain watch output is a recording without timing") {
  Recording r;
  std::string err;
  REQUIRE(ParseRecording(std::string(kEv1) + "\n" + kEv2 + "\n", "x", false, &r, &err));
  CHECK_FALSE(r.has_header);
  CHECK(r.events.size() == 2);
  CHECK(RecordedOutcome(r) == Outcome::kFailed);
}

TEST_CASE("a torn last line is tolerated, other bad lines are errors naming the line") {
  Recording r;
  std::string err;
  std::string torn = std::string(kEv1) + "\n" + std::string(kEv2).substr(0, 30);
  REQUIRE(ParseRecording(torn, "f", false, &r, &err));
  CHECK(r.torn_tail);
  CHECK(r.events.size() == 1);
  CHECK(RecordedOutcome(r) == Outcome::kNone);

  std::string bad = std::string(kEv1) + "\ngarbage\n" + kEv2 + "\n";
  CHECK_FALSE(ParseRecording(bad, "f.ndjson", false, &r, &err));
  CHECK(err.rfind("f.ndjson:2:", 0) == 0);
  REQUIRE(ParseRecording(bad, "f.ndjson", true, &r, &err));
  CHECK(r.skipped == 1);
  CHECK(r.events.size() == 2);

  std::string not_envelope = std::string(kEv1) + "\n{\"x\":1}\n" + kEv2 + "\n";
  CHECK_FALSE(ParseRecording(not_envelope, "f", false, &r, &err));
  CHECK_FALSE(ParseRecording("", "f", false, &r, &err));
  CHECK(err.find("empty") != std::string::npos);
  CHECK_FALSE(ParseRecording("{\"wsflow_recording\":2}\n", "f", false, &r, &err));
  CHECK(err.find("unsupported") != std::string::npos);
}

TEST_CASE("a file whose first line is neither a header nor an event is not a recording, whatever its length") {
  Recording r;
  std::string err;
  for (const char* text : {"hello", "hello\n", "10:00:00 r-1 workflow_started  report\nmore\n", "{\"x\":1}"}) {
    INFO(text);
    CHECK_FALSE(ParseRecording(text, "f.txt", false, &r, &err));
    CHECK(err.rfind("f.txt:1: not a recording (--record) nor saved watch output: ", 0) == 0);
    CHECK(err.find("empty") == std::string::npos);
  }
  CHECK_FALSE(ParseRecording("\n\n", "f.txt", false, &r, &err));
  CHECK(err == "f.txt: no events");
}

TEST_CASE("saved output of every dialect ends as its dialect reads it") {
  auto outcome = [](const std::string& line) {
    Recording r;
    std::string err;
    REQUIRE(ParseRecording(line + "\n", "x", false, &r, &err));
    return RecordedOutcome(r);
  };
  auto env = [](const char* type, const char* dialect, const char* data) {
    return std::string(R"({"event_type":")") + type + R"(","timestamp":"2026-01-01T00:00:00.000Z","run_id":"r",)" +
           R"("dialect":")" + dialect + R"(","data":)" + data + "}";
  };
  CHECK(outcome(env("task_complete", "ryx", "{}")) == Outcome::kCompleted);
  CHECK(outcome(env("error", "ryx", R"({"message":"boom"})")) == Outcome::kFailed);
  CHECK(outcome(env("progress", "a2a", R"({"state":"completed"})")) == Outcome::kCompleted);
  CHECK(outcome(env("progress", "a2a", R"({"state":"failed","stage":"cancelled"})")) == Outcome::kCancelled);
  CHECK(outcome(env("progress", "a2a", R"({"state":"running"})")) == Outcome::kNone);
  CHECK(outcome(env("orchestration-complete", "aladdin", "{}")) == Outcome::kCompleted);
  CHECK(outcome(env("error", "aladdin", R"({"error":{"recoverable":true}})")) == Outcome::kNone);
  CHECK(outcome(env("error", "aladdin", R"({"error":{"recoverable":false}})")) == Outcome::kFailed);
  CHECK(outcome(env("message", "chat", R"({"role":"assistant","content":"hi"})")) == Outcome::kCompleted);
  CHECK(outcome(env("complete", "cmbagent", "{}")) == Outcome::kCompleted);
  CHECK(outcome(env("workflow_failed", "cmbagent", R"({"status":"cancelled"})")) == Outcome::kCancelled);
  CHECK(outcome(env("workflow_failed", "martian", "{}")) == Outcome::kFailed);  // an unknown dialect: read as native
}
