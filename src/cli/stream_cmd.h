// `wsflow watch RUN` and `wsflow execute TASK`: follow a run (started by us, or not) to its end.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common_options.h"

namespace wsflow {

struct StreamFlags {
  bool execute = false;
  std::string run_id;  // execute: --run-id
  std::vector<std::string> runs;  // watch: the runs
  std::string runs_from;          // watch --runs-from FILE|-
  bool fail_fast = false;
  bool cancel_rest = false;
  int max_connections = 16;
  std::string task;
  std::string model;
  std::string config = "{}";
  bool detach = false;
  bool follow = false;
  bool raw = false;
  bool keep_raw = false;
  bool direct = false;
  bool show_heartbeats = false;
  bool strict = false;
  bool connection_events = false;
  std::string output = "auto";    // json, pretty, auto (pretty on a terminal)
  std::string color = "auto";     // auto, always, never
  bool no_color = false;          // --no-color: --color never
  std::string progress = "auto";  // the live status line on stderr: auto, always, never
  int64_t since_seq = 0;
  int64_t tail = -1;
  bool no_history = false;
  std::vector<std::string> types;
  std::vector<std::string> exclude_types;
  std::vector<std::string> match;
  std::string summary;
  std::string record;
  // approvals
  bool auto_approve = false;
  std::vector<std::string> approve_rules;
  std::string on_approval;
  std::string on_approval_timeout = "60s";
  bool no_input = false;
  bool cancel_on_timeout = false;
  bool cancel_on_interrupt = false;
  WaitFlags wait;
  ConnectionFlags conn;
};

/// The output, approval, waiting and connection options of watch and execute (replay --rerun too).
void AddStreamOptions(CLI::App* sub, StreamFlags* flags);
CLI::App* SetupWatch(CLI::App& app, StreamFlags* flags);
CLI::App* SetupExecute(CLI::App& app, StreamFlags* flags);
int RunStream(const StreamFlags& flags);

/// --config JSON or @FILE: the text of the JSON. False with a reason when the file cannot be read.
bool ReadConfigArg(const std::string& arg, std::string* text, std::string* err);

}  // namespace wsflow
