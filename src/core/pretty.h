// Output for people (--output pretty): one readable line per event — time, run, coloured type and
// the part of the data that matters for that type — an in-place progress bar for step_progress on
// a terminal, and a summary of the run's steps at the end. Pure code, no I/O: the caller decides
// where the text goes. NDJSON stays the output for programs; this is never parsed back.
#pragma once

#include <string>
#include <string_view>

#include "core/json.h"
#include "core/run_view.h"

namespace wsflow {

enum class ColorMode { kAuto, kAlways, kNever };

/// "auto", "always", "never". False for anything else.
bool ParseColorMode(std::string_view text, ColorMode* out);

/// Whether to colour: always and never say so; auto colours a terminal unless NO_COLOR is set
/// (to anything but "") or TERM is "dumb". The environment values are passed in (null: unset).
bool ColorWanted(ColorMode mode, bool is_tty, const char* no_color_env, const char* term_env);

struct Style {
  bool color = false;      ///< ANSI colours
  bool tty = false;        ///< a terminal: step_progress redraws one bar in place with \r
  int width = 0;           ///< columns a line may take; 0: no limit (below 80 the fixed columns shrink)
  bool local_time = true;  ///< the time column in local time; false: UTC, as the envelope carries it
};

class PrettyPrinter {
 public:
  explicit PrettyPrinter(Style style);

  /// The text to print for one envelope line: whole lines ending in '\n', except on a tty, where a
  /// step_progress bar is left open (no newline) for the next one to redraw. Events people do not
  /// read (heartbeat, pong) give "". A line that is not JSON is shown as it is.
  std::string Format(std::string_view envelope_line);
  std::string Format(const JsonValue& envelope);

  /// Ends a progress bar left open ("\n"), else "". Call before printing anything else.
  std::string Finish();

  /// The end of the run: outcome, duration, steps completed and failed, cost; then a line per step.
  std::string Summary() const;

  const RunView& view() const { return view_; }
  const Style& style() const { return style_; }

 private:
  std::string Paint(std::string_view text, const char* sgr) const;
  std::string Describe(std::string_view type, const JsonValue& data) const;
  int BarCells() const;

  Style style_;
  RunView view_;
  JsonParser parser_;
  bool bar_open_ = false;
  std::string bar_key_;  ///< the step whose bar is open
};

/// Text from a peer made safe for a terminal: control characters (ESC, C1, newlines) become spaces.
std::string SafeText(std::string_view s);

/// `s` cut to `cols` terminal columns (core/utf8.h DisplayWidth: a CJK character takes two),
/// ending in "…" when cut; cols <= 0: unchanged.
std::string Truncate(std::string_view s, int cols);

/// "[#####-----]" for `percent` in a bar of `width` cells.
std::string ProgressBar(double percent, int width);

}  // namespace wsflow
