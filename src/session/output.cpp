#include "session/output.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>

#include "core/exit_status.h"
#include "core/terminal.h"
#include "core/text.h"

namespace wsflow {

namespace {
constexpr Millis kStdoutGrace{1000};  // after a signal or timeout: how long a blocked stdout may hold us
}  // namespace

Output::Output(NdjsonWriter* writer, std::shared_ptr<PrettyPrinter> pretty, std::shared_ptr<StatusLine> status,
               bool raw)
    : writer_(writer), pretty_(std::move(pretty)), status_(std::move(status)), raw_(raw) {}

void Output::PrintEvent(Event& event, int64_t reconnects) {
  if (status_) status_->Update(event.envelope(), reconnects);
  std::string_view line = event.line();
  // A compact frame goes out as it came; anything else is re-serialised onto one line (--raw keeps
  // a frame's own spacing when it is one line already).
  if (!event.compact() && !(raw_ && line.find('\n') == std::string_view::npos)) {
    scratch_ = ToJson(event.envelope());
    line = scratch_;
  }
  if (keep_printed_) printed_.assign(line.data(), line.size());
  if (!pretty_) return writer_->Write(line);
  if (!several_) return writer_->WriteText(pretty_->Format(event.envelope()));
  if (!board_) return writer_->WriteText(PrinterFor(event.envelope()).Format(event.envelope()));
  board_->Apply(event.envelope());
  if (event.type() == "step_progress") return;  // the board shows it
  writer_->WriteText(PrinterFor(event.envelope()).Format(event.envelope()));  // above the board
}

void Output::PrintLine(const std::string& line) {
  if (!pretty_) return writer_->Write(line);
  writer_->WriteText(pretty_->Format(line));
}

void Output::BreakLine() {
  if (!pretty_) return;
  std::string end = pretty_->Finish();
  if (end.empty()) return;
  writer_->WriteText(end);
  writer_->Drain(Millis(500));  // a terminal takes it at once; a stalled one must not hold us
}

void Output::Finish() {
  if (status_) status_->Stop();
  if (!pretty_) return;
  if (!several_) return writer_->WriteText(pretty_->Finish() + pretty_->Summary());
  EndBoard();
}

void Output::EndBoard() {
  if (!board_) return;
  board_.reset();
  terminal::SetStatus("");
}

void WireWriter(NdjsonWriter& writer, WriterHooks hooks) {
  auto h = std::make_shared<WriterHooks>(std::move(hooks));
  auto settle = std::make_shared<std::function<void()>>();
  std::weak_ptr<std::function<void()>> again = settle;
  *settle = [&writer, h, again] {
    if (writer.Settle()) return;
    if (auto s = again.lock()) h->post(*s);
  };
  writer.SetFlushScheduler([h, settle] { h->post(*settle); });
  writer.OnDrained([h] { h->drained(); });
  writer.OnBroken([h] { h->post([h] { h->end_all(kExitCompleted, ""); }); });
  writer.OnFailed([&writer, h](int error) {
    std::string msg = "wsflow: cannot write to stdout: " + std::string(std::strerror(error)) + " (" +
                      Count(static_cast<int64_t>(writer.lines_written()), "line", "lines") + " written whole)";
    h->post([h, msg] { h->end_all(kExitOutput, msg); });
  });
}

int CloseWriter(NdjsonWriter& writer, int exit) {
  bool urgent = IsSignalStatus(exit) || exit == kExitTimeout;
  uint64_t queued = writer.lines();
  if (!writer.Close(urgent ? kStdoutGrace : Millis(0))) {
    std::cerr << "wsflow: stdout is not being read: "
              << Count(static_cast<int64_t>(queued - writer.lines_written()), "line was", "lines were")
              << " not written (the last one may be cut)\n";
  } else if (writer.failed() && exit != kExitOutput) {
    std::cerr << "wsflow: cannot write to stdout: " << std::strerror(writer.error()) << " ("
              << Count(static_cast<int64_t>(writer.lines_written()), "line", "lines") << " written whole)\n";
    exit = kExitOutput;
  }
  writer.OnBroken(nullptr);
  writer.OnFailed(nullptr);
  writer.OnDrained(nullptr);
  writer.SetFlushScheduler(nullptr);
  return exit;
}

PrettyPrinter& Output::PrinterFor(const JsonValue& envelope) {
  std::string id(GetString(envelope, "run_id"));
  auto& p = printers_[id];
  if (!p) {
    Style style = pretty_->style();
    style.tty = false;  // no bar left open: the next line may be another run's
    p = std::make_unique<PrettyPrinter>(style);
  }
  return *p;
}

void Output::UseSeveral() { several_ = true; }

void Output::UseBoard() {
  // The board is the terminal's bottom lines (core/terminal): stdout's lines, through the writer,
  // and std::cerr's go above it. So stdout and stderr must be the one terminal.
  if (!pretty_ || !several_ || !terminal::SharesStderr(1)) return;
  terminal::Install();
  board_ = std::make_unique<RunBoard>(pretty_->style().color);
}

void Output::AddRun(const std::string& run_id) {
  if (board_) board_->Add(run_id);
}

bool Output::RunEnded(const std::string& run_id, int status, const std::string& reason) {
  if (!board_) return false;
  int cols = terminal::Columns(2);
  writer_->WriteText(board_->End(run_id, status, reason, cols > 0 ? cols : 80));
  return true;
}

// The board again, in the window's current size (half its rows: the events keep the rest), when
// it changed.
void Output::DrawBoard() {
  if (!board_ || writer_->failed() || writer_->broken()) return;
  struct winsize ws {};
  int cols = 80, rows = 24;
  if (::ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) cols = ws.ws_col, rows = ws.ws_row;
  std::string board = board_->Render(cols, std::max(3, rows / 2));
  if (!board.empty()) board.pop_back();  // the cursor stays at the end of its last line
  if (board == last_board_) return;
  last_board_ = board;
  terminal::SetStatus(board);
}

}  // namespace wsflow
