// CMBAgent / MARS (backends.md §1): the run id is the URL's task id, the first frame {"task",
// "config"} starts the run, events are envelopes without seq, one socket per run, and resume is
// request_state (since, unix seconds) plus de-duplication -- which the real backend refuses.
#include "dialects/adapters.h"
#include "dialects/native.h"

namespace wsflow {

namespace {

class CmbagentDialect : public Dialect {
 public:
  const char* name() const override { return "cmbagent"; }
  std::string Path(const std::string& run_id) const override { return "/ws/" + run_id; }
  ResumeKind resume() const override { return ResumeKind::kRequestState; }
  bool one_socket_per_run() const override { return true; }
  int64_t answer_delay_ms() const override { return 1000; }

  bool Start(const StartRequest& r, std::vector<std::string>* frames, std::string*) const override {
    std::string config = r.config_json.empty() ? "{}" : r.config_json;
    frames->push_back(JsonObject({{"task", Quote(r.task)}, {"config", config}}));
    return true;
  }
  bool Attach(const std::string&, int64_t, int64_t, const std::string&, std::vector<std::string>*,
              std::string* err) const override {
    *err = "attaching to a running run is not supported by the cmbagent dialect: its one socket per run "
           "belongs to the process that started it (a socket without a task is refused); while the run goes on, "
           "steer it through that process";
    return false;
  }
  bool Resume(const std::string& run_id, int64_t, double last_time, const std::string&,
              std::vector<std::string>* frames, std::string*) const override {
    char since[64];
    std::snprintf(since, sizeof since, "%.3f", last_time);  // seconds: milliseconds match nothing
    frames->push_back(JsonObject({{"type", Quote("request_state")}, {"since", since}, {"run_id", Quote(run_id)}}));
    return true;
  }
  bool Control(const std::string& type, const std::string& run_id, const std::string&, std::string* frame,
               std::string*) const override {
    *frame = JsonObject({{"type", Quote(type)}, {"run_id", Quote(run_id)}});
    return true;
  }
  bool Approve(const std::string& run_id, const std::string& approval_id, const std::string& resolution,
               const std::string& feedback, const std::string& modifications, const std::string&,
               std::string* frame, std::string*) const override {
    *frame = native::ResolveApprovalFrame(run_id, approval_id, resolution, feedback, "", modifications);
    return true;
  }

  void Convert(ReceivedFrame& frame, const std::string& run_id, Incoming* out) const override {
    const JsonValue& v = frame.dom();
    std::string_view text = frame.text();
    // The oldest MARS servers keyed their frames by "type".
    std::string_view type = GetString(v, "event_type", GetString(v, "type"));
    if (type.empty()) {
      out->kind = Incoming::kUnknown;
      return;
    }
    out->event_type = std::string(type);
    const JsonValue* data = GetObject(v, "data");
    auto raw_data = v.FindMember("data");  // sometimes a string: kept as {"value": ...}
    const JsonValue* payload = data ? data : raw_data != v.MemberEnd() && !raw_data->value.IsNull() ? &raw_data->value : nullptr;
    if (type == "heartbeat") {
      out->kind = Incoming::kHeartbeat;
    } else if (type == "pong") {
      out->kind = Incoming::kPong;
      return;
    } else if (type == "error") {  // a refusal ("No task provided", "Approval X not found ...")
      out->kind = Incoming::kError;
      out->message = std::string(data ? GetString(*data, "message", "(no message)") : "(no message)");
      out->error_type = std::string(data ? GetString(*data, "error_type") : "");
      return;
    } else {
      out->kind = Incoming::kEvent;
    }
    // dag_*, workflow_started and workflow_completed carry the database run id; key the run by
    // the task id of the URL, which the stream was opened for.
    BuildEnvelope(&out->envelope, type, GetString(v, "timestamp"), run_id, "cmbagent", payload);
    out->dedupe_key = std::string(text);  // request_state re-sends the same frames
    out->outcome = EndOf(type, payload);
  }

  // The legacy `complete` and `result` frames end a run too.
  Outcome EndOf(std::string_view type, const JsonValue* data) const override {
    if (type == "workflow_completed" || type == "complete" || type == "result") return Outcome::kCompleted;
    return native::TerminalOutcomeOfData(type, data);
  }
};

}  // namespace

std::unique_ptr<Dialect> MakeCmbagentDialect() { return std::make_unique<CmbagentDialect>(); }

}  // namespace wsflow
