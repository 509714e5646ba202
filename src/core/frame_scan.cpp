#include "core/frame_scan.h"

#include <rapidjson/reader.h>

#include <cmath>
#include <cstring>

#include "core/json.h"

namespace wsflow {

struct FrameScanner::Handler {
  enum Key { kOther, kEventType, kType, kRunId, kTimestamp, kRequestId, kSeq, kData };
  FrameScanner* s = nullptr;
  // White space outside strings, found as the parse goes. In situ, a string handed to String or
  // Key starts right after its opening quote, and it was unescaped in place: without escapes its
  // closing quote is right after its `n` bytes. The stretch from there to the next string's
  // opening quote (punctuation, numbers, literals) is looked at. A string with escapes ends later
  // than that estimate, so the look may take in its tail: at worst a compact frame is judged
  // spaced (and re-serialised), never the other way round.
  const char* outside = nullptr;  // where the stretch after the last string began
  bool spaced = false;
  void Between(const char* until) {
    for (const char* p = outside; p < until && !spaced; ++p)
      spaced = *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t';
  }
  void StringAt(const char* str, rapidjson::SizeType n) {
    Between(str - 1);
    outside = str + n + 1;
  }
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
  // In-situ: `str` points into the scanner's copy of the frame, unescaped in place.
  bool String(const char* str, rapidjson::SizeType n, bool) {
    if (HasSurrogate(str, n)) return surrogate = true, false;  // as ParseJson
    StringAt(str, n);
    if (!Take()) return true;
    FrameFields& f = s->fields_;
    std::string_view v(str, n);
    switch (key) {
      case kEventType: f.event_type = v; f.has_event_type = true; break;
      case kType: f.type = v; break;
      case kRunId: f.run_id = v; break;
      case kTimestamp: f.timestamp = v; break;
      case kRequestId: f.request_id = v; break;
      default: Note(key); break;
    }
    return true;
  }
  bool Key(const char* str, rapidjson::SizeType n, bool) {
    if (HasSurrogate(str, n)) return surrogate = true, false;
    StringAt(str, n);
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

bool FrameScanner::Scan(std::string_view text, std::string* err, bool validate_utf8) {
  fields_ = FrameFields{};
  Handler& h = *handler_;
  h.depth = 0;
  h.key = Handler::kOther;
  h.seen = 0;
  h.too_deep = false;
  h.too_big = false;
  h.surrogate = false;
  // An in-situ parse of a copy: strings are unescaped where they are, never copied again, and
  // RapidJSON's SSE2 scanning applies (it reads aligned blocks up to 15 bytes past the end: the
  // copy keeps that much room).
  if (copy_.capacity() > (1u << 20) && text.size() < (1u << 20)) std::string().swap(copy_);  // after a huge frame
  copy_.reserve(text.size() + 32);
  copy_.assign(text.data(), text.size());
  rapidjson::InsituStringStream is(&copy_[0]);
  h.outside = copy_.data();
  h.spaced = false;
  // Recursive descent is faster than the iterative parser, and safe here: the handler refuses
  // the 129th level before the parser goes deeper.
  rapidjson::Reader reader;
  rapidjson::ParseResult r =
      validate_utf8 ? reader.Parse<rapidjson::kParseInsituFlag | rapidjson::kParseValidateEncodingFlag>(is, h)
                    : reader.Parse<rapidjson::kParseInsituFlag>(is, h);
  if (!r.IsError() && is.Tell() < text.size()) r.Set(rapidjson::kParseErrorDocumentRootNotSingular, is.Tell());
  if (r.IsError()) {
    if (h.too_big) r.Set(rapidjson::kParseErrorNumberTooBig, r.Offset());
    if (h.surrogate) r.Set(rapidjson::kParseErrorStringUnicodeSurrogateInvalid, r.Offset());
    if (err) *err = JsonErrorText(text, r.Code(), r.Offset(), h.too_deep);
    fields_ = FrameFields{};
    return false;
  }
  h.Between(copy_.data() + text.size());
  fields_.compact = !h.spaced;
  return true;
}

}  // namespace wsflow
