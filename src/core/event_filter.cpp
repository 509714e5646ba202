#include "core/event_filter.h"

namespace wsflow {

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

void EventFilter::Include(const std::vector<std::string>& types) {
  for (const auto& t : types)
    for (auto& item : SplitList(t)) include_.insert(std::move(item));
}

void EventFilter::Exclude(const std::vector<std::string>& types) {
  for (const auto& t : types)
    for (auto& item : SplitList(t)) exclude_.insert(std::move(item));
}

bool EventFilter::Accepts(std::string_view type) const {
  if (!include_.empty() && include_.find(type) == include_.end()) return false;
  return exclude_.find(type) == exclude_.end();
}

std::string JoinList(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

}  // namespace wsflow
