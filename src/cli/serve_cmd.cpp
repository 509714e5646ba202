#include "cli/serve_cmd.h"

namespace wsflow {

CLI::App* SetupServe(CLI::App& app, ServeOptions* o) {
  auto* sub = app.add_subcommand("serve", "run the reference backend (simulated workflows, fault injection)");
  sub->add_option("--host", o->host, "address to listen on")->capture_default_str();
  sub->add_option("--port", o->port, "port to listen on (0: any free port)")
      ->check(CLI::Range(0, 65535))->capture_default_str();
  sub->add_option("--port-file", o->port_file, "write the port listened on to this file")->type_name("FILE");
  sub->add_option("--data-dir", o->data_dir, "keep runs here so that a restarted server still serves them")
      ->type_name("DIR");
  sub->add_option("--scenario-dir", o->scenario_dir, "config.scenario NAME also loads NAME.json from here")
      ->type_name("DIR");
  auto* g = "Fault injection (per connection)";
  sub->add_option("--drop-every", o->drop_every, "drop TCP (no close frame) after every N events")
      ->check(CLI::NonNegativeNumber)->group(g);
  sub->add_option("--stall-after", o->stall_after, "stop sending and reading after N events")
      ->check(CLI::NonNegativeNumber)->group(g);
  sub->add_option("--garbage-every", o->garbage_every, "send a frame that is not JSON after every N events")
      ->check(CLI::NonNegativeNumber)->group(g);
  sub->add_option("--close-code", o->close_code,
                  "close with this code: at each --drop-every, else after a run's terminal event")
      ->check(CLI::Range(1000, 4999))->group(g);
  sub->add_flag("-v,--verbose", o->verbose, "log faults and errors on stderr");
  sub->add_flag("-q,--quiet", o->quiet, "log nothing but errors");
  sub->footer("Example: wsflow serve --port 0 --port-file /tmp/port & wsflow execute demo --url ws://127.0.0.1:$(cat /tmp/port)");
  return sub;
}

int RunServe(const ServeOptions& opts) { return RunServer(opts); }

}  // namespace wsflow
