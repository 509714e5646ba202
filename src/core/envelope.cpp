#include "core/envelope.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/timestamp.h"

namespace wsflow {

bool ReadEnvelope(const JsonValue& v, EnvelopeFields* out, std::string* err) {
  *out = EnvelopeFields{};
  if (!v.IsObject()) {
    *err = "not a JSON object";
    return false;
  }
  auto type = v.FindMember("event_type");
  if (type == v.MemberEnd() || !type->value.IsString() || type->value.GetStringLength() == 0) {
    *err = "no string event_type";
    return false;
  }
  out->event_type = {type->value.GetString(), type->value.GetStringLength()};
  auto seq = v.FindMember("seq");
  if (seq != v.MemberEnd()) {
    if (!seq->value.IsInt64() || seq->value.GetInt64() < 1) {
      *err = "seq is not a positive integer";
      return false;
    }
    out->seq = seq->value.GetInt64();
  }
  auto run = v.FindMember("run_id");
  if (run != v.MemberEnd() && !run->value.IsNull()) {
    if (!run->value.IsString()) {
      *err = "run_id is not a string";
      return false;
    }
    out->run_id = {run->value.GetString(), run->value.GetStringLength()};
  }
  out->timestamp = GetString(v, "timestamp");
  return true;
}

namespace {
void Key(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* k) { w.Key(k); }
void StrVal(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
}  // namespace

std::string EnvelopeLine(const EnvelopeParts& p) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  Key(w, "event_type");
  StrVal(w, p.event_type);
  Key(w, "timestamp");
  if (p.timestamp.empty()) StrVal(w, NowIso());
  else StrVal(w, p.timestamp);
  if (!p.run_id.empty()) {
    Key(w, "run_id");
    StrVal(w, p.run_id);
  }
  if (p.seq >= 0) {
    Key(w, "seq");
    w.Int64(p.seq);
  }
  if (!p.event_id.empty()) {
    Key(w, "event_id");
    StrVal(w, p.event_id);
  }
  if (!p.session_id.empty()) {
    Key(w, "session_id");
    StrVal(w, p.session_id);
  }
  if (p.client_origin) {
    Key(w, "origin");
    StrVal(w, "client");
  }
  if (!p.dialect.empty()) {
    Key(w, "dialect");
    StrVal(w, p.dialect);
  }
  Key(w, "data");
  if (p.data) p.data->Accept(w);
  else {
    w.StartObject();
    w.EndObject();
  }
  if (p.raw) {
    Key(w, "raw");
    p.raw->Accept(w);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

// What the backend said about a run that failed or was cancelled: data.error (a string or an
// object with a message), else data.message, else data.reason.
std::string EndMessage(const JsonValue& envelope) {
  auto d = envelope.FindMember("data");
  if (d == envelope.MemberEnd() || !d->value.IsObject()) return "";
  const JsonValue& data = d->value;
  auto e = data.FindMember("error");
  if (e != data.MemberEnd()) {
    if (e->value.IsString()) return e->value.GetString();
    if (e->value.IsObject() && !GetString(e->value, "message").empty()) return std::string(GetString(e->value, "message"));
  }
  for (const char* k : {"message", "reason"})
    if (!GetString(data, k).empty()) return std::string(GetString(data, k));
  return "";
}

}  // namespace wsflow
