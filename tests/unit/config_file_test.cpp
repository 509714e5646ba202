#include <catch2/catch.hpp>

#include <cstdio>
#include <map>
#include <string>

#include "cli/config_file.h"
#include "core/url.h"

using namespace wsflow;

namespace {
struct FakeEnv {
  std::map<std::string, std::string> vars;
  EnvLookup Lookup() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

const char* kFile = R"({"url":"ws://file:1","retries":4,"connect_timeout":2.5,
  "profiles":{"ci":{"url":"ws://ci:1","retry_jitter":"none"},"empty":{}}})";

ConfigFile Load(const FakeEnv& env, const std::string& text, const std::string& profile = "", bool exists = true) {
  ConfigFile c;
  std::string err;
  INFO(text);
  bool ok = c.LoadText(env.Lookup(), "/home/u/.config/wsflow/config.json", exists, text, profile, &err);
  INFO(err);
  REQUIRE(ok);
  return c;
}

std::string LoadError(const FakeEnv& env, const std::string& text, const std::string& profile = "", bool exists = true) {
  ConfigFile c;
  std::string err;
  CHECK_FALSE(c.LoadText(env.Lookup(), "/etc/x/config.json", exists, text, profile, &err));
  return err;
}
}  // namespace

TEST_CASE("precedence: flag, then environment, then the profile, then the file, then the default") {
  FakeEnv env;
  ConfigFile c = Load(env, kFile, "ci");
  std::string flag = "ws://flag:1";
  SettingValue v = c.Resolve("url", &flag, "ws://default:1");
  CHECK(v.value == "ws://flag:1");
  CHECK(v.source == "flag");
  CHECK(v.where == "--url");

  env.vars["WSFLOW_URL"] = "ws://env:1";
  v = c.Resolve("url", nullptr, "ws://default:1");
  CHECK(v.value == "ws://env:1");
  CHECK(v.source == "env:WSFLOW_URL");

  env.vars["WSFLOW_URL"] = "";  // set but empty: unset
  v = c.Resolve("url", nullptr, "ws://default:1");
  CHECK(v.value == "ws://ci:1");
  CHECK(v.source == "file:ci");
  CHECK(v.where == "config /home/u/.config/wsflow/config.json: profiles.ci.url");

  ConfigFile top = Load(env, kFile);
  v = top.Resolve("url", nullptr, "ws://default:1");
  CHECK(v.value == "ws://file:1");
  CHECK(v.source == "file");
  v = top.Resolve("retries", nullptr, "10");
  CHECK(v.value == "4");
  v = top.Resolve("connect_timeout", nullptr, "10s");
  CHECK(v.value == "2.5");  // a number of seconds
  v = top.Resolve("queue_size", nullptr, "100");
  CHECK(v.value == "100");
  CHECK(v.source == "default");
}

TEST_CASE("the profile comes from --profile, else WSFLOW_PROFILE, else the file's profile") {
  FakeEnv env;
  std::string text = R"({"profile":"ci","profiles":{"ci":{"output":"json"},"dev":{"output":"pretty"}}})";
  CHECK(Load(env, text).profile() == "ci");
  CHECK(Load(env, text).profile_source() == "file");
  env.vars["WSFLOW_PROFILE"] = "dev";
  CHECK(Load(env, text).Resolve("output", nullptr, "auto").value == "pretty");
  CHECK(Load(env, text, "ci").Resolve("output", nullptr, "auto").value == "json");
  CHECK(Load(env, text, "ci").profile_source() == "flag");
}

TEST_CASE("where the file is looked for") {
  FakeEnv env;
  std::string source;
  CHECK(ConfigPath(env.Lookup(), &source).empty());
  env.vars["HOME"] = "/home/u";
  CHECK(ConfigPath(env.Lookup(), &source) == "/home/u/.config/wsflow/config.json");
  CHECK(source == "default");
  env.vars["XDG_CONFIG_HOME"] = "relative/ignored";
  CHECK(ConfigPath(env.Lookup(), &source) == "/home/u/.config/wsflow/config.json");
  env.vars["XDG_CONFIG_HOME"] = "/xdg";
  CHECK(ConfigPath(env.Lookup(), &source) == "/xdg/wsflow/config.json");
  CHECK(source == "env:XDG_CONFIG_HOME");
  env.vars["WSFLOW_CONFIG"] = "/etc/wsflow.json";
  CHECK(ConfigPath(env.Lookup(), &source) == "/etc/wsflow.json");
  CHECK(source == "env:WSFLOW_CONFIG");
}

TEST_CASE("no file, or an empty one, is no configuration") {
  FakeEnv env;
  ConfigFile none = Load(env, "", "", false);
  CHECK_FALSE(none.exists());
  CHECK(none.Resolve("url", nullptr, "d").source == "default");
  CHECK(Load(env, "  \n").Resolve("url", nullptr, "d").source == "default");
}

