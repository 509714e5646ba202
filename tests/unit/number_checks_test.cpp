#include <catch2/catch.hpp>

#include <limits>

#include "cli/number_checks.h"

using namespace wsflow;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

// Parses `args` (argv[0] first) with `app`; the message of the error, "" when it parses.
std::string Parse(CLI::App& app, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("a bad number is said in a few words") {
  CHECK(NumberProblem("3", 0, kInf, true) == "");
  CHECK(NumberProblem("-3", 0, kInf, true) == "must be 0 or more");
  CHECK(NumberProblem("abc", 0, kInf, true) == "must be a number");
  CHECK(NumberProblem("", 0, kInf, false) == "must be a number");
  CHECK(NumberProblem("1.5", 0, kInf, true) == "must be a whole number");
  CHECK(NumberProblem("1.5", 0, kInf, false) == "");
  CHECK(NumberProblem("0", std::numeric_limits<double>::min(), kInf, true) == "must be 1 or more");
  CHECK(NumberProblem("0", std::numeric_limits<double>::min(), kInf, false) == "must be more than 0");
  CHECK(NumberProblem("70000", 0, 65535, true) == "must be between 0 and 65535");
  CHECK(NumberProblem("1e999", 0, kInf, false) == "must be a number");
  CHECK(NumberProblem("nan", 0, kInf, false) == "must be a number");
}

TEST_CASE("every numeric option of an app and its subcommands says it in one short line") {
  CLI::App app;
  auto* sub = app.add_subcommand("watch");
  int64_t tail = 0, plain = 0;
  size_t queue = 1;
  double speed = 0;
  int port = 0;
  std::string text;
  sub->add_option("--tail", tail)->check(CLI::NonNegativeNumber);
  sub->add_option("--plain", plain);
  sub->add_option("--queue-size", queue)->check(CLI::PositiveNumber);
  sub->add_option("--speed", speed)->check(CLI::NonNegativeNumber);
  sub->add_option("--port", port)->check(Between(0, 65535));
  int64_t conns = 16;
  sub->add_option("--max-connections", conns)->type_name("N")->check(CLI::PositiveNumber);  // its own type name
  sub->add_option("--name", text);
  UseShortNumberChecks(&app);
  CHECK(Parse(app, {"w", "watch", "--tail", "-3"}) == "--tail: must be 0 or more");
  CHECK(Parse(app, {"w", "watch", "--tail", "abc"}) == "--tail: must be a number");
  CHECK(Parse(app, {"w", "watch", "--plain", "x"}) == "--plain: must be a number");
  CHECK(Parse(app, {"w", "watch", "--queue-size", "0"}) == "--queue-size: must be 1 or more");
  CHECK(Parse(app, {"w", "watch", "--speed", "-1"}) == "--speed: must be 0 or more");
  CHECK(Parse(app, {"w", "watch", "--port", "70000"}) == "--port: must be between 0 and 65535");
  CHECK(Parse(app, {"w", "watch", "--name", "-"}) == "");
  CHECK(Parse(app, {"w", "watch", "--max-connections", "abc"}) == "--max-connections: must be a number");
  CHECK(Parse(app, {"w", "watch", "--max-connections", "0"}) == "--max-connections: must be 1 or more");
  CHECK(Parse(app, {"w", "watch", "--speed", "2.5", "--tail", "4", "--plain", "-7"}) == "");
  CHECK(tail == 4);
  CHECK(plain == -7);
}
