// The seam between `wsflow serve`'s logic and the network. The logic (registry, fan-out,
// protocols) talks to connections only through Transport, and the network reaches the logic only
// through TransportHandler, so everything but ws_transport.cpp compiles once, without
// websocketpp, and is unit-tested against a fake transport (tests/unit/fake_transport.h).
//
// Thread contract: one thread, the transport's loop. The transport calls the handler, and the
// handler calls the transport and runs its timers, only on that thread; nothing here locks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsflow::serve {

/// A connection's name for the logic: never reused within a process, so a timer that outlives
/// its connection finds nothing instead of a stranger.
using ConnId = uint64_t;

using MonoClock = std::chrono::steady_clock;

/// Runs work later on the loop, and tells the time it goes by.
class Timers {
 public:
  virtual ~Timers() = default;
  virtual MonoClock::time_point Now() const = 0;
  /// Runs `fn` after `ms` (0: once the current handler has returned, before waiting for I/O).
  virtual void SetTimer(int64_t ms, std::function<void()> fn) = 0;
};

class Transport : public Timers {
 public:
  /// Queues a text frame. False when the connection takes no more frames: gone, closing,
  /// dropped or stalled (the caller stops feeding it).
  virtual bool Send(ConnId id, std::string_view text) = 0;
  /// Fault injection: queues `bytes` as a text frame as they are; Send's frames are checked to
  /// be UTF-8 (websocketpp refuses to send one that is not), these are not. False as Send.
  virtual bool SendRawText(ConnId id, std::string_view bytes) = 0;
  /// Bytes queued on the connection that the socket has not taken yet: the watcher's queue.
  virtual size_t Buffered(ConnId id) const = 0;
  /// Closes with a close frame after what is queued (code 1000..4999; 0: a close frame without a
  /// status). Takes effect after the current handler returns, so the caller's state stays valid.
  virtual void Close(ConnId id, int code, const std::string& reason) = 0;
  /// Fault injection: once what is queued has left the kernel (at most 5 s), ends TCP without a
  /// close frame; the peer sees 1006.
  virtual void Drop(ConnId id) = 0;
  /// Fault injection: sends, reads and answers pings no more; ends TCP after `ms`.
  virtual void Stall(ConnId id, int64_t ms) = 0;
  /// A WebSocket ping (for backends whose HTTP stack pings). False when the connection takes no
  /// frames (as Send).
  virtual bool Ping(ConnId id) = 0;
  /// Shutting down: accept no more connections, close every open one with `code` and `reason`
  /// (stalled and dropping ones end at once), and end the loop when none is left or after `ms`.
  virtual void Shutdown(int code, const std::string& reason, int64_t ms) = 0;
};

/// An upgrade request, for the handler to accept or refuse.
struct Upgrade {
  std::string resource;       ///< path and query as requested
  std::string authorization;  ///< the Authorization header ("" when absent)
};

/// Why an upgrade is refused: the HTTP answer.
struct Refusal {
  int status = 404;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  /// Before the handshake completes: false refuses it with `*refusal`.
  virtual bool OnUpgrade(const Upgrade& upgrade, Refusal* refusal) = 0;
  virtual void OnOpen(ConnId id, const std::string& resource) = 0;
  virtual void OnMessage(ConnId id, bool binary, std::string_view payload) = 0;
  virtual void OnPong(ConnId id) { (void)id; }
  /// The connection is gone (closed, dropped, failed). Nothing about `id` follows.
  virtual void OnClose(ConnId id) = 0;
  /// SIGINT or SIGTERM arrived.
  virtual void OnSignal(int signo) = 0;
};

}  // namespace wsflow::serve
