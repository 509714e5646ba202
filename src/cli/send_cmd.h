// `wsflow send`: stdin lines out as frames, received frames out as NDJSON lines.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/common_options.h"

namespace wsflow {

struct SendFlags {
  bool text = false;
  bool binary = false;
  std::string linger = "1s";
  std::string record;
  WaitFlags wait;
  ConnectionFlags conn;
};

CLI::App* SetupSend(CLI::App& app, SendFlags* flags);
int RunSend(const SendFlags& flags);

}  // namespace wsflow
