// --dialect auto with a URL without a path: the run is looked for at wsflow's own path (/ws/RUN)
// first, and when that answers 404, at the documented paths of the other backends that can do
// what the command asks (backends.md: ryx /api/workflow/stream and chat /ws/chat start runs; a2a
// /ws/workflow/ID is watched), one after the other, before giving up. A backend's path names its
// dialect. Pure: the session's handler asks it where to go next and what to say.
#pragma once

#include <string>
#include <vector>

namespace wsflow {

struct Endpoint {
  std::string dialect;  ///< the dialect its path names
  std::string url;
};

class EndpointSearch {
 public:
  /// `first`: the URL tried first (wsflow's own path); `others`: where to look next, in order.
  EndpointSearch(std::string first, std::vector<Endpoint> others);

  /// The current URL was refused with `http_status` before any connection opened: the next
  /// endpoint to try (only after a 404), or null.
  const Endpoint* Next(int http_status);
  /// An endpoint other than the first is being tried.
  bool moved() const { return at_ > 0; }
  /// Every endpoint answered 404.
  bool none_found() const { return none_found_; }

  /// Once a moved-to endpoint answered: "wsflow: ws://H:P/ws/r-1 answered 404; /api/workflow/stream
  /// answered: speaking ryx".
  std::string FoundLine() const;
  /// When none was found: the line that gives up, naming every path tried.
  std::string NoneLine() const;

 private:
  std::vector<Endpoint> tries_;  ///< [0]: the first URL
  size_t at_ = 0;
  bool none_found_ = false;
};

}  // namespace wsflow
