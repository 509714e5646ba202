#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/envelope.h"
#include "core/json.h"

using namespace wsflow;

namespace {

// Parses `text` (which must be valid JSON) and runs ReadEnvelope on it.
bool Read(const std::string& text, EnvelopeFields* out, std::string* err, JsonDoc* doc) {
  std::string perr;
  REQUIRE(ParseJson(text, doc, &perr));
  return ReadEnvelope(*doc, out, err);
}

// The member names of a JSON object text, in order.
std::vector<std::string> Keys(const JsonValue& v) {
  std::vector<std::string> keys;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) keys.emplace_back(it->name.GetString());
  return keys;
}

}  // namespace

TEST_CASE("ReadEnvelope accepts a full envelope and reads its fields") {
  JsonDoc doc;
  EnvelopeFields f;
  std::string err;
  REQUIRE(Read(R"({"event_type":"step_progress","timestamp":"2026-11-23T07:43:00.123Z","run_id":"r-1",)"
               R"("seq":17,"data":{"x":1}})",
               &f, &err, &doc));
  CHECK(f.event_type == "step_progress");
  CHECK(f.timestamp == "2026-11-23T07:43:00.123Z");
  CHECK(f.run_id == "r-1");
  CHECK(f.seq == 17);
}

TEST_CASE("ReadEnvelope: seq and run_id are optional, null run_id is accepted") {
  JsonDoc doc;
  EnvelopeFields f;
  std::string err;
  REQUIRE(Read(R"({"event_type":"heartbeat"})", &f, &err, &doc));
  CHECK(f.event_type == "heartbeat");
  CHECK(f.seq == -1);
  CHECK(f.run_id.empty());
  CHECK(f.timestamp.empty());

  REQUIRE(Read(R"({"event_type":"ack","run_id":null,"seq":1})", &f, &err, &doc));
  CHECK(f.run_id.empty());
  CHECK(f.seq == 1);

  // A large seq that still fits int64 is kept exactly.
  REQUIRE(Read(R"({"event_type":"e","seq":9007199254740993})", &f, &err, &doc));
  CHECK(f.seq == 9007199254740993LL);
}

TEST_CASE("ReadEnvelope: a non-string timestamp is ignored, not an error") {
  JsonDoc doc;
  EnvelopeFields f;
  std::string err;
  REQUIRE(Read(R"({"event_type":"e","timestamp":12})", &f, &err, &doc));
  CHECK(f.timestamp.empty());
}

