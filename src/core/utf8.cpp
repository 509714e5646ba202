#include "core/utf8.h"

#include <cstddef>

namespace wsflow {

bool IsUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  for (size_t i = 0; i < n;) {
    unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned min;
    if ((c & 0xE0) == 0xC0) len = 2, min = 0x80, c &= 0x1F;
    else if ((c & 0xF0) == 0xE0) len = 3, min = 0x800, c &= 0x0F;
    else if ((c & 0xF8) == 0xF0) len = 4, min = 0x10000, c &= 0x07;
    else return false;
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      c = (c << 6) | (p[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

namespace {
// One code point from `s` at `i`: its value and length; a byte that does not start a well-formed
// sequence is taken alone (as U+FFFD, one column).
char32_t Decode(std::string_view s, size_t i, size_t* len) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned c = b(0);
  size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  *len = 1;
  if (n == 1) return c;
  if (n == 0 || s.size() - i < n) return 0xFFFD;
  char32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  *len = n;
  return cp;
}

struct Range {
  char32_t first, last;
};
// East Asian Wide (W) and Fullwidth (F) blocks as terminals draw them (after Markus Kuhn's wcwidth
// and Unicode's EastAsianWidth.txt), the emoji most often seen in step names included.
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},   {0x23F0, 0x23F0},
    {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},   {0x2648, 0x2653},   {0x267F, 0x267F},
    {0x2693, 0x2693},   {0x26A1, 0x26A1},   {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},
    {0x26CE, 0x26CE},   {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},   {0x2728, 0x2728},
    {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},   {0x2757, 0x2757},   {0x2795, 0x2797},
    {0x27B0, 0x27B0},   {0x27BF, 0x27BF},   {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},
    {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},
    {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4}, {0x17000, 0x18AFF}, {0x1B000, 0x1B2FF},
    {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F202},
    {0x1F210, 0x1F23B}, {0x1F240, 0x1F248}, {0x1F250, 0x1F251}, {0x1F260, 0x1F265}, {0x1F300, 0x1F320},
    {0x1F32D, 0x1F335}, {0x1F337, 0x1F37C}, {0x1F37E, 0x1F393}, {0x1F3A0, 0x1F3CA}, {0x1F3CF, 0x1F3D3},
    {0x1F3E0, 0x1F3F0}, {0x1F3F4, 0x1F3F4}, {0x1F3F8, 0x1F43E}, {0x1F440, 0x1F440}, {0x1F442, 0x1F4FC},
    {0x1F4FF, 0x1F53D}, {0x1F54B, 0x1F54E}, {0x1F550, 0x1F567}, {0x1F57A, 0x1F57A}, {0x1F595, 0x1F596},
    {0x1F5A4, 0x1F5A4}, {0x1F5FB, 0x1F64F}, {0x1F680, 0x1F6C5}, {0x1F6CC, 0x1F6CC}, {0x1F6D0, 0x1F6D2},
    {0x1F6D5, 0x1F6D7}, {0x1F6EB, 0x1F6EC}, {0x1F6F4, 0x1F6FC}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F93A},
    {0x1F93C, 0x1F945}, {0x1F947, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};
// Combining marks, zero-width characters, variation selectors: drawn on the character before.
constexpr Range kZero[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F},
    {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF},
    {0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0x302A, 0x302D},
    {0x3099, 0x309A}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0x1F3FB, 0x1F3FF},
    {0xE0001, 0xE007F}, {0xE0100, 0xE01EF},
};

template <size_t N>
bool In(const Range (&table)[N], char32_t c) {
  size_t lo = 0, hi = N;  // binary search over ranges sorted by `first`
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (c < table[mid].first) hi = mid;
    else if (c > table[mid].last) lo = mid + 1;
    else return true;
  }
  return false;
}
}  // namespace

int CodePointWidth(char32_t c) {
  if (c < 0x300) return 1;  // ASCII and Latin-1: the common case, no search
  if (In(kZero, c)) return 0;
  return In(kWide, c) ? 2 : 1;
}

namespace {
// The unit of text at `i`: a colour or other control sequence (ESC [ parameters, final byte),
// which takes no column, or one code point. Its length in bytes; `*cols`: its columns.
size_t Unit(std::string_view s, size_t i, int* cols) {
  if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
    size_t end = i + 2;
    while (end < s.size() && !(s[end] >= 0x40 && s[end] <= 0x7E)) ++end;
    *cols = 0;
    return (end < s.size() ? end + 1 : s.size()) - i;
  }
  size_t len = 1;
  *cols = CodePointWidth(Decode(s, i, &len));
  return len;
}
}  // namespace

size_t DisplayWidth(std::string_view s) {
  size_t total = 0;
  for (size_t i = 0; i < s.size();) {
    int w = 0;
    i += Unit(s, i, &w);
    total += static_cast<size_t>(w);
  }
  return total;
}

size_t PrefixFitting(std::string_view s, size_t cols) {
  size_t used = 0, i = 0;
  while (i < s.size()) {
    int w = 0;
    size_t len = Unit(s, i, &w);
    if (used + static_cast<size_t>(w) > cols) break;
    used += static_cast<size_t>(w);
    i += len;
  }
  return i;
}

size_t SuffixFitting(std::string_view s, size_t cols) {
  size_t left = DisplayWidth(s), i = 0;
  while (i < s.size() && left > cols) {
    int w = 0;
    i += Unit(s, i, &w);
    left -= static_cast<size_t>(w);
  }
  while (i < s.size() && s[i] != '\x1b') {  // no combining mark without its character
    int w = 0;
    size_t len = Unit(s, i, &w);
    if (w != 0) break;
    i += len;
  }
  return i;
}

}  // namespace wsflow
