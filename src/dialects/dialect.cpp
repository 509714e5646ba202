#include "dialects/dialect.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>

#include "core/timestamp.h"
#include "dialects/adapters.h"
#include "dialects/native.h"

namespace wsflow {

void Incoming::Reset() {
  kind = kUnknown;
  passthrough = false;
  envelope.SetNull();
  arena->Clear();
  for (auto* str : {&event_type, &run_id, &dedupe_key, &request_id, &confirms, &message, &error_type, &state})
    str->clear();
  seq = last_seq = from_seq = -1;
  outcome = run_outcome = Outcome::kNone;
}

Outcome Dialect::EndOf(std::string_view event_type, const JsonValue* data) const {
  return native::TerminalOutcomeOfData(event_type, data);
}

bool Dialect::Unsupported(const char* what, std::string* err) const {
  *err = std::string(what) + " is not supported by the " + name() + " dialect";
  return false;
}

bool Dialect::Start(const StartRequest&, std::vector<std::string>*, std::string* err) const {
  return Unsupported("starting a run", err);
}
bool Dialect::Attach(const std::string&, int64_t, int64_t, const std::string&, std::vector<std::string>*,
                     std::string* err) const {
  return Unsupported("attaching to a running run", err);
}
bool Dialect::Resume(const std::string&, int64_t, double, const std::string&, std::vector<std::string>*,
                     std::string* err) const {
  return Unsupported("resuming a stream", err);
}
bool Dialect::Control(const std::string& type, const std::string&, const std::string&, std::string*,
                      std::string* err) const {
  return Unsupported(type.c_str(), err);
}
bool Dialect::Approve(const std::string&, const std::string&, const std::string&, const std::string&,
                      const std::string&, const std::string&, std::string*, std::string* err) const {
  return Unsupported("answering approvals", err);
}

std::unique_ptr<Dialect> MakeDialect(const std::string& name) {
  if (name == "native") return MakeNativeDialect();
  if (name == "cmbagent") return MakeCmbagentDialect();
  if (name == "ryx") return MakeRyxDialect();
  if (name == "a2a") return MakeA2aDialect();
  if (name == "aladdin") return MakeAladdinDialect();
  if (name == "chat") return MakeChatDialect();
  return nullptr;
}

const std::vector<std::string>& DialectNames() {
  static const std::vector<std::string> names = {"native", "cmbagent", "ryx", "a2a", "aladdin", "chat"};
  return names;
}

std::string DialectFromPath(const std::string& path) {
  if (path.rfind("/api/workflow/stream", 0) == 0) return "ryx";
  if (path.rfind("/ws/workflow/", 0) == 0) return "a2a";
  if (path.rfind("/ws/chat", 0) == 0) return "chat";
  return "";
}

std::string DialectFromSilentClose(const std::string& path) {
  bool task_path = path.rfind("/ws/", 0) == 0 && path.size() > 4 && path.find('/', 4) == std::string::npos;
  return task_path && DialectFromPath(path).empty() ? "cmbagent" : "";
}

std::string DialectFromFrame(const JsonValue& f, const std::string& our_request_id) {
  if (!f.IsObject()) return "";
  std::string_view event_type = GetString(f, "event_type");
  if (!event_type.empty()) {
    // Native frames carry seq, or echo our request id (acks, errors, pongs); MARS frames neither.
    if (f.HasMember("seq") || (!our_request_id.empty() && GetString(f, "request_id") == our_request_id) ||
        event_type == "ack")
      return "native";
    return "cmbagent";
  }
  std::string_view type = GetString(f, "type");
  if (type == "info" && f.HasMember("client_id")) return "a2a";
  if (type == "ping" && f.HasMember("timestamp")) return "aladdin";
  if (type == "event" && f.HasMember("event")) return "aladdin";
  if (type == "status") {
    const JsonValue* data = GetObject(f, "data");
    if (data && GetString(*data, "status") == "connected") return "chat";
  }
  if (type == "acknowledged" || (type == "error" && GetString(f, "message") == "Invalid JSON data")) return "ryx";
  if (type == "step_start" || type == "task_complete") return "ryx";
  if (!GetString(f, "event").empty()) return "ryx";  // the documented ryx shape
  return "";
}

void BuildEnvelope(JsonDoc* out, std::string_view type, std::string_view timestamp, std::string_view run_id,
                   std::string_view dialect, const JsonValue* data, std::string_view event_id) {
  out->SetObject();
  auto& a = out->GetAllocator();
  out->AddMember("event_type", Str(type, a), a);
  out->AddMember("timestamp", Str(NormalizeTimestamp(timestamp), a), a);
  if (!run_id.empty()) out->AddMember("run_id", Str(run_id, a), a);
  if (!event_id.empty()) out->AddMember("event_id", Str(event_id, a), a);
  out->AddMember("dialect", Str(dialect, a), a);
  if (data && data->IsObject()) out->AddMember("data", JsonValue(*data, a), a);
  else if (data) {
    JsonValue wrapped(rapidjson::kObjectType);
    wrapped.AddMember("value", JsonValue(*data, a), a);
    out->AddMember("data", wrapped, a);
  } else {
    out->AddMember("data", JsonValue(rapidjson::kObjectType), a);
  }
}

std::string NormalizeTimestamp(std::string_view ts) {
  double secs = 0;
  // Years 0000-9999 only, as the envelope's YYYY-... has room for; not through a nanosecond
  // time_point, which overflowed (undefined behaviour) outside about 1678-2261 (found by fuzz/dialect_*).
  constexpr double kYear0 = -62167219200.0, kYear10000 = 253402300800.0;
  if (!ts.empty() && ParseIsoTimestamp(std::string(ts), &secs) && secs >= kYear0 && secs < kYear10000) {
    return IsoTimestampMs(std::llround(secs * 1000.0));  // rounded: .123 is 0.12299999... as a double
  }
  return NowIso();
}

void DataWithout(const JsonValue& frame, std::initializer_list<const char*> drop, JsonDoc* out) {
  out->SetObject();
  if (!frame.IsObject()) return;
  auto& a = out->GetAllocator();
  for (auto& m : frame.GetObject()) {
    bool skip = false;
    for (const char* d : drop) skip = skip || m.name == d;
    if (!skip) out->AddMember(JsonValue(m.name, a), JsonValue(m.value, a), a);
  }
}

}  // namespace wsflow
