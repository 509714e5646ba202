#include "cli/send_cmd.h"

#include <unistd.h>

#include <iostream>

#include "cli/help_format.h"
#include "core/exit_status.h"
#include "session/send_pipe.h"

namespace wsflow {

CLI::App* SetupSend(CLI::App& app, SendFlags* f) {
  auto* sub = app.add_subcommand("send", "send stdin lines as frames; print received frames as NDJSON");
  auto* text = sub->add_flag("--text", f->text, "send lines as they are (no JSON check)");
  auto* binary = sub->add_flag("--binary", f->binary, "send lines as binary frames");
  text->excludes(binary);
  sub->add_option("--linger", f->linger, "after stdin ends, wait this long for answers")->type_name("DURATION");
  sub->add_option("--record", f->record, "record every frame in and out, with timing, to this file")
      ->type_name("FILE");
  AddWaitOptions(sub, &f->wait);
  AddConnectionOptions(sub, &f->conn);
  ShowInBriefHelp(sub, {"--until", "--timeout", "--url"});
  sub->footer("Example: echo '{\"type\":\"ping\"}' | wsflow send --url ws://host/ws --until pong");
  return sub;
}

int RunSend(const SendFlags& f) {
  SendOptions o;
  std::string err;
  if (!ResolveConnection(f.conn, &o.session, &o.url, &err) || !ResolveWait(f.wait, &o.wait, &o.timeout, &err) ||
      !ParseDuration(f.linger, &o.linger, &err)) {
    std::cerr << "wsflow: " << err << "\n";
    return kExitUsage;
  }
  if (o.wait.approval) o.wait.types.push_back("approval_requested");  // a frame of that type ends the wait
  o.mode = f.binary ? SendOptions::Mode::kBinary : f.text ? SendOptions::Mode::kText : SendOptions::Mode::kJson;
  o.record_file = f.record;
  o.interactive = ::isatty(0);  // a person typing: a line that is not JSON is reported, not fatal
  SendPipe pipe(std::move(o));
  return pipe.Run();
}

}  // namespace wsflow
