// Loop's insides, for loop.cpp and ws_session.cpp only (they need the io_context).
#pragma once

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <functional>

#include "session/loop.h"

namespace wsflow {

struct Loop::Impl {
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  asio::signal_set signals{ioc};
  std::function<void(int)> on_signal;
  int sigints = 0;
  bool stopped = false;
  void WaitSignal();
};

}  // namespace wsflow
