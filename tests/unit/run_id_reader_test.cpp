#include "session/run_id_reader.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

using namespace wsflow;

namespace {
// What the loop would run, in order: a post that queues, drained by the test's thread.
struct FakeLoop {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::function<void()>> posted;
  void Post(std::function<void()> fn) {
    std::lock_guard<std::mutex> lk(mu);
    posted.push_back(std::move(fn));
    cv.notify_all();
  }
  // Runs what was posted until `done` holds; false after 10 s.
  bool RunUntil(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      std::vector<std::function<void()>> batch;
      {
        std::unique_lock<std::mutex> lk(mu);
        if (!cv.wait_until(lk, deadline, [&] { return !posted.empty(); })) return false;
        batch.swap(posted);
      }
      for (auto& fn : batch) fn();
    }
    return true;
  }
};
}  // namespace

TEST_CASE("StartRunIdReader posts ids as lines arrive, then the end") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  FakeLoop loop;
  std::vector<std::string> ids, skipped;
  bool closed = false;
  RunIdCallbacks cb;
  cb.id = [&](const std::string& id) { ids.push_back(id); };
  cb.skipped = [&](const std::string& why) { skipped.push_back(why); };
  cb.closed = [&] { closed = true; };
  StartRunIdReader(p[0], [&](std::function<void()> fn) { loop.Post(std::move(fn)); }, cb);

  REQUIRE(::write(p[1], "r-1\n", 4) == 4);
  REQUIRE(loop.RunUntil([&] { return ids.size() == 1; }));  // before the input has ended
  CHECK(ids[0] == "r-1");
  CHECK_FALSE(closed);
  REQUIRE(::write(p[1], "a b\nr-2", 7) == 7);
  ::close(p[1]);
  REQUIRE(loop.RunUntil([&] { return closed; }));
  CHECK(ids == std::vector<std::string>{"r-1", "r-2"});
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].rfind("line 2: ", 0) == 0);
  ::close(p[0]);  // the thread has ended: closed was its last post
}
