// `--runs-from -`: run ids read from a descriptor as they arrive, on a thread of its own (a
// blocking read cannot live on the loop). Each id, each skipped line and the end are posted.
//
// Threads: the reader thread only reads and calls `post`; the callbacks run wherever `post` runs
// them (the loop). The thread is detached: when the command ends before the input does, it is
// left blocked in read(), and a `post` that drops after the loop has ended keeps it harmless.
#pragma once

#include <functional>
#include <string>

namespace wsflow {

struct RunIdCallbacks {
  std::function<void(const std::string& id)> id;
  std::function<void(const std::string& why)> skipped;  ///< "line 3: ..."
  std::function<void()> closed;                          ///< end of input (or a read error)
};

/// Starts the reader of `fd`.
void StartRunIdReader(int fd, std::function<void(std::function<void()>)> post, RunIdCallbacks cb);

}  // namespace wsflow
