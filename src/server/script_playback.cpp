#include "server/script_playback.h"

#include "server/pacer.h"

namespace wsflow::serve {

ScriptPlayback::ScriptPlayback(const std::vector<ScriptFrame>& script, Options opts, Transport* transport)
    : opts_(opts), transport_(transport) {
  // Sent on connect: the frames recorded before the client's first, and the greeting that
  // follows it (the client did not wait for the greeting; another client may).
  bool greeting = true;
  for (const auto& f : script) {
    if (f.from_client) {
      if (!waits_) gate_ms_ = f.t_ms;
      waits_ = true;
      continue;
    }
    if (waits_ && !IsGreetingFrame(opts_.dialect, f.text)) greeting = false;
    if (greeting) gate_ = frames_.size() + 1;
    frames_.push_back(f);
  }
  // Without a frame of the client's, nothing waits: everything is sent on connect, and again.
  loop_from_ = waits_ ? gate_ : 0;
}

bool ScriptPlayback::Accepts(const std::string& resource, Refusal* refusal) {
  Endpoint ep;
  if (MatchEndpoint(opts_.dialect, resource, &ep)) return true;
  refusal->status = 404;
  refusal->body = EndpointHelp(opts_.dialect, ep.path);
  return false;
}

std::pair<int, std::string> ScriptPlayback::ShutdownClose() const {
  const DialectSpec& s = SpecOf(opts_.dialect);
  return {s.shutdown_code, s.shutdown_reason};
}

void ScriptPlayback::OnOpen(ConnId id, const std::string&) {
  Conn& c = conns_[id];
  c.play_start = transport_->Now();
  c.base_ms = frames_.empty() ? 0 : frames_.front().t_ms;
  c.gate_open = !waits_;
  Pump(id);
}

// The client's first frame lets the rest of the recording go, on the recorded clock from now.
void ScriptPlayback::OnMessage(ConnId id, bool, std::string_view) {
  auto it = conns_.find(id);
  if (it == conns_.end() || it->second.gate_open) return;
  it->second.gate_open = true;
  it->second.play_start = transport_->Now();
  it->second.base_ms = gate_ms_;
  Pump(id);
}

void ScriptPlayback::PumpLater(ConnId id, int64_t ms) {
  Conn& c = conns_[id];
  if (c.timer) return;
  c.timer = true;
  transport_->SetTimer(ms, [this, id] {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    it->second.timer = false;
    Pump(id);
  });
}

void ScriptPlayback::Pump(ConnId id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  while (c.next < frames_.size()) {
    if (c.next >= gate_ && !c.gate_open) return;  // waits for the client
    const ScriptFrame& f = frames_[c.next];
    if (int64_t wait = PaceWaitMs(c.play_start, c.base_ms, f.t_ms, opts_.speed, transport_->Now()))
      return PumpLater(id, wait);
    if (transport_->Buffered(id) >= opts_.queue_bytes) return PumpLater(id, 2);
    if (!transport_->Send(id, f.text)) return;
    ++c.next;
  }
  if (opts_.loop && loop_from_ < frames_.size()) {  // again, after a breath
    c.next = loop_from_;
    c.play_start = transport_->Now() + std::chrono::seconds(1);
    c.base_ms = frames_[loop_from_].t_ms;
    PumpLater(id, 1000);
  }
}

}  // namespace wsflow::serve
