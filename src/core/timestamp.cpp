#include "core/timestamp.h"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace wsflow {

std::string IsoTimestamp(std::chrono::system_clock::time_point t) {
  return IsoTimestampMs(std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

std::string IsoTimestampMs(int64_t ms) {
  long long rem = ((ms % 1000) + 1000) % 1000;  // before 1970 too: -1 ms is 23:59:59.999
  std::time_t secs = static_cast<std::time_t>((ms - rem) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(rem));
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
  if (*rest == '+' || *rest == '-') {  // +HH:MM, +HHMM or +HH
    long sign = *rest++ == '-' ? -1 : 1;
    auto two_digits = [&rest](int* v) {
      if (!std::isdigit(static_cast<unsigned char>(rest[0])) || !std::isdigit(static_cast<unsigned char>(rest[1])))
        return false;
      *v = (rest[0] - '0') * 10 + (rest[1] - '0');
      rest += 2;
      return true;
    };
    int hh = 0, mm = 0;
    if (!two_digits(&hh)) return false;
    if (*rest == ':') {
      ++rest;
      if (!two_digits(&mm)) return false;
    } else if (*rest != '\0' && !two_digits(&mm)) {
      return false;
    }
    offset = (hh * 3600L + mm * 60L) * sign;
  } else if (*rest == 'Z') {
    ++rest;
  }
  if (*rest != '\0') return false;  // nothing may follow the timestamp
  *unix_seconds = static_cast<double>(timegm(&tm)) - offset + frac;
  return true;
}

}  // namespace wsflow
