// `wsflow runs`: the runs a backend knows, newest first, one JSON line each (a table on a
// terminal), like `gh run list` or `temporal workflow list`.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/common_options.h"

namespace wsflow {

struct RunsFlags {
  std::string state;  ///< running, paused, waiting, completed, failed, cancelled; empty: all
  int64_t limit = 100;
  std::string output = "auto";  ///< json, table (pretty), auto: a table on a terminal
  std::string timeout = "0";
  ConnectionFlags conn;
};

CLI::App* SetupRuns(CLI::App& app, RunsFlags* flags);
int RunRuns(const RunsFlags& flags);

/// The list_runs request for the flags (a JSON object, without request_id).
std::string ListRunsRequest(const RunsFlags& flags);

}  // namespace wsflow
