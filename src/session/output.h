// What a command prints for its runs: one NDJSON line per event on stdout (or, for people, the
// pretty printer's text), the live status line on stderr, and the envelope printed for the frame
// being handled (what --record keeps beside it). Loop thread only.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/ndjson_writer.h"
#include "core/pretty.h"
#include "core/status_line.h"
#include "session/event.h"

namespace wsflow {

class Output {
 public:
  /// `pretty`, `status`: null for NDJSON only (as always when piped). `raw`: --raw, frames as
  /// received even when they are not compact (still one line each).
  Output(NdjsonWriter* writer, std::shared_ptr<PrettyPrinter> pretty, std::shared_ptr<StatusLine> status, bool raw);

  /// An event of a run: its envelope line, or the pretty printer's text; folds it into the status.
  void PrintEvent(Event& event, int64_t reconnects);
  /// A line made by wsflow itself (`{"run_id":...}` of --detach, client events): JSON, or pretty.
  void PrintLine(const std::string& line);
  /// Keeps the envelope printed for each frame from now on (--record).
  void KeepPrinted() { keep_printed_ = true; }
  /// What was printed since the last call (the envelope of the frame being handled; "" when
  /// nothing was), and forgets it.
  std::string TakePrinted() { return std::move(printed_); }
  /// Before a line on stderr: a progress bar left open on the terminal is ended and written out
  /// (for at most a moment), so that the line starts on a line of its own, not after the bar.
  void BreakLine();
  /// The end of the output: closes a progress bar left open and prints the pretty summary.
  void Finish();

  bool pretty() const { return pretty_ != nullptr; }
  NdjsonWriter& writer() { return *writer_; }
  StatusLine* status() { return status_.get(); }

 private:
  NdjsonWriter* writer_;
  std::shared_ptr<PrettyPrinter> pretty_;
  std::shared_ptr<StatusLine> status_;
  bool raw_;
  bool keep_printed_ = false;
  std::string printed_;
  std::string scratch_;
};

}  // namespace wsflow
