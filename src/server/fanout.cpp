#include "server/fanout.h"

#include <malloc.h>

#include <algorithm>
#include <iostream>

#include "server/pacer.h"

namespace wsflow::serve {

Fanout::Fanout(Transport* transport, FaultInjector* faults, Options opts)
    : transport_(transport), faults_(faults), opts_(opts) {}

std::ostream& Fanout::Log() const { return opts_.log ? *opts_.log : std::cerr; }

void Fanout::MarkReady(Watcher& w, const std::string& key) {
  if (w.in_ready.insert(key).second) w.ready.push_back(key);
}

void Fanout::Subscribe(ConnId id, Feed* feed, size_t from, bool pump) {
  Watcher& w = watchers_[id];
  Sub& sub = w.subs[feed->key()];
  sub.feed = feed;
  sub.next = std::min(from, feed->size());
  sub.waiting = false;
  sub.end_told = false;
  if (const Pacing* p = feed->pacing(); p && p->speed > 0) {  // a resumed playback keeps its pace
    int64_t at = sub.next < p->offsets_ms.size() ? p->offsets_ms[sub.next] : 0;
    sub.play_start = PaceStartFor(at, p->speed, transport_->Now());
  }
  by_key_[feed->key()].insert(id);
  MarkReady(w, feed->key());  // even with nothing to send: the end of a done feed is acted on
  if (pump) Pump(id);
}

void Fanout::Unsubscribe(ConnId id, const std::string& key) {
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  it->second.subs.erase(key);
  it->second.in_ready.erase(key);
  auto& q = it->second.ready;
  q.erase(std::remove(q.begin(), q.end(), key), q.end());
  auto k = by_key_.find(key);
  if (k != by_key_.end()) {
    k->second.erase(id);
    if (k->second.empty()) by_key_.erase(k);
  }
}

bool Fanout::Subscribed(ConnId id, const std::string& key) const {
  auto it = watchers_.find(id);
  return it != watchers_.end() && it->second.subs.count(key);
}

std::vector<std::string> Fanout::Keys(ConnId id) const {
  std::vector<std::string> out;
  auto it = watchers_.find(id);
  if (it != watchers_.end())
    for (const auto& [key, sub] : it->second.subs) out.push_back(key);
  return out;
}

size_t Fanout::watchers(const std::string& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? 0 : it->second.size();
}

void Fanout::Publish(const std::string& key) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return;
  std::vector<ConnId> ids(it->second.begin(), it->second.end());  // pumping may unsubscribe
  for (ConnId id : ids) {
    auto w = watchers_.find(id);
    if (w == watchers_.end() || !w->second.subs.count(key)) continue;
    MarkReady(w->second, key);
    Pump(id);
  }
}

void Fanout::Pump(ConnId id) {
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  Watcher& w = it->second;
  while (!w.stopped && !w.blocked && !w.ready.empty()) {
    std::string key = w.ready.front();
    auto s = w.subs.find(key);
    if (s == w.subs.end()) {
      w.ready.pop_front();
      w.in_ready.erase(key);
      continue;
    }
    switch (Feed1(id, w, s->second)) {
      case Turn::kSlice:  // others' turn
        w.ready.pop_front();
        w.ready.push_back(key);
        break;
      case Turn::kCaughtUp:
        w.ready.pop_front();
        w.in_ready.erase(key);
        if (s->second.feed->done() && AtEnd(id, w, key, s->second)) return;
        break;
      case Turn::kWaiting:
        w.ready.pop_front();
        w.in_ready.erase(key);
        break;
      case Turn::kFull:
        Block(id, w);
        return;
      case Turn::kStopped:
        w.stopped = true;
        return;
    }
  }
}

Fanout::Turn Fanout::Feed1(ConnId id, Watcher& w, Sub& sub) {
  Feed& feed = *sub.feed;
  const Pacing* pace = feed.pacing();
  bool paced = pace && pace->speed > 0;
  int sent = 0;
  while (sub.next < feed.size()) {
    if (w.skip_control_answers && feed.control_answer(sub.next)) {
      ++sub.next;
      continue;
    }
    if (paced) {
      int64_t at = sub.next < pace->offsets_ms.size() ? pace->offsets_ms[sub.next] : 0;
      if (int64_t wait = PaceWaitMs(sub.play_start, 0, at, pace->speed, transport_->Now())) {
        WakeAfter(id, feed.key(), wait);
        sub.waiting = true;
        return Turn::kWaiting;
      }
    }
    if (transport_->Buffered(id) >= opts_.queue_bytes) return Turn::kFull;
    std::string_view line;
    std::string err;
    if (!feed.Line(sub.next, &line, &err)) {
      Log() << "wsflow serve: " << err << "\n";
      transport_->Close(id, 1011, "cannot read run " + feed.key());
      return Turn::kStopped;
    }
    if (!transport_->Send(id, line)) return Turn::kStopped;
    ++sub.next;
    if (faults_ && faults_->AfterEvent(id)) return Turn::kStopped;
    if (++sent >= kSlice && sub.next < feed.size()) return Turn::kSlice;
  }
  return Turn::kCaughtUp;
}

