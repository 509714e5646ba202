// What a command prints for its runs: one NDJSON line per event on stdout (or, for people, the
// pretty printer's text), the live status line on stderr, and the envelope printed for the frame
// being handled (what --record keeps beside it). With several runs the pretty text comes from a
// printer per run, and on a terminal a live board of the runs sits below it (run_board.h).
// Loop thread only (the board's diverted stderr lines may arrive from any thread).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/ndjson_writer.h"
#include "core/pretty.h"
#include "core/run_board.h"
#include "core/status_line.h"
#include "session/event.h"

namespace wsflow {

class Output {
 public:
  /// `pretty`, `status`: null for NDJSON only (as always when piped). `raw`: --raw, frames as
  /// received even when they are not compact (still one line each).
  Output(NdjsonWriter* writer, std::shared_ptr<PrettyPrinter> pretty, std::shared_ptr<StatusLine> status, bool raw);
  ~Output() { EndBoard(); }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

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
  /// The end of the output: closes a progress bar left open and prints the pretty summary (with
  /// several runs: takes the board away, and prints no summary, each run's final line said it).
  void Finish();

  /// Several runs: pretty text from a printer per run, with no bar left open.
  void UseSeveral();
  /// Several runs on a terminal (after UseSeveral; stdout and stderr the same terminal): the live
  /// board of the runs as the terminal's bottom lines (core/terminal), the events above it;
  /// step_progress only moves the board.
  void UseBoard();
  bool board() const { return board_ != nullptr; }
  /// A run given to the command (shows as waiting on the board).
  void AddRun(const std::string& run_id);
  /// A run ended: its final line goes above the board. False when there is no board.
  bool RunEnded(const std::string& run_id, int status, const std::string& reason);
  /// Draws the board again if it changed. On a timer.
  void DrawBoard();
  /// Takes the board away (Finish does; call it when Finish cannot write). Idempotent.
  void EndBoard();

  bool pretty() const { return pretty_ != nullptr; }
  NdjsonWriter& writer() { return *writer_; }
  StatusLine* status() { return status_.get(); }

 private:
  NdjsonWriter* writer_;
  std::shared_ptr<PrettyPrinter> pretty_;
  std::shared_ptr<StatusLine> status_;
  PrettyPrinter& PrinterFor(const JsonValue& envelope);

  bool raw_;
  bool several_ = false;
  std::unordered_map<std::string, std::unique_ptr<PrettyPrinter>> printers_;  ///< several: per run
  std::unique_ptr<RunBoard> board_;
  std::string last_board_;
  bool keep_printed_ = false;
  std::string printed_;
  std::string scratch_;
};

/// What stdout's writer needs from the command that feeds it (follow_command, follow_many).
struct WriterHooks {
  std::function<void(std::function<void()>)> post;  ///< runs a function on the loop (any thread)
  std::function<void()> drained;                    ///< writer thread: output fell under low water
  /// On the loop: end every run with `status` (0 when the reader left, as `| head -1` does; 8
  /// when a write failed, `message` saying why and how many lines were written whole).
  std::function<void(int status, const std::string& message)> end_all;
};

/// Wires `writer` to its command: batches handed over once input pauses (NdjsonWriter::Settle),
/// reading resumed when output drained, every run ended when the reader left or a write failed.
void WireWriter(NdjsonWriter& writer, WriterHooks hooks);

/// Writes what is left and stops the writer at the end of a command that ended with `exit`:
/// after a signal or a timeout, a reader that does not read may hold us about a second, not
/// more. Says on stderr what was not written; returns `exit`, or 8 when a write failed. Unhooks
/// the writer's callbacks (a thread left blocked in write() must not call into us later).
int CloseWriter(NdjsonWriter& writer, int exit);

}  // namespace wsflow
