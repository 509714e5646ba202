#include "core/byte_size.h"

#include <cmath>
#include <cstdio>

#include "core/text.h"

namespace wsflow {

bool ParseByteSize(const std::string& text, uint64_t* out, std::string* err) {
  double value = 0;
  std::string unit_as_typed;
  if (!SplitNumberUnit(text, &value, &unit_as_typed)) {
    *err = "'" + text + "' is not a size (examples: 64MiB, 512KiB, 1048576)";
    return false;
  }
  std::string unit = Lower(unit_as_typed);
  double scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "k" || unit == "kib") scale = 1024.0;
  else if (unit == "m" || unit == "mib") scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "gib") scale = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tib") scale = 1024.0 * 1024 * 1024 * 1024;  // as FormatByteSize may print
  else if (unit == "kb") scale = 1e3;
  else if (unit == "mb") scale = 1e6;
  else if (unit == "gb") scale = 1e9;
  else if (unit == "tb") scale = 1e12;
  else {
    *err = "'" + text + "' has an unknown unit '" + unit_as_typed + "' (use B, KiB, MiB, GiB, TiB, kB, MB, GB or TB)";
    return false;
  }
  double bytes = std::round(value * scale);
  if (!std::isfinite(bytes) || bytes > 1e15) {
    *err = "'" + text + "' is out of range";
    return false;
  }
  *out = static_cast<uint64_t>(bytes);
  return true;
}

std::string FormatByteSize(uint64_t n) {
  static const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (n < 1024) return std::to_string(n) + " B";
  double v = static_cast<double>(n);
  int u = -1;
  uint64_t unit = 1;
  while (u < 3 && n >= unit * 1024) unit *= 1024, ++u;
  char buf[64];
  if (n % unit == 0) std::snprintf(buf, sizeof buf, "%llu %s", static_cast<unsigned long long>(n / unit), units[u]);
  else std::snprintf(buf, sizeof buf, "%.1f %s", v / static_cast<double>(unit), units[u]);
  return buf;
}

}  // namespace wsflow
