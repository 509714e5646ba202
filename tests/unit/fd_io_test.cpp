#include "core/fd_io.h"

#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <string>
#include <thread>

using namespace wsflow;

TEST_CASE("WriteAll writes a buffer larger than a pipe holds, whole") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  std::string big(1 << 20, 'x');  // 16 pipe buffers: many short writes
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  });
  CHECK(WriteAll(p[1], big));
  ::close(p[1]);
  reader.join();
  ::close(p[0]);
  CHECK(got == big);
}

TEST_CASE("WriteAll to a socket whose peer has gone is EPIPE, not SIGPIPE") {
  // SIGPIPE at its default here, as in a program that does not ignore it: the send must not raise it.
  auto before = std::signal(SIGPIPE, SIG_DFL);
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  ::close(sv[1]);
  errno = 0;
  CHECK_FALSE(WriteAll(sv[0], "hello", /*socket=*/true));
  CHECK(errno == EPIPE);
  ::close(sv[0]);
  std::signal(SIGPIPE, before);
}

TEST_CASE("WriteAll to a pipe nobody reads is false with its errno") {
  auto before = std::signal(SIGPIPE, SIG_IGN);  // as wsflow runs (cli/app.cpp)
  int p[2];
  REQUIRE(::pipe(p) == 0);
  ::close(p[0]);
  errno = 0;
  CHECK_FALSE(WriteAll(p[1], "x"));
  CHECK(errno == EPIPE);
  CHECK(WriteAll(p[1], ""));  // nothing to write is done at once
  ::close(p[1]);
  std::signal(SIGPIPE, before);
}
