#include "core/duration.h"

#include <cmath>
#include <cstdio>

#include "core/text.h"

namespace wsflow {

bool ParseDuration(const std::string& text, Millis* out, std::string* err) {
  double value = 0;
  std::string unit;
  if (!SplitNumberUnit(text, &value, &unit)) {
    *err = "'" + text + "' is not a duration (examples: 500ms, 2s, 15m, 1h)";
    return false;
  }
  double ms_per_unit = 0;
  if (unit.empty() || unit == "s") ms_per_unit = 1000;
  else if (unit == "ms") ms_per_unit = 1;
  else if (unit == "m" || unit == "min") ms_per_unit = 60000;
  else if (unit == "h") ms_per_unit = 3600000;
  else {
    *err = "'" + text + "' has an unknown unit '" + unit + "' (use ms, s, m or h)";
    return false;
  }
  double ms = value * ms_per_unit;
  if (!std::isfinite(ms) || ms < 0 || ms > 1e15) {
    *err = "'" + text + "' is out of range";
    return false;
  }
  *out = Millis(static_cast<long long>(std::llround(ms)));
  return true;
}

std::string FormatDuration(Millis d) {
  char buf[64];
  long long ms = d.count();
  if (ms < 1000) std::snprintf(buf, sizeof buf, "%lld ms", ms);
  else if (ms < 120000) std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000.0);
  else std::snprintf(buf, sizeof buf, "%.1f min", ms / 60000.0);
  return buf;
}

}  // namespace wsflow
