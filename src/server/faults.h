// Misbehaving on purpose, for tests (docs/protocol.md#fault-injection): every fault applies to
// each connection on its own and counts the run events sent on it; the transport carries out
// the stall, drop and close.
//
// Thread contract: the server's loop thread only.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <unordered_map>

#include "server/transport.h"

namespace wsflow::serve {

class FaultInjector {
 public:
  struct Options {
    int64_t drop_every = 0;     ///< abrupt TCP close after every N events
    int64_t stall_after = 0;    ///< stop sending, reading and answering pings after N events
    int64_t garbage_every = 0;  ///< a frame that is not JSON after every N events
    int close_code = 0;         ///< with drop_every: a close frame instead; alone: after a run's end
    bool verbose = false;
    std::ostream* log = nullptr;  ///< stderr when null
    int64_t invalid_utf8_every = 0;  ///< a text frame that is not UTF-8 after every N events
  };
  /// How long a stalled connection is kept before its TCP connection ends.
  static constexpr int64_t kStallMs = 120000;

  FaultInjector(Transport* transport, Options opts);

  /// A run event was sent on `id`. True when nothing more may be sent on it.
  bool AfterEvent(ConnId id);
  /// The connection has sent the last event of a run that ended. True when it was closed.
  bool AtRunEnd(ConnId id);
  void Forget(ConnId id) { sent_.erase(id); }
  bool any() const {
    return opts_.drop_every || opts_.stall_after || opts_.garbage_every || opts_.close_code || opts_.invalid_utf8_every;
  }
  /// What --invalid-utf8-every sends: JSON but for one byte (0xFF never occurs in UTF-8).
  static constexpr const char* kInvalidUtf8 = "{\"not_utf8\":\"\xff\"}";

 private:
  std::ostream& Log() const;
  Transport* transport_;
  Options opts_;
  std::unordered_map<ConnId, int64_t> sent_;
};

}  // namespace wsflow::serve
