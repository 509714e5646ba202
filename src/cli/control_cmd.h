// `wsflow approve RUN APPROVAL_ID`, `cancel RUN`, `pause RUN`, `resume RUN`: act on a run and wait
// until the run shows it was done (approval_received, workflow_cancelled, workflow_paused,
// workflow_resumed), which is printed as one NDJSON line.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common_options.h"

namespace wsflow {

struct ControlFlags {
  std::string type;  // approve, cancel, pause, resume
  std::string run_id;             // approve: the run
  std::vector<std::string> runs;  // cancel, pause, resume: the runs
  std::string runs_from;
  std::string approval_id;
  std::string resolution;
  bool reject = false;
  bool direct = false;
  std::string feedback;
  std::string modifications;
  std::string timeout = "0";
  ConnectionFlags conn;
};

CLI::App* SetupControl(CLI::App& app, const std::string& type, ControlFlags* flags);
int RunControl(const ControlFlags& flags);

}  // namespace wsflow
