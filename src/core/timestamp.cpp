#include "core/timestamp.h"

#include <cstdio>
#include <ctime>

namespace wsflow {

std::string IsoTimestamp(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string NowIso() { return IsoTimestamp(std::chrono::system_clock::now()); }

bool ParseIsoTimestamp(const std::string& text, double* unix_seconds) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  double frac = 0;
  const char* rest = text.c_str() + consumed;
  if (*rest == '.') {
    double scale = 0.1;
    for (++rest; *rest >= '0' && *rest <= '9'; ++rest, scale /= 10) frac += (*rest - '0') * scale;
  }
  long offset = 0;
  if (*rest == '+' || *rest == '-') {
    int hh = 0, mm = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &hh, &mm) < 1) return false;
    offset = (hh * 3600L + mm * 60L) * (*rest == '-' ? -1 : 1);
  } else if (*rest != 'Z' && *rest != '\0') {
    return false;
  }
  *unix_seconds = static_cast<double>(timegm(&tm)) - offset + frac;
  return true;
}

}  // namespace wsflow
