// Sends runs' streams to the connections that follow them. Each (connection, run) pair is a
// cursor into the run's Feed, never a copy of its events, and each connection has a bounded
// queue (its Buffered() bytes):
//   - while the queue is below kQueueBytes, lines go out, runs taking turns kSlice lines at a time;
//   - when it is full, the connection is fed no more; a sweep every few ms feeds it again once
//     half of it has drained (a slow reader never slows the others nor grows memory);
//   - when it stays full without draining for slow_timeout_ms, the connection is closed with 1013
//     (try again later); the client resumes with since_seq, so no event is lost;
//   - when a connection goes, memory its queue used is handed back to the system (at most once a
//     second), so a burst of watchers does not leave serve's RSS high.
//
// Thread contract: the server's loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <iosfwd>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/faults.h"
#include "server/feed.h"
#include "server/transport.h"

namespace wsflow::serve {

/// Told when a connection has every line of a feed that is done (dialects act on it).
class FanoutListener {
 public:
  virtual ~FanoutListener() = default;
  virtual void OnDrained(ConnId id, Feed& feed) = 0;
};

class Fanout {
 public:
  struct Options {
    size_t queue_bytes = kQueueBytes;
    int64_t slow_timeout_ms = 30000;  ///< 0: never close a slow reader
    bool verbose = false;
    std::ostream* log = nullptr;  ///< stderr when null
  };
  /// Small: 200 watchers each holding this much (and as much again being written) is what the
  /// fan-out costs in memory; the kernel's socket buffer keeps a fast reader fed meanwhile.
  static constexpr size_t kQueueBytes = 64 * 1024;
  static constexpr int kSlice = 64;         ///< lines of one run before the next run's turn
  static constexpr int64_t kSweepMs = 2;    ///< how often full queues are looked at
  static constexpr int kSlowCloseCode = 1013;

  Fanout(Transport* transport, FaultInjector* faults, Options opts);
  void SetListener(FanoutListener* listener) { listener_ = listener; }

  /// Follows `feed` on `id` from line `from` (subscribing again moves the cursor). With `pump`,
  /// sends what is there at once.
  void Subscribe(ConnId id, Feed* feed, size_t from, bool pump = true);
  void Unsubscribe(ConnId id, const std::string& key);
  bool Subscribed(ConnId id, const std::string& key) const;
  /// The keys `id` follows, in order.
  std::vector<std::string> Keys(ConnId id) const;
  /// cmbagent --mars-strict: the connection manager's lines do not reach this (superseded) socket.
  void SkipControlAnswers(ConnId id) { watchers_[id].skip_control_answers = true; }

  /// The feed `key` has new lines (or is done): its watchers are fed.
  void Publish(const std::string& key);
  /// Feeds `id` what it has not had yet.
  void Pump(ConnId id);
  /// A line of a feed sent outside the cursors (a cmbagent request_state replay), counted for the faults. False
  /// when the connection takes no more.
  bool SendCounted(ConnId id, std::string_view line);
  /// The connection is gone.
  void Remove(ConnId id);

  size_t watchers(const std::string& key) const;
  size_t blocked() const { return blocked_.size(); }

 private:
  struct Sub {
    Feed* feed = nullptr;
    size_t next = 0;
    MonoClock::time_point play_start{};  ///< paced feeds: when line 0 is due
    bool waiting = false;                ///< paced: a timer will feed it
    bool end_told = false;               ///< the end of a done feed was acted on
  };
  struct Watcher {
    std::map<std::string, Sub> subs;
    std::deque<std::string> ready;  ///< keys that may have lines to send, in turn order
    std::set<std::string> in_ready;
    bool skip_control_answers = false;
    bool blocked = false;
    bool stopped = false;  ///< takes no more (closed, dropped, stalled)
    bool told_backpressure = false;
    size_t last_buffered = 0;
    MonoClock::time_point progress_at{};
  };
  enum class Turn { kCaughtUp, kSlice, kFull, kWaiting, kStopped };

  std::ostream& Log() const;
  void MarkReady(Watcher& w, const std::string& key);
  Turn Feed1(ConnId id, Watcher& w, Sub& sub);
  bool AtEnd(ConnId id, Watcher& w, const std::string& key, Sub& sub);
  void WakeAfter(ConnId id, const std::string& key, int64_t ms);
  void Block(ConnId id, Watcher& w);
  void Sweep();

  Transport* transport_;
  FaultInjector* faults_;
  Options opts_;
  FanoutListener* listener_ = nullptr;
  std::unordered_map<ConnId, Watcher> watchers_;
  std::map<std::string, std::set<ConnId>> by_key_;
  std::set<ConnId> blocked_;
  bool sweeping_ = false;
  MonoClock::time_point trimmed_at_{};
};

}  // namespace wsflow::serve
