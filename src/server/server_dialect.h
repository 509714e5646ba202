// Server-side dialects: `wsflow serve --dialect NAME` speaks the protocol of a real backend
// (docs/dialects.md), driven by the same runs and scenarios as the native protocol.
//
// Each backend is one DialectSpec, defined in its own server_dialect_<name>.cpp: its endpoints,
// its frames (client frames to actions, the engine's events to its frames, greetings,
// heartbeats) and how its connections behave (dialect_host.h). The protocol halves are pure (no
// sockets, no clock of their own); the connection halves act through the DialectHost. The common
// parts are in server_dialect.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace wsflow::serve {

enum class ServerDialect { kNative, kCmbagent, kRyx, kA2a, kAladdin, kChat };

/// False when `name` is not a dialect.
bool ParseServerDialect(std::string_view name, ServerDialect* out);
const char* ServerDialectName(ServerDialect d);
/// The names `--dialect` accepts.
std::vector<std::string> ServerDialectNames();

struct DialectOptions {
  ServerDialect dialect = ServerDialect::kNative;
  bool mars_strict = false;      ///< cmbagent: what the real MARS server does, not what it documents
  /// cmbagent --mars-strict: how long after approval_requested the executor begins to wait; an
  /// answer before then is lost and the run fails (--mars-answer-window; 0: never).
  int64_t mars_answer_window_ms = 500;
  bool ryx_documented = false;   ///< ryx: the documented {"event":...} frames, not the implemented ones
  bool a2a_coordinator = false;  ///< a2a: a coordinator is attached (controls are answered)
  int64_t heartbeat_ms = 0;      ///< application heartbeat (aladdin: protocol pings); 0: none
};

using Clock = std::chrono::system_clock;

// ---- timestamps as the backends write them ----
/// Python's datetime.isoformat(): "2026-11-23T08:22:39.889123" (no fraction when it is 0), UTC
/// or local time, followed by `suffix` ("Z", "+00:00" or nothing). (JavaScript's toISOString()
/// is core/timestamp.h's IsoTimestamp.)
std::string PyIsoTimestamp(Clock::time_point t, bool utc, std::string_view suffix);

// ---- endpoints ----
struct Endpoint {
  enum class Kind { kNone, kTask, kStream, kWorkflow, kAgent, kCoordinator, kAny, kChat };
  Kind kind = Kind::kNone;
  std::string path;                          ///< without the query
  std::string id;                            ///< task id, workflow id, agent name, chat session id
  std::map<std::string, std::string> query;  ///< percent-decoded
};

// ---- client frames ----
struct ClientAction {
  enum class Kind {
    kIgnore,       ///< no answer, nothing happens
    kStart,        ///< start a run: task, model, config
    kSubscribe,    ///< aladdin: follow `target` (starting its run if new)
    kUnsubscribe,  ///< aladdin
    kPause,
    kResume,
    kCancel,
    kApprove,       ///< approval_id, resolution or approved, feedback
    kPing,          ///< answer `reply`
    kRequestState,  ///< cmbagent: since
    kMetrics,       ///< a2a get_metrics (with a coordinator)
    kReply,         ///< answer `reply`, nothing else
    kClose,         ///< close the socket with code 1000, no frame
    kDrop,          ///< drop TCP without a close frame (the client sees 1006)
    kBadFrame,      ///< cmbagent: not a JSON object; `reply` is the "Execution error: ..." message
  };
  Kind kind = Kind::kIgnore;
  bool has_task = false;  ///< cmbagent: the frame has a non-empty "task" (a first frame starts a run)
  std::string target;     ///< the run named by the frame; empty: the connection's
  std::string task, model;
  std::string config = "{}";  ///< compact JSON object: scenario, delay_ms, ... (simulation conveniences)
  std::string approval_id, resolution, feedback;
  int approved = -1;          ///< approval_response / legacy {"approved":..}: 1 true, 0 false, -1 not given
  double since = 0;           ///< request_state
  bool conversation = false;  ///< aladdin: the subscribe named a conversationId
  std::string reply;          ///< a frame to send back (or kBadFrame's message)
};

