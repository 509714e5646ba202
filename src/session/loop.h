// The event loop of a client command: one thread runs it; its sessions (one, or one per run of a
// backend that allows one socket per run), timers and signals live on it. asio stays inside
// loop.cpp and ws_session.cpp.
//
// Threads: Run() on one thread (the loop thread); Post and Stop from any thread; After and
// OnSignal on the loop thread (or before Run).
#pragma once

#include <functional>
#include <memory>

#include "core/duration.h"

namespace wsflow {

class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  /// Runs until Stop().
  void Run();
  /// Ends Run() (what is queued is dropped). Idempotent.
  void Stop();
  bool stopped() const;
  /// Runs `fn` on the loop thread, after the work at hand.
  void Post(std::function<void()> fn);
  /// Runs `fn` on the loop thread after `delay`.
  void After(Millis delay, std::function<void()> fn);
  /// SIGINT, SIGTERM and SIGHUP call `fn(signo)` on the loop thread; a second SIGINT exits at
  /// once with 130 (a person pressing Ctrl-C twice means it).
  void OnSignal(std::function<void(int)> fn);

  struct Impl;  ///< loop_impl.h
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace wsflow