TEST_CASE("ReadEnvelope refuses what is not an envelope, with a reason") {
  struct Case {
    const char* json;
    const char* reason_part;
  };
  const Case cases[] = {
      {R"([1,2])", "not a JSON object"},
      {R"("event_type")", "not a JSON object"},
      {R"(null)", "not a JSON object"},
      {R"({})", "event_type"},
      {R"({"event_type":""})", "event_type"},
      {R"({"event_type":7})", "event_type"},
      {R"({"event_type":null})", "event_type"},
      {R"({"type":"step_started"})", "event_type"},
      {R"({"event_type":"e","seq":0})", "seq"},
      {R"({"event_type":"e","seq":-3})", "seq"},
      {R"({"event_type":"e","seq":1.5})", "seq"},
      {R"({"event_type":"e","seq":2.0})", "seq"},
      {R"({"event_type":"e","seq":"4"})", "seq"},
      {R"({"event_type":"e","seq":null})", "seq"},
      {R"({"event_type":"e","seq":18446744073709551615})", "seq"},
      {R"({"event_type":"e","run_id":5})", "run_id"},
      {R"({"event_type":"e","run_id":{"id":"r"}})", "run_id"},
      {R"({"event_type":"e","run_id":["r"]})", "run_id"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    JsonDoc doc;
    EnvelopeFields f;
    f.seq = 99;
    std::string err;
    CHECK_FALSE(Read(c.json, &f, &err, &doc));
    CHECK_THAT(err, Catch::Contains(c.reason_part));
    // The output is reset even on failure.
    CHECK(f.seq == -1);
  }
}

TEST_CASE("EnvelopeLine writes members in the documented order") {
  JsonDoc data;
  std::string err;
  REQUIRE(ParseJson(R"({"k":"v","n":[1,2]})", &data, &err));
  JsonDoc raw;
  REQUIRE(ParseJson(R"({"type":"x","payload":{"a":true}})", &raw, &err));

  EnvelopeParts p;
  p.event_type = "step_started";
  p.timestamp = "2026-01-02T03:04:05.678Z";
  p.run_id = "r-1";
  p.seq = 3;
  p.data = &data;
  p.client_origin = true;
  p.dialect = "native";
  p.event_id = "ev-9";
  p.session_id = "s-2";
  p.raw = &raw;
  std::string line = EnvelopeLine(p);
  CHECK(line ==
        R"({"event_type":"step_started","timestamp":"2026-01-02T03:04:05.678Z","run_id":"r-1","seq":3,)"
        R"("event_id":"ev-9","session_id":"s-2","origin":"client","dialect":"native",)"
        R"("data":{"k":"v","n":[1,2]},"raw":{"type":"x","payload":{"a":true}}})");

  JsonDoc back;
  REQUIRE(ParseJson(line, &back, &err));
  CHECK(Keys(back) == std::vector<std::string>{"event_type", "timestamp", "run_id", "seq", "event_id",
                                                "session_id", "origin", "dialect", "data", "raw"});
}

TEST_CASE("EnvelopeLine omits optional members that are not set; data null is {}") {
  EnvelopeParts p;
  p.event_type = "heartbeat";
  p.timestamp = "2026-01-02T03:04:05.678Z";
  CHECK(EnvelopeLine(p) == R"({"event_type":"heartbeat","timestamp":"2026-01-02T03:04:05.678Z","data":{}})");

  // seq 0 is written (only -1 means "omitted"); origin only with client_origin.
  p.seq = 0;
  p.client_origin = true;
  CHECK(EnvelopeLine(p) ==
        R"({"event_type":"heartbeat","timestamp":"2026-01-02T03:04:05.678Z","seq":0,"origin":"client","data":{}})");
}

TEST_CASE("EnvelopeLine without a timestamp stamps it now, in the ISO format") {
  EnvelopeParts p;
  p.event_type = "connected";
  p.client_origin = true;
  std::string line = EnvelopeLine(p);
  JsonDoc doc;
  std::string err;
  REQUIRE(ParseJson(line, &doc, &err));
  std::string ts(GetString(doc, "timestamp"));
  INFO(ts);
  REQUIRE(ts.size() == 24);
  CHECK(ts[4] == '-');
  CHECK(ts[10] == 'T');
  CHECK(ts[19] == '.');
  CHECK(ts.back() == 'Z');
  CHECK(GetString(doc, "origin") == "client");
  CHECK_FALSE(doc.HasMember("seq"));
  CHECK_FALSE(doc.HasMember("run_id"));
}

TEST_CASE("EnvelopeLine output is compact valid JSON that round-trips through ReadEnvelope") {
  JsonDoc data;
  std::string err;
  // Strings with spaces, quotes, backslashes, newlines and non-ASCII inside the data.
  REQUIRE(ParseJson("{\"msg\" : \"a b \\\"q\\\" \\\\ \\n \xC3\xA9\" , \"list\" : [ 1 , 2 ] }", &data, &err));
  EnvelopeParts p;
  p.event_type = "agent \"message\"";
  p.timestamp = "2026-01-02T03:04:05.678Z";
  p.run_id = "run with spaces";
  p.seq = 42;
  p.data = &data;
  std::string line = EnvelopeLine(p);
  INFO(line);
  CHECK(IsCompactJson(line));
  CHECK(line.find('\n') == std::string::npos);

  JsonDoc back;
  REQUIRE(ParseJson(line, &back, &err));
  EnvelopeFields f;
  REQUIRE(ReadEnvelope(back, &f, &err));
  CHECK(f.event_type == "agent \"message\"");
  CHECK(f.run_id == "run with spaces");
  CHECK(f.seq == 42);
  CHECK(f.timestamp == "2026-01-02T03:04:05.678Z");
  const JsonValue* d = GetObject(back, "data");
  REQUIRE(d);
  CHECK(GetString(*d, "msg") == "a b \"q\" \\ \n \xC3\xA9");
  CHECK(*d == data);
  // Writing the parsed line again gives the same bytes.
  CHECK(ToJson(back) == line);
}
