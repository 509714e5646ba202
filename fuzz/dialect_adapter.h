// The one place where fuzz/ hands a received frame to a dialect (Dialect::Convert, which takes a
// ReceivedFrame: the one-pass scan and a DOM parsed when asked). When that signature changes,
// adapt here only: every dialect target goes through ConvertFrame.
#pragma once

#include <string_view>

#include "dialects/dialect.h"

namespace wsflow_fuzz {

/// Gives `frame`, a received text frame, to `dialect` as the session does (`*out` is Reset first,
/// keeping its arena). False when the frame is not JSON (the session warns and drops it; `*out`
/// is untouched then).
bool ConvertFrame(const wsflow::Dialect& dialect, std::string_view frame, wsflow::Incoming* out);

}  // namespace wsflow_fuzz
