// Ryx (backends.md §2): /api/workflow/stream, {"action":"execute_workflow"} starts a run, frames
// keyed by "type" (as implemented) or "event" (as documented), no ids, no resume, no heartbeat.
#include "dialects/adapters.h"

namespace wsflow {

namespace {

class RyxDialect : public Dialect {
 public:
  const char* name() const override { return "ryx"; }
  std::string Path(const std::string&) const override { return "/api/workflow/stream"; }
  ResumeKind resume() const override { return ResumeKind::kNone; }

  bool Start(const StartRequest& r, std::vector<std::string>* frames, std::string*) const override {
    std::string model = r.model;
    if (model.empty() && !r.config_json.empty()) {
      JsonDoc c;
      std::string err;
      if (ParseJson(r.config_json, &c, &err)) model = std::string(GetString(c, "model"));
    }
    // The run's config goes along when there is one: ryx ignores it, simulators read it.
    std::string config = r.config_json == "{}" ? "" : r.config_json;
    frames->push_back(JsonObject({{"action", Quote("execute_workflow")},
                                  {"input", Quote(r.task)},
                                  {"model", model.empty() ? "" : Quote(model)},
                                  {"config", config}}));
    return true;
  }
  bool Control(const std::string& type, const std::string&, const std::string&, std::string* frame,
               std::string* err) const override {
    if (type != "cancel") return Unsupported(type.c_str(), err);
    *frame = R"({"action":"cancel_workflow"})";
    return true;
  }

  void Convert(ReceivedFrame& frame, const std::string& run_id, Incoming* out) const override {
    const JsonValue& v = frame.dom();
    std::string_view type = GetString(v, "type", GetString(v, "event"));
    if (type.empty()) {
      out->kind = Incoming::kUnknown;
      return;
    }
    out->event_type = std::string(type);
    if (type == "acknowledged") {  // the answer to anything but a start, e.g. a cancel (after the run)
      out->kind = Incoming::kAck;
      return;
    }
    if (type == "error" && GetString(v, "message") == "Invalid JSON data") {
      out->kind = Incoming::kError;
      out->message = "Invalid JSON data";
      return;
    }
    out->kind = Incoming::kEvent;
    JsonDoc data;
    DataWithout(v, {"type", "event"}, &data);
    BuildEnvelope(&out->envelope, type, GetString(v, "timestamp"), run_id, "ryx", &data);
    out->dedupe_key = std::string(GetString(v, "id"));
    out->outcome = EndOf(type, &data);
  }

  Outcome EndOf(std::string_view type, const JsonValue*) const override {
    if (type == "task_complete" || type == "workflow_complete") return Outcome::kCompleted;
    if (type == "error") return Outcome::kFailed;
    return Outcome::kNone;
  }
};

}  // namespace

std::unique_ptr<Dialect> MakeRyxDialect() { return std::make_unique<RyxDialect>(); }

}  // namespace wsflow
