#include "cli/app.h"

#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/config_cmd.h"
#include "cli/control_cmd.h"
#include "cli/docs_gen.h"
#include "cli/help_format.h"
#include "cli/number_checks.h"
#include "cli/replay_cmd.h"
#include "cli/runs_cmd.h"
#include "cli/send_cmd.h"
#include "cli/serve_cmd.h"
#include "cli/sessions_cmd.h"
#include "cli/status_cmd.h"
#include "cli/stream_cmd.h"
#include "core/envelope.h"
#include "core/exit_status.h"
#include "core/text.h"

namespace wsflow {

namespace {
// "'wach' is not a wsflow command; did you mean 'watch'?" for a first word that names no
// command, as git says it; "" when the first word is a command (or there is none).
std::string UnknownCommand(const CLI::App& app, int argc, char** argv) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); }))
    names.push_back(sub->get_name());
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.empty() || word[0] == '-') continue;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      if (sub->check_name(word)) return "";
    std::string near = Nearest(word, names);
    return "'" + word + "' is not a wsflow command" + (near.empty() ? "" : "; did you mean '" + near + "'?");
  }
  return "";
}
}  // namespace

int RunApp(int argc, char** argv) {
  // A reader that goes away must show up as EPIPE from write(), not kill us.
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"wsflow: follow and drive workflow runs over WebSocket, one JSON line per event"};
  app.set_version_flag("--version", std::string("wsflow ") + WSFLOW_VERSION + " (event envelope v" +
                                        kEnvelopeVersion + ")",
                       "print the version");
  app.require_subcommand(1);
  SetupHelp(app);  // before the subcommands: they inherit the formatter and --help-all
  app.footer("Exit: 0 completed, 1 failed, 2 usage, 3 cancelled, 4 protocol, 5 connection,\n"
             "6 auth, 7 incomplete, 8 output, 124 timeout, 129/130/143 signals. See wsflow(1).");

  StreamFlags watch, execute;
  execute.execute = true;
  ServeOptions serve;
  SendFlags send;
  ControlFlags controls[4];
  CLI::App* watch_cmd = SetupWatch(app, &watch);
  CLI::App* execute_cmd = SetupExecute(app, &execute);
  CLI::App* control_cmds[4];
  const char* control_names[4] = {"approve", "cancel", "pause", "resume"};
  for (int i = 0; i < 4; ++i) control_cmds[i] = SetupControl(app, control_names[i], &controls[i]);
  RunsFlags runs;
  CLI::App* runs_cmd = SetupRuns(app, &runs);
  StatusFlags status;
  CLI::App* status_cmd = SetupStatus(app, &status);
  CLI::App* send_cmd = SetupSend(app, &send);
  ReplayFlags replay;
  CLI::App* replay_cmd = SetupReplay(app, &replay);
  CLI::App* serve_cmd = SetupServe(app, &serve);
  CLI::App* sessions_cmd = SetupSessions(app);
  ConfigFlags config;
  CLI::App* config_cmd = SetupConfig(app, &config);
  // Hidden: prints the man page or a completion generated from these definitions.
  std::string gen_kind;
  CLI::App* gen_cmd = app.add_subcommand("__gen", "generate docs")->group("");
  gen_cmd->add_option("kind", gen_kind, "man, bash, zsh or fish")->required();
  UseShortNumberChecks(&app);  // every numeric option, wherever it was defined

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: printed on stdout
    if (app.get_subcommands().empty()) {
      std::string unknown = UnknownCommand(app, argc, argv);
      if (!unknown.empty()) {
        std::cerr << "wsflow: " << unknown << " (see wsflow --help)\n";
        return kExitUsage;
      }
    }
    std::string where;
    for (auto* sub : app.get_subcommands()) where = std::string(" ") + sub->get_name();
    std::cerr << "wsflow: " << e.what() << " (see wsflow" << where << " --help)\n";
    return RemapCliExitCode(e.get_exit_code());
  }
  if (watch_cmd->parsed()) return RunStream(watch);
  if (execute_cmd->parsed()) return RunStream(execute);
  for (int i = 0; i < 4; ++i)
    if (control_cmds[i]->parsed()) return RunControl(controls[i]);
  if (runs_cmd->parsed()) return RunRuns(runs);
  if (status_cmd->parsed()) return RunStatus(status);
  if (send_cmd->parsed()) return RunSend(send);
  if (replay_cmd->parsed()) return RunReplay(replay);
  if (serve_cmd->parsed()) return RunServe(serve);
  if (sessions_cmd->parsed()) return RunSessions();
  if (config_cmd->parsed()) return RunConfig(config);
  if (gen_cmd->parsed()) {
    if (GenerateDocs(app, gen_kind, std::cout)) return kExitCompleted;
    std::cerr << "wsflow: __gen takes man, bash, zsh or fish\n";
    return kExitUsage;
  }
  return kExitUsage;
}

}  // namespace wsflow
