// FrameScanner (core/frame_scan.h), the one-pass scan of every received frame: any bytes, no crash,
// and it judges a frame exactly as the DOM parser does (valid or not, and each field it pulls out),
// since routing reads the scan while filters and dialects read the DOM.
#include <cstdint>
#include <string>

#include "core/frame_scan.h"
#include "core/json.h"
#include "fuzz_check.h"

using namespace wsflow;

namespace {
const JsonValue* Member(const JsonDoc& d, const char* key) {
  auto it = d.FindMember(key);  // the first of duplicate members
  return it == d.MemberEnd() ? nullptr : &it->value;
}

void Same(std::string_view scanned, const JsonDoc& d, const char* key) {
  std::string_view dom = GetString(d, key);
  FUZZ_CHECK(scanned == dom, "%s: scan '%.*s', DOM '%.*s'", key, int(scanned.size()), scanned.data(), int(dom.size()),
             dom.data());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = wsflow_fuzz::Text(data, size);
  static FrameScanner scanner;  // reused, as the session reuses it
  std::string err, err2;
  bool ok = scanner.Scan(text, &err);
  JsonDoc d;
  bool ok2 = ParseJson(text, &d, &err2);
  FUZZ_CHECK(ok == ok2, "scan %d (%s), ParseJson %d (%s)", ok, err.c_str(), ok2, err2.c_str());
  const FrameFields& f = scanner.fields();
  if (!ok) {
    FUZZ_CHECK(!err.empty() && !f.object && f.seq == -1, "a refused frame left fields set");
    return 0;
  }
  // One way only (core/frame_scan.cpp): a string with escapes may make a compact frame look spaced
  // (it is then re-serialised), never a spaced frame compact.
  FUZZ_CHECK(!f.compact || IsCompactJson(text), "judged compact, IsCompactJson says spaced");
  FUZZ_CHECK(f.object == d.IsObject(), "object %d", f.object);
  if (!d.IsObject()) {
    FUZZ_CHECK(!f.has_seq && !f.has_data && !f.has_event_type && f.event_type.empty(), "fields of a non-object");
    return 0;
  }
  Same(f.event_type, d, "event_type");
  Same(f.type, d, "type");
  Same(f.run_id, d, "run_id");
  Same(f.timestamp, d, "timestamp");
  Same(f.request_id, d, "request_id");
  const JsonValue* seq = Member(d, "seq");
  const JsonValue* run_id = Member(d, "run_id");
  const JsonValue* dat = Member(d, "data");
  FUZZ_CHECK(f.has_seq == (seq != nullptr), "has_seq %d", f.has_seq);
  int64_t want = seq && seq->IsInt64() && seq->GetInt64() >= 1 ? seq->GetInt64() : -1;
  FUZZ_CHECK(f.seq == want, "seq %lld, DOM %lld", static_cast<long long>(f.seq), static_cast<long long>(want));
  FUZZ_CHECK(f.has_event_type == d.HasMember("event_type"), "has_event_type %d", f.has_event_type);
  FUZZ_CHECK(f.has_data == (dat != nullptr), "has_data %d", f.has_data);
  FUZZ_CHECK(f.data_object == (dat && dat->IsObject()), "data_object %d", f.data_object);
  bool bad = run_id && !run_id->IsString() && !run_id->IsNull();
  FUZZ_CHECK(f.run_id_bad == bad, "run_id_bad %d, DOM %d", f.run_id_bad, bad);
  return 0;
}
