#include <catch2/catch.hpp>

#include <string>

#include "core/json.h"
#include "server/scenario.h"

using namespace wsflow;

namespace {

JsonDoc Doc(const std::string& text) {
  JsonDoc d;
  std::string err;
  INFO(text);
  bool ok = ParseJson(text, &d, &err);
  INFO(err);
  REQUIRE(ok);
  return d;
}

Scenario Builtin(const std::string& name, const std::string& config = "{}") {
  JsonDoc cfg = Doc(config);
  Scenario s;
  std::string err;
  bool ok = BuiltinScenario(name, cfg, &s, &err);
  INFO(err);
  REQUIRE(ok);
  return s;
}

std::string LoadError(const std::string& text) {
  JsonDoc d = Doc(text);
  Scenario s;
  std::string err;
  INFO(text);
  CHECK_FALSE(LoadScenario(d, &s, &err));
  CHECK_FALSE(err.empty());
  return err;
}

}  // namespace

TEST_CASE("built-in demo loads: events, one approval gate, ends with workflow_completed") {
  Scenario s = Builtin("demo");
  CHECK(s.name == "demo");
  CHECK(s.delay_ms == 100);
  REQUIRE(s.items.size() == 26);
  CHECK(s.items.front().event_type == "workflow_started");
  CHECK(s.items.back().event_type == "workflow_completed");
  int gates = 0;
  for (const auto& item : s.items) {
    INFO(item.event_type);
    // Every template is a compact JSON object.
    JsonDoc d = Doc(item.data_template);
    CHECK(d.IsObject());
    CHECK(IsCompactJson(item.data_template));
    CHECK(item.repeat == 1);
    if (item.kind == ScenarioItem::Kind::kApproval) {
      ++gates;
      CHECK(item.event_type == "approval_requested");
      CHECK(GetString(d, "approval_id") == "approval-s3");
      CHECK(item.fail_on_reject);
      const JsonValue* options = GetArray(d, "options");
      REQUIRE(options);
      CHECK(options->Size() == 3);
    }
  }
  CHECK(gates == 1);
  CHECK(s.items[15].kind == ScenarioItem::Kind::kApproval);
}

TEST_CASE("built-in fail loads and ends with workflow_failed") {
  Scenario s = Builtin("fail");
  CHECK(s.name == "fail");
  REQUIRE(s.items.size() == 9);
  CHECK(s.items.back().event_type == "workflow_failed");
  for (const auto& item : s.items) CHECK(item.kind == ScenarioItem::Kind::kEvent);
}

TEST_CASE("built-in long repeats step_progress config.events times") {
  Scenario s = Builtin("long", R"({"events":5})");
  CHECK(s.name == "long");
  CHECK(s.delay_ms == 0);
  REQUIRE(s.items.size() == 5);
  CHECK(s.items[2].event_type == "step_progress");
  CHECK(s.items[2].repeat == 5);
  CHECK(s.items[2].data_template.find("{pct}") != std::string::npos);
  for (size_t i : {0u, 1u, 3u, 4u}) CHECK(s.items[i].repeat == 1);
  CHECK(s.items.back().event_type == "workflow_completed");

  CHECK(Builtin("long").items[2].repeat == 1000);  // the default
  CHECK(Builtin("long", R"({"events":0})").items[2].repeat == 0);

  JsonDoc bad = Doc(R"({"events":-1})");
  Scenario out;
  std::string err;
  CHECK_FALSE(BuiltinScenario("long", bad, &out, &err));
  CHECK_THAT(err, Catch::Contains("events"));
}

TEST_CASE("an unknown built-in name is an error that lists the built-ins") {
  JsonDoc cfg = Doc("{}");
  Scenario s;
  std::string err;
  CHECK_FALSE(BuiltinScenario("nope", cfg, &s, &err));
  CHECK_THAT(err, Catch::Contains("nope"));
  CHECK_THAT(err, Catch::Contains("demo") && Catch::Contains("fail") && Catch::Contains("long"));
  CHECK_THAT(err, Catch::Contains(BuiltinScenarioNames()));
  CHECK_FALSE(BuiltinScenario("Demo", cfg, &s, &err));
}

TEST_CASE("LoadScenario reads a custom scenario") {
  JsonDoc d = Doc(R"({"name":"mine","delay_ms":7,"items":[
      {"event":"a","data":{"x":"{task}"},"delay_ms":3},
      {"event":"b","repeat":4},
      {"approval":{"approval_id":"g1","options":["yes","no"]},"on_reject":"continue"},
      {"approval":{"approval_id":"g2","options":["approve"]}}]})");
  Scenario s;
  std::string err;
  REQUIRE(LoadScenario(d, &s, &err));
  CHECK(s.name == "mine");
  CHECK(s.delay_ms == 7);
  REQUIRE(s.items.size() == 4);
  CHECK(s.items[0].kind == ScenarioItem::Kind::kEvent);
  CHECK(s.items[0].event_type == "a");
  CHECK(s.items[0].data_template == R"({"x":"{task}"})");
  CHECK(s.items[0].delay_ms == 3);
  CHECK(s.items[1].data_template == "{}");
  CHECK(s.items[1].repeat == 4);
  CHECK(s.items[1].delay_ms == -1);
  CHECK(s.items[2].kind == ScenarioItem::Kind::kApproval);
  CHECK(s.items[2].event_type == "approval_requested");
  CHECK_FALSE(s.items[2].fail_on_reject);
  CHECK(s.items[3].fail_on_reject);  // the default

  JsonDoc unnamed = Doc(R"({"items":[{"event":"x"}]})");
  REQUIRE(LoadScenario(unnamed, &s, &err));
  CHECK(s.name == "custom");
  CHECK(s.delay_ms == 100);
}

