#include "core/text.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace wsflow {

std::string Count(int64_t n, const char* singular, const char* plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural);
}

size_t EditDistance(std::string_view a, std::string_view b) {
  // Optimal string alignment: three rows are enough.
  std::vector<size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    before.swap(prev);
    prev.swap(cur);
  }
  return prev[b.size()];
}

std::string Nearest(std::string_view typed, const std::vector<std::string>& names) {
  std::string best;
  size_t best_d = 0;
  for (const auto& n : names) {
    size_t d = EditDistance(typed, n);
    if (best.empty() || d < best_d) {
      best = n;
      best_d = d;
    }
  }
  // Near enough: a slip of a key or two, never half the word (git's threshold is similar).
  size_t limit = std::max<size_t>(1, std::min(typed.size(), best.size()) / 3);
  if (!typed.empty() && best.size() >= typed.size() && best.compare(0, typed.size(), typed) == 0)
    return best;  // a prefix: "exec" for execute
  return best_d <= limit ? best : "";
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool SplitNumberUnit(const std::string& text, double* value, std::string* unit) {
  size_t n = 0, dots = 0;
  while (n < text.size() && ((text[n] >= '0' && text[n] <= '9') || text[n] == '.')) dots += text[n++] == '.';
  const char* begin = text.c_str();
  char* end = nullptr;
  double v = std::strtod(begin, &end);
  if (n == 0 || dots > 1 || end != begin + n) return false;  // "." alone, "1.2.3", or an embedded NUL
  *value = v;
  unit->assign(text, n, std::string::npos);
  return true;
}

}  // namespace wsflow
