#include <catch2/catch.hpp>

#include <string>

#include "core/url.h"

using namespace wsflow;

namespace {
WsUrl Parse(const std::string& text) {
  WsUrl u;
  std::string err;
  INFO(text);
  bool ok = ParseWsUrl(text, &u, &err);
  INFO(err);
  REQUIRE(ok);
  return u;
}
}  // namespace

TEST_CASE("ws and wss have their default ports") {
  WsUrl u = Parse("ws://example.com");
  CHECK(u.scheme == "ws");
  CHECK(u.host == "example.com");
  CHECK(u.port == 80);
  CHECK(u.path.empty());
  CHECK_FALSE(u.has_path());
  CHECK(u.query.empty());
  CHECK(u.Origin() == "ws://example.com:80");

  WsUrl s = Parse("wss://example.com");
  CHECK(s.scheme == "wss");
  CHECK(s.port == 443);
  CHECK(s.Origin() == "wss://example.com:443");

  // The scheme is case-insensitive and normalised.
  WsUrl upper = Parse("WSS://Example.com");
  CHECK(upper.scheme == "wss");
  CHECK(upper.port == 443);
}

TEST_CASE("an explicit port is used") {
  WsUrl u = Parse("ws://127.0.0.1:8765");
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == 8765);
  CHECK(Parse("wss://h:1").port == 1);
  CHECK(Parse("wss://h:65535").port == 65535);
  CHECK(Parse("wss://h:80/x").port == 80);
}

TEST_CASE("IPv6 hosts are written in brackets") {
  WsUrl u = Parse("ws://[::1]:9000/ws/r1");
  CHECK(u.host == "::1");
  CHECK(u.port == 9000);
  CHECK(u.path == "/ws/r1");
  CHECK(u.Origin() == "ws://[::1]:9000");
  CHECK(u.ToString() == "ws://[::1]:9000/ws/r1");

  WsUrl d = Parse("wss://[2001:db8::7]");
  CHECK(d.host == "2001:db8::7");
  CHECK(d.port == 443);
  CHECK(d.Origin() == "wss://[2001:db8::7]:443");
}

TEST_CASE("a path of just '/' means no path") {
  WsUrl u = Parse("ws://h:1/");
  CHECK(u.path.empty());
  CHECK_FALSE(u.has_path());
  CHECK(u.ToString() == "ws://h:1/");

  WsUrl p = Parse("ws://h:1/custom/path");
  CHECK(p.has_path());
  CHECK(p.path == "/custom/path");
  CHECK(p.ToString() == "ws://h:1/custom/path");
}

TEST_CASE("the query is kept, by WithPath too") {
  WsUrl u = Parse("ws://h:1/?token=abc&x=1");
  CHECK(u.path.empty());
  CHECK(u.query == "token=abc&x=1");
  CHECK(u.WithPath("/ws/r-1") == "ws://h:1/ws/r-1?token=abc&x=1");

  WsUrl noslash = Parse("ws://h?token=abc");
  CHECK(noslash.host == "h");
  CHECK(noslash.port == 80);
  CHECK(noslash.path.empty());
  CHECK(noslash.query == "token=abc");
  CHECK(noslash.WithPath("/ws/r") == "ws://h:80/ws/r?token=abc");

  WsUrl withpath = Parse("wss://h/base/p?q=1");
  CHECK(withpath.path == "/base/p");
  CHECK(withpath.query == "q=1");
  CHECK(withpath.ToString() == "wss://h:443/base/p?q=1");

  WsUrl plain = Parse("ws://h:2");
  CHECK(plain.WithPath("/ws/x") == "ws://h:2/ws/x");
}

TEST_CASE("bad URLs are refused with a reason") {
  for (const char* bad : {
           "",
           "example.com:80",
           "http://example.com",
           "https://example.com",
           "wsx://h",
           "://h",
           "ws://",
           "ws://:80",
           "ws:///path",
           "ws://h:0",
           "ws://h:65536",
           "ws://h:-1",
           "ws://h:abc",
           "ws://h:80x",
           "ws://h:99999999999999999999",
           "ws://[::1",
           "ws://[::1]x",
           "ws://[]:80",
           "ws://user:pw@h:80",
           "ws://user@h",
       }) {
    INFO(bad);
    WsUrl u;
    std::string err;
    CHECK_FALSE(ParseWsUrl(bad, &u, &err));
    CHECK_FALSE(err.empty());
  }
}

TEST_CASE("a host with characters no host name or address has is refused") {
  // Found by fuzz/url_fuzz.cpp: such a host printed (Origin, ToString) as a URL that parsed to
  // another host, e.g. "ws://a[b:1]:9/" kept host "a[b:1]" and printed "ws://[a[b:1]]:9/".
  for (const char* bad : {"ws://a[b:1]:9/", "ws://x]:80", "ws://a b:80", "ws://h\x01st/ws", "ws://h%0A:80",
                          "ws://[a b]:80", "ws://[8%]:90", "ws://h\\x/p", "ws://h\"x"}) {
    INFO(bad);
    WsUrl u;
    std::string err;
    CHECK_FALSE(ParseWsUrl(bad, &u, &err));
    CHECK_THAT(err, Catch::Contains("host"));
  }
  WsUrl u;
  std::string err;
  for (const char* good : {"ws://my_host.local:80", "ws://[fe80::1%25eth0]:80", "ws://::1:8000", "ws://xn--bcher-kva.example"}) {
    INFO(good);
    REQUIRE(ParseWsUrl(good, &u, &err));
    WsUrl again;
    REQUIRE(ParseWsUrl(u.ToString(), &again, &err));
    CHECK(again.host == u.host);
  }
}

TEST_CASE("credentials in the URL are refused with that reason") {
  WsUrl u;
  std::string err;
  CHECK_FALSE(ParseWsUrl("wss://alice:secret@example.com/ws", &u, &err));
  CHECK_THAT(err, Catch::Contains("credentials"));
  // An '@' in the path or query is not a credential.
  CHECK(ParseWsUrl("ws://h/a@b?c=d@e", &u, &err));
  CHECK(u.host == "h");
  CHECK(u.path == "/a@b");
  CHECK(u.query == "c=d@e");
}

TEST_CASE("EncodePathSegment keeps unreserved characters and percent-encodes the rest") {
  CHECK(EncodePathSegment("run-1_a.b~C9") == "run-1_a.b~C9");
  CHECK(EncodePathSegment("a b") == "a%20b");
  CHECK(EncodePathSegment("../etc/passwd") == "..%2Fetc%2Fpasswd");
  CHECK(EncodePathSegment("a?b#c%d") == "a%3Fb%23c%25d");
  CHECK(EncodePathSegment("\xC3\xA9") == "%C3%A9");
  CHECK(EncodePathSegment(std::string("\0\xff", 2)) == "%00%FF");
  CHECK(EncodePathSegment("") == "");
}

TEST_CASE("PercentDecode decodes escapes and leaves bad ones and '+' alone") {
  CHECK(PercentDecode("r%2D1%20x") == "r-1 x");
  CHECK(PercentDecode("p%40ss%3Aword") == "p@ss:word");
  CHECK(PercentDecode("a+b") == "a+b");
  CHECK(PercentDecode("100%") == "100%");
  CHECK(PercentDecode("%zz%4") == "%zz%4");
}
