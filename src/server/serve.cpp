#include "server/serve.h"

#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "core/exit_status.h"
#include "core/url.h"
#include "core/utf8.h"
#include "server/dialect_host.h"
#include "server/fanout.h"
#include "server/faults.h"
#include "server/id_maker.h"
#include "server/log_cache.h"
#include "server/native_protocol.h"
#include "server/ws_transport.h"

namespace wsflow {

namespace serve {

bool Authorized(const Upgrade& upgrade, const std::string& token) {
  if (upgrade.authorization == "Bearer " + token) return true;
  auto q = upgrade.resource.find('?');
  if (q == std::string::npos) return false;
  std::string_view query = std::string_view(upgrade.resource).substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = kv.substr(0, eq);
    if ((key == "access_token" || key == "token") && PercentDecode(kv.substr(eq + 1)) == token) return true;
  }
  return false;
}

bool ResourceIsText(const std::string& resource, Refusal* refusal) {
  if (IsUtf8(resource) && IsUtf8(PercentDecode(resource))) return true;
  refusal->status = 400;
  refusal->body = "wsflow serve: the request target is not UTF-8\n";
  return false;
}

Server::Server(Protocol* protocol, Transport* transport, RunRegistry* runs, RunStore* store, std::string token,
               bool quiet, std::ostream* log)
    : protocol_(protocol),
      transport_(transport),
      runs_(runs),
      store_(store),
      token_(std::move(token)),
      quiet_(quiet),
      log_(log) {}

bool Server::OnUpgrade(const Upgrade& upgrade, Refusal* refusal) {
  if (!token_.empty() && !Authorized(upgrade, token_)) {
    refusal->status = 401;
    refusal->headers = {{"WWW-Authenticate", "Bearer"}};
    refusal->body = "wsflow serve: a valid bearer token is required\n";
    return false;
  }
  return ResourceIsText(upgrade.resource, refusal) && protocol_->Accepts(upgrade.resource, refusal);
}

void Server::OnMessage(ConnId id, bool binary, std::string_view payload) {
  if (!shutting_down_) protocol_->OnMessage(id, binary, payload);
}

void Server::OnSignal(int) {
  if (shutting_down_) return;
  shutting_down_ = true;
  if (!quiet_) (log_ ? *log_ : std::cerr) << "wsflow serve: shutting down\n";
  runs_->Stop();
  store_->Flush();
  auto [code, reason] = protocol_->ShutdownClose();
  transport_->Shutdown(code, reason, 2000);
}

}  // namespace serve

namespace {

using namespace serve;

bool WritePortFile(const std::string& path, int port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// Every connection and every open event file is a descriptor: use what the system allows.
void RaiseFileLimit(bool verbose) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max) return;
  rlim_t before = lim.rlim_cur;
  lim.rlim_cur = lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &lim) == 0 && verbose)
    std::cerr << "wsflow serve: open files limit raised from " << before << " to " << lim.rlim_max << "\n";
}

}  // namespace

