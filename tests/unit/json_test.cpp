#include <catch2/catch.hpp>

#include <cctype>
#include <string>

#include "core/frame_scan.h"
#include "core/json.h"

using namespace wsflow;

TEST_CASE("JsonParser parses many texts one after another with the same arena") {
  JsonParser p;
  std::string err;
  for (int i = 0; i < 2000; ++i) {
    std::string text = R"({"event_type":"step_progress","seq":)" + std::to_string(i + 1) +
                       R"(,"data":{"message":")" + std::string(static_cast<size_t>(i % 50), 'x') + R"("}})";
    REQUIRE(p.Parse(text, &err));
    const JsonDoc& d = p.doc();
    REQUIRE(d.IsObject());
    CHECK(GetInt(d, "seq", -1) == i + 1);
    const JsonValue* data = GetObject(d, "data");
    REQUIRE(data);
    CHECK(GetString(*data, "message").size() == static_cast<size_t>(i % 50));
  }
}

TEST_CASE("JsonParser is usable again after a failed parse") {
  JsonParser p;
  std::string err;
  REQUIRE(p.Parse(R"({"a":1})", &err));
  CHECK(GetInt(p.doc(), "a", 0) == 1);

  CHECK_FALSE(p.Parse(R"({"a":)", &err));
  CHECK_FALSE(err.empty());
  CHECK_THAT(err, Catch::Contains("at byte"));

  err.clear();
  REQUIRE(p.Parse(R"({"b":[1,2,3]})", &err));
  CHECK(err.empty());
  CHECK_FALSE(p.doc().HasMember("a"));
  const JsonValue* b = GetArray(p.doc(), "b");
  REQUIRE(b);
  CHECK(b->Size() == 3);

  // Alternating failures and successes many times.
  for (int i = 0; i < 500; ++i) {
    CHECK_FALSE(p.Parse("[1,2", &err));
    REQUIRE(p.Parse("[" + std::to_string(i) + "]", &err));
    REQUIRE(p.doc().IsArray());
    CHECK(p.doc()[0].GetInt() == i);
  }
}

