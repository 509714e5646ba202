// The agent orchestration event bus (backends.md §4): subscribe by executionId (acknowledged
// by a pong), events wrapped as {"type":"event","event":{...}}, no replay, no controls.
#include "dialects/adapters.h"

namespace wsflow {

namespace {

class AladdinDialect : public Dialect {
 public:
  const char* name() const override { return "aladdin"; }
  std::string Path(const std::string&) const override { return "/"; }
  ResumeKind resume() const override { return ResumeKind::kNone; }

  bool Attach(const std::string& run_id, int64_t, int64_t, const std::string&, std::vector<std::string>* frames,
              std::string*) const override {
    frames->push_back(JsonObject({{"type", Quote("subscribe")}, {"executionId", Quote(run_id)}}));
    return true;
  }
  bool Resume(const std::string& run_id, int64_t since, double /*t*/, const std::string& rid,
              std::vector<std::string>* frames, std::string* err) const override {
    return Attach(run_id, since, -1, rid, frames, err);  // live events again; the gap is lost
  }

  void Convert(ReceivedFrame& frame, const std::string& run_id, Incoming* out) const override {
    const JsonValue& v = frame.dom();
    std::string_view type = GetString(v, "type");
    out->event_type = std::string(type);
    if (type == "ping") {
      out->kind = Incoming::kHeartbeat;
      return;
    }
    if (type == "pong") {  // also the acknowledgement of a subscribe
      out->kind = Incoming::kPong;
      return;
    }
    const JsonValue* ev = GetObject(v, "event");
    if (type != "event" || !ev || GetString(*ev, "type").empty()) {
      out->kind = Incoming::kUnknown;
      return;
    }
    std::string_view id = GetString(v, "executionId", GetString(*ev, "executionId", GetString(*ev, "conversationId")));
    if (!run_id.empty() && run_id != "all" && !id.empty() && id != run_id &&
        GetString(*ev, "conversationId") != run_id) {
      out->kind = Incoming::kIgnore;  // another execution on a shared connection
      return;
    }
    out->kind = Incoming::kEvent;
    out->event_type = std::string(GetString(*ev, "type"));
    std::string_view event_id = GetString(*ev, "id");
    BuildEnvelope(&out->envelope, out->event_type, GetString(*ev, "timestamp", GetString(v, "timestamp")),
                  id.empty() ? run_id : id, "aladdin", ev, event_id);
    // The same event reaches a client subscribed to an execution and its conversation twice.
    out->dedupe_key = event_id.empty() ? ToJson(*ev) : std::string(event_id);
    out->outcome = EndOf(out->event_type, ev);
  }

  // An error the bus does not call recoverable ends the run.
  Outcome EndOf(std::string_view type, const JsonValue* data) const override {
    if (type == "orchestration-complete") return Outcome::kCompleted;
    if (type == "error") {
      const JsonValue* e = data ? GetObject(*data, "error") : nullptr;
      if (!e || !GetBool(*e, "recoverable", false)) return Outcome::kFailed;
    }
    return Outcome::kNone;
  }
};

}  // namespace

std::unique_ptr<Dialect> MakeAladdinDialect() { return std::make_unique<AladdinDialect>(); }

}  // namespace wsflow
