#include "replay/recording.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/envelope.h"
#include "core/timestamp.h"
#include "dialects/dialect.h"

namespace wsflow {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void PutStr(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

// A frame goes in as JSON when it is JSON (so jq can read recordings), else as a string.
void Frame(Writer& w, std::string_view frame) {
  JsonDoc d;
  std::string err;
  if (!frame.empty() && ParseJson(frame, &d, &err)) d.Accept(w);
  else PutStr(w, frame);
}
}  // namespace

RecordingWriter::~RecordingWriter() {
  if (file_) std::fclose(file_);
}

bool RecordingWriter::Open(const std::string& path, const RecordingHeader& h, std::string* err) {
  file_ = std::fopen(path.c_str(), "w");
  if (!file_) {
    *err = "cannot write recording " + path + ": " + std::strerror(errno);
    return false;
  }
  start_ = std::chrono::steady_clock::now();
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("wsflow_recording");
  w.Int(kRecordingFormat);
  w.Key("version");
  PutStr(w, WSFLOW_VERSION);
  w.Key("command");
  PutStr(w, h.command);
  w.Key("url");
  PutStr(w, MaskUrlSecrets(h.url));
  w.Key("dialect");
  PutStr(w, h.dialect);
  w.Key("run_id");
  PutStr(w, h.run_id);
  w.Key("started_at");
  PutStr(w, h.started_at.empty() ? NowIso() : h.started_at);
  w.Key("request");
  w.StartObject();
  if (!h.task.empty()) {
    w.Key("task");
    PutStr(w, h.task);
  }
  if (!h.config_json.empty()) {
    w.Key("config");
    Frame(w, h.config_json);
  }
  w.EndObject();
  w.EndObject();
  path_ = path;
  Put(buf.GetString(), buf.GetSize());
  if (error_) {
    *err = "cannot write recording " + path + ": " + std::strerror(error_);
    return false;
  }
  return true;
}

// One whole line, flushed (a killed recorder leaves every line it wrote); the first error is kept.
void RecordingWriter::Put(const char* data, size_t size) {
  if (error_) return;
  errno = 0;
  bool ok = std::fwrite(data, 1, size, file_) == size && std::fputc('\n', file_) != EOF && std::fflush(file_) == 0;
  if (!ok) error_ = errno ? errno : EIO;
  else ++lines_;
}

bool RecordingWriter::Close(std::string* err) {
  if (!file_) return true;
  if (std::fclose(file_) != 0 && !error_) error_ = errno ? errno : EIO;
  file_ = nullptr;
  if (!error_) return true;
  *err = "cannot write --record " + path_ + ": " + std::strerror(error_) + " (" + std::to_string(lines_) +
         (lines_ == 1 ? " line" : " lines") + " written whole)";
  return false;
}

void RecordingWriter::Line(const char* dir, std::string_view frame, std::string_view printed, int exit_status) {
  if (!file_) return;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("dir");
  PutStr(w, dir);
  w.Key("t_ms");
  w.Int64(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count());
  if (exit_status >= 0) {
    w.Key("exit_status");
    w.Int(exit_status);
  } else {
    w.Key("frame");
    Frame(w, frame);
  }
  if (!printed.empty()) {
    w.Key("event");
    Frame(w, printed);
  }
  w.EndObject();
  Put(buf.GetString(), buf.GetSize());
}

void RecordingWriter::Out(std::string_view frame) { Line("out", frame, "", -1); }
void RecordingWriter::In(std::string_view frame, std::string_view printed) { Line("in", frame, printed, -1); }
void RecordingWriter::End(int exit_status) { Line("end", "", "", exit_status); }

bool ParseRecording(const std::string& text, const std::string& name, bool skip_bad, Recording* out,
                    std::string* err) {
  *out = Recording{};
  if (text.empty()) {
    *err = name + ": empty file: not a recording";
    return false;
  }
  size_t line_no = 0, nonempty = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    bool last = nl == std::string::npos;
    std::string line = text.substr(pos, last ? std::string::npos : nl - pos);
    pos = last ? text.size() : nl + 1;
    ++line_no;
    if (line.empty()) continue;
    bool first = ++nonempty == 1;
    JsonDoc d;
    std::string perr;
    bool ok = ParseJson(line, &d, &perr) && d.IsObject();
    auto bad = [&](const std::string& why) {
      if (first && !skip_bad) {  // not cut by a killed recorder: this is not a recording at all
        *err = name + ":1: not a recording (--record) nor saved watch output: " + why;
        return false;
      }
      if (last) {  // cut by a killed recorder: the rest is usable
        out->torn_tail = true;
        return true;
      }
      if (skip_bad) {
        ++out->skipped;
        return true;
      }
      *err = name + ":" + std::to_string(line_no) + ": " + why;
      return false;
    };
    if (!ok) {
      if (!bad(perr.empty() ? "not a JSON object" : "not JSON (" + perr + ")")) return false;
      continue;
    }
    if (line_no == 1 && d.HasMember("wsflow_recording")) {
      if (GetInt(d, "wsflow_recording", 0) != kRecordingFormat) {
        *err = name + ":1: unsupported recording format " + ToJson(d["wsflow_recording"]);
        return false;
      }
      out->has_header = true;
      auto& h = out->header;
      h.command = std::string(GetString(d, "command"));
      h.url = std::string(GetString(d, "url"));
      h.dialect = std::string(GetString(d, "dialect", "native"));
      h.run_id = std::string(GetString(d, "run_id"));
      h.started_at = std::string(GetString(d, "started_at"));
      if (const JsonValue* req = GetObject(d, "request")) {
        h.task = std::string(GetString(*req, "task"));
        if (const JsonValue* cfg = GetObject(*req, "config")) h.config_json = ToJson(*cfg);
      }
      continue;
    }
    if (out->has_header) {
      std::string_view dir = GetString(d, "dir");
      if (dir != "in" && dir != "out" && dir != "end") {
        if (!bad("a recording line needs \"dir\": in, out or end")) return false;
        continue;
      }
      if (dir == "end") {
        out->end_status = static_cast<int>(GetInt(d, "exit_status", -1));
        continue;
      }
      int64_t t_ms = GetInt(d, "t_ms", 0);
      auto f = d.FindMember("frame");
      if (f != d.MemberEnd())
        out->frames.push_back({dir == "in", f->value.IsString() ? f->value.GetString() : ToJson(f->value), t_ms});
      auto ev = d.FindMember("event");
      if (dir == "in" && ev != d.MemberEnd()) {
        EnvelopeFields env;
        std::string why;
        if (!ev->value.IsObject() || !ReadEnvelope(ev->value, &env, &why)) {
          if (!bad("the recorded event is not an envelope (" + why + ")")) return false;
          continue;
        }
        out->events.push_back({ToJson(ev->value), t_ms});
      }
      continue;
    }
    EnvelopeFields env;  // plain `wsflow watch` output: every line an envelope
    std::string why;
    if (!ReadEnvelope(d, &env, &why)) {
      if (!bad("not an event envelope (" + why + ")")) return false;
      continue;
    }
    out->events.push_back({line, 0});
  }
  if (!out->has_header && out->events.empty()) {
    *err = name + ": no events";
    return false;
  }
  return true;
}

