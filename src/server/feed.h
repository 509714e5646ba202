// What a connection follows: a run's events (native) or the frames its backend sends (dialects),
// read by position so that every watcher keeps only a cursor, never a copy.
//
// Thread contract: the server's loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wsflow::serve {

/// `replay --serve`: lines go out at the pace they were recorded.
struct Pacing {
  std::vector<int64_t> offsets_ms;  ///< when each line happened, from the recording's start
  double speed = 0;                 ///< 1: as recorded, 2: twice as fast; 0: no pacing
  bool loop = false;                ///< from the start again, a second after the end
};

class Feed {
 public:
  virtual ~Feed() = default;
  /// The run's key (for messages).
  virtual const std::string& key() const = 0;
  virtual size_t size() const = 0;
  /// Line `i` (< size()); the view is valid until the next call on this feed. False with a
  /// reason when it cannot be read (a damaged data dir).
  virtual bool Line(size_t i, std::string_view* out, std::string* err) = 0;
  /// Nothing will be appended any more.
  virtual bool done() const = 0;
  /// cmbagent: line `i` is sent by the backend's connection manager (lost on a superseded socket).
  virtual bool control_answer(size_t i) const {
    (void)i;
    return false;
  }
  /// Null: lines go out as fast as the connection takes them.
  virtual const Pacing* pacing() const { return nullptr; }
};

}  // namespace wsflow::serve
