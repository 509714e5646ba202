#include "session/endpoint_search.h"

namespace wsflow {

namespace {
// "/api/workflow/stream" of "ws://h:1/api/workflow/stream": what differs between the tries.
std::string PathOf(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = url.find_first_of("/?#", scheme == std::string::npos ? 0 : scheme + 3);
  return start == std::string::npos ? url : url.substr(start);
}

std::string Origin(const std::string& url) { return url.substr(0, url.size() - PathOf(url).size()); }

// "a", "a and b", "a, b and c"
std::string Listed(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  return s;
}
}  // namespace

EndpointSearch::EndpointSearch(std::string first, std::vector<Endpoint> others) {
  tries_.push_back({"", std::move(first)});
  for (auto& e : others) tries_.push_back(std::move(e));
}

const Endpoint* EndpointSearch::Next(int http_status) {
  if (http_status != 404 || none_found_) return nullptr;
  if (at_ + 1 >= tries_.size()) {
    none_found_ = true;
    return nullptr;
  }
  return &tries_[++at_];
}

std::string EndpointSearch::FoundLine() const {
  std::vector<std::string> refused = {tries_[0].url};
  for (size_t i = 1; i < at_; ++i) refused.push_back(PathOf(tries_[i].url));
  return "wsflow: " + Listed(refused) + " answered 404; " + PathOf(tries_[at_].url) +
         " answered: speaking " + tries_[at_].dialect;
}

std::string EndpointSearch::NoneLine() const {
  std::vector<std::string> paths;
  for (const auto& t : tries_) paths.push_back(PathOf(t.url));
  return "wsflow: no WebSocket endpoint at " + Origin(tries_[0].url) + ": " + Listed(paths) +
         " answered 404 (the paths of the backends that could do this; give the URL's path, or --dialect)";
}

}  // namespace wsflow
