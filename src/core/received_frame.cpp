#include "core/received_frame.h"

namespace wsflow {

bool ReceivedFrame::Reset(std::string_view text, std::string* err, bool validate_utf8) {
  text_ = text;
  parsed_ = false;
  return scanner_.Scan(text, err, validate_utf8);
}

const JsonValue& ReceivedFrame::dom() {
  if (!parsed_) {
    std::string err;
    parser_.Parse(text_, &err);  // cannot fail after a successful scan: same checks
    parsed_ = true;
  }
  return parser_.doc();
}

}  // namespace wsflow
