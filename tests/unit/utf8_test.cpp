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
