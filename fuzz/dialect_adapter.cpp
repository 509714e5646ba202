#include "dialect_adapter.h"

#include <string>

#include "core/json.h"

namespace wsflow_fuzz {

bool ConvertFrame(const wsflow::Dialect& dialect, std::string_view frame, wsflow::Incoming* out) {
  // As the session does (src/session/dispatcher.cpp): one ReceivedFrame and one Incoming per
  // connection, reused for every frame; the scan first, the DOM only when something asks for it.
  static wsflow::ReceivedFrame rf;
  std::string err;
  if (!rf.Reset(frame, &err)) return false;
  (void)wsflow::DialectFromFrame(rf.dom(), "req-fuzz");  // --dialect auto looks at first frames
  out->Reset();
  dialect.Convert(rf, "r-fuzz", out);
  return true;
}

}  // namespace wsflow_fuzz
