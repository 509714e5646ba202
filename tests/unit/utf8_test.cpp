#include <catch2/catch.hpp>

#include <string>

#include "core/utf8.h"

using namespace wsflow;

TEST_CASE("IsUtf8 takes well-formed UTF-8 and refuses the rest") {
  CHECK(IsUtf8(""));
  CHECK(IsUtf8("plain ascii /ws/r-1?x=1"));
  CHECK(IsUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // 2, 3 and 4 bytes
  CHECK(IsUtf8(std::string("nul\0inside", 10)));
  CHECK_FALSE(IsUtf8("\xFF"));
  CHECK_FALSE(IsUtf8("r\xC3"));              // cut short
  CHECK_FALSE(IsUtf8("\x80"));               // a stray continuation byte
  CHECK_FALSE(IsUtf8("\xC0\xAF"));           // overlong '/'
  CHECK_FALSE(IsUtf8("\xED\xA0\x80"));       // a surrogate
  CHECK_FALSE(IsUtf8("\xF4\x90\x80\x80"));   // past U+10FFFF
  CHECK_FALSE(IsUtf8("\xE2\x82"));
}

TEST_CASE("DisplayWidth: CJK and fullwidth take two columns, combining marks none") {
  CHECK(DisplayWidth("") == 0);
  CHECK(DisplayWidth("step 1") == 6);
  CHECK(DisplayWidth("caf\xC3\xA9") == 4);             // é precomposed
  CHECK(DisplayWidth("cafe\xCC\x81") == 4);            // e + combining acute
  CHECK(DisplayWidth("\xE6\x95\xB0\xE6\x8D\xAE") == 4);  // 数据
  CHECK(DisplayWidth("\xED\x95\x9C") == 2);            // 한
  CHECK(DisplayWidth("\xEF\xBC\xA1") == 2);            // Ａ fullwidth
  CHECK(DisplayWidth("\xF0\x9F\x9A\x80") == 2);        // 🚀
  CHECK(DisplayWidth("\xE2\x80\xA6") == 1);            // … stays narrow
  CHECK(DisplayWidth("\xFF\xFE") == 2);                // bytes that do not decode: one each
  CHECK(DisplayWidth("\xE6\x95") == 2);                // a cut sequence: its bytes one each
}

TEST_CASE("PrefixFitting and SuffixFitting cut between characters, by columns") {
  std::string s = "ab\xE6\x95\xB0\xE6\x8D\xAE" "cd";  // ab数据cd: 2 + 4 + 2 columns
  CHECK(PrefixFitting(s, 0) == 0);
  CHECK(PrefixFitting(s, 2) == 2);
  CHECK(PrefixFitting(s, 3) == 2);  // 数 would straddle the limit
  CHECK(PrefixFitting(s, 4) == 5);
  CHECK(PrefixFitting(s, 100) == s.size());
  CHECK(s.substr(SuffixFitting(s, 2)) == "cd");
  CHECK(s.substr(SuffixFitting(s, 3)) == "cd");
  CHECK(s.substr(SuffixFitting(s, 4)) == "\xE6\x8D\xAE" "cd");
  CHECK(SuffixFitting(s, 100) == 0);
  std::string marked = "xe\xCC\x81";  // x, e, combining acute
  CHECK(marked.substr(SuffixFitting(marked, 1)) == "e\xCC\x81");
  CHECK(marked.substr(0, PrefixFitting(marked, 2)) == marked);  // the mark stays with its e
}

TEST_CASE("DisplayWidth: colours take no column, and no cut falls inside one") {
  std::string red = "\x1b[31mfailed\x1b[0m";
  CHECK(DisplayWidth(red) == 6);
  CHECK(red.substr(0, PrefixFitting(red, 3)) == "\x1b[31mfai");
  CHECK(red.substr(0, PrefixFitting(red, 6)) == red);
  CHECK(red.substr(SuffixFitting(red, 2)) == "ed\x1b[0m");
  CHECK(DisplayWidth("\x1b[") == 0);  // cut short: nothing to show
}
