#include "cli/human_output.h"

#include <unistd.h>

#include <cstdlib>

#include "core/terminal.h"

namespace wsflow {

int TerminalColumns(int fd) {
  if (int cols = terminal::Columns(fd)) return cols;
  const char* env = std::getenv("COLUMNS");
  return env && std::atoi(env) > 0 ? std::atoi(env) : 80;
}

bool ResolveHumanOutput(const StreamFlags& f, const ConfigFile& config, HumanOutput* out, std::string* err) {
  SettingValue output, color, progress;
  if (!ResolveSetting(f.conn, config, "output", f.output, &output, err) ||
      !ResolveSetting(f.conn, config, "color", f.no_color ? "never" : f.color, &color, err) ||
      !ResolveSetting(f.conn, config, "progress", f.progress, &progress, err))
    return false;
  if (f.no_color) color = {"never", "flag", "--no-color"};
  bool out_tty = ::isatty(1), err_tty = ::isatty(2);
  const char* term = std::getenv("TERM");
  bool dumb = term && std::string(term) == "dumb";
  // --raw prints frames exactly as received, and --detach prints only {"run_id":...}: JSON.
  if (!f.raw && !f.detach && (output.value == "pretty" || (output.value == "auto" && out_tty))) {
    ColorMode mode = ColorMode::kAuto;
    ParseColorMode(color.value, &mode);
    Style style;
    style.color = ColorWanted(mode, out_tty, std::getenv("NO_COLOR"), term);
    style.tty = out_tty && !dumb;
    style.width = out_tty ? TerminalColumns(1) : 0;
    out->pretty = std::make_shared<PrettyPrinter>(style);
    out->board = style.tty && progress.value != "never";
  }
  bool status = progress.value == "always" ||
                (progress.value == "auto" && !out_tty && err_tty && !dumb && !f.conn.quiet && !f.detach);
  if (status) out->status = std::make_shared<StatusLine>(err_tty ? TerminalColumns(2) : 80);
  return true;
}

}  // namespace wsflow
