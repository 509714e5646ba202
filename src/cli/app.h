// The command line: builds the CLI11 definition of every subcommand, parses, and runs the one
// chosen. Callbacks only record the choice; the exit status is a plain return value.
#pragma once

namespace wsflow {

int RunApp(int argc, char** argv);

}  // namespace wsflow
