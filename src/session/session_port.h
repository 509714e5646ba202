// What the code above a WebSocket session needs of it: the dispatcher of a command's runs (and
// its tests, which give a fake). session/ws_session.h's Session is the real one.
//
// Threads: everything here is called on the loop thread, except Post and ResumeReading, which
// may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/duration.h"

namespace wsflow {

class SessionPort {
 public:
  virtual ~SessionPort() = default;
  /// Sends on the open connection (nothing when none is open: OnOpen sends what resumes).
  virtual void SendNow(const std::string& frame) = 0;
  virtual bool is_open() const = 0;
  /// Closes with a close frame (bounded by ~2 s for the handshake), then stops the loop.
  virtual void Close(int code, const std::string& reason) = 0;
  /// Stops the loop now.
  virtual void Stop() = 0;
  /// The stream made progress (a new event): the next loss starts the backoff afresh.
  virtual void MarkProgress() = 0;
  /// Stops reading frames: output cannot keep up. Only from inside the handling of a frame (the
  /// read that delivered it then issues no next one); elsewhere a read may be in flight, and the
  /// resume would start a second.
  virtual void PauseReading() = 0;
  /// Reads again (any thread).
  virtual void ResumeReading() = 0;
  /// Runs `fn` on the loop (any thread).
  virtual void Post(std::function<void()> fn) = 0;
  /// Runs `fn` on the loop after `delay`.
  virtual void After(Millis delay, std::function<void()> fn) = 0;
  /// Connections opened after the first.
  virtual int64_t reconnects() const = 0;
  /// The URL connected to (the dialect's path applied), as given.
  virtual const std::string& url() const = 0;
};

}  // namespace wsflow
