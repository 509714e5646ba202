// `wsflow status RUN`: where one run stands, as one JSON object: its state, last seq, outcome,
// and the approvals it waits for with their options (like `gh run view` or `temporal workflow
// describe`). Exit 0 when the run exists, whatever its outcome; 4 when the backend does not know it.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/common_options.h"
#include "core/json.h"

namespace wsflow {

struct StatusFlags {
  std::string run_id;
  std::string timeout = "0";
  ConnectionFlags conn;
};

CLI::App* SetupStatus(CLI::App& app, StatusFlags* flags);
int RunStatus(const StatusFlags& flags);

/// The printed object: run_id, state, task, created, updated, last_seq, outcome, approvals,
/// made of a run_status acknowledgement's data.
std::string StatusLine(const std::string& run_id, const JsonValue& ack_data);

}  // namespace wsflow
