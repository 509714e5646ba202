#include "cli/stream_cmd.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/help_format.h"
#include "cli/human_output.h"
#include "core/json.h"
#include "core/terminal.h"
#include "cli/runs_from.h"
#include "session/follow_command.h"
#include "session/follow_many.h"

namespace wsflow {

void AddStreamOptions(CLI::App* sub, StreamFlags* f) {
  auto* g = "Output";
  sub->add_option("--type", f->types, "print only these event types (comma lists)")->type_name("TYPES")->group(g);
  sub->add_option("--exclude-type", f->exclude_types, "do not print these event types")->type_name("TYPES")->group(g);
  sub->add_option("--match", f->match, "print only events where this holds (PATH=V, PATH!=V, PATH~RE)")
      ->type_name("PREDICATE")->group(g);
  sub->add_flag("--raw", f->raw, "print every received frame unchanged")->group(g);
  sub->add_flag("--keep-raw", f->keep_raw, "converted events keep the backend's frame under \"raw\"")->group(g);
  sub->add_flag("--show-heartbeats", f->show_heartbeats, "print the backend's heartbeat frames too")->group(g);
  sub->add_flag("--follow", f->follow, "keep going after the terminal event")->group(g);
  sub->add_flag("--strict", f->strict, "a frame that is not JSON ends with exit 4")->group(g);
  sub->add_flag("--connection-events", f->connection_events, "print connected/disconnected/reconnected events")
      ->group(g);
  sub->add_option("--record", f->record, "record every frame in and out, with timing, to this file")
      ->type_name("FILE")->group(g);
  sub->add_option("--summary", f->summary, "write a JSON summary of the stream to this file")
      ->type_name("FILE")->group(g);
  sub->add_option("--output", f->output, "json: NDJSON; pretty: a line per event for people; auto: pretty on a terminal")
      ->check(CLI::IsMember({"json", "pretty", "auto"}))->group(g);
  auto* color = sub->add_option("--color", f->color, "colour pretty output: auto (on a terminal, unless NO_COLOR)")
                    ->check(CLI::IsMember({"auto", "always", "never"}))->group(g);
  sub->add_flag("--no-color", f->no_color, "no colours (--color never)")->excludes(color)->group(g);
  sub->add_option("--progress", f->progress, "live status: auto (a line on stderr when stdout is piped and stderr a "
                  "terminal; a board of several runs on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))->group(g);
  auto* a = "Approvals";
  sub->add_option("--approve", f->approve_rules, "answer approvals of CHECKPOINT with RESOLUTION (* any)")
      ->type_name("CHECKPOINT=RESOLUTION")->group(a);
  sub->add_flag("--auto-approve", f->auto_approve, "answer approvals with their approve-like option")->group(a);
  sub->add_option("--on-approval", f->on_approval, "run CMD to answer (request on stdin; prints the resolution; exit 126/127: exit 2)")
      ->type_name("CMD")->group(a);
  sub->add_option("--on-approval-timeout", f->on_approval_timeout, "how long CMD may take")
      ->type_name("DURATION")->group(a);
  sub->add_option("--answer-delay", f->answer_delay, "send no answer sooner after its request (cmbagent 1s, others 0)")
      ->type_name("DURATION")->group(a);
  sub->add_flag("--no-input", f->no_input, "never ask: an approval no rule answers is exit 4")->group(a);
  AddWaitOptions(sub, &f->wait);
  sub->add_flag("--cancel-on-timeout", f->cancel_on_timeout, "cancel the run when --timeout is reached")
      ->group("Waiting");
  sub->add_flag("--cancel-on-interrupt", f->cancel_on_interrupt, "cancel the run on Ctrl-C or SIGTERM")
      ->group("Waiting");
  AddConnectionOptions(sub, &f->conn);
}

bool ReadConfigArg(const std::string& arg, std::string* text, std::string* err) {
  if (arg.empty() || arg[0] != '@') {
    *text = arg;
    return true;
  }
  std::ifstream in(arg.substr(1));
  if (!in) {
    *err = "cannot read --config file " + arg.substr(1);
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  *text = ss.str();
  return true;
}

CLI::App* SetupWatch(CLI::App& app, StreamFlags* f) {
  auto* sub = app.add_subcommand("watch", "print a run's events (history, then live) until it ends");
  sub->add_option("run", f->runs, "run id (several: followed together, see --runs-from)");
  auto* since = sub->add_option("--since-seq", f->since_seq, "print only events after this seq")
                    ->check(CLI::NonNegativeNumber);
  auto* tail = sub->add_option("--tail", f->tail, "start with the last N events")->check(CLI::NonNegativeNumber);
  auto* none = sub->add_flag("--no-history", f->no_history, "print only events from now on");
  sub->add_flag("--direct", f->direct, "connect even when a local session holds the run");
  since->excludes(tail)->excludes(none);
  tail->excludes(none);
  auto* g = "Several runs";
  sub->add_option("--runs-from", f->runs_from, "the run ids of FILE too, a line each (-: stdin)")
      ->type_name("FILE|-")->group(g);
  auto* ff = sub->add_flag("--fail-fast", f->fail_fast, "end at the first run that does not complete")
                 ->group(g);
  sub->add_flag("--cancel-rest", f->cancel_rest, "with --fail-fast: cancel the runs still going")->needs(ff)->group(g);
  sub->add_option("--max-connections", f->max_connections,
                  "runs with a socket each: at most N at once (16)")
      ->type_name("N")->check(CLI::PositiveNumber)->group(g);
  AddStreamOptions(sub, f);
  ShowInBriefHelp(sub, {"--type", "--output", "--until", "--timeout", "--url", "--dialect"});
  sub->footer("Example: wsflow watch r-1 r-2 --until step_completed --timeout 15m | jq .data");
  return sub;
}

CLI::App* SetupExecute(CLI::App& app, StreamFlags* f) {
  auto* sub = app.add_subcommand("execute", "start a run and print its events until it ends");
  sub->add_option("task", f->task, "what the workflow should do")->required();
  sub->add_option("--model", f->model, "model to use (config.model)");
  sub->add_option("--config", f->config, "run configuration: a JSON object, or @FILE")->type_name("JSON|@FILE");
  sub->add_option("--run-id", f->run_id, "choose the run id (default: a random r-...)");
  sub->add_flag("--detach", f->detach, "print {\"run_id\":...} once the run started, and exit");
  AddStreamOptions(sub, f);
  ShowInBriefHelp(sub, {"--output", "--approve", "--until", "--timeout", "--url"});
  sub->footer("Example: wsflow execute 'tidy logs' --auto-approve --timeout 30m > run.ndjson");
  return sub;
}

int RunStream(const StreamFlags& f) {
  FollowCommand o;
  StreamOptions& st = o.stream;
  std::string err;
  auto usage = [](const std::string& msg) {
    std::cerr << "wsflow: " << msg << "\n";
    return kExitUsage;
  };
  ConfigFile config;
  if (!ResolveConnection(f.conn, &o.session, &o.base_url, &err, &config)) return usage(err);
  HumanOutput human;
  if (!ResolveHumanOutput(f, config, &human, &err)) return usage(err);
  o.pretty = human.pretty;
  o.status = human.status;
  o.board = human.board;
  if (!ResolveWait(f.wait, &st.wait, &o.timeout, &err)) return usage(err);
  if (!ParsePredicates(f.match, &st.match, &err)) return usage("--match " + err);
  ApprovalOptions& ap = st.approvals;
  if (!ParseDuration(f.on_approval_timeout, &ap.on_approval_timeout, &err)) return usage("--on-approval-timeout: " + err);
  SettingValue delay;
  if (!ResolveSetting(f.conn, config, "answer_delay", f.answer_delay, &delay, &err)) return usage(err);
  if (!delay.value.empty() && !ParseDuration(delay.value, &ap.answer_delay, &err)) return usage("--answer-delay: " + err);
  for (const auto& r : f.approve_rules) {
    ApprovalRule rule;
    if (!ParseApprovalRule(r, &rule, &err)) return usage("--approve " + err);
    ap.policy.rules.push_back(rule);
  }
  if (f.cancel_on_timeout && o.timeout.count() == 0) return usage("--cancel-on-timeout needs --timeout");
  RunTarget& run = o.run;
  std::vector<std::string> runs = f.runs;
  if (!f.execute) {
    if (runs.empty() && f.runs_from.empty()) return usage("watch needs a run id (or --runs-from)");
    if (!f.runs_from.empty() && f.runs_from != "-") {
      if (!ReadRunIds(f.runs_from, &runs, &err)) return usage(err);
      if (runs.empty()) return usage("--runs-from " + f.runs_from + ": no run ids");
    }
  }
  bool several = !f.execute && (runs.size() > 1 || !f.runs_from.empty());
  if (several) {
    if (f.since_seq > 0 || f.tail >= 0 || f.no_history)
      return usage("--since-seq, --tail and --no-history name one point in one run: not with several runs");
    if (!f.record.empty()) return usage("--record keeps one run: not with several runs (use --summary, or one watch per run)");
  }
  run.run_id = f.execute ? f.run_id : runs.empty() ? std::string() : runs[0];
  run.execute = f.execute;
  run.task = f.task;
  run.detach = f.detach;
  if (f.execute) {
    std::string text;
    if (!ReadConfigArg(f.config, &text, &err)) return usage(err);
    JsonDoc cfg;
    if (!ParseJson(text, &cfg, &err) || !cfg.IsObject())
      return usage("--config is not a JSON object" + (err.empty() ? std::string() : ": " + err));
    if (!f.model.empty()) {
      cfg.RemoveMember("model");
      cfg.AddMember("model", Str(f.model, cfg.GetAllocator()), cfg.GetAllocator());
    }
    run.config_json = ToJson(cfg);
  }
  run.since_seq = f.since_seq;
  run.tail = f.no_history ? 0 : f.tail;
  st.raw = f.raw;
  st.keep_raw = f.keep_raw;
  st.show_heartbeats = f.show_heartbeats;
  st.follow = f.follow;
  st.strict = f.strict;
  st.connection_events = f.connection_events;
  st.filter.Include(f.types);
  st.filter.Exclude(f.exclude_types);
  st.cancel_on_timeout = f.cancel_on_timeout;
  st.cancel_on_interrupt = f.cancel_on_interrupt;
  ap.policy.auto_approve = f.auto_approve;
  ap.on_approval = f.on_approval;
  ap.no_input = f.no_input;
  // The prompt reads the terminal itself (/dev/tty), so stdin may carry run ids (--runs-from -).
  ap.interactive = !f.no_input && terminal::CanAsk();
  if (ap.interactive) terminal::Install();
  ap.until_approval = st.wait.approval;
  ap.quiet = o.session.quiet;
  st.queue_size = o.session.queue_size;
  st.quiet = o.session.quiet;
  st.verbose = o.session.verbose;
  o.dialect = o.session.dialect;
  o.direct = f.direct;
  o.summary_file = f.summary;
  o.record_file = f.record;
  if (!several) return RunFollowCommand(std::move(o));
  FollowManyCommand many;
  many.base = std::move(o);
  many.run_ids = std::move(runs);
  many.ids_from_stdin = f.runs_from == "-";
  many.fail_fast = f.fail_fast;
  many.cancel_rest = f.cancel_rest;
  many.max_connections = f.max_connections;
  return RunFollowMany(std::move(many));
}

}  // namespace wsflow
