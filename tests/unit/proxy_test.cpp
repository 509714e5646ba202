#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "session/proxy.h"

using namespace wsflow;

namespace {
ProxyEnv Env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

ProxySpec Resolve(const ProxySetting& s, bool tls, const std::string& host, const ProxyEnv& env, int port = 443) {
  ProxySpec p;
  std::string err;
  INFO(err);
  REQUIRE(ResolveProxy(s, tls, host, port, env, &p, &err));
  return p;
}
}  // namespace

TEST_CASE("proxy URLs: scheme optional, curl's default port, credentials decoded and kept apart") {
  ProxySpec p;
  std::string err;
  REQUIRE(ParseProxyUrl("http://proxy.corp:3128", &p, &err));
  CHECK(p.url == "http://proxy.corp:3128");
  REQUIRE(ParseProxyUrl("proxy.corp", &p, &err));
  CHECK(p.url == "http://proxy.corp:1080");
  REQUIRE(ParseProxyUrl("http://al%40ice:s%3Acret@10.0.0.1:8080/", &p, &err));
  CHECK(p.url == "http://10.0.0.1:8080");
  CHECK(p.user == "al@ice");
  CHECK(p.password == "s:cret");
  REQUIRE(ParseProxyUrl("http://[::1]:3128", &p, &err));
  CHECK(p.url == "http://[::1]:3128");
}

TEST_CASE("proxy URLs that cannot work are refused without repeating the password") {
  ProxySpec p;
  std::string err;
  CHECK_FALSE(ParseProxyUrl("socks5://u:hunter2@h:1080", &p, &err));
  CHECK(err.find("SOCKS") != std::string::npos);
  CHECK(err.find("hunter2") == std::string::npos);
  CHECK_FALSE(ParseProxyUrl("https://h:443", &p, &err));
  CHECK(err.find("https://") != std::string::npos);
  CHECK_FALSE(ParseProxyUrl("http://u:hunter2@h:99999", &p, &err));
  CHECK(err.find("hunter2") == std::string::npos);
  CHECK_FALSE(ParseProxyUrl("http://:8080", &p, &err));
  CHECK_FALSE(ParseProxyUrl("http://h:8080/some/path", &p, &err));
}

TEST_CASE("NO_PROXY: names and their subdomains, IPs and CIDRs, ports, and *") {
  CHECK(NoProxyMatches("example.com", "example.com", 443));
  CHECK(NoProxyMatches("example.com", "api.example.com", 443));
  CHECK(NoProxyMatches(".example.com", "api.example.com", 443));
  CHECK_FALSE(NoProxyMatches("example.com", "badexample.com", 443));
  CHECK(NoProxyMatches("a.test, Example.COM", "example.com.", 443));
  CHECK(NoProxyMatches("127.0.0.1", "127.0.0.1", 80));
  CHECK_FALSE(NoProxyMatches("127.0.0.1", "127.0.0.2", 80));
  CHECK(NoProxyMatches("10.0.0.0/8", "10.20.30.40", 80));
  CHECK_FALSE(NoProxyMatches("10.0.0.0/8", "11.0.0.1", 80));
  CHECK(NoProxyMatches("::1", "[::1]", 80));
  CHECK(NoProxyMatches("fd00::/8", "fd12::1", 80));
  CHECK(NoProxyMatches("localhost:8000", "localhost", 8000));
  CHECK_FALSE(NoProxyMatches("localhost:8000", "localhost", 8001));
  CHECK(NoProxyMatches("*", "anything.at.all", 1));
  CHECK_FALSE(NoProxyMatches("", "example.com", 443));
  CHECK_FALSE(NoProxyMatches("10.0.0.0/8", "example.com", 443));
}

TEST_CASE("which proxy: the setting, else the scheme's variable (lower case first), else ALL_PROXY") {
  auto env = Env({{"http_proxy", "http://lower:1"}, {"HTTP_PROXY", "http://upper:2"},
                  {"HTTPS_PROXY", "http://secure:3"}, {"ALL_PROXY", "http://all:4"}});
  CHECK(Resolve({}, false, "h", env).url == "http://lower:1");
  CHECK(Resolve({}, false, "h", env).source == "http_proxy");
  CHECK(Resolve({}, true, "h", env).url == "http://secure:3");
  CHECK(Resolve({}, true, "h", Env({{"ALL_PROXY", "http://all:4"}})).url == "http://all:4");
  CHECK(Resolve({"http://mine:5", "--proxy", true}, true, "h", env).url == "http://mine:5");
  CHECK_FALSE(Resolve({"none", "--proxy", true}, true, "h", env).enabled());
  CHECK_FALSE(Resolve({}, true, "h", Env({})).enabled());
}

TEST_CASE("NO_PROXY bypasses proxies from the environment and files, not one given as a flag") {
  auto env = Env({{"HTTPS_PROXY", "http://p:3"}, {"NO_PROXY", "internal.example,127.0.0.1"}});
  ProxySpec direct = Resolve({}, true, "api.internal.example", env);
  CHECK_FALSE(direct.enabled());
  CHECK(direct.bypassed.find("NO_PROXY") != std::string::npos);
  CHECK(Resolve({}, true, "public.example", env).enabled());
  CHECK_FALSE(Resolve({"http://q:4", "WSFLOW_PROXY", false}, true, "127.0.0.1", env).enabled());
  CHECK(Resolve({"http://q:4", "--proxy", true}, true, "127.0.0.1", env).enabled());
  auto lower = Env({{"HTTPS_PROXY", "http://p:3"}, {"no_proxy", "*"}, {"NO_PROXY", ""}});
  CHECK_FALSE(Resolve({}, true, "x", lower).enabled());
}

TEST_CASE("a bad proxy in the environment names the variable") {
  ProxySpec p;
  std::string err;
  CHECK_FALSE(ResolveProxy({}, true, "h", 443, Env({{"ALL_PROXY", "socks5://s:1080"}}), &p, &err));
  CHECK(err.rfind("ALL_PROXY: ", 0) == 0);
}
