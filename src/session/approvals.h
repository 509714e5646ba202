// The approvals of one run inside watch/execute: which requests are open, and who answers them,
// in this order: --approve rules and --auto-approve (core/approval_policy.h), --on-approval CMD, the
// prompt on the terminal, --no-input (exit 4 at once), else one line saying how to answer with
// `wsflow approve`. Loop thread only; hooks and the prompt run on threads of their own and hand
// their answer back through ApprovalHost::PostToLoop.
#pragma once

#include <atomic>
#include <memory>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/approval_policy.h"
#include "core/duration.h"
#include "session/approval_hook.h"
#include "session/event.h"

namespace wsflow {

struct ApprovalOptions {
  ApprovalPolicy policy;      ///< --approve rules, --auto-approve
  std::string on_approval;    ///< --on-approval CMD
  Millis on_approval_timeout{60000};
  bool no_input = false;      ///< never ask: an approval nothing answers ends the run with exit 4
  bool interactive = false;   ///< ask on the terminal when nothing else answers
  bool until_approval = false;  ///< --until approval: an open request ends the wait (exit 0)
  Millis answer_delay{-1};      ///< --answer-delay: no answer leaves sooner after its request (-1: the dialect's)
  bool quiet = false;
};

/// What the approvals need of the run they belong to.
class ApprovalHost {
 public:
  virtual ~ApprovalHost() = default;
  /// Sends the answer in the run's dialect (`why`: who answered, for the stderr line).
  virtual void SendAnswer(const std::string& approval_id, const std::string& resolution, const std::string& feedback,
                          const std::string& why) = 0;
  /// Ends the run's command with `status`, printing `message` (if any) on stderr.
  virtual void EndRun(int status, const std::string& message) = 0;
  /// Runs `fn` on the loop thread (callable from any thread; dropped once the loop has ended).
  virtual void PostToLoop(std::function<void()> fn) = 0;
};

/// The --on-approval runner and the terminal prompt (approval_hook.h); tests pass fakes.
using HookRunner = std::function<void(const std::string& command, const std::string& input, Millis timeout,
                                      std::function<void(HookAnswer)> done)>;
using PromptRunner = std::function<void(const std::string& prompt, const std::vector<std::string>& options,
                                        std::shared_ptr<std::atomic<bool>> withdrawn,
                                        std::function<void(HookAnswer)> done)>;

class Approvals {
 public:
  Approvals(ApprovalOptions opts, std::string run_id, ApprovalHost* host, HookRunner hook = RunApprovalHookAsync,
            PromptRunner prompt = AskOnTerminalAsync);

  /// Notes an event: approval_requested opens a request, approval_received answers it.
  void Note(Event& event);
  /// Handles the requests still open (call once the history is read, and on each new request).
  void HandleOpen();

  /// The request with this id, when the stream showed it (null otherwise).
  const ApprovalRequest* Find(const std::string& approval_id) const;
  bool Answered(const std::string& approval_id) const;

 private:
  struct Entry {
    ApprovalRequest request;
    std::string line;  ///< the approval_requested envelope (input of --on-approval)
    bool answered = false;
    bool handling = false;  ///< a rule, hook or prompt is answering it, or we said how to
    std::shared_ptr<std::atomic<bool>> withdrawn;  ///< set once it is answered: the prompt goes
  };
  void OnHookAnswer(const std::string& approval_id, const HookAnswer& answer);
  void Answer(const std::string& approval_id, const std::string& resolution, const std::string& feedback,
              const std::string& why);

  ApprovalOptions opts_;
  std::string run_id_;
  ApprovalHost* host_;
  HookRunner hook_;
  PromptRunner prompt_;
  std::map<std::string, Entry> entries_;
  std::vector<std::string> order_;  ///< ids in the order requested
};

}  // namespace wsflow
