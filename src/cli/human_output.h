// Output for people, for every command that prints runs' events (watch, execute, replay): the
// pretty printer (--output, --color) and the live status line on stderr (--progress), each from
// its flag, the environment or the config file.
#pragma once

#include <memory>
#include <string>

#include "cli/config_file.h"
#include "cli/stream_cmd.h"
#include "core/pretty.h"
#include "core/status_line.h"

namespace wsflow {

/// The columns of the terminal on `fd`, else $COLUMNS, else 80.
int TerminalColumns(int fd);

struct HumanOutput {
  std::shared_ptr<PrettyPrinter> pretty;  ///< null: NDJSON
  std::shared_ptr<StatusLine> status;     ///< null: no status line
  bool board = false;  ///< pretty on a terminal, --progress not never: several runs get a board
};

/// --output (auto: pretty when stdout is a terminal), --color, --no-color and --progress of `f`
/// (--raw and --detach always print JSON). False with a reason naming where a bad value came from.
bool ResolveHumanOutput(const StreamFlags& f, const ConfigFile& config, HumanOutput* out, std::string* err);

}  // namespace wsflow
