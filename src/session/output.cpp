#include "session/output.h"

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>

#include "core/exit_status.h"
#include "core/text.h"

namespace wsflow {

namespace {
constexpr Millis kStdoutGrace{1000};            // after a signal or timeout: how long a blocked stdout may hold us
constexpr size_t kBoardFlushBytes = 64u << 10;  // events waiting for the board's next draw
constexpr size_t kPromptHoldBytes = 4u << 20;   // held while a prompt waits for its answer

// stderr is the same terminal as stdout: its lines must go above the board, not into it.
bool StderrIsStdout() {
  struct stat a {}, b {};
  return ::isatty(2) && ::fstat(1, &a) == 0 && ::fstat(2, &b) == 0 && a.st_rdev == b.st_rdev;
}
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
  waiting_ += PrinterFor(event.envelope()).Format(event.envelope());
  if (waiting_.size() > kBoardFlushBytes) DrawBoard();
}

void Output::PrintLine(const std::string& line) {
  if (!pretty_) return writer_->Write(line);
  if (board_) waiting_ += pretty_->Format(line);
  else writer_->WriteText(pretty_->Format(line));
}

void Output::Finish() {
  if (status_) status_->Stop();
  if (!pretty_) return;
  if (!several_) return writer_->WriteText(pretty_->Finish() + pretty_->Summary());
  if (!board_) return;
  board_rows_ = 0;  // the final draw: what waited, and no board
  DrawBoard();
  board_.reset();
}

void Output::StopDiverting() {
  if (!diverted_) return;
  diverted_ = false;
  DivertErrors(nullptr);
  std::string left = TakeErrors();  // not drawn: written where it was meant to go
  if (!left.empty()) std::cerr << left;
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

void Output::UseBoard(int width, int rows) {
  if (!pretty_ || !several_) return;
  board_ = std::make_unique<RunBoard>(pretty_->style().color);
  board_width_ = width > 0 ? width : 80;
  board_rows_ = std::max(3, (rows > 0 ? rows : 24) / 2);  // half the screen: the events keep the rest
  if (StderrIsStdout()) {
    diverted_ = true;
    DivertErrors([mu = errors_mu_, errs = errors_](std::string text) {
      std::lock_guard<std::mutex> lk(*mu);
      errs->append(text);
    });
  }
}

void Output::AddRun(const std::string& run_id) {
  if (board_) board_->Add(run_id);
}

bool Output::RunEnded(const std::string& run_id, int status, const std::string& reason) {
  if (!board_) return false;
  waiting_ += board_->End(run_id, status, reason, board_width_);
  return true;
}

std::string Output::TakeErrors() {
  std::lock_guard<std::mutex> lk(*errors_mu_);
  std::string out;
  out.swap(*errors_);
  return out;
}

// Erases the board (the cursor sits below it), writes what waited above it, draws it again: one
// piece of text, so that it reaches the terminal in this order. A prompt on stderr (text without
// its newline) takes the terminal: nothing is drawn until a line ends.
void Output::DrawBoard() {
  if (!board_ || writer_->failed() || writer_->broken()) return;
  std::string errors = TakeErrors();
  if (errors.empty() && prompt_open_ && waiting_.size() < kPromptHoldBytes && board_rows_ > 0) return;
  bool after_prompt = prompt_open_;
  if (!errors.empty()) prompt_open_ = errors.back() != '\n';
  struct winsize ws {};
  if (board_rows_ > 0 && ::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {  // the window may have changed
    board_width_ = ws.ws_col;
    board_rows_ = std::max(3, ws.ws_row / 2);
  }
  std::string board = prompt_open_ || board_rows_ == 0 ? "" : board_->Render(board_width_, board_rows_);
  if (errors.empty() && waiting_.empty() && board == last_board_) return;
  std::string text;
  if (board_lines_ > 0) text += "\r\x1b[" + std::to_string(board_lines_) + "A\x1b[J";
  if (after_prompt && errors.empty()) text += "\n";  // held events, once they may not wait longer
  text += waiting_;
  text += errors;
  // Lines of the board never wrap (autowrap off while it is drawn): the count of lines to go back
  // up over is the count of newlines, whatever a line's width on the screen.
  if (!board.empty()) text += "\x1b[?7l" + board + "\x1b[?7h";
  waiting_.clear();
  board_lines_ = static_cast<int>(std::count(board.begin(), board.end(), '\n'));
  last_board_ = std::move(board);
  writer_->WriteText(text);
}

}  // namespace wsflow
