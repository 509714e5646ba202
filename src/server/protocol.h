// What serve's connections speak: wsflow's native protocol, a real backend's (a dialect), or a
// recorded conversation played back. The server (serve.cpp) checks authorisation and hands every
// connection's life to the one Protocol of its --dialect / replay mode.
//
// Thread contract: the server's loop thread only.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "server/transport.h"

namespace wsflow::serve {

class Protocol {
 public:
  virtual ~Protocol() = default;
  /// Whether `resource` (path and query) is one of its endpoints; false fills `*refusal` (404).
  virtual bool Accepts(const std::string& resource, Refusal* refusal) = 0;
  virtual void OnOpen(ConnId id, const std::string& resource) = 0;
  virtual void OnMessage(ConnId id, bool binary, std::string_view payload) = 0;
  virtual void OnPong(ConnId id) { (void)id; }
  virtual void OnClose(ConnId id) = 0;
  /// The close code and reason of every open connection at shutdown.
  virtual std::pair<int, std::string> ShutdownClose() const { return {1001, "server shutting down"}; }
};

}  // namespace wsflow::serve
