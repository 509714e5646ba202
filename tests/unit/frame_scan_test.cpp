#include <catch2/catch.hpp>

#include <string>

#include "core/frame_scan.h"
#include "core/received_frame.h"
#include "core/json.h"

using namespace wsflow;

TEST_CASE("FrameScanner pulls out the envelope fields of a native event") {
  FrameScanner s;
  std::string err;
  REQUIRE(s.Scan(R"({"event_type":"step_progress","timestamp":"2026-01-01T00:00:00.000Z","run_id":"r-1","seq":17,)"
                 R"("data":{"seq":3,"event_type":"inner","x":[1,{"run_id":"no"}]}})",
                 &err));
  const FrameFields& f = s.fields();
  CHECK(f.object);
  CHECK(f.compact);
  CHECK(f.data_object);
  CHECK(f.event_type == "step_progress");
  CHECK(f.run_id == "r-1");
  CHECK(f.timestamp == "2026-01-01T00:00:00.000Z");
  CHECK(f.seq == 17);
  CHECK(f.has_seq);
  CHECK(f.request_id.empty());
}

TEST_CASE("FrameScanner tells compact frames from spaced ones, white space in strings aside") {
  FrameScanner s;
  std::string err;
  REQUIRE(s.Scan(R"({"a":"x y\n\t","b":[1,2]})", &err));
  CHECK(s.fields().compact);
  for (const char* spaced : {R"({ "a":1})", R"({"a":1 })", "{\"a\":\n1}", "[1,\t2]", " {}", "{}\r\n"}) {
    INFO(spaced);
    REQUIRE(s.Scan(spaced, &err));
    CHECK_FALSE(s.fields().compact);
    CHECK(s.fields().compact == IsCompactJson(spaced));
  }
}

TEST_CASE("FrameScanner judges seq and run_id as ReadEnvelope does") {
  FrameScanner s;
  std::string err;
  struct Case {
    const char* text;
    int64_t seq;
    bool has_seq;
    bool run_id_bad;
  } cases[] = {
      {R"({"event_type":"a","seq":0})", -1, true, false},
      {R"({"event_type":"a","seq":-4})", -1, true, false},
      {R"({"event_type":"a","seq":2.5})", -1, true, false},
      {R"({"event_type":"a","seq":"3"})", -1, true, false},
      {R"({"event_type":"a","seq":9223372036854775807})", INT64_MAX, true, false},
      {R"({"event_type":"a","seq":9223372036854775808})", -1, true, false},
      {R"({"event_type":"a","run_id":null})", -1, false, false},
      {R"({"event_type":"a","run_id":5})", -1, false, true},
      {R"({"event_type":"a","run_id":{"x":1}})", -1, false, true},
      {R"({"event_type":"a","seq":4,"seq":5})", 4, true, false},  // the first one, as FindMember
  };
  for (const auto& c : cases) {
    INFO(c.text);
    REQUIRE(s.Scan(c.text, &err));
    CHECK(s.fields().seq == c.seq);
    CHECK(s.fields().has_seq == c.has_seq);
    CHECK(s.fields().run_id_bad == c.run_id_bad);
  }
}

TEST_CASE("FrameScanner reads request ids, types and non-object data") {
  FrameScanner s;
  std::string err;
  REQUIRE(s.Scan(R"({"event_type":"ack","request_id":"req-1","data":"text"})", &err));
  CHECK(s.fields().request_id == "req-1");
  CHECK(s.fields().has_data);
  CHECK_FALSE(s.fields().data_object);
  REQUIRE(s.Scan(R"({"type":"info","client_id":"c"})", &err));
  CHECK(s.fields().type == "info");
  CHECK_FALSE(s.fields().has_event_type);
  REQUIRE(s.Scan(R"([{"event_type":"x"}])", &err));
  CHECK_FALSE(s.fields().object);
  CHECK(s.fields().event_type.empty());
  REQUIRE(s.Scan(R"({"event_type":"step\u005fstarted"})", &err));
  CHECK(s.fields().event_type == "step_started");
}

