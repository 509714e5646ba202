#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <future>
#include <limits>
#include <memory>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <string>
#include <unistd.h>
#include <thread>
#include <vector>

#include "core/ndjson_writer.h"

using namespace wsflow;
using namespace std::string_literals;

namespace {

constexpr int kTimeoutMs = 10000;  // a generous bound: every wait in these tests ends by then

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  void CloseRead() {
    if (r >= 0) ::close(r);
    r = -1;
  }
  void CloseWrite() {
    if (w >= 0) ::close(w);
    w = -1;
  }
};

// Closes the read end when the test leaves its scope, even on a failed REQUIRE: a writer blocked
// on a full pipe then gets EPIPE instead of blocking its destructor for ever. Declare it after the
// writer (so it runs first) and before any reader future (so it runs after the reader is done).
struct CloseReadOnExit {
  Pipe& p;
  ~CloseReadOnExit() { p.CloseRead(); }
};

// Reads from `fd` until `expected` bytes arrived, end of file, or no data for kTimeoutMs.
std::string ReadBytes(int fd, size_t expected) {
  std::string got;
  char buf[65536];
  while (got.size() < expected) {
    pollfd pfd{fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, kTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;  // timed out (or failed): give back what came
    ssize_t n = ::read(fd, buf, std::min(sizeof buf, expected - got.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of file
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

constexpr size_t kAll = std::numeric_limits<size_t>::max();

}  // namespace

TEST_CASE("NdjsonWriter writes each line and a newline, exact bytes") {
  Pipe p;
  NdjsonWriter::Options opts;
  opts.fd = p.w;
  NdjsonWriter w(opts);
  CloseReadOnExit guard{p};
  w.Write(R"({"event_type":"a","seq":1})");
  w.Write("");
  w.Write("with \"quotes\" and \xC3\xA9");
  w.Write(std::string_view("nul\0inside", 10));
  w.Close();
  w.Close();  // idempotent
  CHECK(w.lines() == 4);
  CHECK_FALSE(w.broken());
  p.CloseWrite();
  std::string got = ReadBytes(p.r, kAll);
  CHECK(got == "{\"event_type\":\"a\",\"seq\":1}\n\nwith \"quotes\" and \xC3\xA9\nnul\0inside\n"s);
}

TEST_CASE("NdjsonWriter: many lines from one thread arrive complete and in order") {
  Pipe p;
  NdjsonWriter::Options opts;
  opts.fd = p.w;
  NdjsonWriter w(opts);
  CloseReadOnExit guard{p};

  const int n = 200000;
  std::string expected;
  for (int i = 0; i < n; ++i) expected += "{\"seq\":" + std::to_string(i + 1) + ",\"pad\":\"" + std::string(i % 17, 'x') + "\"}\n";
  REQUIRE(expected.size() > (1u << 20));  // far more than a pipe holds: the reader must keep up

  std::future<std::string> reader = std::async(std::launch::async, ReadBytes, p.r, expected.size() + 1);
  size_t at = 0;
  for (int i = 0; i < n; ++i) {
    size_t nl = expected.find('\n', at);
    w.Write(std::string_view(expected).substr(at, nl - at));
    at = nl + 1;
  }
  w.Close();
  p.CloseWrite();  // so that the reader sees end of file after the last byte
  REQUIRE(reader.wait_for(std::chrono::milliseconds(2 * kTimeoutMs)) == std::future_status::ready);
  std::string got = reader.get();
  CHECK(got.size() == expected.size());
  CHECK(got == expected);
  CHECK(w.lines() == static_cast<uint64_t>(n));
  CHECK_FALSE(w.broken());
  CHECK(w.max_pending() > 0);
}

TEST_CASE("NdjsonWriter: a closed reader makes it broken, OnBroken runs once, later writes are dropped") {
  std::signal(SIGPIPE, SIG_IGN);
  Pipe p;
  p.CloseRead();
  NdjsonWriter::Options opts;
  opts.fd = p.w;
  opts.high_water = 16;
  opts.low_water = 8;
  NdjsonWriter w(opts);

  std::atomic<int> calls{0};
  std::promise<void> broke;
  w.OnBroken([&] {
    if (calls.fetch_add(1) == 0) broke.set_value();
  });
  CHECK_FALSE(w.broken());
  w.Write("first line");
  REQUIRE(broke.get_future().wait_for(std::chrono::milliseconds(kTimeoutMs)) == std::future_status::ready);
  CHECK(w.broken());
  CHECK(w.lines() == 1);

  for (int i = 0; i < 1000; ++i) w.Write("dropped line that is long enough to pass the high water mark");
  CHECK(w.lines() == 1);
  // A broken writer never asks the producer to pause.
  CHECK_FALSE(w.AboveHighWater());
  w.Close();
  CHECK(calls.load() == 1);
  CHECK(w.broken());
}

TEST_CASE("NdjsonWriter: AboveHighWater while the reader lags, OnDrained once it caught up") {
  Pipe p;
  int capacity = ::fcntl(p.w, F_GETPIPE_SZ);
  REQUIRE(capacity > 0);

  NdjsonWriter::Options opts;
  opts.fd = p.w;
  opts.high_water = 1024;
  opts.low_water = 512;
  NdjsonWriter w(opts);
  CloseReadOnExit guard{p};

  std::atomic<int> drained_calls{0};
  std::promise<void> drained;
  w.OnDrained([&] {
    if (drained_calls.fetch_add(1) == 0) drained.set_value();
  });
  std::future<void> drained_future = drained.get_future();

  CHECK_FALSE(w.AboveHighWater());  // nothing pending yet

  // One line larger than the pipe: the writer thread blocks in write() until the reader reads.
  const std::string big(static_cast<size_t>(capacity) * 4, 'b');
  w.Write(big);
  w.Write("small");
  CHECK(w.AboveHighWater());
  CHECK(w.max_pending() >= big.size());
  // Nobody read yet: no drained callback can have run.
  CHECK(drained_calls.load() == 0);

  const size_t total = big.size() + 1 + 6;
  std::future<std::string> reader = std::async(std::launch::async, ReadBytes, p.r, total);
  REQUIRE(drained_future.wait_for(std::chrono::milliseconds(kTimeoutMs)) == std::future_status::ready);
  REQUIRE(reader.wait_for(std::chrono::milliseconds(2 * kTimeoutMs)) == std::future_status::ready);
  std::string got = reader.get();
  CHECK(got.size() == total);
  CHECK(got == big + "\nsmall\n");
  CHECK_FALSE(w.AboveHighWater());
  w.Close();
  CHECK(drained_calls.load() == 1);
  CHECK_FALSE(w.broken());
}

TEST_CASE("NdjsonWriter: OnDrained does not run when the high-water mark was never reported") {
  Pipe p;
  NdjsonWriter::Options opts;
  opts.fd = p.w;
  opts.high_water = 1u << 20;
  opts.low_water = 1u << 10;
  NdjsonWriter w(opts);
  CloseReadOnExit guard{p};
  std::atomic<int> drained_calls{0};
  w.OnDrained([&] { ++drained_calls; });
  for (int i = 0; i < 100; ++i) w.Write("line " + std::to_string(i));
  CHECK_FALSE(w.AboveHighWater());
  w.Close();  // joins the writer thread: every callback it would make has been made
  CHECK(drained_calls.load() == 0);
  p.CloseWrite();
  std::string got = ReadBytes(p.r, kAll);
  CHECK(got.substr(0, 7) == "line 0\n");
  CHECK(got.size() == 100 * 6 + 90 + 100);
}

TEST_CASE("NdjsonWriter: with a flush scheduler, lines wait for Flush and go out as one batch") {
  Pipe p;
  NdjsonWriter::Options opts;
  opts.fd = p.w;
  NdjsonWriter w(opts);
  CloseReadOnExit guard{p};
  int scheduled = 0;
  w.SetFlushScheduler([&] { ++scheduled; });
  for (int i = 0; i < 100; ++i) w.Write("line " + std::to_string(i));
  CHECK(scheduled == 1);  // once per batch, not per line
  CHECK(w.lines() == 0);  // nothing handed over yet
  w.Flush();
  CHECK(w.lines() == 100);
  w.Write("next");
  CHECK(scheduled == 2);
  w.Close();
  CHECK(w.lines() == 101);
  CHECK(w.lines_written() == 101);
  p.CloseWrite();
  std::string got = ReadBytes(p.r, kAll);
  CHECK(got.substr(0, 7) == "line 0\n");
  CHECK(got.substr(got.size() - 5) == "next\n");
}

namespace {
// Whether this kernel takes RWF_NOWAIT on a pipe (Linux 5.x and later do); the direct write falls
// back to the writer thread where it does not.
bool PipesTakeNoWait() {
  Pipe p;
  iovec v{const_cast<char*>("x"), 1};
  return ::pwritev2(p.w, &v, 1, -1, RWF_NOWAIT) == 1;
}
bool WaitIdle(const NdjsonWriter& w) {
  for (int i = 0; i < kTimeoutMs && !w.idle(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return w.idle();
}
}  // namespace

// Events at a human pace: a small batch for an idle writer to a pipe is written inside Flush (no
// wake-up of the writer thread), so it is in the pipe when Flush returns.
TEST_CASE("NdjsonWriter: a small batch to a pipe is written by Flush itself") {
  if (!PipesTakeNoWait()) {
    WARN("this kernel does not take RWF_NOWAIT on pipes: every batch goes through the writer thread");
    return;
  }
  Pipe p;
  NdjsonWriter::Options opts;
  opts.fd = p.w;
  NdjsonWriter w(opts);
  CloseReadOnExit guard{p};
  w.SetFlushScheduler([] {});
  REQUIRE(WaitIdle(w));
  for (int i = 0; i < 20; ++i) {
    std::string line = "{\"seq\":" + std::to_string(i) + "}";
    w.Write(line);
    w.Flush();
    CHECK(w.direct_writes() == static_cast<uint64_t>(i + 1));
    int unread = 0;
    REQUIRE(::ioctl(p.r, FIONREAD, &unread) == 0);
    CHECK(unread == static_cast<int>(line.size() + 1));  // there already
    CHECK(ReadBytes(p.r, line.size() + 1) == line + "\n");
  }
  CHECK(w.lines_written() == 20);
  // A batch larger than a pipe's atomic write goes to the writer thread, as a stream's do.
  w.Write(std::string(8192, 'y'));
  w.Flush();
  CHECK(w.direct_writes() == 20);
  CHECK(ReadBytes(p.r, 8193) == std::string(8192, 'y') + "\n");
}

// The direct write must never block the producer: a pipe without room for the batch (a reader
// that lags, or another process that filled it) gets it through the writer thread.
TEST_CASE("NdjsonWriter: Flush hands a batch the pipe has no room for to the writer thread") {
  std::signal(SIGPIPE, SIG_IGN);
  Pipe p;
  int capacity = ::fcntl(p.w, F_GETPIPE_SZ);
  REQUIRE(capacity > 0);
  NdjsonWriter::Options opts;
  opts.fd = p.w;
  NdjsonWriter w(opts);
  CloseReadOnExit guard{p};
  w.SetFlushScheduler([] {});
  REQUIRE(WaitIdle(w));
  // filled by someone else after the writer started
  REQUIRE(::write(p.w, std::string(static_cast<size_t>(capacity), 'x').data(), static_cast<size_t>(capacity)) == capacity);
  w.Write("small");
  w.Flush();  // returns: the writer thread is the one that waits for room
  CHECK(w.direct_writes() == 0);
  CHECK(w.lines_written() == 0);
  CHECK(ReadBytes(p.r, static_cast<size_t>(capacity)) == std::string(static_cast<size_t>(capacity), 'x'));
  CHECK(w.Close(Millis(kTimeoutMs)));
  CHECK(w.lines_written() == 1);
  CHECK(ReadBytes(p.r, 6) == "small\n");
}

TEST_CASE("NdjsonWriter: a failed write (ENOSPC) is an error, not a closed reader, with the whole lines counted") {
  int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;  // no /dev/full here
  NdjsonWriter::Options opts;
  opts.fd = fd;
  NdjsonWriter w(opts);
  std::promise<int> failed;
  std::atomic<int> calls{0};
  w.OnFailed([&](int e) {
    if (calls.fetch_add(1) == 0) failed.set_value(e);
  });
  std::atomic<int> broken_calls{0};
  w.OnBroken([&] { ++broken_calls; });
  w.Write("a line that cannot be written");
  auto f = failed.get_future();
  REQUIRE(f.wait_for(std::chrono::milliseconds(kTimeoutMs)) == std::future_status::ready);
  CHECK(f.get() == ENOSPC);
  CHECK(w.failed());
  CHECK(w.error() == ENOSPC);
  CHECK_FALSE(w.broken());
  CHECK(w.lines_written() == 0);
  w.Write("dropped");
  w.Close();
  CHECK(calls.load() == 1);
  CHECK(broken_calls.load() == 0);
  ::close(fd);
}

TEST_CASE("NdjsonWriter: Drain hands the batch over and returns once it is written, or after its limit") {
  Pipe p;
  int capacity = ::fcntl(p.w, F_GETPIPE_SZ);
  REQUIRE(capacity > 0);
  NdjsonWriter::Options opts;
  opts.fd = p.w;
  NdjsonWriter w(opts);
  CloseReadOnExit guard{p};
  w.SetFlushScheduler([] {});  // nothing goes out until Flush, or Drain
  w.WriteText("a bar left open");
  CHECK(w.Drain(Millis(kTimeoutMs)));
  CHECK(w.lines_written() == 0);  // no newline in it: no line, but the bytes are out
  CHECK(ReadBytes(p.r, 15) == "a bar left open");
  size_t big = static_cast<size_t>(capacity) * 2;
  w.WriteText(std::string(big, 'x'));  // more than the pipe holds, and nobody reads yet
  auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(w.Drain(Millis(200)));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(kTimeoutMs));
  auto reader = std::async(std::launch::async, [&] { return ReadBytes(p.r, big); });
  CHECK(w.Drain(Millis(kTimeoutMs)));  // once read
  CHECK(reader.get().size() == big);
  CHECK(w.Close());
}

TEST_CASE("NdjsonWriter: Close with a limit gives up on a reader that does not read") {
  std::signal(SIGPIPE, SIG_IGN);
  Pipe p;
  int capacity = ::fcntl(p.w, F_GETPIPE_SZ);
  REQUIRE(capacity > 0);
  NdjsonWriter::Options opts;
  opts.fd = p.w;
  auto w = std::make_unique<NdjsonWriter>(opts);
  w->Write(std::string(static_cast<size_t>(capacity) * 2, 'x'));  // blocks: nobody reads
  auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(w->Close(Millis(200)));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(kTimeoutMs));
  CHECK_FALSE(w->Close(Millis(0)));  // still given up: does not wait for ever
  w.reset();                          // nor does the destructor
  p.CloseRead();                      // the blocked write() now fails with EPIPE; the thread ends
  // The abandoned thread may still be between its failed write and its end: the write end stays
  // open (leaked on purpose), so its number is never reused by a later test while it could write.
  p.w = -1;
}
