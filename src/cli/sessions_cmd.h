// `wsflow sessions`: the local sessions that hold a run's connection, one JSON line each.
#pragma once

#include <CLI/CLI.hpp>

namespace wsflow {

CLI::App* SetupSessions(CLI::App& app);
int RunSessions();

}  // namespace wsflow
