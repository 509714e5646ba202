// UTF-8: well-formedness, for text that goes into JSON (which must be UTF-8) from elsewhere than a
// parser that validated it (an HTTP request target, for instance); and the columns text takes on
// a terminal, for lines cut to a window's width.
#pragma once

#include <string_view>

namespace wsflow {

/// True when `s` is well-formed UTF-8: no stray continuation bytes, overlong forms, surrogates
/// or code points past U+10FFFF.
bool IsUtf8(std::string_view s);

/// The columns a terminal gives one code point: 2 for East Asian wide and fullwidth characters
/// (CJK, Hangul, fullwidth forms, most emoji), 0 for combining marks, zero-width characters and
/// variation selectors, 1 for the rest. A table of the common ranges, not the whole of Unicode.
int CodePointWidth(char32_t c);

/// The columns `s` takes on a terminal (UTF-8; a byte that does not decode counts one; a control
/// sequence such as a colour, ESC [ ... final byte, none).
size_t DisplayWidth(std::string_view s);

/// The bytes of the longest start of `s` that takes at most `cols` columns, cut between
/// characters and never inside a control sequence (a wide character that would straddle the limit
/// is left out).
size_t PrefixFitting(std::string_view s, size_t cols);

/// Where the longest end of `s` that takes at most `cols` columns starts (a byte index).
size_t SuffixFitting(std::string_view s, size_t cols);

}  // namespace wsflow
