// What the keys typed at the approval prompt do to its line (core/terminal.h reads them one at a
// time, its echo off, so that it can draw the line again under other output): printable bytes
// are added, backspace takes a character back, Ctrl-U the line, Ctrl-W a word; Enter ends the
// line, Ctrl-D on an empty line ends the input; escape sequences (arrow keys) and other control
// characters do nothing. Pure.
#pragma once

#include <string>

namespace wsflow {

class LineEditor {
 public:
  /// One key (byte) typed on `line`. True when the line is done: Enter, or Ctrl-D on an empty
  /// line, which sets `*eof`.
  bool Key(unsigned char c, std::string* line, bool* eof);

 private:
  int esc_ = 0;  ///< 1: after ESC; 2: inside a CSI or SS3 sequence, up to its final byte
};

}  // namespace wsflow
