// ParseJson and JsonParser (core/json.h), the one parser of outside JSON: any bytes, no crash; the
// two agree; what parses serialises (ToJson) to one compact line that parses again to the same value.
#include <cmath>
#include <cstdint>
#include <string>

#include "core/json.h"
#include "fuzz_check.h"

using namespace wsflow;

namespace {
// Equal values, doubles within a relative 1e-15: RapidJSON's default number parsing may be one ulp
// off, so a double can print differently after a round trip without anything being wrong.
bool Same(const JsonValue& a, const JsonValue& b) {
  if (a.IsNumber() && b.IsNumber() && (a.IsDouble() || b.IsDouble())) {
    double x = a.GetDouble(), y = b.GetDouble();
    return x == y || std::fabs(x - y) <= 1e-15 * std::fmax(std::fabs(x), std::fabs(y));
  }
  if (a.GetType() != b.GetType()) return false;
  if (a.IsArray()) {
    if (a.Size() != b.Size()) return false;
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i)
      if (!Same(a[i], b[i])) return false;
    return true;
  }
  if (a.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) return false;
    for (auto i = a.MemberBegin(), j = b.MemberBegin(); i != a.MemberEnd(); ++i, ++j)
      if (!(i->name == j->name) || !Same(i->value, j->value)) return false;
    return true;
  }
  return a == b;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = wsflow_fuzz::Text(data, size);
  static JsonParser parser;  // reused from one input to the next, as a session reuses it per frame
  std::string err, err2;
  bool ok = parser.Parse(text, &err);
  JsonDoc doc;
  bool ok2 = ParseJson(text, &doc, &err2);
  FUZZ_CHECK(ok == ok2, "JsonParser says %d (%s), ParseJson %d (%s)", ok, err.c_str(), ok2, err2.c_str());
  if (!ok) {
    FUZZ_CHECK(!err.empty() && err == err2, "reasons '%s' and '%s'", err.c_str(), err2.c_str());
    return 0;
  }
  FUZZ_CHECK(Same(parser.doc(), doc), "the two parsers built different values");
  std::string line = ToJson(doc);
  FUZZ_CHECK(IsCompactJson(line) && line.find('\n') == std::string::npos, "ToJson is not one compact line");
  JsonDoc again;
  FUZZ_CHECK(ParseJson(line, &again, &err), "ToJson's output does not parse: %s", err.c_str());
  FUZZ_CHECK(Same(doc, again), "the round trip changed the value: %s", line.c_str());
  return 0;
}
