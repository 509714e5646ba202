// serve's handling of what a client sends (src/server/): NativeProtocol for `serve` and
// DialectHost for `serve --dialect NAME`, built once per dialect with WSFLOW_FUZZ_SERVE_DIALECT,
// driven through a fake transport as tests/unit drives them (no socket). Input: the resource
// (path and query of the upgrade request) on the first line, then one client frame per line, all
// on one connection; the runs they start get a bounded number of timer turns. Any bytes, no crash;
// every frame serve sends is JSON, and for the native protocol one compact line with an
// event_type (docs/protocol.md).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "fuzz_check.h"
#include "server/dialect_host.h"
#include "server/fanout.h"
#include "server/faults.h"
#include "server/id_maker.h"
#include "server/log_cache.h"
#include "server/native_protocol.h"
#include "server/run_registry.h"
#include "server/run_store.h"
#include "server/serve.h"
#include "server/server_dialect.h"

using namespace wsflow;
using namespace wsflow::serve;

namespace {

// Records what serve sends and checks each frame as it goes; timers run on a fake clock.
class FuzzTransport : public Transport {
 public:
  explicit FuzzTransport(bool native) : native_(native) {}
  MonoClock::time_point Now() const override { return now_; }
  void SetTimer(int64_t ms, std::function<void()> fn) override {
    timers_.push_back({now_ + std::chrono::milliseconds(ms < 0 ? 0 : ms), seq_++, std::move(fn)});
  }
  bool Send(ConnId, std::string_view text) override {
    if (closed_) return false;
    Check(text);
    return true;
  }
  bool SendRawText(ConnId, std::string_view) override { return !closed_; }  // fault injection only: not fuzzed
  size_t Buffered(ConnId) const override { return 0; }
  void Close(ConnId, int code, const std::string&) override {
    FUZZ_CHECK(code == 0 || (code >= 1000 && code <= 4999), "close code %d", code);
    closed_ = true;
  }
  void Drop(ConnId) override { closed_ = true; }
  void Stall(ConnId, int64_t) override { closed_ = true; }
  bool Ping(ConnId) override { return !closed_; }
  void Shutdown(int, const std::string&, int64_t) override {}

  /// Runs at most `budget` timers, earliest first, moving the clock to each.
  void Run(int budget) {
    while (budget-- > 0 && !timers_.empty()) {
      size_t best = 0;
      for (size_t i = 1; i < timers_.size(); ++i)
        if (timers_[i].due < timers_[best].due || (timers_[i].due == timers_[best].due && timers_[i].seq < timers_[best].seq))
          best = i;
      Timer t = std::move(timers_[best]);
      timers_.erase(timers_.begin() + static_cast<std::ptrdiff_t>(best));
      if (t.due > now_) now_ = t.due;
      t.fn();
    }
  }
  void Forget() { timers_.clear(); }

 private:
  void Check(std::string_view text) {
    JsonDoc d;
    std::string err;
    FUZZ_CHECK(ParseJson(text, &d, &err), "serve sent a frame that is not JSON (%s): %.*s", err.c_str(),
               static_cast<int>(text.size() > 300 ? 300 : text.size()), text.data());
    if (!native_) return;
    FUZZ_CHECK(d.IsObject() && !GetString(d, "event_type").empty(), "a native frame without event_type: %.*s",
               static_cast<int>(text.size() > 300 ? 300 : text.size()), text.data());
    FUZZ_CHECK(IsCompactJson(text) && text.find('\n') == std::string_view::npos, "a native frame on more than one line");
  }
  struct Timer {
    MonoClock::time_point due;
    uint64_t seq;
    std::function<void()> fn;
  };
  bool native_;
  bool closed_ = false;
  MonoClock::time_point now_{std::chrono::hours(1)};
  uint64_t seq_ = 0;
  std::vector<Timer> timers_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ServerDialect dialect;
  FUZZ_CHECK(ParseServerDialect(WSFLOW_FUZZ_SERVE_DIALECT, &dialect), "no dialect %s", WSFLOW_FUZZ_SERVE_DIALECT);
  bool native = dialect == ServerDialect::kNative;
  std::string_view text = wsflow_fuzz::Text(data, size);
  size_t nl = text.find('\n');
  std::string resource(text.substr(0, nl));
  std::string_view frames = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);

  // As serve.cpp puts them together, on a temporary data directory removed with the store.
  FuzzTransport t(native);
  RunStore store("");
  std::string err;
  FUZZ_CHECK(store.Open(&err), "store: %s", err.c_str());
  LogCache cache(1 << 20);
  RunRegistry::Options ropts;
  ropts.quiet = true;
  ropts.restore_all = !native;
  if (dialect == ServerDialect::kChat) {
    ropts.default_scenario = "chat";
    ropts.own_scenarios["chat"] = ChatScenarioJson();
  }
  std::ostringstream log;  // a verbose registry or host must not clutter the fuzzer's output
  ropts.log = &log;
  RunRegistry runs(&store, &cache, &t, ropts);
  FaultInjector faults(&t, {});
  Fanout fanout(&t, &faults, {});
  IdMaker ids(1);
  std::unique_ptr<Protocol> protocol;
  if (native) {
    auto p = std::make_unique<NativeProtocol>(&runs, &fanout, &t, &ids, NativeProtocol::Options{});
    runs.SetListener(p.get());
    protocol = std::move(p);
  } else {
    DialectOptions dopts;
    dopts.dialect = dialect;
    auto host = std::make_unique<DialectHost>(dopts, &runs, &fanout, &t, &ids, false, &log);
    runs.SetListener(host.get());
    fanout.SetListener(host.get());
    protocol = std::move(host);
  }
  FUZZ_CHECK(runs.Open(&err), "registry: %s", err.c_str());

  Refusal refusal;  // as Server::OnUpgrade (server/serve.cpp) asks
  if (!ResourceIsText(resource, &refusal) || !protocol->Accepts(resource, &refusal)) {
    FUZZ_CHECK(refusal.status >= 400 && refusal.status < 600, "refused with HTTP %d", refusal.status);
    return 0;
  }
  const ConnId id = 1;
  protocol->OnOpen(id, resource);
  t.Run(20);
  while (!frames.empty()) {
    size_t end = frames.find('\n');
    std::string_view frame = frames.substr(0, end);
    frames = end == std::string_view::npos ? std::string_view() : frames.substr(end + 1);
    protocol->OnMessage(id, false, frame);
    t.Run(50);  // a run's first events, an answer after a delay; never the whole of a long run
  }
  protocol->OnClose(id);
  runs.Stop();
  t.Run(20);
  t.Forget();  // timers of runs not finished hold pointers to what goes now
  return 0;
}
