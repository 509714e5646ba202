#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "cli/help_format.h"

using namespace wsflow;

namespace {
struct Demo {
  CLI::App app{"demo: a tool"};
  CLI::App* sub = nullptr;
  std::string run, url, output = "json", proxy;
  int retries = 0;
  bool raw = false;
  std::vector<std::string> types;

  Demo() {
    SetupHelp(app);
    sub = app.add_subcommand("watch", "print a run's events");
    sub->add_option("run", run, "run id")->required();
    sub->add_flag("--raw", raw, "print frames unchanged");
    sub->add_option("--type", types, "print only these types")->type_name("TYPES")->group("Output");
    sub->add_option("--output", output, "json or pretty")->check(CLI::IsMember({"json", "pretty"}))->group("Output");
    sub->add_option("--url", url, "backend URL")->type_name("URL")->group("Connection");
    sub->add_option("--retries", retries, "attempts")->check(CLI::NonNegativeNumber)->group("Connection");
    sub->add_option("--proxy", proxy, "a proxy described at such length that the text cannot fit on one line of eighty")
        ->type_name("URL")->group("Connection");
    sub->footer("Example: demo watch r-1");
    ShowInBriefHelp(sub, {"--url"});
  }

  std::string Help(const std::vector<std::string>& args) {
    std::vector<const char*> argv{"demo"};
    for (auto& a : args) argv.push_back(a.c_str());
    try {
      app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
    } catch (const CLI::ParseError& e) {
      std::ostringstream out, err;
      app.exit(e, out, err);
      return out.str();
    }
    return "";
  }
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}
}  // namespace

TEST_CASE("brief help (--help) shows the command's own options, the marked ones, and counts the rest") {
  Demo d;
  std::string help = d.Help({"watch", "--help"});
  CHECK(help.find("Usage: wsflow watch RUN [OPTIONS]") != std::string::npos);
  CHECK(help.find("--raw") != std::string::npos);
  CHECK(help.find("--url URL") != std::string::npos);
  CHECK(help.find("--type") == std::string::npos);
  CHECK(help.find("--retries") == std::string::npos);
  CHECK(help.find("More options in Output: 2, Connection: 2.") != std::string::npos);
  CHECK(help.find("wsflow watch --help-all") != std::string::npos);
  CHECK(Lines(help).back() == "Example: demo watch r-1");
}

TEST_CASE("full help (--help-all) shows every option under its group, wrapped at 80 columns") {
  Demo d;
  std::string help = d.Help({"watch", "--help-all"});
  for (const char* s : {"\nOutput:\n", "\nConnection:\n", "--type TYPES ...", "--output {json,pretty}",
                        "--retries N", "--help-all", "More options"})
    CHECK((help.find(s) != std::string::npos) == (std::string(s) != "More options"));
  for (const auto& l : Lines(help)) CHECK(l.size() <= HelpFormatter::kWidth);
  // The long description continues under the description column.
  CHECK(help.find("\n                        ") != std::string::npos);
}

TEST_CASE("marking an option that does not exist is a bug caught at start-up") {
  Demo d;
  CHECK_THROWS_AS(ShowInBriefHelp(d.sub, {"--nope"}), std::logic_error);
}

TEST_CASE("WrapWords breaks at spaces and keeps a long word whole") {
  CHECK(WrapWords("a bb ccc dddd", 6) == std::vector<std::string>{"a bb", "ccc", "dddd"});
  CHECK(WrapWords("averyveryverylongword x", 5) == std::vector<std::string>{"averyveryverylongword", "x"});
  CHECK(WrapWords("   ", 10).empty());
}
