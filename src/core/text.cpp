#include "core/text.h"

#include <algorithm>

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

}  // namespace wsflow
