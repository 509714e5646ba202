#include "core/line_editor.h"

namespace wsflow {

namespace {
void PopChar(std::string* s) {  // a whole UTF-8 character
  while (!s->empty() && (static_cast<unsigned char>(s->back()) & 0xC0) == 0x80) s->pop_back();
  if (!s->empty()) s->pop_back();
}

void PopWord(std::string* s) {
  while (!s->empty() && s->back() == ' ') s->pop_back();
  while (!s->empty() && s->back() != ' ') s->pop_back();
}
}  // namespace

bool LineEditor::Key(unsigned char c, std::string* line, bool* eof) {
  if (esc_ == 1) {
    esc_ = (c == '[' || c == 'O') ? 2 : 0;
    return false;
  }
  if (esc_ == 2) {
    if (c >= 0x40 && c <= 0x7e) esc_ = 0;
    return false;
  }
  switch (c) {
    case 0x1b: esc_ = 1; return false;
    case '\r': case '\n': return true;
    case 0x04: return *eof = line->empty();
    case 0x7f: case 0x08: PopChar(line); return false;
    case 0x15: line->clear(); return false;
    case 0x17: PopWord(line); return false;
    default:
      if (c >= 0x20) line->push_back(static_cast<char>(c));
      return false;
  }
}

}  // namespace wsflow
