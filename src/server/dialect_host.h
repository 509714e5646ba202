// `serve --dialect NAME` other than native: the connections of a real backend's protocol. The
// host does what every backend shares (endpoints, greetings, heartbeats, protocol pings, the
// backend's frames of each run kept and fanned out, auto-approval where the backend has no
// approvals, ryx's and chat's one frame at a time); what differs is in the backend's DialectSpec
// (server_dialect_<name>.cpp), which acts through the host's methods below.
//
// Thread contract: the server's loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/fanout.h"
#include "server/id_maker.h"
#include "server/protocol.h"
#include "server/run_registry.h"
#include "server/server_dialect.h"

namespace wsflow::serve {

/// One connection of the backend's protocol.
struct DialectConn {
  ConnId id = 0;
  Endpoint ep;                  ///< what the path and query said
  std::string client_id;        ///< a2a
  bool dead = false;            ///< closing or dropped: nothing more is sent or handled
  bool started = false;         ///< cmbagent: the first frame was handled
  bool orphaned = false;        ///< cmbagent --mars-strict: a newer socket whose control answers are lost
  std::string drive;            ///< cmbagent, ryx, chat: the run this socket drives
  bool busy = false;            ///< ryx, chat: a run goes on; frames wait for its end
  std::deque<std::pair<bool, std::string>> waiting;  ///< ryx, chat: (binary, payload) received meanwhile
  std::set<std::string> watch;  ///< aladdin: the ids subscribed to
  bool watch_all = false;       ///< aladdin: executionId "all"
  bool awaiting_pong = false;   ///< aladdin: the last protocol ping is not answered yet
};

/// The frames the backend sends for one run: what its connections follow.
struct DialectRun : public Feed {
  Run* run = nullptr;
  RunContext ctx;
  std::vector<std::string> frames;
  std::vector<double> frame_times;  ///< unix seconds (cmbagent request_state)
  std::vector<char> frame_cm;       ///< cmbagent: sent by the connection manager
  int deferred = 0;                 ///< frames still to come after a delay
  bool closing = false;             ///< the backend closes the run's sockets after its last frame
  MonoClock::time_point asked{};    ///< when the approval awaited now was requested (this process)

  const std::string& key() const override { return ctx.key; }
  size_t size() const override { return frames.size(); }
  bool Line(size_t i, std::string_view* out, std::string* err) override;
  /// The run has made its last event and the backend its last frame.
  bool done() const override { return run->ended() && deferred == 0; }
  bool control_answer(size_t i) const override { return i < frame_cm.size() && frame_cm[i]; }
};

class DialectHost : public Protocol, public RunListener, public FanoutListener {
 public:
  DialectHost(const DialectOptions& opts, RunRegistry* runs, Fanout* fanout, Transport* transport, IdMaker* ids,
              bool verbose, std::ostream* log);

  // Protocol
  bool Accepts(const std::string& resource, Refusal* refusal) override;
  void OnOpen(ConnId id, const std::string& resource) override;
  void OnMessage(ConnId id, bool binary, std::string_view payload) override;
  void OnPong(ConnId id) override;
  void OnClose(ConnId id) override;
  std::pair<int, std::string> ShutdownClose() const override { return {spec_.shutdown_code, spec_.shutdown_reason}; }
  // RunListener
  void OnRunAdded(Run& run) override;
  void OnRunEvent(Run& run, std::string_view type, const JsonValue& data, WallClock::time_point t,
                  bool restoring) override;
  void OnRunRestored(Run& run) override;
  void OnRunPublished(Run& run) override;
  // FanoutListener
  void OnDrained(ConnId id, Feed& feed) override;