int RunServer(const ServeOptions& opts) {
  DialectOptions dopts;
  ParseServerDialect(opts.dialect, &dopts.dialect);  // the command line checked the name
  bool native = dopts.dialect == ServerDialect::kNative;
  dopts.mars_strict = opts.mars_strict;
  dopts.mars_answer_window_ms = opts.mars_answer_window_ms;
  dopts.ryx_documented = opts.ryx_documented;
  dopts.a2a_coordinator = opts.a2a_coordinator;
  dopts.heartbeat_ms = opts.heartbeat_ms < 0 ? DefaultHeartbeatMs(dopts.dialect) : opts.heartbeat_ms;
  RaiseFileLimit(opts.verbose);

  std::string err;
  TransportOptions topts;
  topts.host = opts.host;
  topts.port = opts.port;
  topts.tls_cert = opts.tls_cert;
  topts.tls_key = opts.tls_key;
  topts.tls_client_ca = opts.tls_client_ca;
  topts.verbose = opts.verbose;
  topts.max_message_bytes = opts.max_frame_size;
  // First: the signal handlers are in before the data dir exists, so that a temporary one is
  // always removed.
  std::unique_ptr<WsTransport> transport = WsTransport::Make(topts, &err);
  if (!transport) {  // before listening: nothing has started
    std::cerr << "wsflow serve: " << err << "\n";
    return kExitUsage;
  }
  RunStore store(opts.data_dir);
  if (!store.Open(&err)) {
    std::cerr << "wsflow serve: " << err << "\n";
    return kExitUsage;
  }
  LogCache cache(LogCache::kDefaultBudget);
  RunRegistry::Options ropts;
  ropts.scenario_dir = opts.scenario_dir;
  ropts.quiet = opts.quiet;
  ropts.restore_all = !native;
  if (dopts.dialect == ServerDialect::kChat) {
    ropts.default_scenario = "chat";
    ropts.own_scenarios["chat"] = ChatScenarioJson();
  }
  RunRegistry runs(&store, &cache, transport.get(), ropts);
  FaultInjector::Options faults_opts{opts.drop_every, opts.stall_after, opts.garbage_every, opts.close_code,
                                     opts.verbose, nullptr};
  faults_opts.invalid_utf8_every = opts.invalid_utf8_every;
  FaultInjector faults(transport.get(), faults_opts);
  Fanout::Options fopts;
  fopts.slow_timeout_ms = opts.slow_reader_timeout_ms;
  fopts.verbose = opts.verbose;
  Fanout fanout(transport.get(), &faults, fopts);
  IdMaker ids;

  std::unique_ptr<Protocol> protocol;
  if (!opts.replay_script.empty()) {
    ScriptPlayback::Options sopts;
    sopts.dialect = dopts.dialect;
    sopts.speed = opts.replay_speed;
    sopts.loop = opts.replay_loop;
    protocol = std::make_unique<ScriptPlayback>(opts.replay_script, sopts, transport.get());
  } else if (native) {
    NativeProtocol::Options nopts;
    if (!opts.replay_events.empty()) nopts.replay_run_id = opts.replay_run_id;
    auto p = std::make_unique<NativeProtocol>(&runs, &fanout, transport.get(), &ids, nopts);
    runs.SetListener(p.get());
    protocol = std::move(p);
  } else {
    auto host = std::make_unique<DialectHost>(dopts, &runs, &fanout, transport.get(), &ids, opts.verbose, nullptr);
    runs.SetListener(host.get());
    fanout.SetListener(host.get());
    protocol = std::move(host);
  }
  if (!runs.Open(&err)) {
    std::cerr << "wsflow serve: " << err << "\n";
    return kExitUsage;
  }

  Server server(protocol.get(), transport.get(), &runs, &store, opts.token, opts.quiet, nullptr);
  int port = 0, status = 0;
  if (!transport->Listen(&server, &port, &err, &status)) {
    std::cerr << "wsflow serve: " << err << "\n";
    return status;
  }
  if (!opts.port_file.empty() && !WritePortFile(opts.port_file, port)) {
    std::cerr << "wsflow serve: cannot write --port-file " << opts.port_file << "\n";
    return kExitUsage;
  }
  if (!opts.quiet) {
    std::cerr << "wsflow serve: listening on " << (transport->tls() ? "wss://" : "ws://") << opts.host << ":" << port;
    if (!native) std::cerr << " (dialect " << ServerDialectName(dopts.dialect) << ")";
    std::cerr << "\n";
  }
  if (!opts.replay_events.empty()) {
    Pacing pacing;
    pacing.offsets_ms = opts.replay_offsets_ms;
    pacing.speed = opts.replay_speed;
    pacing.loop = opts.replay_loop;
    runs.AddRecording(opts.replay_run_id, opts.replay_events, pacing);
  }
  runs.Start();  // runs cut short by a restart are read back and go on
  transport->Run();
  store.Flush();
  return kExitCompleted;
}

}  // namespace wsflow
