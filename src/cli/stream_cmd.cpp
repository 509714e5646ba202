#include "cli/stream_cmd.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "core/json.h"
#include "session/run_follower.h"

namespace wsflow {

namespace {
void AddOutputOptions(CLI::App* sub, StreamFlags* f) {
  auto* g = "Output";
  sub->add_option("--type", f->types, "print only these event types (repeatable, comma lists)")->group(g);
  sub->add_option("--exclude-type", f->exclude_types, "do not print these event types")->group(g);
  sub->add_flag("--raw", f->raw, "print every received frame unchanged")->group(g);
  sub->add_flag("--follow", f->follow, "keep going after the terminal event")->group(g);
  sub->add_flag("--strict", f->strict, "a frame that is not JSON ends with exit 4")->group(g);
  sub->add_flag("--connection-events", f->connection_events, "print connected/disconnected/reconnected events")
      ->group(g);
  sub->add_option("--summary", f->summary, "write a JSON summary of the stream to this file")->group(g);
  sub->add_flag("--auto-approve", f->auto_approve, "answer every approval with its approve-like option")
      ->group("Approvals");
  AddConnectionOptions(sub, &f->conn);
}
}  // namespace

CLI::App* SetupWatch(CLI::App& app, StreamFlags* f) {
  auto* sub = app.add_subcommand("watch", "print a run's events (history, then live) until it ends");
  sub->add_option("run", f->run_id, "run id")->required();
  auto* since = sub->add_option("--since-seq", f->since_seq, "print only events after this seq")
                    ->check(CLI::NonNegativeNumber);
  auto* tail = sub->add_option("--tail", f->tail, "start with the last N events")->check(CLI::NonNegativeNumber);
  auto* none = sub->add_flag("--no-history", f->no_history, "print only events from now on");
  since->excludes(tail)->excludes(none);
  tail->excludes(none);
  AddOutputOptions(sub, f);
  sub->footer("Example: wsflow watch r-1234 --type step_completed | jq -r .data.result");
  return sub;
}

CLI::App* SetupExecute(CLI::App& app, StreamFlags* f) {
  auto* sub = app.add_subcommand("execute", "start a run and print its events until it ends");
  sub->add_option("task", f->task, "what the workflow should do")->required();
  sub->add_option("--model", f->model, "model to use (config.model)");
  sub->add_option("--config", f->config, "run configuration, a JSON object (e.g. '{\"scenario\":\"fail\"}')");
  sub->add_option("--run-id", f->run_id, "choose the run id (default: a random r-...)");
  AddOutputOptions(sub, f);
  sub->footer("Example: wsflow execute 'summarise the logs' --auto-approve > events.ndjson; echo $?");
  return sub;
}

int RunStream(const StreamFlags& f) {
  FollowOptions o;
  std::string err;
  if (!ResolveConnection(f.conn, &o.session, &o.base_url, &err)) {
    std::cerr << "wsflow: " << err << "\n";
    return kExitUsage;
  }
  o.run_id = f.run_id;
  o.execute = f.execute;
  o.task = f.task;
  if (f.execute) {
    JsonDoc config;
    if (!ParseJson(f.config, &config, &err) || !config.IsObject()) {
      std::cerr << "wsflow: --config is not a JSON object" << (err.empty() ? "" : ": " + err) << "\n";
      return kExitUsage;
    }
    if (!f.model.empty()) {
      config.RemoveMember("model");
      config.AddMember("model", Str(f.model, config.GetAllocator()), config.GetAllocator());
    }
    o.config_json = ToJson(config);
  }
  o.since_seq = f.since_seq;
  o.tail = f.no_history ? 0 : f.tail;
  o.raw = f.raw;
  o.follow = f.follow;
  o.auto_approve = f.auto_approve;
  o.strict = f.strict;
  o.connection_events = f.connection_events;
  o.summary_file = f.summary;
  o.filter.Include(f.types);
  o.filter.Exclude(f.exclude_types);
  RunFollower follower(std::move(o));
  return follower.Run();
}

}  // namespace wsflow
