// A run event on its way to the user: the envelope line as printed (compact, one line) and its
// DOM, parsed only when someone asks (a filter predicate, an approval, pretty output). A native
// event is its frame's bytes; a converted one is the envelope its dialect built.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/exit_status.h"
#include "core/json.h"
#include "core/received_frame.h"

namespace wsflow {

class Event {
 public:
  /// A native event printed as received: `frame` is the envelope.
  Event(std::string_view type, int64_t seq, Outcome outcome, ReceivedFrame* frame)
      : type_(type), seq_(seq), outcome_(outcome), line_(frame->text()), compact_(frame->fields().compact),
        frame_(frame) {}
  /// An envelope built here (converted, completed, or made by wsflow): `line` is its compact JSON.
  Event(std::string_view type, int64_t seq, Outcome outcome, std::string_view line, const JsonValue* envelope)
      : type_(type), seq_(seq), outcome_(outcome), line_(line), envelope_(envelope) {}

  std::string_view type() const { return type_; }
  int64_t seq() const { return seq_; }  ///< -1: not numbered
  Outcome outcome() const { return outcome_; }
  /// The envelope line: the frame's bytes as received, or the built envelope's compact JSON.
  std::string_view line() const { return line_; }
  /// False for a frame with white space outside strings: print ToJson(envelope()) instead.
  bool compact() const { return compact_; }
  const JsonValue& envelope() { return envelope_ ? *envelope_ : frame_->dom(); }

 private:
  std::string_view type_;
  int64_t seq_;
  Outcome outcome_;
  std::string_view line_;
  bool compact_ = true;
  ReceivedFrame* frame_ = nullptr;
  const JsonValue* envelope_ = nullptr;
};

}  // namespace wsflow
