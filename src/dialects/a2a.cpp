// The video pipeline A2A coordinator (backends.md §3): /ws/workflow/{id}, an info greeting,
// progress frames whose state ends the run, controls answered by control_response or an error,
// and up to 50 buffered frames replayed on every connect (so: de-duplication).
#include "dialects/adapters.h"

namespace wsflow {

namespace {

class A2aDialect : public Dialect {
 public:
  const char* name() const override { return "a2a"; }
  std::string Path(const std::string& run_id) const override { return "/ws/workflow/" + run_id; }
  ResumeKind resume() const override { return ResumeKind::kReplay; }

  bool Attach(const std::string&, int64_t, int64_t, const std::string&, std::vector<std::string>*,
              std::string*) const override {
    return true;  // the path names the workflow
  }
  bool Resume(const std::string&, int64_t, double, const std::string&, std::vector<std::string>*,
              std::string*) const override {
    return true;  // the server replays its buffer by itself
  }
  bool Control(const std::string& type, const std::string& run_id, const std::string&, std::string* frame,
               std::string*) const override {
    *frame = JsonObject({{"type", Quote("control")}, {"action", Quote(type)}, {"workflow_id", Quote(run_id)}});
    return true;
  }

  void Convert(ReceivedFrame& frame, const std::string& run_id, Incoming* out) const override {
    const JsonValue& v = frame.dom();
    std::string_view text = frame.text();
    std::string_view type = GetString(v, "type");
    out->event_type = std::string(type);
    if (type.empty()) {
      out->kind = Incoming::kUnknown;
      return;
    }
    if (type == "info") {
      out->kind = Incoming::kIgnore;
      return;
    }
    if (type == "pong") {
      out->kind = Incoming::kPong;
      return;
    }
    if (type == "heartbeat") {
      out->kind = Incoming::kHeartbeat;
      return;
    }
    if (type == "control_response") {
      std::string_view status = GetString(v, "status");
      std::string action(GetString(v, "action"));
      if (status == "success") {
        out->kind = Incoming::kAck;
        out->confirms = action;
      } else {
        out->kind = Incoming::kError;
        out->message = action + ": " + std::string(status) +
                       (GetString(v, "message").empty() ? "" : " (" + std::string(GetString(v, "message")) + ")");
      }
      return;
    }
    if (type == "error" && !v.HasMember("target_type")) {  // a refusal: no coordinator, bad input
      out->kind = Incoming::kError;
      out->message = std::string(GetString(v, "message", "(no message)"));
      out->error_type = std::string(GetString(v, "error_type"));
      return;
    }
    out->kind = Incoming::kEvent;
    JsonDoc data;
    DataWithout(v, {"type"}, &data);
    std::string_view workflow = GetString(v, "workflow_id");
    BuildEnvelope(&out->envelope, type, GetString(v, "timestamp"), workflow.empty() ? run_id : workflow, "a2a",
                  &data);
    out->dedupe_key = std::string(text);  // replayed frames come back byte for byte
    out->outcome = EndOf(type, &data);
  }

  // A progress frame's state ends the run: failed at the stage "cancelled" is a cancellation.
  Outcome EndOf(std::string_view type, const JsonValue* data) const override {
    if (type != "progress" || !data) return Outcome::kNone;
    std::string_view state = GetString(*data, "state");
    if (state == "completed") return Outcome::kCompleted;
    if (state == "failed") return GetString(*data, "stage") == "cancelled" ? Outcome::kCancelled : Outcome::kFailed;
    return Outcome::kNone;
  }
};

}  // namespace

std::unique_ptr<Dialect> MakeA2aDialect() { return std::make_unique<A2aDialect>(); }

}  // namespace wsflow
