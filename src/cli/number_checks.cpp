#include "cli/number_checks.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace wsflow {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Plain(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

bool IsNumericType(const CLI::Option* o, bool* integer, bool* is_unsigned) {
  std::string t = o->get_type_name();
  t = t.substr(0, t.find(':'));
  // "N" and "NUM" are the names the help gives INT and FLOAT; an option may set them itself.
  *integer = t == "INT" || t == "UINT" || t == "N";
  *is_unsigned = t == "UINT";
  return *integer || t == "FLOAT" || t == "NUM";
}

CLI::Validator Check(double lo, double hi, bool integer, const std::string& name) {
  CLI::Validator v([lo, hi, integer](std::string& text) { return NumberProblem(text, lo, hi, integer); }, "", name);
  return v;
}
}  // namespace

std::string NumberProblem(const std::string& text, double lo, double hi, bool integer) {
  const char* s = text.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s, &end);
  bool number = !text.empty() && end && *end == '\0' && !std::isspace(static_cast<unsigned char>(text[0])) &&
                std::isfinite(v) && errno != ERANGE;
  if (!number) return "must be a number";
  if (integer && v != std::floor(v)) return "must be a whole number";
  if (v >= lo && v <= hi) return "";
  if (hi == kInf) {
    if (lo == 0) return "must be 0 or more";
    if (lo > 0 && lo < 1) return integer ? "must be 1 or more" : "must be more than 0";
    return "must be " + Plain(lo) + " or more";
  }
  return "must be between " + Plain(lo) + " and " + Plain(hi);
}

CLI::Validator Between(double lo, double hi, bool integer) { return Check(lo, hi, integer, "BETWEEN"); }

void UseShortNumberChecks(CLI::App* app) {
  for (CLI::Option* o : app->get_options()) {
    bool integer = false, is_unsigned = false;
    bool numeric = IsNumericType(o, &integer, &is_unsigned);
    bool checked = false;
    for (int i = 0;; ++i) {
      CLI::Validator* v = nullptr;
      try {
        v = o->get_validator(i);
      } catch (const CLI::OptionNotFound&) {
        break;
      }
      // CLI11 2.1 keeps "NONNEGATIVE" as the description of its check, later versions as its name.
      std::string name = v->get_name().empty() ? v->get_description() : v->get_name();
      if (name == "NONNEGATIVE") {
        v->operation([integer](std::string& t) { return NumberProblem(t, 0, kInf, integer); });
      } else if (name == "POSITIVE") {
        v->operation([integer](std::string& t) {
          return NumberProblem(t, integer ? 1 : std::numeric_limits<double>::min(), kInf, integer);
        });
      }
      checked = true;
    }
    if (!checked && numeric) o->check(Check(is_unsigned ? 0 : -kInf, kInf, integer, "NUMBER"));
  }
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) UseShortNumberChecks(sub);
}

}  // namespace wsflow
