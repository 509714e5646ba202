#include "session/approvals.h"

#include <algorithm>
#include <iostream>

#include "core/event_filter.h"
#include "core/exit_status.h"

namespace wsflow {

namespace {
bool Offers(const ApprovalRequest& req, const std::string& resolution) {
  return req.options.empty() || std::find(req.options.begin(), req.options.end(), resolution) != req.options.end();
}
}  // namespace

Approvals::Approvals(ApprovalOptions opts, std::string run_id, ApprovalHost* host, HookRunner hook, PromptRunner prompt)
    : opts_(std::move(opts)), run_id_(std::move(run_id)), host_(host), hook_(std::move(hook)), prompt_(std::move(prompt)) {}

void Approvals::Note(Event& event) {
  if (event.type() == "approval_requested") {
    Entry e;
    if (!ReadApprovalRequest(event.envelope(), &e.request)) return;
    e.line = ToJson(event.envelope());
    const std::string id = e.request.approval_id;
    if (!entries_.count(id)) order_.push_back(id);
    entries_[id] = std::move(e);
  } else if (event.type() == "approval_received") {
    const JsonValue* data = GetObject(event.envelope(), "data");
    auto it = entries_.find(std::string(data ? GetString(*data, "approval_id") : std::string_view()));
    if (it != entries_.end()) {
      it->second.answered = true;
      if (it->second.withdrawn) *it->second.withdrawn = true;  // a prompt still up for it goes
    }
  }
}

const ApprovalRequest* Approvals::Find(const std::string& approval_id) const {
  auto it = entries_.find(approval_id);
  return it == entries_.end() ? nullptr : &it->second.request;
}

bool Approvals::Answered(const std::string& approval_id) const {
  auto it = entries_.find(approval_id);
  return it != entries_.end() && it->second.answered;
}

void Approvals::HandleOpen() {
  for (const auto& id : order_) {
    Entry& e = entries_[id];
    if (e.answered || e.handling) continue;
    const ApprovalRequest& req = e.request;
    if (opts_.until_approval) return host_->EndRun(kExitCompleted, "");
    ApprovalDecision d = opts_.policy.Decide(req);
    if (d.kind == ApprovalDecision::kAnswer) {
      if (!Offers(req, d.resolution)) {
        return host_->EndRun(kExitUsage, "wsflow: " + d.why + " answers approval " + id + " with '" + d.resolution +
                                             "', which is not one of its options: " + JoinList(req.options));
      }
      Answer(id, d.resolution, "", d.why);
      continue;
    }
    std::string where = id + (req.checkpoint_type.empty() ? "" : " (" + req.checkpoint_type + ")");
    if (!opts_.on_approval.empty()) {
      e.handling = true;
      if (!opts_.quiet) std::cerr << "wsflow: asking --on-approval about approval " << where << "\n";
      hook_(opts_.on_approval, e.line + "\n", opts_.on_approval_timeout, [this, id](HookAnswer ans) {
        host_->PostToLoop([this, id, ans] { OnHookAnswer(id, ans); });
      });
      continue;
    }
    if (opts_.interactive && !opts_.no_input) {
      e.handling = true;
      std::string prompt = "wsflow: approval " + where + ": " + req.message + "\n  options: " + JoinList(req.options) +
                           "\n  answer [" + (req.options.empty() ? std::string() : req.options.front()) + "]: ";
      e.withdrawn = std::make_shared<std::atomic<bool>>(false);
      prompt_(prompt, req.options, e.withdrawn, [this, id](HookAnswer ans) {
        host_->PostToLoop([this, id, ans] { OnHookAnswer(id, ans); });
      });
      continue;
    }
    if (opts_.no_input) {
      return host_->EndRun(kExitProtocol, "wsflow: approval " + where + " of run " + run_id_ +
                                              " needs an answer and no rule gives one (--no-input); options: " +
                                              JoinList(req.options));
    }
    e.handling = true;  // said once; someone else may answer with `wsflow approve`
    if (!opts_.quiet)
      std::cerr << "wsflow: run " << run_id_ << " waits for approval " << where << "; answer with: wsflow approve "
                << run_id_ << " " << id << " --resolution " << (req.options.empty() ? "R" : req.options.front()) << "\n";
  }
}

void Approvals::OnHookAnswer(const std::string& approval_id, const HookAnswer& ans) {
  auto it = entries_.find(approval_id);
  if (it == entries_.end() || it->second.answered) return;
  const ApprovalRequest& req = it->second.request;
  if (ans.cannot_run) return host_->EndRun(kExitUsage, "wsflow: approval " + approval_id + " was not answered: " + ans.problem);
  if (!ans.answered) {
    if (opts_.no_input || !opts_.on_approval.empty())
      return host_->EndRun(kExitProtocol, "wsflow: approval " + approval_id + " was not answered: " + ans.problem);
    std::cerr << "wsflow: approval " << approval_id << " was not answered: " << ans.problem << "\n";
    return;
  }
  std::string resolution = ans.resolution;
  if (ans.reject) {
    resolution = FirstRejectLike(req.options);
    if (resolution.empty()) {
      return host_->EndRun(kExitProtocol, "wsflow: --on-approval rejected approval " + approval_id +
                                              ", but it offers no reject-like option: " + JoinList(req.options));
    }
  } else if (!Offers(req, resolution)) {
    return host_->EndRun(kExitUsage, "wsflow: the answer '" + resolution + "' to approval " + approval_id +
                                         " is not one of its options: " + JoinList(req.options));
  }
  Answer(approval_id, resolution, ans.feedback,
         opts_.on_approval.empty() ? "the terminal" : (ans.reject ? "--on-approval (non-zero exit)" : "--on-approval"));
}

void Approvals::Answer(const std::string& approval_id, const std::string& resolution, const std::string& feedback,
                       const std::string& why) {
  entries_[approval_id].handling = true;
  host_->SendAnswer(approval_id, resolution, feedback, why);
}

}  // namespace wsflow
