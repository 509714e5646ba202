#include "session/approval_hook.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/terminal.h"

namespace wsflow {

namespace {

HookAnswer RunHook(const std::string& command, const std::string& input, Millis timeout) {
  HookAnswer a;
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    a.problem = std::string("cannot make pipes: ") + std::strerror(errno);
    return a;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    a.problem = std::string("cannot fork: ") + std::strerror(errno);
    return a;
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group: a timeout kills what it started too
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::signal(SIGPIPE, SIG_DFL);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  // The request is small (one event): it fits the pipe, and a hook that ignores stdin is fine.
  ssize_t ignored = ::write(in[1], input.data(), input.size());
  (void)ignored;
  ::close(in[1]);
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    ssize_t r = ::read(out[0], buf, sizeof buf);
    if (r <= 0) break;
    if (text.size() < 65536) text.append(buf, static_cast<size_t>(r));
  }
  ::close(out[0]);
  if (timed_out) ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    a.problem = "--on-approval command did not answer within " + FormatDuration(timeout);
    return a;
  }
  size_t nl = text.find('\n');
  std::string first = text.substr(0, nl);
  std::string second = nl == std::string::npos ? "" : text.substr(nl + 1, text.find('\n', nl + 1) - nl - 1);
  for (auto* s : {&first, &second})
    while (!s->empty() && (s->back() == '\r' || s->back() == ' ')) s->pop_back();
  if (WIFEXITED(status) && (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127)) {
    a.cannot_run = true;
    a.problem = "--on-approval command could not run (" +
                std::string(WEXITSTATUS(status) == 127 ? "not found" : "not executable") + ", exit " +
                std::to_string(WEXITSTATUS(status)) + "): " + command;
    return a;
  }
  a.answered = true;
  a.feedback = second;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    a.reject = true;
    return a;
  }
  if (first.empty()) {
    a.answered = false;
    a.problem = "--on-approval command printed no resolution";
    return a;
  }
  a.resolution = first;
  return a;
}

}  // namespace

void RunApprovalHookAsync(const std::string& command, const std::string& input, Millis timeout,
                          std::function<void(HookAnswer)> done) {
  std::thread([=] { done(RunHook(command, input, timeout)); }).detach();
}

void AskOnTerminalAsync(const std::string& prompt, const std::vector<std::string>& options,
                        std::shared_ptr<std::atomic<bool>> withdrawn, std::function<void(HookAnswer)> done) {
  // Detached: a person may never answer, and the run can end meanwhile.
  std::thread([=] {
    HookAnswer a;
    std::string ask = prompt;
    for (;;) {
      std::string line;
      if (!terminal::Ask(ask, &line, &a.problem, /*more=*/true, withdrawn.get())) return done(a);
      while (!line.empty() && line.back() == ' ') line.pop_back();
      if (line.empty() && !options.empty()) line = options.front();
      bool ok = options.empty();
      for (const auto& o : options) ok = ok || o == line;
      if (!ok) {  // asked again, on the same bottom line
        ask = "  '" + line + "' is not one of the options\n" + prompt.substr(prompt.rfind('\n') + 1);
        continue;
      }
      a.answered = true;
      a.resolution = line;
      std::string problem;
      terminal::Ask("  feedback (optional): ", &a.feedback, &problem, false, withdrawn.get());
      return done(a);
    }
  }).detach();
}

}  // namespace wsflow
