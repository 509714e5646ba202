// wsflow's own protocol (docs/protocol.md): seq per run, request ids echoed, exact resume.
#include "dialects/adapters.h"
#include "dialects/native.h"
#include "core/timestamp.h"

namespace wsflow {

namespace {

class NativeDialect : public Dialect {
 public:
  const char* name() const override { return "native"; }
  std::string Path(const std::string& run_id) const override { return "/ws/" + run_id; }
  ResumeKind resume() const override { return ResumeKind::kSeq; }

  bool Start(const StartRequest& r, std::vector<std::string>* frames, std::string*) const override {
    frames->push_back(native::ExecuteFrame(r.task, r.config_json, r.run_id, r.request_id, r.since_seq));
    return true;
  }
  bool Attach(const std::string& run_id, int64_t since_seq, int64_t tail, const std::string& request_id,
              std::vector<std::string>* frames, std::string*) const override {
    frames->push_back(native::SubscribeFrame(run_id, since_seq, request_id, tail));
    return true;
  }
  bool Resume(const std::string& run_id, int64_t last_seq, double, const std::string& request_id,
              std::vector<std::string>* frames, std::string*) const override {
    frames->push_back(native::SubscribeFrame(run_id, last_seq, request_id));
    return true;
  }
  bool Control(const std::string& type, const std::string& run_id, const std::string& request_id, std::string* frame,
               std::string*) const override {
    *frame = native::ControlFrame(type, run_id, request_id);
    return true;
  }
  bool Approve(const std::string& run_id, const std::string& approval_id, const std::string& resolution,
               const std::string& feedback, const std::string& modifications, const std::string& request_id,
               std::string* frame, std::string*) const override {
    *frame = native::ResolveApprovalFrame(run_id, approval_id, resolution, feedback, request_id, modifications);
    return true;
  }

  // The hot path: a numbered event with a timestamp and an object in data is printed as its own
  // bytes, judged from the one-pass scan alone. Everything else reads the frame's DOM.
  void Convert(ReceivedFrame& frame, const std::string&, Incoming* out) const override {
    const FrameFields& f = frame.fields();
    // What ReadEnvelope accepts: an object, a non-empty string event_type, a positive seq if any,
    // a run_id that is a string or null.
    if (!f.object || f.event_type.empty() || (f.has_seq && f.seq < 1) || f.run_id_bad) {
      out->kind = Incoming::kUnknown;
      return;
    }
    out->event_type.assign(f.event_type);
    out->run_id.assign(f.run_id);
    out->request_id.assign(f.request_id);
    if (f.seq > 0) {
      out->kind = Incoming::kEvent;
      out->seq = f.seq;
      out->outcome = FrameEnd(f.event_type, frame);
      if (f.data_object && !f.timestamp.empty()) {
        out->passthrough = true;
        return;
      }
      Complete(frame.dom(), out);
      return;
    }
    const JsonValue& v = frame.dom();
    native::Frame c = native::Classify(v);
    switch (c.kind) {
      case native::FrameKind::kAck: {
        out->kind = Incoming::kAck;
        out->confirms = std::string(c.action);
        out->last_seq = c.last_seq;
        out->from_seq = c.from_seq;
        const JsonValue* data = GetObject(v, "data");
        if (data) {
          out->state = std::string(GetString(*data, "state"));
          std::string_view o = GetString(*data, "outcome");
          out->run_outcome = o == "completed" ? Outcome::kCompleted
                             : o == "failed" ? Outcome::kFailed
                             : o == "cancelled" ? Outcome::kCancelled : Outcome::kNone;
        }
        return;
      }
      case native::FrameKind::kError:
        out->kind = Incoming::kError;
        out->message = std::string(c.message);
        out->error_type = std::string(c.error_type);
        return;
      case native::FrameKind::kPong: out->kind = Incoming::kPong; return;
      case native::FrameKind::kHeartbeat: out->kind = Incoming::kHeartbeat; out->passthrough = true; return;
      case native::FrameKind::kOther:  // an envelope without seq: printed as it came
        out->kind = Incoming::kUnnumbered;
        out->passthrough = true;
        return;
      case native::FrameKind::kEvent:    // seq > 0 was handled above
      case native::FrameKind::kUnknown: out->kind = Incoming::kUnknown; return;
    }
  }

 private:
  // EndOf() without parsing the frame unless it is a workflow_failed.
  static Outcome FrameEnd(std::string_view type, ReceivedFrame& frame) {
    if (type == "workflow_completed") return Outcome::kCompleted;
    if (type == "workflow_cancelled") return Outcome::kCancelled;
    if (type == "workflow_failed") return native::TerminalOutcome(type, frame.dom());  // data.status
    return Outcome::kNone;
  }

  // An event without a timestamp or an object in data: completed, so every line keeps the contract.
  // Members are erased in place (EraseMember keeps their order; RemoveMember would move the last
  // member into the gap, and a repeated `data` could then come first), and a repeated `data` or
  // `timestamp` leaves one copy: the one wsflow read, so jq (which reads the last) sees the same.
  static void Complete(const JsonValue& v, Incoming* out) {
    JsonDoc& fixed = out->envelope;
    fixed.CopyFrom(v, fixed.GetAllocator());
    auto& a = fixed.GetAllocator();
    // Normalised as every dialect's are (docs/event.schema.json): a missing or malformed one too.
    std::string ts = GetString(v, "timestamp").empty() ? NowIso() : NormalizeTimestamp(GetString(v, "timestamp"));
    while (fixed.EraseMember("timestamp")) {
    }  // every one: a frame may repeat a member (found by fuzz/dialect_native)
    fixed.AddMember("timestamp", Str(ts, a), a);
    JsonValue data(rapidjson::kObjectType);
    auto it = fixed.FindMember("data");  // the first, as GetObject(v, "data") reads it
    if (it != fixed.MemberEnd() && it->value.IsObject()) data = it->value;  // moved, not copied
    else if (it != fixed.MemberEnd()) data.AddMember("value", it->value, a);
    while (fixed.EraseMember("data")) {
    }
    fixed.AddMember("data", data, a);
  }
};

}  // namespace

std::unique_ptr<Dialect> MakeNativeDialect() { return std::make_unique<NativeDialect>(); }

}  // namespace wsflow