// The watcher has every line of a feed that is done. True when the connection takes no more.
bool Fanout::AtEnd(ConnId id, Watcher& w, const std::string& key, Sub& sub) {
  const Pacing* pace = sub.feed->pacing();
  if (pace && pace->loop && sub.feed->size() > 0) {  // again from the start, after a breath
    sub.next = 0;
    sub.play_start = transport_->Now() + std::chrono::seconds(1);
    sub.waiting = true;
    WakeAfter(id, key, 1000);
    return false;
  }
  if (sub.end_told) return false;
  sub.end_told = true;
  if (faults_ && faults_->AtRunEnd(id)) {
    w.stopped = true;
    return true;
  }
  if (listener_) listener_->OnDrained(id, *sub.feed);
  return w.stopped;
}

void Fanout::WakeAfter(ConnId id, const std::string& key, int64_t ms) {
  transport_->SetTimer(ms, [this, id, key] {
    auto it = watchers_.find(id);
    if (it == watchers_.end()) return;
    auto s = it->second.subs.find(key);
    if (s == it->second.subs.end() || !s->second.waiting) return;
    s->second.waiting = false;
    MarkReady(it->second, key);
    Pump(id);
  });
}

void Fanout::Block(ConnId id, Watcher& w) {
  w.blocked = true;
  w.last_buffered = transport_->Buffered(id);
  w.progress_at = transport_->Now();
  if (!w.told_backpressure && opts_.verbose)
    Log() << "wsflow serve: backpressure: a client reads slowly; holding back its events\n";
  w.told_backpressure = true;
  blocked_.insert(id);
  if (!sweeping_) {
    sweeping_ = true;
    transport_->SetTimer(kSweepMs, [this] { Sweep(); });
  }
}

// One timer for every full queue: those half drained are fed again; those that have not moved
// for slow_timeout_ms are closed.
void Fanout::Sweep() {
  sweeping_ = false;
  auto now = transport_->Now();
  std::vector<ConnId> resume;
  for (auto it = blocked_.begin(); it != blocked_.end();) {
    ConnId id = *it;
    auto w = watchers_.find(id);
    if (w == watchers_.end() || w->second.stopped) {
      it = blocked_.erase(it);
      continue;
    }
    Watcher& watcher = w->second;
    size_t buffered = transport_->Buffered(id);
    if (buffered < opts_.queue_bytes / 2) {
      watcher.blocked = false;
      resume.push_back(id);
      it = blocked_.erase(it);
      continue;
    }
    if (buffered < watcher.last_buffered) watcher.progress_at = now;
    watcher.last_buffered = buffered;
    if (opts_.slow_timeout_ms > 0 && now - watcher.progress_at >= std::chrono::milliseconds(opts_.slow_timeout_ms)) {
      if (opts_.verbose)
        Log() << "wsflow serve: closing a connection that read nothing for " << opts_.slow_timeout_ms
              << " ms; it resumes with since_seq\n";
      transport_->Close(id, kSlowCloseCode, "slow reader: reconnect and resume with since_seq");
      watcher.stopped = true;
      it = blocked_.erase(it);
      continue;
    }
    ++it;
  }
  for (ConnId id : resume) Pump(id);
  if (!blocked_.empty() && !sweeping_) {
    sweeping_ = true;
    transport_->SetTimer(kSweepMs, [this] { Sweep(); });
  }
}

bool Fanout::SendCounted(ConnId id, std::string_view line) {
  auto it = watchers_.find(id);
  if (it != watchers_.end() && it->second.stopped) return false;
  if (!transport_->Send(id, line)) return false;
  if (faults_ && faults_->AfterEvent(id)) {
    watchers_[id].stopped = true;
    return false;
  }
  return true;
}

void Fanout::Remove(ConnId id) {
  auto it = watchers_.find(id);
  if (it != watchers_.end()) {
    for (const auto& [key, sub] : it->second.subs) {
      auto k = by_key_.find(key);
      if (k == by_key_.end()) continue;
      k->second.erase(id);
      if (k->second.empty()) by_key_.erase(k);
    }
    watchers_.erase(it);
  }
  blocked_.erase(id);
  if (faults_) faults_->Forget(id);
  // glibc keeps freed memory for reuse; the queues of many watchers that have gone are returned.
  auto now = transport_->Now();
  if (now - trimmed_at_ >= std::chrono::seconds(1)) {
    trimmed_at_ = now;
    ::malloc_trim(0);
  }
}

}  // namespace wsflow::serve
