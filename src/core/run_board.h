// The live board of a command that follows several runs on a terminal (watch RUN...): one line
// per run still going (state, step, percent, cost, events), the counts below them, and one final
// line for each run that ended, printed once above the board and kept (like `docker compose up`
// or `kubectl get -w`). Pure code, no I/O: Output decides where the text goes and when.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

#include "core/json.h"
#include "core/run_tally.h"
#include "core/run_view.h"

namespace wsflow {

class RunBoard {
 public:
  /// `color`: paint the final lines' outcome.
  explicit RunBoard(bool color) : color_(color) {}

  /// A run given to the command, in order; it shows as waiting until its first event.
  void Add(const std::string& run_id);
  /// Folds one event (an envelope with run_id) into its run's line. Unknown runs are added.
  void Apply(const JsonValue& envelope);
  /// The run ended with exit status `status`; returns its final line (with '\n'), "" if unknown
  /// or already ended. `reason`: why it did not complete (the backend's message), may be "".
  std::string End(const std::string& run_id, int status, const std::string& reason, int width);

  /// The board: a line per run still going (at most `rows` - 1 of them, then "… N more"), then
  /// the counts. Every line ends in '\n' and is cut to `width` - 1 columns. "" when no run is
  /// known.
  std::string Render(int width, int rows) const;

  const RunTally& tally() const { return tally_; }

 private:
  struct Row {
    std::string run_id;
    RunView view;
    bool started = false;
    bool ended = false;
  };
  Row& Get(const std::string& run_id);

  bool color_;
  std::deque<Row> rows_;
  std::unordered_map<std::string, Row*> by_id_;
  RunTally tally_;
};

}  // namespace wsflow