TEST_CASE("LoadScenario errors name the item number") {
  CHECK_THAT(LoadError(R"({"items":[{"event":"a"},{"data":{}}]})"),
             Catch::StartsWith("scenario item 2:") && Catch::Contains("event"));
  CHECK_THAT(LoadError(R"({"items":[{"event":""}]})"), Catch::StartsWith("scenario item 1:"));
  CHECK_THAT(LoadError(R"({"items":[{"event":"a"},{"event":"b"},7]})"), Catch::StartsWith("scenario item 3:"));
  CHECK_THAT(LoadError(R"({"items":[{"approval":{"options":["approve"]}}]})"),
             Catch::StartsWith("scenario item 1:") && Catch::Contains("approval_id"));
  CHECK_THAT(LoadError(R"({"items":[{"event":"a"},{"approval":{"approval_id":"","options":["approve"]}}]})"),
             Catch::StartsWith("scenario item 2:") && Catch::Contains("approval_id"));
  CHECK_THAT(LoadError(R"({"items":[{"approval":{"approval_id":"g"}}]})"),
             Catch::StartsWith("scenario item 1:") && Catch::Contains("options"));
  CHECK_THAT(LoadError(R"({"items":[{"approval":{"approval_id":"g","options":[]}}]})"),
             Catch::StartsWith("scenario item 1:") && Catch::Contains("options"));
  CHECK_THAT(LoadError(R"({"items":[{"approval":{"approval_id":"g","options":"approve"}}]})"),
             Catch::StartsWith("scenario item 1:") && Catch::Contains("options"));
  CHECK_THAT(LoadError(R"({"items":[{"event":"a"},{"approval":{"approval_id":"g","options":["approve",2]}}]})"),
             Catch::StartsWith("scenario item 2:") && Catch::Contains("strings"));
  CHECK_THAT(LoadError(R"({"items":[{"approval":{"approval_id":"g","options":["ok"]},"on_reject":"ignore"}]})"),
             Catch::StartsWith("scenario item 1:") && Catch::Contains("on_reject"));
  CHECK_THAT(LoadError(R"({"items":[{"event":"a"},{"event":"b"},{"event":"c","repeat":-1}]})"),
             Catch::StartsWith("scenario item 3:") && Catch::Contains("repeat"));
  CHECK_THAT(LoadError(R"({"items":[{"event":"c","repeat":"5"}]})"),
             Catch::StartsWith("scenario item 1:") && Catch::Contains("repeat"));
  CHECK_THAT(LoadError(R"({"items":[{"event":"c","repeat":1.5}]})"),
             Catch::StartsWith("scenario item 1:") && Catch::Contains("repeat"));
}

TEST_CASE("LoadScenario refuses a scenario without items") {
  CHECK_THAT(LoadError(R"({"items":[]})"), Catch::Contains("items"));
  CHECK_THAT(LoadError(R"({"name":"x"})"), Catch::Contains("items"));
  CHECK_THAT(LoadError(R"({"items":{}})"), Catch::Contains("items"));
  CHECK_THAT(LoadError(R"([{"event":"a"}])"), Catch::Contains("items"));
}

TEST_CASE("Substitute replaces a whole-string placeholder with the JSON value, an inner one with text") {
  const std::string tmpl = R"({"n":"{k}","msg":"k is {k}!","other":"{kk}","list":["{k}",1]})";
  CHECK(Substitute(tmpl, "k", "42", "42") == R"({"n":42,"msg":"k is 42!","other":"{kk}","list":[42,1]})");
  CHECK(Substitute(tmpl, "k", R"("a \"b\"")", R"(a \"b\")") ==
        R"({"n":"a \"b\"","msg":"k is a \"b\"!","other":"{kk}","list":["a \"b\"",1]})");
  // Several inner placeholders in one string; nothing else touched.
  CHECK(Substitute(R"({"m":"{i} of {n}, {i}"})", "i", "3", "3") == R"({"m":"3 of {n}, 3"})");
  CHECK(Substitute(R"({"m":"none"})", "i", "3", "3") == R"({"m":"none"})");
  CHECK(Substitute("", "i", "3", "3") == "");
  // The result of a whole-string replacement with a number is valid JSON with a number in it.
  JsonDoc d = Doc(Substitute(R"({"pct":"{pct}"})", "pct", "50", "50"));
  REQUIRE(d["pct"].IsInt());
  CHECK(d["pct"].GetInt() == 50);
}

TEST_CASE("JsonEscape escapes without the quotes") {
  CHECK(JsonEscape("plain") == "plain");
  CHECK(JsonEscape("") == "");
  CHECK(JsonEscape(R"(a "q" \ b)") == R"(a \"q\" \\ b)");
  CHECK(JsonEscape("line\nnext\ttab") == R"(line\nnext\ttab)");
  CHECK(JsonEscape(std::string("\x01", 1)) == R"(\u0001)");
  CHECK(JsonEscape("\xC3\xA9") == "\xC3\xA9");
  // The escaped text in quotes parses back to the original.
  const std::string original = "mixed \"quotes\", \\slashes\\ and\nnewlines \x1f";
  JsonDoc d = Doc("\"" + JsonEscape(original) + "\"");
  CHECK(std::string(d.GetString(), d.GetStringLength()) == original);
}
