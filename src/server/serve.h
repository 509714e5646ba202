// `wsflow serve`: the reference backend (docs/protocol.md), assembled. Runs live in a data dir
// (--data-dir, else a private temporary one), the registry makes their events, the fan-out sends
// them, and one Protocol (native, a dialect's host, or a recording played back) speaks to the
// connections the transport (websocketpp, ws_transport.cpp) brings.
//
// Thread contract: RunServer blocks the calling thread and runs everything on it.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "server/protocol.h"
#include "server/run_registry.h"
#include "server/run_store.h"
#include "server/script_playback.h"
#include "server/transport.h"

namespace wsflow {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string port_file;     ///< the bound port is written here (useful with port 0)
  std::string data_dir;      ///< keep runs here; empty: a temporary directory removed on exit
  std::string scenario_dir;  ///< config.scenario NAME also looks for NAME.json here
  // Fault injection, per connection, counted in run events sent on it.
  int64_t drop_every = 0;     ///< abrupt TCP close (no close frame) after every N events
  int64_t stall_after = 0;    ///< stop sending, reading and answering pings after N events
  int64_t garbage_every = 0;  ///< an invalid-JSON text frame after every N events
  int64_t invalid_utf8_every = 0;  ///< a text frame that is not UTF-8 after every N events
  int close_code = 0;         ///< with drop_every: close with this code instead of dropping;
                              ///< alone: close with it after a run's terminal event
  /// A client frame (a whole message) larger than this is refused with close 1009. Requests are
  /// small: 1 MiB keeps a client from making serve hold much.
  uint64_t max_frame_size = 1u << 20;
  /// A connection whose queue stays full without draining this long is closed (1013); 0: never.
  int64_t slow_reader_timeout_ms = 30000;
  bool verbose = false;
  bool quiet = false;
  /// Not empty: an upgrade without "Authorization: Bearer TOKEN" or a query parameter
  /// access_token=TOKEN (or token=TOKEN) is refused with 401.
  std::string token;
  /// Not empty: wss:// with this certificate (PEM, the chain may follow it) and key (PEM).
  std::string tls_cert, tls_key;
  /// Not empty (with tls_cert): a client certificate signed by a CA of this PEM file is required.
  std::string tls_client_ca;

  // Speak a real backend's protocol instead of the native one (docs/dialects.md): native,
  // cmbagent, ryx, a2a, aladdin or chat.
  std::string dialect = "native";
  bool mars_strict = false;      ///< cmbagent: resume refused as the real MARS server does
  int64_t mars_answer_window_ms = 500;  ///< --mars-strict: an answer sooner than this is lost
  bool ryx_documented = false;   ///< ryx: the documented {"event":...} frames
  bool a2a_coordinator = false;  ///< a2a: a coordinator answers controls
  int64_t heartbeat_ms = -1;     ///< application heartbeat; -1: the dialect's default, 0: none

  // `replay --serve`: serve this recorded run (its envelope lines and their offsets) instead of
  // simulating; each subscriber gets it from the start (or its since_seq) at replay_speed
  // (0: at once), and with replay_loop again and again.
  std::string replay_run_id;
  std::vector<std::string> replay_events;
  std::vector<int64_t> replay_offsets_ms;
  double replay_speed = 0;
  bool replay_loop = false;
  // `replay --serve` of a recording made against `dialect` (not native): every connection to one
  // of the dialect's endpoints gets the backend's recorded frames verbatim (script_playback.h).
  std::vector<serve::ScriptFrame> replay_script;
};

/// Runs the server until SIGINT/SIGTERM. Returns the exit status (0, or 2/5 when it cannot start).
int RunServer(const ServeOptions& opts);

namespace serve {

/// `--token-file`: the upgrade carries "Authorization: Bearer TOKEN", or a query parameter
/// access_token=TOKEN or token=TOKEN (percent-decoded).
bool Authorized(const Upgrade& upgrade, const std::string& token);
/// False, with a 400 refusal, when the request target or its percent-decoding is not UTF-8: the
/// protocols echo run ids, session ids and queries from it in their JSON text frames, which must be
/// UTF-8 (found by fuzz/serve_fuzz.cpp: /ws/%FF made a native error frame that is not UTF-8).
bool ResourceIsText(const std::string& resource, Refusal* refusal);

/// What the transport calls: authorisation, then the protocol; and the shutdown on a signal.
class Server : public TransportHandler {
 public:
  Server(Protocol* protocol, Transport* transport, RunRegistry* runs, RunStore* store, std::string token, bool quiet,
         std::ostream* log);
  bool OnUpgrade(const Upgrade& upgrade, Refusal* refusal) override;
  void OnOpen(ConnId id, const std::string& resource) override { protocol_->OnOpen(id, resource); }
  void OnMessage(ConnId id, bool binary, std::string_view payload) override;
  void OnPong(ConnId id) override { protocol_->OnPong(id); }
  void OnClose(ConnId id) override { protocol_->OnClose(id); }
  /// Stops making events, closes every connection (at most 2 s), then the loop ends.
  void OnSignal(int signo) override;
  bool shutting_down() const { return shutting_down_; }

 private:
  Protocol* protocol_;
  Transport* transport_;
  RunRegistry* runs_;
  RunStore* store_;
  std::string token_;
  bool quiet_;
  std::ostream* log_;
  bool shutting_down_ = false;
};

}  // namespace serve

}  // namespace wsflow
