#include "session/loop.h"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <csignal>
#include <cstdlib>

#include "core/terminal.h"
#include "session/loop_impl.h"

namespace wsflow {

void Loop::Impl::WaitSignal() {
  signals.async_wait([this](const asio::error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGINT && ++sigints >= 2) {  // a second Ctrl-C: at once
      terminal::Restore();
      std::_Exit(130);
    }
    if (on_signal) on_signal(signo);
    WaitSignal();
  });
}

Loop::Loop() : impl_(std::make_unique<Impl>()) {}

Loop::~Loop() = default;

void Loop::Run() { impl_->ioc.run(); }

void Loop::Stop() {
  asio::post(impl_->ioc, [impl = impl_.get()] {
    impl->stopped = true;
    asio::error_code ec;
    impl->signals.cancel(ec);
    impl->work.reset();
    impl->ioc.stop();
  });
}

bool Loop::stopped() const { return impl_->stopped; }

void Loop::Post(std::function<void()> fn) { asio::post(impl_->ioc, std::move(fn)); }

void Loop::After(Millis delay, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(impl_->ioc, delay);
  timer->async_wait([timer, fn = std::move(fn)](const asio::error_code& ec) {
    if (!ec) fn();
  });
}

void Loop::OnSignal(std::function<void(int)> fn) {
  Impl& i = *impl_;
  bool first = !i.on_signal;
  i.on_signal = std::move(fn);
  if (!first) return;
  asio::error_code ec;
  for (int s : {SIGINT, SIGTERM, SIGHUP}) i.signals.add(s, ec);
  i.WaitSignal();
}

}  // namespace wsflow
