// One adapter per backend protocol (docs/dialects.md): wsflow's actions become that backend's
// frames, and its frames become wsflow envelopes. Pure functions over JSON, no networking, so
// every adapter is tested on fixture frames.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/exit_status.h"
#include "core/json.h"
#include "core/received_frame.h"

namespace wsflow {

/// How a backend lets a client continue after a lost connection.
enum class ResumeKind {
  kSeq,           ///< native: subscribe since_seq; exact
  kRequestState,  ///< cmbagent: request_state since <unix seconds>, then de-duplication
  kReplay,        ///< a2a: the server replays recent frames on connect; de-duplication
  kNone,          ///< nothing: a connection lost mid-run may have lost events (exit 7)
};

/// What one received frame means. One per connection, reused for every frame (Reset): once warm
/// the fast path allocates nothing.
struct Incoming {
  enum Kind {
    kEvent,       ///< a run event: numbered (native seq), or to be numbered by the follower
    kUnnumbered,  ///< native: an envelope outside the numbered stream, printed as it came
    kAck,         ///< a request was applied (request_id, or `confirms` for dialects without ids)
    kError,       ///< a request was refused, or the backend reports an error (message)
    kPong,        ///< answer to our ping, or the subscription acknowledgement of aladdin
    kHeartbeat,   ///< keep-alive: consumed unless --show-heartbeats
    kIgnore,      ///< nothing for the user (greetings like a2a's info)
    kUnknown,     ///< JSON of no known shape: printed as an `unknown` event
  } kind = kUnknown;

  /// The frame is already the envelope (native): print its bytes, read it through the frame.
  bool passthrough = false;
  /// The envelope's arena, reused from frame to frame (a unique_ptr: moving keeps it in place).
  std::unique_ptr<rapidjson::MemoryPoolAllocator<>> arena = std::make_unique<rapidjson::MemoryPoolAllocator<>>();
  JsonDoc envelope{arena.get()};  ///< otherwise (kEvent, kHeartbeat): the converted envelope, without seq unless native
  std::string event_type;
  std::string run_id;           ///< native: the run the frame names (routing on a shared connection)
  int64_t seq = -1;             ///< native seq; -1: the follower numbers events itself
  std::string dedupe_key;       ///< dialects without seq: an id, else the frame itself
  Outcome outcome = Outcome::kNone;  ///< kEvent that ends the run

  std::string request_id;  ///< kAck, kError (native)
  std::string confirms;    ///< kAck without request ids: "cancel", "pause", ...
  std::string message;     ///< kError
  std::string error_type;  ///< kError
  int64_t last_seq = -1, from_seq = -1;  ///< native acks
  std::string state;        ///< native subscribe/execute ack: the run's state (running, completed, ...)
  Outcome run_outcome = Outcome::kNone;  ///< native ack: how the run ended, when it has

  /// Ready for the next frame: keeps the capacity of strings and the envelope's arena.
  void Reset();
};

struct StartRequest {
  std::string task;
  std::string config_json;  ///< a JSON object ("" = {})
  std::string model;
  std::string run_id;
  std::string request_id;
  int64_t since_seq = 0;
};

class Dialect {
 public:
  virtual ~Dialect() = default;
  virtual const char* name() const = 0;
  /// The path a base URL gets for `run_id` (empty: the URL as it is).
  virtual std::string Path(const std::string& run_id) const = 0;
  virtual ResumeKind resume() const = 0;
  /// The backend allows one socket per run: a second process cannot act on the run directly.
  virtual bool one_socket_per_run() const { return false; }
  /// How long an approval answer must wait after its approval_requested arrived: MARS starts
  /// waiting for answers a moment after it asks, and loses one that comes sooner (backends.md,
  /// "An answer that comes too soon is lost"). docs/dialects.md.
  virtual int64_t answer_delay_ms() const { return 0; }

  // Frames for wsflow's actions; false with "not supported by NAME: why" when the backend has none.
  virtual bool Start(const StartRequest& r, std::vector<std::string>* frames, std::string* err) const;
  /// The first attachment of watch/approve/... to a run that is already going.
  virtual bool Attach(const std::string& run_id, int64_t since_seq, int64_t tail, const std::string& request_id,
                      std::vector<std::string>* frames, std::string* err) const;
  /// After a reconnect: continue after `last_seq` (native) or `last_time` (unix seconds).
  virtual bool Resume(const std::string& run_id, int64_t last_seq, double last_time, const std::string& request_id,
                      std::vector<std::string>* frames, std::string* err) const;
  /// pause, resume, cancel.
  virtual bool Control(const std::string& type, const std::string& run_id, const std::string& request_id,
                       std::string* frame, std::string* err) const;
  virtual bool Approve(const std::string& run_id, const std::string& approval_id, const std::string& resolution,
                       const std::string& feedback, const std::string& modifications,
                       const std::string& request_id, std::string* frame, std::string* err) const;
  virtual std::string Ping() const { return R"({"type":"ping"})"; }

  /// How the run ends with an event of this backend, read from its envelope's type and data
  /// (null: none); kNone when it does not end the run. Convert() sets Incoming::outcome with it,
  /// and replay reads saved output with it.
  virtual Outcome EndOf(std::string_view event_type, const JsonValue* data) const;

  /// Converts one received frame (`out` was Reset). `run_id` is the run being followed: backends
  /// without ids (or with unstable ones) get it. Only what needs it asks for frame.dom().
  virtual void Convert(ReceivedFrame& frame, const std::string& run_id, Incoming* out) const = 0;

 protected:
  bool Unsupported(const char* what, std::string* err) const;
};

/// The adapter for `name` (native, cmbagent, ryx, a2a, aladdin, chat); null when unknown.
std::unique_ptr<Dialect> MakeDialect(const std::string& name);
/// The dialect names, for messages and --dialect's choices.
const std::vector<std::string>& DialectNames();
/// The dialect a URL path names (/api/workflow/stream: ryx, /ws/workflow/...: a2a, /ws/chat: chat).
std::string DialectFromPath(const std::string& path);
/// The dialect of a backend that closed the connection cleanly (1000) before sending any frame,
/// after wsflow's first request, at the URL path `path`; "" when that tells nothing. MARS joins
/// a socket on the task_id of a run that has ended to that run, says nothing, and closes it
/// (backends.md); wsflow's protocol answers every request.
std::string DialectFromSilentClose(const std::string& path);
/// The dialect the first frames of a connection show; "" when they do not tell.
/// `our_request_id` is the id of the native frame wsflow sent first.
std::string DialectFromFrame(const JsonValue& frame, const std::string& our_request_id);

/// Builds {"event_type":T,"timestamp":..,"run_id":..,"dialect":..,"data":...} into `out`;
/// `data` is copied (null: {}), `timestamp` empty: now. With keep_raw, the frame goes under "raw".
void BuildEnvelope(JsonDoc* out, std::string_view type, std::string_view timestamp, std::string_view run_id,
                   std::string_view dialect, const JsonValue* data, std::string_view event_id = {});

}  // namespace wsflow
