// Test doubles for serve's parts: a Transport that records what the logic sends and lets a test
// drive time and the peers' reading, and a temporary directory removed at the end of a test.
#pragma once

#include <catch2/catch.hpp>

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "server/transport.h"

namespace wsflow::serve::testing {

class FakeTransport : public Transport {
 public:
  struct Peer {
    std::vector<std::string> sent;  ///< text frames, in order
    size_t buffered = 0;            ///< while `reading` is false, sent bytes pile up here
    bool reading = true;            ///< false: a slow reader (Buffered grows)
    bool open = true;
    bool closing = false;
    int close_code = -1;
    std::string close_reason;
    bool dropped = false;
    bool stalled = false;
    int pings = 0;
    int raw = 0;  ///< of `sent`, frames sent with SendRawText
  };

  // ---- Transport ----
  MonoClock::time_point Now() const override { return now_; }
  void SetTimer(int64_t ms, std::function<void()> fn) override {
    timers_.push_back({now_ + std::chrono::milliseconds(ms < 0 ? 0 : ms), seq_++, std::move(fn)});
  }
  bool Send(ConnId id, std::string_view text) override {
    Peer& p = peers_[id];
    if (!p.open || p.closing || p.stalled || p.dropped) return false;
    p.sent.emplace_back(text);
    if (!p.reading) p.buffered += text.size();
    return true;
  }
  bool SendRawText(ConnId id, std::string_view bytes) override {
    if (!Send(id, bytes)) return false;
    ++peers_[id].raw;
    return true;
  }
  size_t Buffered(ConnId id) const override {
    auto it = peers_.find(id);
    return it == peers_.end() ? 0 : it->second.buffered;
  }
  void Close(ConnId id, int code, const std::string& reason) override {
    Peer& p = peers_[id];
    if (p.closing) return;
    p.closing = true;
    p.close_code = code;
    p.close_reason = reason;
  }
  void Drop(ConnId id) override { peers_[id].dropped = true; }
  void Stall(ConnId id, int64_t) override { peers_[id].stalled = true; }
  bool Ping(ConnId id) override {
    Peer& p = peers_[id];
    if (p.stalled || p.closing || p.dropped) return false;
    ++p.pings;
    return true;
  }
  void Shutdown(int code, const std::string& reason, int64_t ms) override {
    shutdown_code = code;
    shutdown_reason = reason;
    shutdown_ms = ms;
  }

  // ---- the test's side ----
  Peer& peer(ConnId id) { return peers_[id]; }
  const std::vector<std::string>& sent(ConnId id) { return peers_[id].sent; }
  /// The peer reads everything queued (Buffered drops to 0) and goes on reading when `keep`.
  void Drain(ConnId id, bool keep = true) {
    peers_[id].buffered = 0;
    peers_[id].reading = keep;
  }
  void SlowReader(ConnId id) { peers_[id].reading = false; }

  /// Runs the timers due now (0 ms ones too, and those they add), in order. Bounded.
  void RunDue() {
    for (int n = 0; n < 1000000; ++n) {
      auto next = Next();
      if (next == timers_.end() || next->due > now_) return;
      auto fn = std::move(next->fn);
      timers_.erase(next);
      fn();
    }
    FAIL("timers keep firing");
  }
  /// Moves the clock `ms` on, running every timer as its time comes.
  void Advance(int64_t ms) {
    auto end = now_ + std::chrono::milliseconds(ms);
    RunDue();
    for (;;) {
      auto next = Next();
      if (next == timers_.end() || next->due > end) break;
      now_ = std::max(now_, next->due);
      RunDue();
    }
    now_ = end;
    RunDue();
  }
  /// Advances until `cond` holds, at most `max_ms`; false when it never did.
  bool AdvanceUntil(const std::function<bool()>& cond, int64_t max_ms, int64_t step_ms = 1) {
    for (int64_t t = 0; t <= max_ms; t += step_ms) {
      RunDue();
      if (cond()) return true;
      Advance(step_ms);
    }
    return cond();
  }
  size_t pending_timers() const { return timers_.size(); }

  int shutdown_code = -1;
  std::string shutdown_reason;
  int64_t shutdown_ms = -1;

 private:
  struct Timer {
    MonoClock::time_point due;
    uint64_t seq;
    std::function<void()> fn;
  };
  std::vector<Timer>::iterator Next() {
    auto best = timers_.end();
    for (auto it = timers_.begin(); it != timers_.end(); ++it)
      if (best == timers_.end() || it->due < best->due || (it->due == best->due && it->seq < best->seq)) best = it;
    return best;
  }
  MonoClock::time_point now_{std::chrono::hours(1)};
  uint64_t seq_ = 0;
  std::vector<Timer> timers_;
  std::map<ConnId, Peer> peers_;
};

/// A fresh directory under $TMPDIR (or /tmp), removed with its files at the end of the test.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/wsflow-unit-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    REQUIRE(::mkdtemp(buf.data()) != nullptr);
    path_ = buf.data();
  }
  ~TempDir() {
    if (DIR* d = ::opendir(path_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") ::unlink((path_ + "/" + name).c_str());
      }
      ::closedir(d);
    }
    ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(path_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") out.push_back(name);
      }
      ::closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::string path_;
};

/// A frame the server sent, parsed (fails the test when it is not JSON).
inline JsonDoc Parsed(const std::string& frame) {
  JsonDoc d;
  std::string err;
  INFO(frame);
  REQUIRE(ParseJson(frame, &d, &err));
  return d;
}

}  // namespace wsflow::serve::testing