Outcome RecordedOutcome(const Recording& r) {
  std::map<std::string, std::unique_ptr<Dialect>, std::less<>> dialects;  // by the events' "dialect"
  for (const auto& e : r.events) {
    JsonDoc d;
    std::string err;
    if (!ParseJson(e.line, &d, &err)) continue;
    std::string_view name = GetString(d, "dialect", "native");  // native envelopes carry none
    auto it = dialects.find(name);
    if (it == dialects.end()) {
      auto d = MakeDialect(std::string(name));
      it = dialects.emplace(std::string(name), d ? std::move(d) : MakeDialect("native")).first;  // unknown: as native
    }
    Outcome o = it->second->EndOf(GetString(d, "event_type"), GetObject(d, "data"));
    if (o != Outcome::kNone) return o;
  }
  return Outcome::kNone;
}

std::string RecordedDialect(const Recording& r) {
  for (const auto& e : r.events) {
    JsonDoc d;
    std::string err;
    if (!ParseJson(e.line, &d, &err)) continue;
    std::string_view dialect = GetString(d, "dialect");
    if (!dialect.empty()) return std::string(dialect);
    break;  // native envelopes carry no dialect
  }
  if (r.header.dialect.empty() || r.header.dialect == "auto") return "native";
  return r.header.dialect;
}

}  // namespace wsflow
