// A frame as the event path handles it: its bytes, the one-pass scan of them (core/frame_scan.h),
// and its DOM, parsed only when someone asks (a predicate, an approval, another dialect).
// One per connection, reused for every frame: once warm it allocates nothing.
#pragma once

#include <string>
#include <string_view>

#include "core/frame_scan.h"
#include "core/json.h"

namespace wsflow {

class ReceivedFrame {
 public:
  /// Takes the next frame (a view: valid until the next Reset) and scans it. False with a
  /// one-line reason when it is not JSON. `validate_utf8` false: known to be UTF-8 already (a
  /// WebSocket text frame; its DOM, if asked for, is still checked).
  bool Reset(std::string_view text, std::string* err, bool validate_utf8 = true);
  std::string_view text() const { return text_; }
  const FrameFields& fields() const { return scanner_.fields(); }
  /// The frame's DOM, parsed on the first call for this frame (the scan validated it).
  const JsonValue& dom();

 private:
  std::string_view text_;
  FrameScanner scanner_;
  JsonParser parser_;
  bool parsed_ = false;
};

}  // namespace wsflow