TEST_CASE("JsonParser refuses invalid UTF-8") {
  JsonParser p;
  std::string err;
  for (const char* bad : {"\"\xff\"", "\"\xc3\"", "\"\xc3\x28\"", "{\"k\":\"\xed\xa0\x80\"}", "\"\xe2\x82\""}) {
    INFO(bad);
    err.clear();
    CHECK_FALSE(p.Parse(bad, &err));
    CHECK_FALSE(err.empty());
  }
  // Valid multi-byte UTF-8 is fine.
  REQUIRE(p.Parse("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", &err));
  CHECK(std::string(p.doc().GetString()) == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

TEST_CASE("ParseJson and JsonParser refuse anything after the value") {
  JsonParser p;
  std::string err;
  for (const char* bad : {R"({"a":1}x)", R"({"a":1}{"b":2})", "[1] 2", "1 2", "{}]", "\"s\"\""}) {
    INFO(bad);
    CHECK_FALSE(p.Parse(bad, &err));
    JsonDoc d;
    CHECK_FALSE(ParseJson(bad, &d, &err));
  }
  // Trailing white space is not garbage.
  CHECK(p.Parse("{\"a\":1} \n", &err));
  // Only the given bytes are parsed: a string_view into a longer buffer.
  std::string buf = R"({"a":1}garbage)";
  CHECK(p.Parse(std::string_view(buf).substr(0, 7), &err));
  CHECK(GetInt(p.doc(), "a", 0) == 1);
  CHECK_FALSE(p.Parse("", &err));
}

TEST_CASE("ToJson is compact") {
  JsonDoc d;
  std::string err;
  REQUIRE(ParseJson("{ \"a\" : [ 1 , 2 ] ,\n \"b\" : \"x y\" }", &d, &err));
  CHECK(ToJson(d) == R"({"a":[1,2],"b":"x y"})");
}

TEST_CASE("IsCompactJson looks only at white space outside strings") {
  CHECK(IsCompactJson(R"({"a":1,"b":[1,2]})"));
  CHECK(IsCompactJson(R"({"a":"with spaces inside","b":"tab\there"})"));
  CHECK(IsCompactJson("{\"a\":\"a literal\ttab and\nnewline in a string\"}"));
  // An escaped quote does not end the string: the spaces after it are still inside.
  CHECK(IsCompactJson(R"({"a":"say \"hi there\" now"})"));
  // An escaped backslash right before the closing quote does end it.
  CHECK(IsCompactJson(R"({"a":"back\\","b":1})"));
  CHECK_FALSE(IsCompactJson(R"({"a":"back\\", "b":1})"));
  CHECK_FALSE(IsCompactJson(R"({"a": 1})"));
  CHECK_FALSE(IsCompactJson(R"({"a":1} )"));
  CHECK_FALSE(IsCompactJson(R"( {"a":1})"));
  CHECK_FALSE(IsCompactJson("{\"a\":1,\n\"b\":2}"));
  CHECK_FALSE(IsCompactJson("{\"a\":1,\r\"b\":2}"));
  CHECK_FALSE(IsCompactJson("{\"a\":1,\t\"b\":2}"));
  CHECK_FALSE(IsCompactJson(R"({"a":"x \"y\" z", "b":1})"));
  CHECK(IsCompactJson(""));
}

TEST_CASE("Get* helpers return the default on the wrong type, a missing member or a non-object") {
  JsonDoc d;
  std::string err;
  REQUIRE(ParseJson(R"({"s":"str","i":42,"big":-9000000000,"f":2.5,"b":true,"o":{"k":1},"a":[1],"n":null})", &d,
                    &err));

  CHECK(GetString(d, "s") == "str");
  CHECK(GetString(d, "i", "dflt") == "dflt");
  CHECK(GetString(d, "n", "dflt") == "dflt");
  CHECK(GetString(d, "missing", "dflt") == "dflt");
  CHECK(GetString(d, "missing").empty());

  CHECK(GetInt(d, "i", -1) == 42);
  CHECK(GetInt(d, "big", -1) == -9000000000LL);
  CHECK(GetInt(d, "f", -1) == -1);
  CHECK(GetInt(d, "s", -1) == -1);
  CHECK(GetInt(d, "b", -1) == -1);
  CHECK(GetInt(d, "missing", 7) == 7);

  CHECK(GetDouble(d, "f", -1) == 2.5);
  CHECK(GetDouble(d, "i", -1) == 42.0);
  CHECK(GetDouble(d, "s", -1) == -1.0);
  CHECK(GetDouble(d, "n", 3.5) == 3.5);

  CHECK(GetBool(d, "b", false) == true);
  CHECK(GetBool(d, "i", false) == false);
  CHECK(GetBool(d, "s", true) == true);
  CHECK(GetBool(d, "missing", true) == true);

  REQUIRE(GetObject(d, "o") != nullptr);
  CHECK(GetInt(*GetObject(d, "o"), "k", 0) == 1);
  CHECK(GetObject(d, "a") == nullptr);
  CHECK(GetObject(d, "s") == nullptr);
  CHECK(GetObject(d, "missing") == nullptr);

  REQUIRE(GetArray(d, "a") != nullptr);
  CHECK(GetArray(d, "a")->Size() == 1);
  CHECK(GetArray(d, "o") == nullptr);
  CHECK(GetArray(d, "n") == nullptr);

  // Not an object at all: every helper gives its default.
  JsonDoc arr;
  REQUIRE(ParseJson(R"(["s",1])", &arr, &err));
  CHECK(GetString(arr, "s", "d") == "d");
  CHECK(GetInt(arr, "s", 5) == 5);
  CHECK(GetDouble(arr, "s", 1.5) == 1.5);
  CHECK(GetBool(arr, "s", true) == true);
  CHECK(GetObject(arr, "s") == nullptr);
  CHECK(GetArray(arr, "s") == nullptr);
  JsonValue null_value;
  CHECK(GetString(null_value, "s", "d") == "d");
  CHECK(GetInt(null_value, "s", 5) == 5);
}

TEST_CASE("Str copies its text into the allocator") {
  JsonDoc d;
  d.SetObject();
  {
    std::string temp = "temporary text";
    d.AddMember("k", Str(temp, d.GetAllocator()), d.GetAllocator());
    temp.assign(temp.size(), '#');
  }
  CHECK(GetString(d, "k") == "temporary text");
  // Embedded NUL bytes survive.
  d.AddMember("z", Str(std::string_view("a\0b", 3), d.GetAllocator()), d.GetAllocator());
  CHECK(GetString(d, "z") == std::string_view("a\0b", 3));
  CHECK(ToJson(d) == "{\"k\":\"temporary text\",\"z\":\"a\\u0000b\"}");
}

TEST_CASE("Parsing refuses nesting deeper than kMaxJsonDepth, at any depth, without crashing") {
  JsonParser p;
  std::string err;
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  REQUIRE(p.Parse(ok, &err));
  CHECK(ToJson(p.doc()) == ok);  // Accept recurses: bounded by the limit
  for (size_t n : {static_cast<size_t>(kMaxJsonDepth + 1), size_t{100000}}) {
    INFO(n);
    err.clear();
    CHECK_FALSE(p.Parse(std::string(n, '['), &err));
    CHECK_THAT(err, Catch::Contains("nested deeper than 128 levels"));
    std::string balanced = std::string(n, '[') + std::string(n, ']');
    CHECK_FALSE(p.Parse(balanced, &err));
    JsonDoc d;
    CHECK_FALSE(ParseJson(std::string(n / 2, '{') + "\"a\":" , &d, &err));
    std::string objects;
    for (size_t i = 0; i < n; ++i) objects += "{\"a\":";
    CHECK_FALSE(ParseJson(objects + "1" + std::string(n, '}'), &d, &err));
    CHECK_THAT(err, Catch::Contains("nested deeper"));
    CHECK(d.IsNull());
  }
  REQUIRE(p.Parse(R"({"after":"deep"})", &err));  // the parser is usable again
  CHECK(GetString(p.doc(), "after") == "deep");
}

TEST_CASE("Parsing refuses a NUL byte and what follows it") {
  JsonDoc d;
  std::string err;
  CHECK_FALSE(ParseJson(std::string("{}\0{}", 5), &d, &err));
  CHECK_FALSE(ParseJson(std::string("{}\0", 3), &d, &err));
  CHECK_FALSE(ParseJson(std::string("\"a\0b\"", 5), &d, &err));
  CHECK(ParseJson("{} ", &d, &err));
}

TEST_CASE("Quote and JsonObject make JSON text") {
  CHECK(Quote("a\"b\n") == R"("a\"b\n")");
  CHECK(JsonObject({{"a", "1"}, {"b", ""}, {"c", Quote("x")}}) == R"({"a":1,"c":"x"})");
}

TEST_CASE("IsCompactJson skips strings, escaped quotes and backslashes included") {
  CHECK(IsCompactJson(R"({"a":"x y","b":[1,2]})"));
  CHECK(IsCompactJson(R"({"a":"say \"hi there\"","b":1})"));
  CHECK_FALSE(IsCompactJson(R"({"a":"say \"hi\"", "b":1})"));
  CHECK(IsCompactJson(R"({"a":"ends in a backslash \\","b":1})"));
  CHECK_FALSE(IsCompactJson(R"({"a":"ends in a backslash \\" ,"b":1})"));
  CHECK(IsCompactJson(R"({"a":"\\\"quoted\\\"","b":2})"));
  CHECK_FALSE(IsCompactJson("{\"a\":1,\n\"b\":2}"));
  CHECK_FALSE(IsCompactJson("{\"a\":\t1}"));
  CHECK(IsCompactJson("{\"a\":\"tab\there\"}"));
  CHECK(IsCompactJson(""));
  CHECK(IsCompactJson("\"unterminated string with spaces"));
}

TEST_CASE("Parsing refuses numbers beyond a double's range instead of reading them as infinity") {
  // Found by fuzz/json_fuzz.cpp: RapidJSON read 82231e308 as inf, and ToJson then wrote nothing
  // ("[9e308]" printed as "["): a frame re-serialised by a dialect became a cut line.
  JsonParser p;
  std::string err;
  for (const char* big : {"82231e308", "[9e308]", R"({"a":-2e308})", "1e309", "1e400", "[0.1e310]"}) {
    INFO(big);
    JsonDoc d;
    err.clear();
    CHECK_FALSE(ParseJson(big, &d, &err));
    CHECK_THAT(err, Catch::Contains("at byte"));
    CHECK(d.IsNull());
    CHECK_FALSE(p.Parse(big, &err));
  }
  JsonDoc d;
  REQUIRE(ParseJson("[1.7976931348623157e308,-1.7976931348623157e308,4.9e-324,1e-400]", &d, &err));
  JsonDoc again;
  CHECK(ParseJson(ToJson(d), &again, &err));
}

TEST_CASE("Parsing refuses byte-order-mark bytes before the value, as FrameScanner does") {
  // Found by fuzz/frame_scan_fuzz.cpp: RapidJSON's UTF-8 input stream skipped 0xEF, 0xBB and 0xBF
  // at the start each on its own, so "\xBB\"x\"" (not UTF-8) parsed, and the scanner refused it.
  JsonDoc d;
  std::string err;
  for (const char* bom : {"\xBB\"x\"", "\xEF\xBF[1]", "\xEF\xBB\xBF{}", "\xBF{}"}) {
    INFO(bom);
    CHECK_FALSE(ParseJson(bom, &d, &err));
  }
  // A whole mark says so, not "Invalid value".
  CHECK_FALSE(ParseJson("\xEF\xBB\xBF{\"a\":1}", &d, &err));
  CHECK(err == "a UTF-8 byte-order mark (EF BB BF) before the value at byte 0");
}

TEST_CASE("Parsing refuses a lone low surrogate escape, which would print as bytes that are not UTF-8") {
  // Found by fuzz/json_fuzz.cpp: RapidJSON 1.1 checks \uD800-\uDBFF for a partner but turns a lone
  // "\uDDDD" into the bytes ED B7 9D, which ToJson wrote out: a line that is not UTF-8.
  JsonDoc d;
  std::string err;
  for (const char* lone : {R"("\uDDDD")", R"(["a\uDC00b"])", R"({"\uDFFF":1})", R"({"k":{"x\udc80":[]}})"}) {
    INFO(lone);
    err.clear();
    CHECK_FALSE(ParseJson(lone, &d, &err));
    CHECK_THAT(err, Catch::Contains("surrogate"));
  }
  REQUIRE(ParseJson(R"(["\uD83D\uDE00","\u00e9\u20ac","\uFFFF"])", &d, &err));  // a pair, and the rest, are fine
  JsonDoc again;
  CHECK(ParseJson(ToJson(d), &again, &err));
  CHECK(ToJson(again) == ToJson(d));
}

// Every control character, at every place in a long string (RapidJSON's SSE2 scans of 16 bytes
// took 0x1A-0x1F for ordinary text: found by fuzzing serve).
TEST_CASE("control characters in long strings are escaped on the way out and refused raw on the way in") {
  for (int c = 1; c < 0x20; ++c) {
    for (size_t at : {0u, 5u, 17u, 33u}) {
      std::string s(40, 'a');
      s[at] = static_cast<char>(c);
      std::string q = Quote(s);
      CHECK(q.find(static_cast<char>(c)) == std::string::npos);
      JsonDoc d;
      std::string err;
      REQUIRE(ParseJson(q, &d, &err));
      CHECK(std::string(d.GetString(), d.GetStringLength()) == s);
      CHECK_FALSE(ParseJson("\"" + s + "\"", &d, &err));  // raw: not JSON
      FrameScanner scan;
      CHECK_FALSE(scan.Scan("{\"event_type\":\"" + s + "\"}", &err));
    }
  }
}

TEST_CASE("parse errors are said in plain words, one phrase per RapidJSON code") {
  std::string err;
  JsonDoc doc;
  CHECK_FALSE(ParseJson("{this is not json", &doc, &err));
  CHECK(err == "expected a member name at byte 1");  // RapidJSON: "Missing a name for object member."
  CHECK_FALSE(ParseJson("[1 2]", &doc, &err));
  CHECK(err == "expected ',' or ']' after an element at byte 3");
  for (int code = 0; code <= rapidjson::kParseErrorUnspecificSyntaxError; ++code) {
    INFO(code);
    std::string phrase = JsonErrorPhrase(code);
    CHECK_FALSE(phrase.empty());
    CHECK(std::islower(static_cast<unsigned char>(phrase[0])));  // said inside a sentence
    CHECK(phrase.back() != '.');
  }
}
