// The live one-line status on stderr (--progress): state, step, percent, cost, reconnects, redrawn
// in place with \r while stdout is piped somewhere else. It is the terminal's bottom line
// (core/terminal.h): other messages on std::cerr go out whole above it, so the status never ends
// up in the middle of a line, and an approval prompt takes its place while it is up.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "core/json.h"
#include "core/run_view.h"

namespace wsflow {

class StatusLine {
 public:
  /// `width`: the terminal's columns (the line is kept shorter, so that \r redraws all of it).
  explicit StatusLine(int width);
  ~StatusLine();
  StatusLine(const StatusLine&) = delete;
  StatusLine& operator=(const StatusLine&) = delete;

  /// Folds one event into the status and redraws it (at most every 100 ms for progress events).
  void Update(const JsonValue& envelope, int64_t reconnects);

  /// Shows `text` as the status (cut to the width): the counts of a command with several runs.
  void Show(const std::string& text);

  /// Erases the status; std::cerr is left alone from then on. Idempotent.
  void Stop();

  /// The status text (pure): "r-1 running | step 2/5 Gather data | 50% | $0.012 | 14 events".
  static std::string Render(const RunView& view, int64_t reconnects, int width);
  /// What follows the run and its state in Render: " | step 2/5 Gather data | 50% | ... events".
  static std::string Details(const RunView& view, int64_t reconnects);

 private:
  RunView view_;
  int width_;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace wsflow
