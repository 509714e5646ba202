// One pass over a received frame, without a DOM: validates it as JSON (syntax, UTF-8, the depth
// limit of core/json.h) and pulls out the top-level envelope fields that routing and seq checks
// need. A native event is then printed as its original bytes; only frames that need more (a
// filter predicate, an approval, pretty output, another dialect) are parsed into a DOM.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wsflow {

/// The top-level members of a frame that wsflow reasons about. Views point into the scanner and
/// stay valid until its next Scan.
struct FrameFields {
  bool object = false;       ///< the frame is a JSON object
  bool compact = false;      ///< no white space outside strings (one line, as printed)
  bool data_object = false;  ///< "data" is an object
  bool has_data = false;     ///< "data" is present (any type)
  std::string_view event_type, type, run_id, timestamp, request_id;  ///< strings; empty when absent or not strings
  bool has_event_type = false;  ///< "event_type" is present (any type)
  bool run_id_bad = false;      ///< "run_id" is present and neither a string nor null
  bool has_seq = false;         ///< "seq" is present
  int64_t seq = -1;             ///< a positive integer; -1 when absent or not one
};

class FrameScanner {
 public:
  FrameScanner();
  ~FrameScanner();
  FrameScanner(const FrameScanner&) = delete;
  FrameScanner& operator=(const FrameScanner&) = delete;

  /// Scans a whole JSON text. False with a one-line reason ("... at byte N") when it is not JSON.
  /// `validate_utf8` false: the text is known to be UTF-8 (a WebSocket text frame, which
  /// websocketpp validated already).
  bool Scan(std::string_view text, std::string* err, bool validate_utf8 = true);
  const FrameFields& fields() const { return fields_; }

  struct Handler;  ///< frame_scan.cpp only

 private:
  FrameFields fields_;
  std::string copy_;  ///< the frame, parsed in situ: the fields' views point into it
  Handler* handler_;
};

}  // namespace wsflow