  // ---- for the backends' connection logic (server_dialect_<name>.cpp) ----
  const DialectOptions& options() const { return opts_; }
  IdMaker& ids() { return *ids_; }
  /// A frame outside the runs' streams (greetings, answers, errors); nothing on a dead connection.
  void Reply(DialectConn& c, const std::string& frame);
  /// A close frame once what is queued has left; the connection is dead from now on.
  void Close(DialectConn& c, int code, const std::string& reason);
  /// TCP ends without a close frame (the client sees 1006); dead from now on.
  void Drop(DialectConn& c);
  /// A run's frame outside the cursor (a cmbagent request_state replay), counted for the faults; false: stop.
  bool SendCounted(DialectConn& c, const std::string& frame);
  /// The run `key` (read back first if needed); null when unknown.
  DialectRun* Find(const std::string& key);
  bool Exists(const std::string& key) const { return runs_->Exists(key); }
  /// The latest run shown as `public_id` (cmbagent: a task_id may have had several).
  DialectRun* Latest(const std::string& public_id);
  /// Starts a run: `key` is the server's id, `public_id` the one the backend shows. Aladdin
  /// monitors ("all") follow it at once. Null with a reason.
  DialectRun* Start(const std::string& key, const std::string& public_id, const std::string& task,
                    const std::string& model, const std::string& config_json, std::string* err);
  /// Follows `run` on `c` from frame `from`.
  void Attach(DialectConn& c, DialectRun& run, size_t from, bool pump = true);
  void Detach(DialectConn& c, const std::string& key);
  bool Attached(const DialectConn& c, const std::string& key) const { return fanout_->Subscribed(c.id, key); }
  std::vector<std::string> AttachedKeys(const DialectConn& c) const { return fanout_->Keys(c.id); }
  void Pump(DialectConn& c) { fanout_->Pump(c.id); }
  /// cmbagent --mars-strict: the connection manager's frames do not reach `c`.
  void Orphan(DialectConn& c);
  /// Emits what a control caused and lets the run go on.
  void Apply(DialectRun& run, const std::vector<EngineEvent>& caused) { runs_->Apply(*run.run, caused); }
  /// ryx, chat: the frames that waited for the run's end are handled now (later in this turn).
  void HandleWaitingLater(DialectConn& c);
  /// ryx, chat: a run per request, one at a time; frames received meanwhile wait for its end.
  /// False with a reason when the run cannot start.
  bool StartTurn(DialectConn& c, const ClientAction& a, const std::string& public_id, std::string* err);
  /// ryx, chat: the run `c` drives has sent its last frame: what waited is handled.
  void EndTurn(DialectConn& c, DialectRun& run);
  /// cmbagent: the open socket of each task_id.
  std::map<std::string, ConnId>& task_sockets() { return task_sockets_; }
  DialectConn* Conn(ConnId id);
  template <class Fn>
  void ForEachConn(Fn fn) {
    for (auto& [id, c] : conns_) fn(*c);
  }
  template <class Fn>
  void ForEachRun(Fn fn) {
    for (auto& [key, r] : dialect_runs_) fn(*r);
  }
  bool verbose() const { return verbose_; }
  MonoClock::time_point Now() const { return transport_->Now(); }
  /// Runs `fn` on the loop after `ms`.
  void After(int64_t ms, std::function<void()> fn) { transport_->SetTimer(ms, std::move(fn)); }
  std::ostream& Log() const;

 private:
  void HandleFrame(DialectConn& c, bool binary, const std::string& payload);
  void AppendFrames(DialectRun& run, std::vector<DialectFrame> frames, size_t from, bool close_after,
                    bool restoring, Clock::time_point t);
  void AutoApprove(DialectRun& run);
  void ScheduleHeartbeat(ConnId id, int64_t ms);
  void SendHeartbeat(DialectConn& c);
  void ScheduleProtocolPing(ConnId id, int64_t ms);

  DialectOptions opts_;
  const DialectSpec& spec_;
  RunRegistry* runs_;
  Fanout* fanout_;
  Transport* transport_;
  IdMaker* ids_;
  bool verbose_;
  std::ostream* log_;
  std::unordered_map<ConnId, std::unique_ptr<DialectConn>> conns_;
  std::map<std::string, std::unique_ptr<DialectRun>> dialect_runs_;
  std::map<std::string, std::string> latest_;     ///< public id -> the key of its latest run
  std::map<std::string, ConnId> task_sockets_;    ///< cmbagent: task_id -> its open socket
};

}  // namespace wsflow::serve
