#include "core/ndjson_writer.h"

#include <poll.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/terminal.h"

namespace wsflow {

namespace {
// A pipe whose read end is closed reports POLLERR on its write end; a hung-up terminal POLLHUP.
bool ReaderGone(int fd) {
  pollfd p{fd, 0, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP)) != 0;
}
constexpr size_t kMaxBatch = 256u << 10;  // a batch bigger than this is handed over at once
constexpr size_t kSettledBatch = 64u << 10;  // Settle() hands over a batch this big without waiting
constexpr size_t kKeep = 1u << 20;  // a buffer that grew past this for one huge line is not kept
constexpr size_t kDirectMax = 4096;  // a batch up to this size may be written by the producer itself

// One write that never waits for the reader: pwritev2(RWF_NOWAIT), which a pipe honours without
// O_NONBLOCK on the descriptor (shared with the shell and its other processes, so not ours to
// set). The bytes written, or -1 with errno (EAGAIN: no room now; EOPNOTSUPP: not here).
ssize_t WriteNoWait(int fd, const std::string& out) {
  iovec v{const_cast<char*>(out.data()), out.size()};
  for (;;) {
    ssize_t n = ::pwritev2(fd, &v, 1, -1, RWF_NOWAIT);
    if (n >= 0 || errno != EINTR) return n;
  }
}

// Writes `out` whole, EINTR retried: 0, or the errno of the write that failed (`*off`: what went).
int WriteOut(int fd, const std::string& out, size_t* off) {
  *off = 0;
  while (*off < out.size()) {
    ssize_t n = terminal::Write(fd, out.data() + *off, out.size() - *off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    *off += static_cast<size_t>(n);
  }
  return 0;
}

// After a huge line (a 20 MB frame), its buffer goes: three of them rotate here, and each would
// hold that much for the rest of the run.
void ReleaseIfHuge(std::string* s) {
  if (s->capacity() > kKeep) std::string().swap(*s);
}
}  // namespace

struct NdjsonWriter::State {
  NdjsonWriter::Options opts;
  std::mutex mu;
  std::condition_variable cv;       // wakes the writer
  std::condition_variable done_cv;  // tells Close that the thread ended
  std::condition_variable written_cv;  // tells Drain that a batch was written
  std::string pending;
  uint64_t pending_lines = 0;
  size_t inflight = 0;
  size_t max_pending = 0;
  uint64_t lines = 0;
  uint64_t lines_written = 0;
  bool idle = false;
  bool closing = false;
  bool finished = false;
  bool broken = false;
  int error = 0;
  bool want_drain = false;
  std::function<void()> on_drained, on_broken;
  std::function<void(int)> on_failed;

  std::atomic<size_t> unwritten{0};  // pending + inflight, readable without the lock (Backlogged)
  size_t Unwritten() const { return pending.size() + inflight; }

  // How the write of `out` (`out_lines` lines) ended: `off` bytes went out, `failure` its errno or
  // 0. Called with `mu` held; returns the callback to call once it is released.
  std::function<void()> Written(const std::string& out, size_t off, uint64_t out_lines, int failure) {
    // Whole lines only: on a failure, the newlines in what did go out.
    lines_written += failure ? static_cast<uint64_t>(std::count(out.begin(), out.begin() + off, '\n')) : out_lines;
    std::function<void()> call;
    if (failure && !broken && !error) {
      pending.clear();
      pending_lines = 0;
      if (failure == EPIPE) {
        broken = true;
        call = on_broken;
      } else {
        error = failure;
        if (on_failed) call = [f = on_failed, failure] { f(failure); };
      }
    } else if (want_drain && Unwritten() < opts.low_water) {
      want_drain = false;
      call = on_drained;
    }
    unwritten = Unwritten();
    return call;
  }

