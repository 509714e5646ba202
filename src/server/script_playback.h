// `replay --serve` of a recording made against a real backend (a dialect other than native):
// every connection to one of the backend's endpoints gets the backend's recorded frames
// verbatim, at the recorded pace. The frames the backend sent before the client's first go out
// on connect (with the greetings that follow it); the rest wait for this client's first frame,
// which starts the recorded clock again. Whatever else the client says is not answered.
//
// Thread contract: the server's loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/protocol.h"
#include "server/server_dialect.h"

namespace wsflow::serve {

/// One frame of the recorded conversation.
struct ScriptFrame {
  bool from_client = false;  ///< sent by the recorded client; the playback waits for the client's first
  std::string text;          ///< the frame, verbatim
  int64_t t_ms = 0;          ///< when, from the start of the recording
};

class ScriptPlayback : public Protocol {
 public:
  struct Options {
    ServerDialect dialect = ServerDialect::kCmbagent;
    double speed = 0;   ///< 1: as recorded; 0: at once
    bool loop = false;  ///< again from the client's first frame on, a second after the end
    size_t queue_bytes = 64 * 1024;  ///< a connection's queue: no more is sent while it is fuller
  };
  ScriptPlayback(const std::vector<ScriptFrame>& script, Options opts, Transport* transport);

  bool Accepts(const std::string& resource, Refusal* refusal) override;
  void OnOpen(ConnId id, const std::string& resource) override;
  void OnMessage(ConnId id, bool binary, std::string_view payload) override;
  void OnClose(ConnId id) override { conns_.erase(id); }
  std::pair<int, std::string> ShutdownClose() const override;

  /// Frames sent on connect, before the client speaks.
  size_t gate() const { return gate_; }

 private:
  struct Conn {
    size_t next = 0;
    bool gate_open = false;
    bool timer = false;
    MonoClock::time_point play_start{};
    int64_t base_ms = 0;  ///< the recording time play_start stands for
  };
  void Pump(ConnId id);
  void PumpLater(ConnId id, int64_t ms);

  Options opts_;
  Transport* transport_;
  std::vector<ScriptFrame> frames_;  ///< the backend's frames only
  bool waits_ = false;               ///< the recorded client spoke: wait for this one's first frame
  size_t gate_ = 0;                  ///< the first frame sent after the client's first frame
  int64_t gate_ms_ = 0;              ///< when the client's first frame was sent
  size_t loop_from_ = 0;             ///< --loop plays from here again
  std::unordered_map<ConnId, Conn> conns_;
};

}  // namespace wsflow::serve
