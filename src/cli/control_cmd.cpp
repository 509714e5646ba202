#include "cli/control_cmd.h"

#include <iostream>

#include "cli/help_format.h"
#include "cli/runs_from.h"
#include "core/json.h"
#include "core/run_tally.h"
#include "session/follow_command.h"

namespace wsflow {

CLI::App* SetupControl(CLI::App& app, const std::string& type, ControlFlags* f) {
  f->type = type;
  static const char* what[][2] = {{"approve", "answer an approval"},
                                  {"cancel", "cancel a run"},
                                  {"pause", "pause a run"},
                                  {"resume", "resume a paused run"}};
  std::string description;
  for (auto& w : what)
    if (type == w[0]) description = w[1];
  auto* sub = app.add_subcommand(type, description + " and wait until the run acknowledges it");
  if (type == "approve") {
    sub->add_option("run", f->run_id, "run id")->required();
    sub->add_option("approval_id", f->approval_id, "the approval_id of the approval_requested event")->required();
    auto* res = sub->add_option("--resolution", f->resolution, "one of the request's options (default: approve-like)");
    auto* rej = sub->add_flag("--reject", f->reject, "answer with the request's reject-like option");
    res->excludes(rej);
    sub->add_option("--feedback", f->feedback, "text for the agents");
    sub->add_option("--modifications", f->modifications, "changes requested")->type_name("JSON");
    sub->footer("Example: wsflow approve r-1234 approval-s3 --feedback 'looks good'");
  } else {
    sub->add_option("run", f->runs, "run id (several: each acted on, each reported on its own line)");
    sub->add_option("--runs-from", f->runs_from, "the run ids of FILE too, one per line (-: stdin)")->type_name("FILE|-");
    sub->footer("Example: wsflow " + type + " r-1234 --timeout 30s");
  }
  sub->add_flag("--direct", f->direct, "connect even when a local session holds the run");
  sub->add_option("--timeout", f->timeout, "give up after this long (exit 124)")->type_name("DURATION")->group("Waiting");
  AddConnectionOptions(sub, &f->conn);
  ShowInBriefHelp(sub, {"--timeout", "--url", "--dialect"});
  return sub;
}

int RunControl(const ControlFlags& f) {
  FollowCommand o;
  std::string err;
  if (!ResolveConnection(f.conn, &o.session, &o.base_url, &err) || !ParseDuration(f.timeout, &o.timeout, &err)) {
    std::cerr << "wsflow: " << err << "\n";
    return kExitUsage;
  }
  if (!f.modifications.empty()) {
    JsonDoc d;
    if (!ParseJson(f.modifications, &d, &err)) {
      std::cerr << "wsflow: --modifications is not JSON: " << err << "\n";
      return kExitUsage;
    }
  }
  std::vector<std::string> runs = f.runs;
  if (f.type == "approve") runs = {f.run_id};
  if (!f.runs_from.empty() && !ReadRunIds(f.runs_from, &runs, &err)) {
    std::cerr << "wsflow: " << err << "\n";
    return kExitUsage;
  }
  if (runs.empty()) {
    std::cerr << "wsflow: " << f.type << " needs a run id (or --runs-from)\n";
    return kExitUsage;
  }
  o.dialect = o.session.dialect;
  o.direct = f.direct;
  o.stream.queue_size = o.session.queue_size;
  o.stream.quiet = o.session.quiet;
  o.stream.verbose = o.session.verbose;
  ControlAction act;
  act.type = f.type;
  act.approval_id = f.approval_id;
  act.resolution = f.resolution;
  act.reject = f.reject;
  act.feedback = f.feedback;
  act.modifications = f.modifications;
  o.run.action = act;
  // Several runs: one after the other, each confirmed on its own line; the exit status by the
  // rule of watch with several runs (README "Several runs").
  std::vector<int> statuses;
  for (const auto& id : runs) {
    FollowCommand one = o;
    one.run.run_id = id;
    statuses.push_back(RunFollowCommand(std::move(one)));
    if (IsCommandStatus(statuses.back())) break;  // interrupted, or output failed: stop here
  }
  return CombinedStatus(statuses);
}

}  // namespace wsflow
