// ParseRecording (src/replay/recording.h): `wsflow replay FILE` reads recordings and saved watch
// output, which may come from anywhere. Any bytes, no crash; --skip-bad never refuses what the
// strict reading takes, nor reads it differently.
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "replay/recording.h"

using namespace wsflow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(wsflow_fuzz::Text(data, size));
  Recording strict, lenient;
  std::string err, err2;
  bool ok = ParseRecording(text, "fuzz", false, &strict, &err);
  bool ok2 = ParseRecording(text, "fuzz", true, &lenient, &err2);
  if (!ok) FUZZ_CHECK(!err.empty(), "refused without a reason");
  if (!ok2) FUZZ_CHECK(!err2.empty(), "refused without a reason");
  if (ok) {
    FUZZ_CHECK(ok2, "--skip-bad refused what the strict reading took: %s", err2.c_str());
    FUZZ_CHECK(strict.events.size() == lenient.events.size() && strict.frames.size() == lenient.frames.size() &&
                   lenient.skipped == 0,
               "--skip-bad read a valid file differently");
  }
  for (Recording* r : {&strict, &lenient}) {
    (void)RecordedOutcome(*r);
    (void)RecordedDialect(*r);
    for (const RecordedEvent& e : r->events)
      FUZZ_CHECK(e.line.find('\n') == std::string::npos, "an event line holds a newline");
  }
  return 0;
}
