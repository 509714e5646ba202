// The only way data reaches stdout: lines handed over by the event loop, written by a thread of
// its own so that a slow reader never blocks the loop (and its timers: pings, reconnects).
// A lone line is written at once; under load the lines that piled up during one write() go out
// in the next, so there is no write per event and no flush timer.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace wsflow {

class NdjsonWriter {
 public:
  struct Options {
    int fd = 1;
    size_t high_water = 4u << 20;  ///< pending bytes at which the producer should stop reading
    size_t low_water = 1u << 20;   ///< pending bytes under which it may read again
  };
  explicit NdjsonWriter(Options opts);
  ~NdjsonWriter();
  NdjsonWriter(const NdjsonWriter&) = delete;
  NdjsonWriter& operator=(const NdjsonWriter&) = delete;

  /// Queues `line` and a newline. Dropped silently once the reader has gone (see broken()).
  void Write(std::string_view line);

  /// Queues `text` as it is, no newline added (pretty output: several lines, or a progress bar
  /// that the next text redraws). Counts the newlines in it as lines.
  void WriteText(std::string_view text);

  /// True when pending output reached the high-water mark. The producer then pauses its input;
  /// the drained callback tells it when output fell under the low-water mark.
  bool AboveHighWater();

  /// Called on the writer thread once pending output fell under low water after AboveHighWater()
  /// returned true.
  void OnDrained(std::function<void()> cb);

  /// Called once on the writer thread when the reader went away (EPIPE).
  void OnBroken(std::function<void()> cb);

  /// Writes what is pending and stops the thread. Idempotent.
  void Close();

  bool broken() const;
  uint64_t lines() const;
  size_t max_pending() const;  ///< the most bytes ever pending at once (for summaries, benchmarks)

 private:
  void Loop();

  Options opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  size_t inflight_ = 0;
  size_t max_pending_ = 0;
  uint64_t lines_ = 0;
  bool waiting_ = false;
  bool closing_ = false;
  bool broken_ = false;
  bool want_drain_ = false;
  std::function<void()> on_drained_;
  std::function<void()> on_broken_;
  std::thread thread_;
};

}  // namespace wsflow
