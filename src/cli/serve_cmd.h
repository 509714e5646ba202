// `wsflow serve`: the embedded reference backend.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "server/serve.h"

namespace wsflow {

CLI::App* SetupServe(CLI::App& app, ServeOptions* opts);
/// --tls-cert, --tls-key and --tls-client-ca, in `group` (serve, replay --serve).
void AddServerTlsOptions(CLI::App* sub, ServeOptions* opts, const std::string& group);
int RunServe(const ServeOptions& opts);

}  // namespace wsflow