  void Loop() {
    std::string out;
    for (;;) {
      uint64_t out_lines = 0;
      {
        std::unique_lock<std::mutex> lk(mu);
        idle = true;
        // While idle, look every half second whether the reader went away (`| jq first(...)`):
        // a run that waits for an approval may print nothing for hours, and we would never know.
        while (!cv.wait_for(lk, std::chrono::milliseconds(500), [&] { return !pending.empty() || closing; })) {
          if (!broken && !error && ReaderGone(opts.fd)) {
            broken = true;
            auto call = on_broken;
            lk.unlock();
            if (call) call();
            lk.lock();
          }
        }
        idle = false;
        if (pending.empty()) break;  // closing, and nothing left
        out.swap(pending);
        out_lines = pending_lines;
        pending_lines = 0;
        inflight = out.size();
        unwritten = Unwritten();
      }
      size_t off = 0;
      int failure = WriteOut(opts.fd, out, &off);
      std::function<void()> after;
      {
        std::lock_guard<std::mutex> lk(mu);
        inflight = 0;
        after = Written(out, off, out_lines, failure);
      }
      out.clear();
      ReleaseIfHuge(&out);
      written_cv.notify_all();
      if (after) after();
    }
    std::lock_guard<std::mutex> lk(mu);
    finished = true;
    done_cv.notify_all();
  }
};

NdjsonWriter::NdjsonWriter(Options opts) : state_(std::make_shared<State>()) {
  state_->opts = opts;
  struct stat st;
  pipe_ = ::fstat(opts.fd, &st) == 0 && S_ISFIFO(st.st_mode);
  std::thread([s = state_] { s->Loop(); }).detach();  // joined through done_cv in Close
}

NdjsonWriter::~NdjsonWriter() { Close(); }

void NdjsonWriter::SetFlushScheduler(std::function<void()> schedule) { schedule_ = std::move(schedule); }

void NdjsonWriter::Append(std::string_view text, bool newline, uint64_t lines) {
  if (closed_) return;
  // Room for the line and its newline at once: appending them one after the other would double a
  // huge line's buffer for the one byte of its newline.
  size_t need = batch_.size() + text.size() + 1;
  if (need > batch_.capacity()) batch_.reserve(std::max(need, 2 * batch_.capacity()));
  batch_.append(text.data(), text.size());
  if (newline) batch_.push_back('\n');
  batch_lines_ += lines;
  if (!schedule_ || batch_.size() >= kMaxBatch) return Flush();
  if (!flush_posted_) {
    flush_posted_ = true;
    schedule_();
  }
}

void NdjsonWriter::Write(std::string_view line) { Append(line, true, 1); }

void NdjsonWriter::WriteText(std::string_view text) {
  if (text.empty()) return;
  Append(text, false, static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')));
}

bool NdjsonWriter::Settle() {
  if (batch_.size() > settled_at_ && batch_.size() < kSettledBatch) {
    settled_at_ = batch_.size();
    return false;
  }
  Flush();
  return true;
}

void NdjsonWriter::Flush() {
  flush_posted_ = false;
  settled_at_ = 0;
  if (batch_.empty()) return;
  State& s = *state_;
  bool direct = false;
  {
    std::lock_guard<std::mutex> lk(s.mu);
    if (!s.broken && !s.error) {
      s.lines += batch_lines_;
      // A small batch the idle writer would only be woken for (events at a human pace) is written
      // here, saving the writer's wake-up (latency, docs/performance.md); never one that must
      // wait for output queued before it.
      direct = pipe_ && s.idle && s.pending.empty() && !s.closing && batch_.size() <= kDirectMax;
      if (!direct) Hand(0);
    }
  }
  if (direct) WriteDirect();
  batch_.clear();
  ReleaseIfHuge(&batch_);
  batch_lines_ = 0;
}

// Called with the state's lock held: the batch from byte `from` on goes to the writer thread.
void NdjsonWriter::Hand(size_t from) {
  State& s = *state_;
  uint64_t lines = batch_lines_;
  if (from > 0) lines -= static_cast<uint64_t>(std::count(batch_.begin(), batch_.begin() + from, '\n'));
  if (s.pending.empty() && from == 0) s.pending.swap(batch_);  // no copy; the batch gets the old capacity back
  else s.pending.append(batch_, from, std::string::npos);
  s.pending_lines += lines;
  s.unwritten = s.Unwritten();
  s.max_pending = std::max(s.max_pending, s.Unwritten());
  if (s.idle) s.cv.notify_one();
}

// The write of Flush's small batch, outside the lock: nothing is pending, and only this thread
// adds to it, so the writer thread stays idle meanwhile. A write that would wait (no room: the
// reader lags, or another process filled the pipe) hands the batch to the writer thread instead.
void NdjsonWriter::WriteDirect() {
  State& s = *state_;
  ssize_t n = WriteNoWait(s.opts.fd, batch_);
  int e = errno;
  bool later = n < 0 && (e == EAGAIN || e == EWOULDBLOCK || e == EOPNOTSUPP || e == EINVAL || e == ENOSYS);
  if (later && e != EAGAIN && e != EWOULDBLOCK) pipe_ = false;  // no RWF_NOWAIT here: the thread writes
  std::function<void()> after;
  {
    std::lock_guard<std::mutex> lk(s.mu);
    size_t off = n > 0 ? static_cast<size_t>(n) : 0;
    if (n < 0 && !later) {
      after = s.Written(batch_, 0, batch_lines_, e);
    } else if (off == batch_.size()) {
      after = s.Written(batch_, off, batch_lines_, 0);
      ++direct_writes_;
    } else {  // the rest (or all of it) to the writer thread, in order
      s.lines_written += static_cast<uint64_t>(std::count(batch_.begin(), batch_.begin() + off, '\n'));
      Hand(off);
    }
  }
  if (after) after();
}

bool NdjsonWriter::Drain(Millis limit) {
  Flush();
  State& s = *state_;
  std::unique_lock<std::mutex> lk(s.mu);
  return s.written_cv.wait_for(lk, limit, [&] { return s.Unwritten() == 0 || s.broken || s.error || s.finished; });
}

bool NdjsonWriter::Backlogged() const {
  return batch_.size() + state_->unwritten.load(std::memory_order_relaxed) >= state_->opts.high_water;
}

bool NdjsonWriter::AboveHighWater() {
  Flush();
  State& s = *state_;
  std::lock_guard<std::mutex> lk(s.mu);
  bool above = !s.broken && !s.error && s.Unwritten() >= s.opts.high_water;
  if (above) s.want_drain = true;
  return above;
}

void NdjsonWriter::OnDrained(std::function<void()> cb) {
  std::lock_guard<std::mutex> lk(state_->mu);
  state_->on_drained = std::move(cb);
}

void NdjsonWriter::OnBroken(std::function<void()> cb) {
  std::lock_guard<std::mutex> lk(state_->mu);
  state_->on_broken = std::move(cb);
}

void NdjsonWriter::OnFailed(std::function<void(int)> cb) {
  std::lock_guard<std::mutex> lk(state_->mu);
  state_->on_failed = std::move(cb);
}

bool NdjsonWriter::Close(Millis limit) {
  if (abandoned_) return false;
  if (!closed_) {
    Flush();
    closed_ = true;
  }
  State& s = *state_;
  std::unique_lock<std::mutex> lk(s.mu);
  s.closing = true;
  s.cv.notify_one();
  auto done = [&] { return s.finished; };
  if (limit.count() <= 0) {
    s.done_cv.wait(lk, done);
    return true;
  }
  abandoned_ = !s.done_cv.wait_for(lk, limit, done);
  return !abandoned_;
}

bool NdjsonWriter::broken() const {
  std::lock_guard<std::mutex> lk(state_->mu);
  return state_->broken;
}

bool NdjsonWriter::failed() const {
  std::lock_guard<std::mutex> lk(state_->mu);
  return state_->error != 0;
}

int NdjsonWriter::error() const {
  std::lock_guard<std::mutex> lk(state_->mu);
  return state_->error;
}

uint64_t NdjsonWriter::lines() const {
  std::lock_guard<std::mutex> lk(state_->mu);
  return state_->lines;
}

uint64_t NdjsonWriter::lines_written() const {
  std::lock_guard<std::mutex> lk(state_->mu);
  return state_->lines_written;
}

bool NdjsonWriter::idle() const {
  std::lock_guard<std::mutex> lk(state_->mu);
  return state_->idle && state_->pending.empty();
}

size_t NdjsonWriter::max_pending() const {
  std::lock_guard<std::mutex> lk(state_->mu);
  return state_->max_pending;
}

}  // namespace wsflow
