// `wsflow serve`: the embedded reference backend.
#pragma once

#include <CLI/CLI.hpp>

#include "server/ws_server.h"

namespace wsflow {

CLI::App* SetupServe(CLI::App& app, ServeOptions* opts);
int RunServe(const ServeOptions& opts);

}  // namespace wsflow
