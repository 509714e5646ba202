// src/wspp/websocketpp/utf8_validator.hpp against the byte-at-a-time DFA it speeds up.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include <websocketpp/utf8_validator.hpp>

namespace v8 = websocketpp::utf8_validator;

namespace {
// The reference: websocketpp's own loop, one byte at a time through decode().
bool Reference(const std::string& s, uint32_t* state) {
  uint32_t codep = 0;
  for (unsigned char c : s)
    if (v8::decode(state, &codep, c) == v8::utf8_reject) return false;
  return true;
}
}  // namespace

TEST_CASE("utf8 validator: the fast path agrees with the DFA on every input, in any chunking") {
  std::mt19937 rng(42);
  const std::string pieces[] = {"a", "plain ascii text ", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\xa0\x80",
                                "\xc0\xaf", "\xff", "\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\"json\":1,"};
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) s += pieces[rng() % (sizeof pieces / sizeof pieces[0])];
    if (rng() % 4 == 0 && !s.empty()) s[rng() % s.size()] = static_cast<char>(rng() % 256);
    uint32_t state = v8::utf8_accept;
    bool ok = Reference(s, &state);
    bool whole_ref = ok && state == v8::utf8_accept;
    INFO(round);
    CHECK(v8::validate(s) == whole_ref);
    // the same bytes in fragments (a message in several frames)
    v8::validator v;
    bool chunked_ok = true;
    for (size_t at = 0; at < s.size() && chunked_ok;) {
      size_t len = std::min<size_t>(s.size() - at, 1 + rng() % 11);
      chunked_ok = v.decode(s.begin() + static_cast<long>(at), s.begin() + static_cast<long>(at + len));
      at += len;
    }
    CHECK(chunked_ok == ok);
    if (ok) CHECK(v.complete() == (state == v8::utf8_accept));
  }
}

TEST_CASE("utf8 validator: long ASCII runs, and what websocketpp must refuse") {
  CHECK(v8::validate(std::string(100000, 'x')));
  CHECK(v8::validate(std::string(1000, 'x') + "\xc3\xa9" + std::string(1000, 'y')));
  CHECK_FALSE(v8::validate(std::string(1000, 'x') + "\xc3"));           // cut in the middle of a character
  CHECK_FALSE(v8::validate(std::string(1000, 'x') + "\xed\xa0\x80"));   // a surrogate
  CHECK_FALSE(v8::validate(std::string(13, 'x') + "\xff" + "abcdefgh"));  // after an aligned ASCII run
  v8::validator v;
  std::string bad = "ok\xff";
  CHECK_FALSE(v.decode(bad.begin(), bad.end()));
  std::string more = "abcdefghijklmnop";
  CHECK_FALSE(v.decode(more.begin(), more.end()));  // stays rejected
  v.reset();
  CHECK(v.decode(more.begin(), more.end()));
  CHECK(v.complete());
}
