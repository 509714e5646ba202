// UTF-8 well-formedness, for text that goes into JSON (which must be UTF-8) from elsewhere than a
// parser that validated it: an HTTP request target, for instance.
#pragma once

#include <string_view>

namespace wsflow {

/// True when `s` is well-formed UTF-8: no stray continuation bytes, overlong forms, surrogates
/// or code points past U+10FFFF.
bool IsUtf8(std::string_view s);

}  // namespace wsflow
