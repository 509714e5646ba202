// The approval prompt's line: what each key does.
#include <catch2/catch.hpp>

#include <string>

#include "core/line_editor.h"

using namespace wsflow;

namespace {
// Types `keys`; returns the line, and whether a key ended it (and how).
std::string Type(const std::string& keys, bool* done = nullptr, bool* eof = nullptr) {
  LineEditor e;
  std::string line;
  bool d = false, end = false;
  for (char c : keys) {
    if ((d = e.Key(static_cast<unsigned char>(c), &line, &end))) break;
  }
  if (done) *done = d;
  if (eof) *eof = end;
  return line;
}
}  // namespace

TEST_CASE("printable keys make the line, Enter ends it") {
  bool done = false, eof = true;
  CHECK(Type("approve\r", &done, &eof) == "approve");
  CHECK(done);
  CHECK_FALSE(eof);
  CHECK(Type("app", &done) == "app");
  CHECK_FALSE(done);
  CHECK(Type("ok\n", &done) == "ok");
  CHECK(done);
}

TEST_CASE("backspace, Ctrl-U and Ctrl-W edit the line") {
  CHECK(Type("rejectx\x7f") == "reject");
  CHECK(Type("ab\x08") == "a");
  CHECK(Type("\x7f\x7f" "a") == "a");  // on an empty line: nothing
  CHECK(Type("caf\xc3\xa9\x7f") == "caf");  // a whole UTF-8 character
  CHECK(Type("wrong\x15right") == "right");
  CHECK(Type("looks good  \x17" "fine") == "looks fine");
}

TEST_CASE("escape sequences and other control keys do nothing") {
  CHECK(Type("ap\x1b[Dprove") == "approve");   // left arrow
  CHECK(Type("ap\x1bOAprove") == "approve");   // up arrow (SS3)
  CHECK(Type("ap\x1b[3~prove") == "approve");  // delete: CSI with a parameter
  CHECK(Type("a\tb\x01" "c") == "abc");
}

TEST_CASE("Ctrl-D ends the input on an empty line only") {
  bool done = false, eof = false;
  CHECK(Type("\x04", &done, &eof).empty());
  CHECK(done);
  CHECK(eof);
  CHECK(Type("ab\x04", &done, &eof) == "ab");
  CHECK_FALSE(done);
  CHECK_FALSE(eof);
}
