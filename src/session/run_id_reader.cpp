#include "session/run_id_reader.h"

#include <unistd.h>

#include <cerrno>
#include <thread>
#include <utility>
#include <vector>

#include "core/run_ids.h"

namespace wsflow {

void StartRunIdReader(int fd, std::function<void(std::function<void()>)> post, RunIdCallbacks cb) {
  std::thread([fd, post = std::move(post), cb = std::move(cb)] {
    RunIdLines lines;
    std::vector<RunIdLines::Item> items;
    auto send = [&] {
      for (auto& it : items) {
        if (!it.id.empty()) post([id = std::move(it.id), f = cb.id] { f(id); });
        else post([why = std::move(it.skipped), f = cb.skipped] { f(why); });
      }
      items.clear();
    };
    char chunk[4096];
    for (;;) {
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      lines.Feed({chunk, static_cast<size_t>(n)}, &items);
      send();
    }
    lines.End(&items);
    send();
    post(cb.closed);
  }).detach();
}

}  // namespace wsflow
