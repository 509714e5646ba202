#include "cli/serve_cmd.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include "cli/help_format.h"
#include "cli/number_checks.h"
#include "core/byte_size.h"
#include "core/duration.h"
#include "server/server_dialect.h"

namespace wsflow {

CLI::App* SetupServe(CLI::App& app, ServeOptions* o) {
  auto* sub = app.add_subcommand("serve", "run the reference backend (simulated workflows, fault injection)");
  sub->add_option("--host", o->host, "address to listen on")->capture_default_str();
  sub->add_option("--port", o->port, "port to listen on (0: any free port)")
      ->check(Between(0, 65535))->capture_default_str();
  sub->add_option("--port-file", o->port_file, "write the port listened on to this file")->type_name("FILE");
  sub->add_option("--data-dir", o->data_dir, "keep runs here, for a restarted server to serve")
      ->type_name("DIR");
  sub->add_option("--scenario-dir", o->scenario_dir, "config.scenario NAME also loads NAME.json from here")
      ->type_name("DIR");
  sub->add_option_function<std::string>(
         "--token-file",
         [o](const std::string& path) {
           std::ifstream in(path, std::ios::binary);
           if (!in) throw CLI::ValidationError("--token-file", path + ": cannot read it");
           std::ostringstream ss;
           ss << in.rdbuf();
           std::string t = ss.str();
           while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
           if (t.empty()) throw CLI::ValidationError("--token-file", path + " is empty");
           o->token = t;
         },
         "refuse upgrades (401) without 'Authorization: Bearer TOKEN' or ?access_token=TOKEN")
      ->type_name("FILE");
  AddServerTlsOptions(sub, o, "TLS (wss://)");
  auto* d = "Dialect";
  sub->add_option("--dialect", o->dialect, "the backend protocol to speak")
      ->check(CLI::IsMember(serve::ServerDialectNames()))->capture_default_str()->group(d);
  sub->add_flag("--mars-strict", o->mars_strict,
                "cmbagent: as the real server: no replay, no resume")
      ->group(d);
  sub->add_option_function<std::string>(
         "--mars-answer-window",
         [o](const std::string& text) {
           Millis d;
           std::string err;
           if (!ParseDuration(text, &d, &err)) throw CLI::ValidationError("--mars-answer-window", err);
           o->mars_answer_window_ms = d.count();
         },
         "--mars-strict: an answer sooner than this after approval_requested is lost, the run fails (0: never)")
      ->type_name("DURATION")->default_str("500ms")->group(d);
  sub->add_flag("--ryx-documented", o->ryx_documented, "ryx: the documented {\"event\":...} frames")->group(d);
  sub->add_flag("--a2a-coordinator", o->a2a_coordinator, "a2a: a coordinator answers controls")->group(d);
  sub->add_option_function<std::string>(
         "--heartbeat-interval",
         [o](const std::string& text) {
           Millis d;
           std::string err;
           if (!ParseDuration(text, &d, &err)) throw CLI::ValidationError("--heartbeat-interval", err);
           o->heartbeat_ms = d.count();
         },
         "the dialect's heartbeat (0: none; default: the backend's)")
      ->type_name("DURATION")->group(d);
  auto* g = "Fault injection (per connection)";
  sub->add_option("--drop-every", o->drop_every, "drop TCP (no close frame) after every N events")
      ->check(CLI::NonNegativeNumber)->group(g);
  sub->add_option("--stall-after", o->stall_after, "stop sending and reading after N events")
      ->check(CLI::NonNegativeNumber)->group(g);
  sub->add_option("--garbage-every", o->garbage_every, "send a frame that is not JSON after every N events")
      ->check(CLI::NonNegativeNumber)->group(g);
  sub->add_option("--invalid-utf8-every", o->invalid_utf8_every,
                  "send a text frame that is not UTF-8 after every N events")
      ->check(CLI::NonNegativeNumber)->group(g);
  sub->add_option("--close-code", o->close_code,
                  "close with this code: at each --drop-every, else after a run's terminal event")
      ->check(Between(1000, 4999))->group(g);
  sub->add_option_function<std::string>(
         "--max-frame-size",
         [o](const std::string& text) {
           std::string err;
           if (!ParseByteSize(text, &o->max_frame_size, &err)) throw CLI::ValidationError("--max-frame-size", err);
           if (o->max_frame_size == 0) throw CLI::ValidationError("--max-frame-size", "must be more than 0");
         },
         "a larger client frame is refused with close 1009 (requests are small)")
      ->type_name("SIZE")->default_str("1MiB")->group("Limits");
  sub->add_option_function<std::string>(
         "--slow-reader-timeout",
         [o](const std::string& text) {
           Millis d;
           std::string err;
           if (!ParseDuration(text, &d, &err)) throw CLI::ValidationError("--slow-reader-timeout", err);
           o->slow_reader_timeout_ms = d.count();
         },
         "close a connection whose queue stays full this long (1013; the client resumes); 0: never")
      ->type_name("DURATION")->default_str("30s")->group("Slow readers");
  sub->add_flag("-v,--verbose", o->verbose, "log faults, slow readers and failed handshakes on stderr");
  sub->add_flag("-q,--quiet", o->quiet, "log nothing but errors");
  ShowInBriefHelp(sub, {"--dialect", "--tls-cert", "--tls-key"});
  sub->footer("Example: wsflow serve --port 0 --port-file /tmp/port &\n"
              "         wsflow execute demo --url ws://127.0.0.1:$(cat /tmp/port)");
  return sub;
}

void AddServerTlsOptions(CLI::App* sub, ServeOptions* o, const std::string& group) {
  auto* cert = sub->add_option("--tls-cert", o->tls_cert, "serve wss:// with this PEM certificate (and its chain)")
                   ->type_name("FILE")->group(group);
  auto* key = sub->add_option("--tls-key", o->tls_key, "the certificate's private key (PEM)")
                  ->type_name("FILE")->group(group);
  auto* ca = sub->add_option("--tls-client-ca", o->tls_client_ca,
                             "require a client certificate signed by a CA in this PEM file")
                 ->type_name("FILE")->group(group);
  cert->needs(key);
  key->needs(cert);
  ca->needs(cert);
}

int RunServe(const ServeOptions& opts) { return RunServer(opts); }

}  // namespace wsflow