// ---- run events to backend frames ----
struct DialectFrame {
  std::string text;
  bool control_answer = false;  ///< cmbagent: sent by the connection manager (lost on a superseded socket)
  int delay_ms = 0;             ///< sent this long after the frame before it
};

/// What the mapping of one run remembers between events.
struct RunContext {
  std::string key;        ///< the server's id of the run
  std::string public_id;  ///< the id the backend shows: task_id, workflow id, execution id, chat session
  std::string task, model;
  std::string session_id;     ///< cmbagent: config.session_id
  bool answer_by_flag = false;  ///< cmbagent: the answer being acknowledged said {"approved": bool}
  std::string uuid;           ///< cmbagent: the "database" run id of dag_*, workflow_started, workflow_completed
  bool conversation = false;  ///< aladdin: keyed by a conversationId
  Clock::time_point started{};
  bool have_start = false;
  // steps
  std::map<int64_t, Clock::time_point> step_started;
  std::map<std::string, std::string> step_agent;  ///< step id -> agent (from dag_created)
  std::map<int64_t, std::string> step_goal;
  std::string current_step_id;
  int64_t current_step = 0;
  int64_t total_steps = 0;
  int64_t done_steps = 0;
  std::vector<std::string> results;  ///< ryx: compact JSON of each completed step
  std::string last_error_type;
  int64_t event_counter = 0;
  int64_t tokens = 0;
  double cost_usd = 0;
  // a2a: the last progress reported (for the coordinator's status frame)
  std::string a2a_state = "pending";
  double a2a_progress = 0;
  std::string a2a_stage = "queued";
};

class DialectHost;
struct DialectConn;
struct DialectRun;

/// One backend, as a table. Null function pointers: the backend has no such thing.
struct DialectSpec {
  ServerDialect dialect;
  const char* name;
  const char* endpoints;         ///< for the 404 answer: "/ws/{task_id}"
  int64_t default_heartbeat_ms;  ///< --heartbeat-interval's default (0: the backend sends none)
  /// WebSocket pings from the backend's HTTP stack (cmbagent, ryx, a2a: 20 s); aladdin's pings
  /// follow heartbeat_ms instead (ping_is_heartbeat).
  int64_t protocol_ping_ms;
  bool ping_is_heartbeat;
  bool app_heartbeat;            ///< the heartbeat is an application frame (cmbagent, a2a, chat)
  bool auto_approves;            ///< no approvals: a scenario's gates are answered at once
  bool only_starts_wait;         ///< chat: while a reply runs, only a new message waits for it
  size_t replay_on_connect;      ///< a2a: a workflow socket gets the run's last N frames on connect
  int shutdown_code;             ///< the close every connection gets when serve stops
  const char* shutdown_reason;
  bool (*match)(const std::string& path, Endpoint* ep);
  ClientAction (*parse)(const DialectOptions& o, const Endpoint& ep, bool binary, std::string_view payload,
                        Clock::time_point now);
  std::vector<DialectFrame> (*map)(const DialectOptions& o, RunContext& ctx, std::string_view type,
                                   const JsonValue& data, Clock::time_point t, bool* close_after);
  std::vector<std::string> (*greeting)(const DialectOptions& o, const Endpoint& ep, const std::string& client_id,
                                       const RunContext* run, Clock::time_point now);
  bool (*is_greeting)(const JsonValue& frame);
  /// `executing`: the socket's run is running or waits for an approval.
  std::string (*heartbeat)(const Endpoint& ep, const RunContext* run, bool executing, Clock::time_point now);
  // How its connections behave (dialect_host.h).
  /// Returns the run the socket follows from its start (a2a workflow sockets), or null.
  DialectRun* (*on_open)(DialectHost& host, DialectConn& c);
  void (*on_action)(DialectHost& host, DialectConn& c, const ClientAction& a);
  void (*on_drained)(DialectHost& host, DialectConn& c, DialectRun& run);
};

