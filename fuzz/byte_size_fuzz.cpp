// Sizes (core/byte_size.h), from --max-frame-size, WSFLOW_MAX_FRAME_SIZE and config files: any text
// is a size or refused with a reason that quotes it; a size is at most 1e15 bytes, reads back from
// its count of bytes, and a whole-unit FormatByteSize ("64 MiB") reads back to the same size.
#include <cstdint>
#include <string>

#include "core/byte_size.h"
#include "fuzz_check.h"

using namespace wsflow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(wsflow_fuzz::Text(data, size));
  uint64_t n = 7;
  std::string err;
  if (!ParseByteSize(text, &n, &err)) {
    FUZZ_CHECK(!err.empty() && err.find(text) != std::string::npos, "reason '%s'", err.c_str());
    FUZZ_CHECK(n == 7, "a refused size changed the output");
    return 0;
  }
  FUZZ_CHECK(n <= 1000000000000000ULL, "%llu bytes is beyond the bound", static_cast<unsigned long long>(n));
  uint64_t again = 0;
  FUZZ_CHECK(ParseByteSize(std::to_string(n), &again, &err) && again == n, "round trip of %llu bytes",
             static_cast<unsigned long long>(n));
  std::string shown = FormatByteSize(n);
  FUZZ_CHECK(!shown.empty(), "no text for %llu bytes", static_cast<unsigned long long>(n));
  if (shown.find('.') == std::string::npos) {  // "64 MiB": exact, so it must read back whole
    std::string typed = shown;
    typed.erase(typed.find(' '), 1);
    FUZZ_CHECK(ParseByteSize(typed, &again, &err) && again == n, "'%s' reads back as %llu, not %llu", typed.c_str(),
               static_cast<unsigned long long>(again), static_cast<unsigned long long>(n));
  }
  return 0;
}
