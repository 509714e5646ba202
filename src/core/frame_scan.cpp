#include "core/frame_scan.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <cmath>
#include <cstring>

#include "core/json.h"

namespace wsflow {
namespace {
// The frame's bytes, with a note of white space met outside strings (see SkipWhitespace below).
struct ScanStream {
  typedef char Ch;
  const char* src;
  const char* begin;
  const char* end;
  bool spaced = false;
  Ch Peek() const { return src == end ? '\0' : *src; }
  Ch Take() { return src == end ? '\0' : *src++; }
  size_t Tell() const { return static_cast<size_t>(src - begin); }
  Ch* PutBegin() { return nullptr; }
  void Put(Ch) {}
  void Flush() {}
  size_t PutEnd(Ch*) { return 0; }
};
}  // namespace
}  // namespace wsflow

namespace rapidjson {
// RapidJSON skips white space outside strings only here: noting it tells a compact frame (printed
// as it came) from one that must be re-serialised, in the same pass.
template <>
inline void SkipWhitespace(wsflow::ScanStream& is) {
  while (is.src != is.end && (*is.src == ' ' || *is.src == '\n' || *is.src == '\r' || *is.src == '\t')) {
    is.spaced = true;
    ++is.src;
  }
}
}  // namespace rapidjson

namespace wsflow {

struct FrameScanner::Handler {
  enum Key { kOther, kEventType, kType, kRunId, kTimestamp, kRequestId, kSeq, kData };
  FrameScanner* s = nullptr;
  int depth = 0;
  Key key = kOther;
  unsigned seen = 0;  // keys already taken (the first of duplicate members counts, as FindMember)
  bool too_deep = false;
  bool too_big = false;
  bool surrogate = false;

  static Key Lookup(const char* k, rapidjson::SizeType n) {
    switch (n) {
      case 3: return std::memcmp(k, "seq", 3) == 0 ? kSeq : kOther;
      case 4: return std::memcmp(k, "type", 4) == 0 ? kType : std::memcmp(k, "data", 4) == 0 ? kData : kOther;
      case 6: return std::memcmp(k, "run_id", 6) == 0 ? kRunId : kOther;
      case 9: return std::memcmp(k, "timestamp", 9) == 0 ? kTimestamp : kOther;
      case 10: return std::memcmp(k, "event_type", 10) == 0 ? kEventType : std::memcmp(k, "request_id", 10) == 0 ? kRequestId : kOther;
      default: return kOther;
    }
  }
  // The value of a top-level member: true when it is the first with its key.
  bool Take() {
    if (depth != 1 || key == kOther || (seen & (1u << key))) return false;
    seen |= 1u << key;
    return true;
  }
  void Note(Key k) {
    FrameFields& f = s->fields_;
    if (k == kSeq) f.has_seq = true;
    if (k == kData) f.has_data = true;
    if (k == kEventType) f.has_event_type = true;
    if (k == kRunId) f.run_id_bad = true;  // not a string, not null
  }
  bool Scalar() {
    if (Take()) Note(key);
    return true;
  }
  bool Integer(int64_t v) {
    if (!Take()) return true;
    Note(key);
    if (key == kSeq && v >= 1) s->fields_.seq = v;
    return true;
  }
  bool Null() {
    if (Take() && key != kRunId) Note(key);
    return true;
  }
  bool Bool(bool) { return Scalar(); }
  bool Int(int v) { return Integer(v); }
  bool Uint(unsigned v) { return Integer(v); }
  bool Int64(int64_t v) { return Integer(v); }
  bool Uint64(uint64_t v) { return v <= static_cast<uint64_t>(INT64_MAX) ? Integer(static_cast<int64_t>(v)) : Scalar(); }
  bool Double(double d) { return std::isfinite(d) ? Scalar() : (too_big = true, false); }  // as ParseJson
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return Scalar(); }
  bool String(const char* str, rapidjson::SizeType n, bool) {
    if (HasSurrogate(str, n)) return surrogate = true, false;  // as ParseJson
    if (!Take()) return true;
    std::string* into = nullptr;
    switch (key) {
      case kEventType: into = &s->event_type_; s->fields_.has_event_type = true; break;
      case kType: into = &s->type_; break;
      case kRunId: into = &s->run_id_; break;
      case kTimestamp: into = &s->timestamp_; break;
      case kRequestId: into = &s->request_id_; break;
      default: Note(key); return true;
    }
    into->assign(str, n);
    return true;
  }
  bool Key(const char* str, rapidjson::SizeType n, bool) {
    if (HasSurrogate(str, n)) return surrogate = true, false;
    if (depth == 1) key = Lookup(str, n);
    return true;
  }
  bool Enter(bool object) {
    if (depth == 0) s->fields_.object = object;
    if (Take()) {
      Note(key);
      if (key == kData && object) s->fields_.data_object = true;
    }
    if (++depth <= kMaxJsonDepth) return true;
    too_deep = true;
    return false;
  }
  bool StartObject() { return Enter(true); }
  bool StartArray() { return Enter(false); }
  bool EndObject(rapidjson::SizeType) { return --depth, true; }
  bool EndArray(rapidjson::SizeType) { return --depth, true; }
};

FrameScanner::FrameScanner() : handler_(new Handler) { handler_->s = this; }
FrameScanner::~FrameScanner() { delete handler_; }

bool FrameScanner::Scan(std::string_view text, std::string* err) {
  fields_ = FrameFields{};
  for (auto* s : {&event_type_, &type_, &run_id_, &timestamp_, &request_id_}) s->clear();
  Handler& h = *handler_;
  h.depth = 0;
  h.key = Handler::kOther;
  h.seen = 0;
  h.too_deep = false;
  h.too_big = false;
  h.surrogate = false;
  ScanStream is{text.data(), text.data(), text.data() + text.size()};
  rapidjson::Reader reader;
  rapidjson::ParseResult r =
      reader.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(is, h);
  if (!r.IsError() && is.Tell() < text.size()) r.Set(rapidjson::kParseErrorDocumentRootNotSingular, is.Tell());
  if (r.IsError()) {
    if (err) {
      *err = h.too_deep  ? "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"
             : h.too_big   ? std::string(rapidjson::GetParseError_En(rapidjson::kParseErrorNumberTooBig))
             : h.surrogate ? std::string(rapidjson::GetParseError_En(rapidjson::kParseErrorStringUnicodeSurrogateInvalid))
                           : std::string(rapidjson::GetParseError_En(r.Code()));
      *err += " at byte " + std::to_string(r.Offset());
    }
    fields_ = FrameFields{};
    return false;
  }
  fields_.compact = !is.spaced;
  fields_.event_type = event_type_;
  fields_.type = type_;
  fields_.run_id = run_id_;
  fields_.timestamp = timestamp_;
  fields_.request_id = request_id_;
  return true;
}

}  // namespace wsflow
