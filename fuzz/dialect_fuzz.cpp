// One dialect's frame -> envelope conversion (src/dialects/), built once per dialect with
// WSFLOW_FUZZ_DIALECT set: any frame, no crash; an event's envelope keeps the contract of
// docs/event.schema.json (an object; event_type a string, timestamp YYYY-MM-DDTHH:MM:SS.mmmZ, data
// an object) and prints as a line wsflow can read back (replay, send).
#include <cctype>
#include <cstdint>
#include <memory>
#include <string>

#include "core/json.h"
#include "dialect_adapter.h"
#include "fuzz_check.h"

using namespace wsflow;

namespace {
bool IsoMillis(std::string_view t) {  // YYYY-MM-DDTHH:MM:SS.mmmZ, as wsflow writes it
  const char* shape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (t.size() != std::char_traits<char>::length(shape)) return false;
  for (size_t i = 0; i < t.size(); ++i)
    if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(t[i])) : t[i] != shape[i]) return false;
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<Dialect> dialect = MakeDialect(WSFLOW_FUZZ_DIALECT);
  FUZZ_CHECK(dialect != nullptr, "no dialect %s", WSFLOW_FUZZ_DIALECT);
  static Incoming in;  // reused, as the session reuses one per connection (ConvertFrame resets it)
  if (!wsflow_fuzz::ConvertFrame(*dialect, wsflow_fuzz::Text(data, size), &in)) return 0;
  if (in.kind != Incoming::kEvent || in.passthrough) return 0;  // passthrough: printed as received
  const JsonDoc& env = in.envelope;
  FUZZ_CHECK(env.IsObject(), "an event whose envelope is not an object (type %d)", env.GetType());
  auto type = env.FindMember("event_type");
  FUZZ_CHECK(type != env.MemberEnd() && type->value.IsString(), "no event_type string");
  std::string_view ts = GetString(env, "timestamp");
  FUZZ_CHECK(IsoMillis(ts), "timestamp '%.*s'", static_cast<int>(ts.size()), ts.data());
  FUZZ_CHECK(GetObject(env, "data") != nullptr, "data is not an object");
  std::string line = ToJson(env);
  JsonDoc back;
  std::string err;
  FUZZ_CHECK(ParseJson(line, &back, &err), "the printed envelope does not parse back: %s", err.c_str());
  return 0;
}
