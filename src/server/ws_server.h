// `wsflow serve`: the reference backend (docs/protocol.md). Simulates runs from scenarios, keeps
// their history, serves many clients and runs at once, and misbehaves on purpose for tests.
// ws:// or, with a certificate, wss://. websocketpp stays inside ws_server.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wsflow {

/// `replay --serve` in a dialect other than native: one frame of the recorded conversation.
struct ScriptFrame {
  bool from_client = false;  ///< sent by the recorded client; the playback waits for the client's first
  std::string text;          ///< the frame, verbatim
  int64_t t_ms = 0;          ///< when, from the start of the recording
};

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string port_file;     ///< the bound port is written here (useful with port 0)
  std::string data_dir;      ///< persist runs here; empty: memory only
  std::string scenario_dir;  ///< config.scenario NAME also looks for NAME.json here
  // Fault injection, per connection, counted in run events sent on it.
  int64_t drop_every = 0;     ///< abrupt TCP close (no close frame) after every N events
  int64_t stall_after = 0;    ///< stop sending and reading after N events, keep TCP open
  int64_t garbage_every = 0;  ///< an invalid-JSON text frame after every N events
  int close_code = 0;         ///< with drop_every: close with this code instead of dropping;
                              ///< alone: close with it after a run's terminal event
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
  bool mars_strict = false;      ///< cmbagent: resume refused as the real server does
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
  // of the dialect's endpoints gets the backend's recorded frames verbatim, paced by replay_speed
  // (the frames the backend sent before the client's first are sent on connect; the rest wait
  // for the client's first frame), and with replay_loop again and again.
  std::vector<ScriptFrame> replay_script;
};

/// Runs the server until SIGINT/SIGTERM. Returns the exit status (0, or 2/5 when it cannot start).
int RunServer(const ServeOptions& opts);

}  // namespace wsflow
