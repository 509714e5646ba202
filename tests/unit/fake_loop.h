// A stand-in for the event loop in unit tests of parts that post work to it from threads of
// their own (session host, run id reader): Post queues, the test's thread runs what was posted.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

namespace wsflow_test {

struct FakeLoop {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> work;

  void Post(std::function<void()> fn) {
    std::lock_guard<std::mutex> lk(mu);
    work.push_back(std::move(fn));
    cv.notify_all();
  }
  /// A function that posts here, for the parts that take one.
  std::function<void(std::function<void()>)> Poster() {
    return [this](std::function<void()> fn) { Post(std::move(fn)); };
  }
  /// Waits for one piece of posted work and runs it; false after 10 s without any.
  bool RunOne() {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lk(mu);
      if (!cv.wait_for(lk, std::chrono::seconds(10), [&] { return !work.empty(); })) return false;
      fn = std::move(work.front());
      work.pop_front();
    }
    fn();
    return true;
  }
  /// Runs posted work until `done` holds; false when nothing came for 10 s first.
  bool RunUntil(const std::function<bool()>& done) {
    while (!done())
      if (!RunOne()) return false;
    return true;
  }
};

}  // namespace wsflow_test