TEST_CASE("FrameScanner refuses what the DOM parser refuses: bad syntax, UTF-8, depth, NUL") {
  FrameScanner s;
  JsonDoc d;
  std::string err, derr;
  const std::string bad[] = {"",
                             "{",
                             R"({"a":1,})",
                             "{this is not json",
                             "\"\xff\"",
                             "{\"k\":\"\xed\xa0\x80\"}",
                             std::string("{}\0", 3),
                             "{} {}",
                             std::string(100000, '['),
                             "[9e308]",          // beyond a double (fuzz/json_fuzz.cpp)
                             "\xBB\"x\"",        // a stray byte-order-mark byte (fuzz/frame_scan_fuzz.cpp)
                             "\xEF\xBB\xBF{}",
                             R"({"data":"\uDDDD"})",  // a lone low surrogate (fuzz/json_fuzz.cpp)
                             R"({"\uDC00":1})",
                             std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']')};
  for (const auto& text : bad) {
    INFO(text.substr(0, 40));
    err.clear();
    CHECK_FALSE(s.Scan(text, &err));
    CHECK_THAT(err, Catch::Contains("at byte"));
    CHECK_FALSE(ParseJson(text, &d, &derr));
  }
  // Without UTF-8 validation (a WebSocket text frame, validated already) as well: these are valid
  // UTF-8, and refused for what they hold.
  for (const char* text : {"[9e308]", "1e400", R"({"data":"\uDDDD"})", R"({"\uDC00":1})", "\xEF\xBB\xBF{}"}) {
    INFO(text);
    err.clear();
    CHECK_FALSE(s.Scan(text, &err, false));
    CHECK_THAT(err, Catch::Contains("at byte"));
  }
  CHECK_FALSE(s.Scan("\xEF\xBB\xBF{\"event_type\":\"x\"}", &err, false));
  CHECK(err == "a UTF-8 byte-order mark (EF BB BF) before the value at byte 0");
  CHECK_FALSE(s.Scan("[1e400]", &err, false));
  CHECK_THAT(err, Catch::Contains("a number too big"));
  CHECK(s.Scan(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']'), &err));
  REQUIRE(s.Scan(R"({"event_type":"again"})", &err));  // usable after failures
  CHECK(s.fields().event_type == "again");
}

TEST_CASE("ReceivedFrame parses its DOM only when asked, once per frame") {
  ReceivedFrame f;
  std::string err;
  REQUIRE(f.Reset(R"({"event_type":"a","seq":1,"data":{"x":1}})", &err));
  CHECK(f.fields().event_type == "a");
  const JsonValue& d = f.dom();
  CHECK(GetInt(*GetObject(d, "data"), "x", 0) == 1);
  CHECK(&f.dom() == &d);
  REQUIRE(f.Reset(R"({"event_type":"b","data":{"x":2}})", &err));
  CHECK(GetString(f.dom(), "event_type") == "b");
  CHECK_FALSE(f.Reset("{", &err));
}

TEST_CASE("FrameScanner judges compactness like IsCompactJson, escapes and all") {
  FrameScanner s;
  std::string err;
  const char* frames[] = {R"({"a":"x y"})",
                          R"({"a":"x\ny","b":"z"})",
                          R"({"a":"say \"hi there\"","b":1})",
                          R"({"a":"say \"hi\"", "b":1})",
                          R"({"a":"ends in \\","b":[1,2,{"c":null}]})",
                          R"({"a":"ends in \\" ,"b":1})",
                          R"({"k\"ey":"v","n":-1.5e3,"t":true})",
                          R"({"k\"ey" :"v"})",
                          R"(["a",1, "b"])",
                          R"("just a string with spaces")",
                          "{\"a\":\"é ü\",\"b\":2}",
                          "[1,2]\n"};
  for (const char* f : frames) {
    INFO(f);
    REQUIRE(s.Scan(f, &err));
    bool plain = IsCompactJson(f);
    // Without escapes the two agree exactly; with them the scan may only err on the safe side.
    if (std::string(f).find('\\') == std::string::npos) CHECK(s.fields().compact == plain);
    else if (!plain) CHECK_FALSE(s.fields().compact);
  }
}