TEST_CASE("a config file saved with a byte-order mark is read") {
  // Editors on Windows write one. ParseJson refuses it since it stopped skipping BOM bytes (a stray
  // one let bytes that are not UTF-8 through), so the config file drops it first.
  FakeEnv env;
  ConfigFile c = Load(env, std::string("\xEF\xBB\xBF") + kFile, "ci");
  CHECK(c.Resolve("url", nullptr, "d").value == "ws://ci:1");
  CHECK(Load(env, "\xEF\xBB\xBF \n").Resolve("url", nullptr, "d").source == "default");
  CHECK_THAT(LoadError(env, "\xBB{}"), Catch::Contains("not valid JSON"));  // a stray BOM byte is not a BOM
}

TEST_CASE("a bad config names the file and the key") {
  FakeEnv env;
  std::string err = LoadError(env, "{\"url\": ");
  CHECK(err.rfind("config /etc/x/config.json: not valid JSON", 0) == 0);
  err = LoadError(env, R"({"urll":"ws://x"})");
  CHECK(err.rfind("config /etc/x/config.json: urll: unknown key", 0) == 0);
  err = LoadError(env, R"({"retries":"many"})");
  CHECK(err == "config /etc/x/config.json: retries: must be a whole number >= 0");
  err = LoadError(env, R"({"retries":-1})");
  CHECK(err == "config /etc/x/config.json: retries: must be a whole number >= 0");
  err = LoadError(env, R"({"url":5})");
  CHECK(err == "config /etc/x/config.json: url: must be a string");
  err = LoadError(env, R"({"retry_jitter":"half"})");
  CHECK(err == "config /etc/x/config.json: retry_jitter: \"half\" is not one of full, none");
  err = LoadError(env, R"({"ping_interval":"soon"})");
  CHECK(err.rfind("config /etc/x/config.json: ping_interval: 'soon' is not a duration", 0) == 0);
  err = LoadError(env, R"({"max_frame_size":true})");
  CHECK(err == "config /etc/x/config.json: max_frame_size: must be a size such as \"64MiB\" or a number of bytes");
  err = LoadError(env, R"({"max_frame_size":"big"})");
  CHECK(err.rfind("config /etc/x/config.json: max_frame_size: 'big' is not a size", 0) == 0);
  err = LoadError(env, R"({"profiles":{"ci":{"colour":"never"}}})");
  CHECK(err.rfind("config /etc/x/config.json: profiles.ci.colour: unknown key", 0) == 0);
  err = LoadError(env, R"({"token":"secret"})");
  CHECK(err.rfind("config /etc/x/config.json: token: not allowed in a file", 0) == 0);
  err = LoadError(env, "[1]");
  CHECK(err == "config /etc/x/config.json: must be a JSON object of settings");
  err = LoadError(env, R"({"profiles":{"ci":{}}})", "prod");
  CHECK(err == "config /etc/x/config.json: profiles.prod: no such profile (asked for by --profile; defined: ci)");
  err = LoadError(env, "", "prod", false);
  CHECK(err == "--profile prod: there is no config file (looked for /etc/x/config.json)");
}

TEST_CASE("a file named by WSFLOW_CONFIG must exist") {
  FakeEnv env;
  env.vars["WSFLOW_CONFIG"] = "/nonexistent/wsflow-test/config.json";
  ConfigFile c;
  std::string err;
  CHECK_FALSE(c.Load(env.Lookup(), "", &err));
  CHECK(err.find("config /nonexistent/wsflow-test/config.json: cannot read it") == 0);

  env.vars.erase("WSFLOW_CONFIG");
  env.vars["HOME"] = "/nonexistent/wsflow-test";
  CHECK(c.Load(env.Lookup(), "", &err));
  CHECK_FALSE(c.exists());
}

TEST_CASE("values from the environment are checked like the file's") {
  const SettingInfo* jitter = FindSetting("retry_jitter");
  REQUIRE(jitter);
  std::string why;
  CHECK(CheckSetting(*jitter, "none", &why));
  CHECK_FALSE(CheckSetting(*jitter, "some", &why));
  CHECK_FALSE(CheckSetting(*FindSetting("retries"), "-3", &why));
  CHECK_FALSE(CheckSetting(*FindSetting("retries"), "99999999999", &why));
  CHECK(CheckSetting(*FindSetting("retries"), "3", &why));
  CHECK_FALSE(CheckSetting(*FindSetting("idle_timeout"), "1y", &why));
  REQUIRE(FindSetting("max_frame_size"));
  CHECK(std::string(FindSetting("max_frame_size")->env) == "WSFLOW_MAX_FRAME_SIZE");
  CHECK(CheckSetting(*FindSetting("max_frame_size"), "20MiB", &why));
  CHECK_FALSE(CheckSetting(*FindSetting("max_frame_size"), "20 apples", &why));
  CHECK(FindSetting("token")->secret);
  CHECK(FindSetting("nope") == nullptr);
}

TEST_CASE("secrets in URLs are masked") {
  CHECK(MaskUrlSecrets("ws://user:hunter2@host:1/ws") == "ws://user:***@host:1/ws");
  CHECK(MaskUrlSecrets("ws://host/ws?token=abc&x=1&api_key=k") == "ws://host/ws?token=***&x=1&api_key=***");
  CHECK(MaskUrlSecrets("ws://user@host/") == "ws://user@host/");
  CHECK(MaskUrlSecrets("native") == "native");
}
