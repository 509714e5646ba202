// `wsflow replay FILE|-`: re-emit a recording (or plain `watch` output) as the original command
// printed it; `--serve` stands it up as a backend; `--rerun` sends its request to a live backend
// again (for cron: --lock, --record-dir, --keep).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/stream_cmd.h"
#include "server/serve.h"

namespace wsflow {

struct ReplayFlags {
  std::string file;
  double speed = 0;
  bool skip_bad = false;
  // --serve
  bool serve = false;
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string port_file;
  bool loop = false;
  std::string serve_as;  ///< recorded (the recording's own protocol) or native; "": recorded when it can be
  ServeOptions tls;      ///< tls_cert, tls_key, tls_client_ca: wss://
  // --rerun
  bool rerun = false;
  bool same_run_id = false;
  std::string lock;
  std::string lock_wait = "0";
  std::string record_dir;
  int keep = 0;
  StreamFlags stream;  // filters and waiting for re-emitting; every execute option for --rerun
};

CLI::App* SetupReplay(CLI::App& app, ReplayFlags* flags);
int RunReplay(ReplayFlags& flags);

}  // namespace wsflow
