// The network side of `wsflow serve`: websocketpp on standalone Asio, ws:// or (with a
// certificate) wss://, one thread. It listens, upgrades, reads and writes frames, runs timers,
// catches SIGINT/SIGTERM, and carries out the fault injection it is asked for. websocketpp's
// headers stay inside ws_transport.cpp (slow to compile); this header has none.
//
// Thread contract: Make and Listen on the thread that then calls Run; everything else, including
// the handler's callbacks, on the loop inside Run.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <string>

#include "server/transport.h"

namespace wsflow::serve {

struct TransportOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  /// Not empty: wss:// with this certificate (PEM, the chain may follow it) and key (PEM).
  std::string tls_cert, tls_key;
  /// Not empty (with tls_cert): a client certificate signed by a CA of this PEM file is required.
  std::string tls_client_ca;
  /// A larger message is refused with close code 1009 (serve --max-frame-size).
  uint64_t max_message_bytes = 1u << 20;
  bool verbose = false;  ///< handshakes that fail are logged (stderr)
  std::ostream* log = nullptr;
};

class WsTransport : public Transport {
 public:
  /// Checks the TLS files and installs the signal handlers (before anything is listening, so a
  /// SIGTERM right after start is a clean stop). Null with a one-line reason.
  static std::unique_ptr<WsTransport> Make(const TransportOptions& opts, std::string* err);
  ~WsTransport() override = default;

  /// Binds and starts accepting. `*port` is the port bound. False with a reason and the exit
  /// status to use (2: bad --host, 5: cannot listen).
  virtual bool Listen(TransportHandler* handler, int* port, std::string* err, int* exit_status) = 0;
  /// Runs the loop until Shutdown() has ended it (or Stop()).
  virtual void Run() = 0;
  virtual void Stop() = 0;
  virtual bool tls() const = 0;
  /// Connections open now.
  virtual size_t connections() const = 0;
};

}  // namespace wsflow::serve
