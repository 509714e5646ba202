#include "cli/status_cmd.h"

#include <cstdio>
#include <iostream>

#include "cli/common_options.h"
#include "cli/help_format.h"
#include "cli/run_query.h"
#include "core/exit_status.h"

namespace wsflow {

CLI::App* SetupStatus(CLI::App& app, StatusFlags* f) {
  auto* sub = app.add_subcommand("status", "print a run's state, last seq, outcome and open approvals");
  sub->add_option("run", f->run_id, "run id")->required();
  sub->add_option("--timeout", f->timeout, "give up after this long (exit 124)")->type_name("DURATION");
  AddConnectionOptions(sub, &f->conn);
  ShowInBriefHelp(sub, {"--url"});
  sub->footer("Example: wsflow status r-1234 | jq -r '.approvals[].approval_id'");
  return sub;
}

std::string StatusLine(const std::string& run_id, const JsonValue& d) {
  auto member = [&d](const char* key) {
    auto it = d.IsObject() ? d.FindMember(key) : d.MemberEnd();
    return it == d.MemberEnd() ? std::string("null") : ToJson(it->value);
  };
  const JsonValue* approvals = GetArray(d, "approvals");
  return JsonObject({{"run_id", Quote(run_id)},
                     {"state", member("state")},
                     {"task", member("task")},
                     {"created", member("created")},
                     {"updated", member("updated")},
                     {"last_seq", member("last_seq")},
                     {"outcome", member("outcome")},
                     {"approvals", approvals ? ToJson(*approvals) : "[]"}});
}

int RunStatus(const StatusFlags& f) {
  SessionOptions opts;
  std::string err;
  int status = QuerySession(f.conn, "report a run's status", &opts, &err);
  Millis timeout{0};
  if (status == kExitCompleted && !ParseDuration(f.timeout, &timeout, &err)) {
    err = "--timeout: " + err;
    status = kExitUsage;
  }
  if (status != kExitCompleted) {
    std::cerr << "wsflow: status: " << err << "\n";
    return status;
  }
  RunQuery query(JsonObject({{"type", Quote("run_status")}, {"run_id", Quote(f.run_id)}}), "status");
  query.SetTimeout(timeout);
  status = RunQueryOver(opts, &query);
  if (status != kExitCompleted) {
    std::cerr << query.message() << "\n";
    return status;
  }
  std::string line = StatusLine(f.run_id, query.answer()) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), stdout) == line.size()) std::fflush(stdout);
  return kExitCompleted;
}

}  // namespace wsflow
