// Answers to an approval that come from outside the event loop: an --on-approval command, or a
// person at the terminal. Both can take long, so both run on a thread of their own and hand the
// answer back through a callback (which the caller posts to its loop).
#pragma once

#include <atomic>
#include <memory>
#include <functional>
#include <string>
#include <vector>

#include "core/duration.h"

namespace wsflow {

struct HookAnswer {
  bool answered = false;  ///< false: no answer (timed out, could not run, no input)
  bool reject = false;    ///< the command exited non-zero: reject
  std::string resolution;
  std::string feedback;
  std::string problem;  ///< why there is no answer, for the stderr line
  bool cannot_run = false;  ///< the shell could not run the command (126, 127): a usage error, nothing answered
};

/// Runs `/bin/sh -c command` with `input` on its stdin. Its first output line is the resolution,
/// an optional second line the feedback; a non-zero exit means reject, except the shell's 126 and
/// 127 (not executable, not found: a typo must not reject a deploy gate); after `timeout` it is
/// killed (with its process group) and there is no answer. `done` runs on the hook's thread.
void RunApprovalHookAsync(const std::string& command, const std::string& input, Millis timeout,
                          std::function<void(HookAnswer)> done);

/// Asks on the terminal (core/terminal.h: prompt on stderr, answer typed on /dev/tty, events
/// printed above it meanwhile) until the answer is one of `options`; an empty answer takes the
/// first. Then asks for optional feedback. `done` runs on the asking thread. Setting `*withdrawn`
/// (any thread: the request was answered elsewhere) takes the question off the terminal; `done`
/// then has no answer and the problem terminal::kAnsweredElsewhere.
void AskOnTerminalAsync(const std::string& prompt, const std::vector<std::string>& options,
                        std::shared_ptr<std::atomic<bool>> withdrawn, std::function<void(HookAnswer)> done);

}  // namespace wsflow
