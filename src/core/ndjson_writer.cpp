#include "core/ndjson_writer.h"

#include <cerrno>
#include <poll.h>
#include <unistd.h>

#include <chrono>

namespace wsflow {

namespace {
// A pipe whose read end is closed reports POLLERR on its write end; a hung-up terminal POLLHUP.
bool ReaderGone(int fd) {
  pollfd p{fd, 0, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP)) != 0;
}
}  // namespace

NdjsonWriter::NdjsonWriter(Options opts) : opts_(opts), thread_([this] { Loop(); }) {}

NdjsonWriter::~NdjsonWriter() { Close(); }

void NdjsonWriter::Write(std::string_view line) {
  std::lock_guard<std::mutex> lk(mu_);
  if (broken_) return;
  pending_.append(line.data(), line.size());
  pending_.push_back('\n');
  ++lines_;
  if (pending_.size() + inflight_ > max_pending_) max_pending_ = pending_.size() + inflight_;
  if (waiting_) cv_.notify_one();
}

void NdjsonWriter::WriteText(std::string_view text) {
  if (text.empty()) return;
  std::lock_guard<std::mutex> lk(mu_);
  if (broken_) return;
  pending_.append(text.data(), text.size());
  for (char c : text) lines_ += c == '\n';
  if (pending_.size() + inflight_ > max_pending_) max_pending_ = pending_.size() + inflight_;
  if (waiting_) cv_.notify_one();
}

bool NdjsonWriter::AboveHighWater() {
  std::lock_guard<std::mutex> lk(mu_);
  bool above = !broken_ && pending_.size() + inflight_ >= opts_.high_water;
  if (above) want_drain_ = true;
  return above;
}

void NdjsonWriter::OnDrained(std::function<void()> cb) {
  std::lock_guard<std::mutex> lk(mu_);
  on_drained_ = std::move(cb);
}

void NdjsonWriter::OnBroken(std::function<void()> cb) {
  std::lock_guard<std::mutex> lk(mu_);
  on_broken_ = std::move(cb);
}

void NdjsonWriter::Close() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    closing_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

bool NdjsonWriter::broken() const {
  std::lock_guard<std::mutex> lk(mu_);
  return broken_;
}

uint64_t NdjsonWriter::lines() const {
  std::lock_guard<std::mutex> lk(mu_);
  return lines_;
}

size_t NdjsonWriter::max_pending() const {
  std::lock_guard<std::mutex> lk(mu_);
  return max_pending_;
}

void NdjsonWriter::Loop() {
  std::string out;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      waiting_ = true;
      // While idle, look every half second whether the reader went away (`| jq first(...)`):
      // a run that waits for an approval may print nothing for hours, and we would never know.
      while (!cv_.wait_for(lk, std::chrono::milliseconds(500), [&] { return !pending_.empty() || closing_; })) {
        if (!broken_ && ReaderGone(opts_.fd)) {
          broken_ = true;
          waiting_ = false;
          auto call = on_broken_;
          lk.unlock();
          if (call) call();
          lk.lock();
          waiting_ = true;
        }
      }
      waiting_ = false;
      if (pending_.empty()) return;  // closing, and nothing left
      out.swap(pending_);
      inflight_ = out.size();
    }
    bool failed = false;
    for (size_t off = 0; off < out.size();) {
      ssize_t n = ::write(opts_.fd, out.data() + off, out.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // EPIPE (the reader left) or any other error: nobody can read us any more
        failed = true;
        break;
      }
      off += static_cast<size_t>(n);
    }
    out.clear();
    std::function<void()> call;
    {
      std::lock_guard<std::mutex> lk(mu_);
      inflight_ = 0;
      if (failed && !broken_) {
        broken_ = true;
        pending_.clear();
        call = on_broken_;
      } else if (want_drain_ && pending_.size() < opts_.low_water) {
        want_drain_ = false;
        call = on_drained_;
      }
    }
    if (call) call();
  }
}

}  // namespace wsflow
