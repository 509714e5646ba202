#include "core/byte_size.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace wsflow {

namespace {
std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

bool ParseByteSize(const std::string& text, uint64_t* out, std::string* err) {
  // Digits and one optional decimal point, then the unit: strtod alone would take "inf" or "0x1p3".
  size_t n = 0, dots = 0;
  while (n < text.size() && ((text[n] >= '0' && text[n] <= '9') || text[n] == '.')) dots += text[n++] == '.';
  const char* begin = text.c_str();
  char* end = nullptr;
  double value = std::strtod(begin, &end);
  if (n == 0 || dots > 1 || end != begin + n) {
    *err = "'" + text + "' is not a size (examples: 64MiB, 512KiB, 1048576)";
    return false;
  }
  std::string unit = Lower(end);
  double scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "k" || unit == "kib") scale = 1024.0;
  else if (unit == "m" || unit == "mib") scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "gib") scale = 1024.0 * 1024 * 1024;
  else if (unit == "kb") scale = 1e3;
  else if (unit == "mb") scale = 1e6;
  else if (unit == "gb") scale = 1e9;
  else {
    *err = "'" + text + "' has an unknown unit '" + std::string(end) + "' (use B, KiB, MiB, GiB, kB, MB or GB)";
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
