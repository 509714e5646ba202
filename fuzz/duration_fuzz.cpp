// Durations (core/duration.h), from flags, the environment and config files: any text is a
// duration or refused with a reason that quotes it; a duration is >= 0 and survives a round trip
// through its count of milliseconds.
#include <cstdint>
#include <string>

#include "core/duration.h"
#include "fuzz_check.h"

using namespace wsflow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(wsflow_fuzz::Text(data, size));
  Millis d(-7);
  std::string err;
  if (!ParseDuration(text, &d, &err)) {
    FUZZ_CHECK(!err.empty() && err.find(text) != std::string::npos, "reason '%s'", err.c_str());
    FUZZ_CHECK(d.count() == -7, "a refused duration changed the output");
    return 0;
  }
  FUZZ_CHECK(d.count() >= 0, "negative duration %lld", static_cast<long long>(d.count()));
  FUZZ_CHECK(!FormatDuration(d).empty(), "no text for %lld ms", static_cast<long long>(d.count()));
  Millis again;
  FUZZ_CHECK(ParseDuration(std::to_string(d.count()) + "ms", &again, &err) && again == d, "round trip of %lld ms",
             static_cast<long long>(d.count()));
  return 0;
}