/// The table of `d` (kNative: the native protocol's endpoints only; native_protocol.h speaks it).
const DialectSpec& SpecOf(ServerDialect d);

// The table, read through the dialect of `o` or `d`.
int64_t DefaultHeartbeatMs(ServerDialect d);
bool AutoApproves(ServerDialect d);
/// Whether `resource` (a request's path and query) is an endpoint of `d`; fills `*out`.
bool MatchEndpoint(ServerDialect d, const std::string& resource, Endpoint* out);
/// The body of the 404 answer for a path that is not an endpoint of `d`.
std::string EndpointHelp(ServerDialect d, const std::string& path);
/// What the client frame `payload` (a binary frame when `binary`) asks of a connection at `ep`.
ClientAction ParseClientFrame(const DialectOptions& o, const Endpoint& ep, bool binary, std::string_view payload,
                              Clock::time_point now);
/// Sets up `ctx` for a new (or restored) run.
void InitRunContext(const DialectOptions& o, const std::string& key, const std::string& public_id,
                    const std::string& task, const std::string& model, const JsonValue& config, RunContext* ctx);
/// The frames the backend sends for the engine event (type, data) made at `t`. `*close_after`:
/// the backend closes the run's socket (code 1000) once these frames are out.
std::vector<DialectFrame> MapEvent(const DialectOptions& o, RunContext& ctx, std::string_view type,
                                   const JsonValue& data, Clock::time_point t, bool* close_after);
/// What a socket at `ep` gets first (a2a info and, with a coordinator, status; aladdin ping; chat
/// status). `run` is the workflow's run for an a2a workflow socket (may be null).
std::vector<std::string> Greeting(const DialectOptions& o, const Endpoint& ep, const std::string& client_id,
                                  const RunContext* run, Clock::time_point now);
/// Whether `frame` is one that Greeting() makes for `d` (a2a info and status, aladdin ping, chat
/// status "connected"): `replay --serve` sends those on connect, before the client speaks.
bool IsGreetingFrame(ServerDialect d, std::string_view frame);
/// The application heartbeat (cmbagent, a2a, chat); empty for the others and when there is none
/// now (cmbagent: only while the socket's run is `executing`).
std::string HeartbeatFrame(const DialectOptions& o, const Endpoint& ep, const RunContext* run, bool executing,
                           Clock::time_point now);

namespace cmbagent {
/// {"event_type":"error",...,"data":{"message":...}} from the handler (executor style).
std::string ErrorFrame(const std::string& task_id, const std::string& message, Clock::time_point t);
/// workflow_state_changed {status, message} from the connection manager.
std::string StateFrame(const std::string& task_id, const std::string& status, const std::string& message,
                       Clock::time_point t);
}  // namespace cmbagent

namespace a2a {
std::string ErrorFrame(const std::string& message);
std::string ControlResponse(const std::string& action, const std::string& status, const std::string& message);
std::string Metrics(int64_t total_messages, int64_t total_workflows, int64_t agents, int64_t active,
                    Clock::time_point t);
}  // namespace a2a

/// The scenario of the chat dialect (a few tool calls, then the assistant's answer), as JSON.
const char* ChatScenarioJson();

// ---- helpers shared by the dialect files (JSON objects are built with core/json.h's JsonObject) ----
/// The compact JSON of `data` with `key` set to the string `value` (added at the end if missing).
std::string WithStringMember(const JsonValue& data, const char* key, const std::string& value);
/// A short JSON number for `v` (as Python prints floats: 0.4, 1.0).
std::string JsonNumber(double v);
/// Milliseconds between two instants (not negative).
int64_t MillisBetween(Clock::time_point a, Clock::time_point b);
/// "true" or "false".
inline const char* JsonBool(bool b) { return b ? "true" : "false"; }

}  // namespace wsflow::serve
