// wsflow's own protocol (docs/protocol.md): seq per run, request ids echoed, exact resume.
#include "dialects/adapters.h"
#include "dialects/native.h"

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

  void Convert(std::string_view, const JsonValue& v, const std::string&, Incoming* out) const override {
    native::Frame f = native::Classify(v);
    out->event_type = std::string(f.env.event_type);
    out->request_id = std::string(f.request_id);
    switch (f.kind) {
      case native::FrameKind::kEvent:
        out->kind = Incoming::kEvent;
        out->seq = f.env.seq;
        out->passthrough = true;
        out->outcome = native::TerminalOutcome(f.env.event_type, v);
        return;
      case native::FrameKind::kAck:
        out->kind = Incoming::kAck;
        out->confirms = std::string(f.action);
        out->last_seq = f.last_seq;
        out->from_seq = f.from_seq;
        return;
      case native::FrameKind::kError:
        out->kind = Incoming::kError;
        out->message = std::string(f.message);
        out->error_type = std::string(f.error_type);
        return;
      case native::FrameKind::kPong: out->kind = Incoming::kPong; return;
      case native::FrameKind::kHeartbeat: out->kind = Incoming::kHeartbeat; return;
      case native::FrameKind::kOther:  // an envelope without seq: printed as it came
        out->kind = Incoming::kEvent;
        out->passthrough = true;
        return;
      case native::FrameKind::kUnknown: out->kind = Incoming::kUnknown; return;
    }
  }
};

}  // namespace

std::unique_ptr<Dialect> MakeNativeDialect() { return std::make_unique<NativeDialect>(); }

}  // namespace wsflow
