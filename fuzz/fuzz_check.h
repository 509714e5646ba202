// FUZZ_CHECK(cond, fmt, ...): an invariant of the code under test. A broken one prints why and
// aborts, so libFuzzer keeps the input as a crash, like a sanitizer report.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(cond, ...)                                      \
  do {                                                             \
    if (!(cond)) {                                                 \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s: ", #cond);      \
      std::fprintf(stderr, __VA_ARGS__);                           \
      std::fputc('\n', stderr);                                    \
      std::abort();                                                \
    }                                                              \
  } while (0)

namespace wsflow_fuzz {
inline std::string_view Text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}
}  // namespace wsflow_fuzz
