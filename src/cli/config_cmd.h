// `wsflow config show`: the effective settings and where each came from (flag, environment, config
// file and profile, default), as one JSON object; secrets masked.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/common_options.h"

namespace wsflow {

struct ConfigFlags {
  std::string action;  // show
  ConnectionFlags conn;
};

CLI::App* SetupConfig(CLI::App& app, ConfigFlags* flags);
int RunConfig(const ConfigFlags& flags);

}  // namespace wsflow
