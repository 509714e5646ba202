#include "session/held_run.h"

#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "session/control_socket.h"

namespace wsflow {

namespace {
constexpr Millis kCancelLimit{5000};  // how long the holder may take to confirm a cancel
constexpr int kMaxQueued = 256;       // lines read from the holder and not yet printed
}  // namespace

std::shared_ptr<HeldRun> HeldRun::Find(const LocalSessionRequest& request, int64_t* pid) {
  std::string path = HolderFor(request, pid), err;
  if (path.empty()) return nullptr;
  int fd = ConnectControl(path, &err);
  if (fd < 0) return nullptr;
  std::shared_ptr<HeldRun> h(new HeldRun());
  h->request_ = request;
  h->path_ = path;
  h->fd_ = fd;
  return h;
}

void HeldRun::Start(Post post, OnLine line, OnEnd end) {
  post_ = std::move(post);
  line_ = std::move(line);
  end_ = std::move(end);
  auto self = shared_from_this();
  std::thread([self, fd = fd_] {
    std::string reason;
    auto forward = [self](std::string l) { return self->Forward(std::move(l)); };
    auto connected = [self](int c) {  // a watch that resumed on a new connection: Stop shuts it down
      std::lock_guard<std::mutex> lk(self->mu_);
      if (c >= 0 && self->stopped_reader_) return false;
      self->resumed_fd_ = c;
      return true;
    };
    int status = ThroughHolder(fd, self->path_, self->request_, forward, &reason, connected);
    self->Close();
    self->post_([self, status, reason] {
      if (!self->stopped_) self->end_(status, reason);
    });
  }).detach();
}

bool HeldRun::Forward(std::string line) {
  auto self = shared_from_this();
  {
    std::lock_guard<std::mutex> lk(mu_);
    ++queued_;
  }
  post_([self, line] {
    if (!self->stopped_) self->line_(line);  // nothing after Stop, even from a watch that resumed
    {
      std::lock_guard<std::mutex> lk(self->mu_);
      --self->queued_;
    }
    self->unpaused_.notify_all();
  });
  // At most kMaxQueued lines wait for the loop, and none while stdout is backlogged: the holder
  // keeps the rest (or drops this watch, which then goes on from where it was).
  std::unique_lock<std::mutex> lk(mu_);
  unpaused_.wait(lk, [this] { return (!paused_ && queued_ < kMaxQueued) || stopped_reader_; });
  return !stopped_reader_;  // stopped: end at this line, whichever connection it came on
}

void HeldRun::Pause() {
  std::lock_guard<std::mutex> lk(mu_);
  paused_ = true;
}

void HeldRun::Resume() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    paused_ = false;
  }
  unpaused_.notify_all();
}

void HeldRun::Close() {
  std::lock_guard<std::mutex> lk(mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void HeldRun::Stop() {
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopped_reader_ = true;  // a paused reader goes on, to find the socket shut down
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    if (resumed_fd_ >= 0) ::shutdown(resumed_fd_, SHUT_RDWR);
  }
  unpaused_.notify_all();
}

bool HeldRun::Cancel(int status, const std::string& reason) {
  if (cancelling_) return true;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (fd_ < 0) return false;  // the reader has ended: its end, posted already, says how the run did
  }
  cancelling_ = true;
  Stop();
  LocalSessionRequest r = request_;
  r.action = ControlAction{};
  r.action->type = "cancel";
  auto self = shared_from_this();
  std::thread([self, r, status, reason] {
    std::string err, why;
    int fd = ConnectControl(self->path_, &err);
    if (fd >= 0) SetReceiveTimeout(fd, kCancelLimit);
    int got = fd < 0 ? kExitProtocol
                     : ThroughHolder(fd, self->path_, r, [self](std::string l) {
                         self->post_([self, l] { self->line_(l); });  // the event that confirmed the cancel
                         return true;
                       }, &why);
    if (fd >= 0) ::close(fd);
    std::string said = got == kExitCompleted ? reason : reason + " (the cancel failed: " + (fd < 0 ? err : why) + ")";
    self->post_([self, status, said] { self->end_(status, said); });
  }).detach();
  return true;
}

}  // namespace wsflow
