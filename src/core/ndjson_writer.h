// The only way data reaches stdout: lines built on the event loop, written by a thread of its own
// so that a slow reader never blocks the loop (its timers: pings, reconnects, signals).
//
// Threads: Write, WriteText, Flush, Drain, AboveHighWater and Close are called from ONE producer thread
// (the event loop). The writer thread runs the callbacks OnDrained, OnBroken and OnFailed (the
// producer does too, inside a Flush that wrote directly); they must only post work to the producer. Every other accessor may be called from any thread.
//
// Hand-off in batches: lines accumulate in a producer-side buffer that only the producer touches.
// With a flush scheduler (SetFlushScheduler, which posts Flush to the loop to run after the frames
// of the current read), the buffer goes to the writer once per batch, and the writer thread is
// woken only when it is idle: no lock, syscall or wake-up per event. Without one, every Write
// flushes at once (simple users: replay, sessions). A small batch for an idle writer to a pipe
// (events at a human pace) is written by the producer itself with a write that cannot wait
// (RWF_NOWAIT), which saves a wake-up of the writer thread per event; when the pipe has no room
// the batch goes to the writer thread after all.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/duration.h"

namespace wsflow {

class NdjsonWriter {
 public:
  struct Options {
    int fd = 1;
    size_t high_water = 256u << 10;  ///< pending bytes at which the producer should stop reading
    size_t low_water = 64u << 10;    ///< pending bytes under which it may read again
  };
  explicit NdjsonWriter(Options opts);
  ~NdjsonWriter();
  NdjsonWriter(const NdjsonWriter&) = delete;
  NdjsonWriter& operator=(const NdjsonWriter&) = delete;

  /// Posts Flush() to the producer's loop, to run once the work at hand is done. Called at most
  /// once per batch (the first Write after a Flush).
  void SetFlushScheduler(std::function<void()> schedule);

  /// Queues `line` and a newline. Dropped silently once output has failed (see broken(), failed()).
  void Write(std::string_view line);
  /// Queues `text` as it is, no newline added (pretty output: several lines, or a progress bar
  /// that the next text redraws). Counts the newlines in it as lines.
  void WriteText(std::string_view text);
  /// Hands the batch to the writer thread (waking it only if it is idle).
  void Flush();
  /// The scheduler's flush: hands the batch over once input has paused (the batch did not grow
  /// since the last call) or it is large; false when it should be called again on the next turn
  /// of the loop. A steady stream then wakes the writer once per batch of up to 64 KiB, while a
  /// lone event still goes out after one extra turn (no timer, no added latency to speak of).
  bool Settle();

  /// Hands the batch over and waits at most `limit` until everything queued has been written
  /// (a line on stderr must not overtake the text before it on a terminal). False when the limit
  /// passed first.
  bool Drain(Millis limit);

  /// A cheap look (no lock) whether output not yet written may have reached the high-water mark:
  /// then ask AboveHighWater(), which also arms the drained callback.
  bool Backlogged() const;
  /// True when output not yet written reached the high-water mark. The producer then pauses its
  /// input; the drained callback tells it when output fell under the low-water mark.
  bool AboveHighWater();

  /// Called once pending output fell under low water after AboveHighWater() returned true. These
  /// three are called on the writer thread, or on the producer's inside a Flush that wrote
  /// directly (see above): never with a lock held, and they must only post.
  void OnDrained(std::function<void()> cb);
  /// Called once when the reader went away (EPIPE, a closed pipe, a hung-up
  /// terminal): nothing more can be delivered, which is not an error (`| head -1`).
  void OnBroken(std::function<void()> cb);
  /// Called once when a write failed otherwise (ENOSPC, EIO, ...): output
  /// was lost, which is an error (exit 8). `error` is the errno.
  void OnFailed(std::function<void(int error)> cb);

  /// Writes what is pending and stops the thread, waiting at most `limit` (0: as long as it
  /// takes). False when the limit passed first: the thread is left blocked in write() (a reader
  /// that does not read) and what it had not written is lost. Idempotent.
  bool Close(Millis limit = Millis(0));

  bool broken() const;
  bool failed() const;
  int error() const;                ///< the errno of a failed write (0: none)
  uint64_t lines() const;           ///< lines handed to the writer thread
  uint64_t lines_written() const;   ///< lines written whole
  size_t max_pending() const;       ///< the most bytes ever pending at once (for summaries, benchmarks)
  bool idle() const;                ///< the writer thread waits for work (tests)
  uint64_t direct_writes() const { return direct_writes_; }  ///< batches Flush wrote itself (producer; tests)

  struct State;  ///< shared with the writer thread (ndjson_writer.cpp)

 private:
  void Append(std::string_view text, bool newline, uint64_t lines);
  void Hand(size_t from);
  void WriteDirect();

  std::shared_ptr<State> state_;
  std::function<void()> schedule_;
  std::string batch_;         ///< the producer's: not locked
  uint64_t batch_lines_ = 0;
  bool flush_posted_ = false;
  size_t settled_at_ = 0;  ///< the batch's size at the last Settle()
  bool closed_ = false;
  bool abandoned_ = false;  ///< Close gave up waiting: the thread is blocked in write()
  bool pipe_ = false;       ///< a pipe that takes RWF_NOWAIT: small batches may be written directly
  uint64_t direct_writes_ = 0;
};

}  // namespace wsflow
