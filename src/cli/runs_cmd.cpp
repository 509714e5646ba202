#include "cli/runs_cmd.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/common_options.h"
#include "cli/help_format.h"
#include "cli/number_checks.h"
#include "cli/run_query.h"
#include "cli/run_table.h"
#include "core/exit_status.h"
#include "core/terminal.h"

namespace wsflow {

namespace {
int Columns() {
  if (int cols = terminal::Columns(1)) return cols;
  const char* env = std::getenv("COLUMNS");
  return env && std::atoi(env) > 0 ? std::atoi(env) : 100;
}

// stdout is data: a reader that has gone (`| head -1`) ends the output quietly.
void Print(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) == text.size()) std::fflush(stdout);
}
}  // namespace

CLI::App* SetupRuns(CLI::App& app, RunsFlags* f) {
  auto* sub = app.add_subcommand("runs", "list the backend's runs, newest first (a table on a terminal)");
  sub->add_option("--state", f->state, "only runs in this state")
      ->check(CLI::IsMember({"running", "paused", "waiting", "completed", "failed", "cancelled"}));
  sub->add_option("--limit", f->limit, "at most N runs")->check(Between(1, 10000))->capture_default_str();
  sub->add_option("--output", f->output, "json: NDJSON; table: aligned columns; auto: a table on a terminal")
      ->check(CLI::IsMember({"auto", "json", "table", "pretty"}))->capture_default_str()->group("Output");
  sub->add_option("--timeout", f->timeout, "give up after this long (exit 124)")->type_name("DURATION");
  AddConnectionOptions(sub, &f->conn);
  ShowInBriefHelp(sub, {"--state", "--limit", "--url"});
  sub->footer("Example: wsflow runs --state waiting | jq -r .run_id");
  return sub;
}

std::string ListRunsRequest(const RunsFlags& f) {
  return JsonObject({{"type", Quote("list_runs")},
                     {"state", f.state.empty() ? "" : Quote(f.state)},
                     {"limit", std::to_string(f.limit)}});
}

int RunRuns(const RunsFlags& f) {
  SessionOptions opts;
  std::string err;
  int status = QuerySession(f.conn, "list runs", &opts, &err);
  Millis timeout{0};
  if (status == kExitCompleted && !ParseDuration(f.timeout, &timeout, &err)) {
    err = "--timeout: " + err;
    status = kExitUsage;
  }
  if (status != kExitCompleted) {
    std::cerr << "wsflow: runs: " << err << "\n";
    return status;
  }
  RunQuery query(ListRunsRequest(f), "runs");
  query.SetTimeout(timeout);
  status = RunQueryOver(opts, &query);
  if (status != kExitCompleted) {
    std::cerr << query.message() << "\n";
    return status;
  }
  const JsonValue& answer = query.answer();
  const JsonValue* runs = GetArray(answer, "runs");
  if (!runs) {
    std::cerr << "wsflow: runs: the backend's answer has no \"runs\" list\n";
    return kExitProtocol;
  }
  bool table = f.output == "table" || f.output == "pretty" || (f.output == "auto" && ::isatty(1));
  if (table) {
    Print(RunsTable(*runs, static_cast<size_t>(GetInt(answer, "total", runs->Size())), Columns()));
    return kExitCompleted;
  }
  std::string out;
  for (const auto& r : runs->GetArray()) out += ToJson(r) + "\n";
  Print(out);
  return kExitCompleted;
}

}  // namespace wsflow
