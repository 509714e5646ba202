#include "cli/sessions_cmd.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <vector>

#include "core/exit_status.h"
#include "core/ndjson_writer.h"
#include "session/control_socket.h"

namespace wsflow {

CLI::App* SetupSessions(CLI::App& app) {
  auto* sub = app.add_subcommand("sessions", "list the local processes that hold a run's connection (NDJSON)");
  sub->footer("Example: wsflow sessions | jq -r 'select(.state==\"open\") | .run_id'");
  return sub;
}

int RunSessions() {
  std::string dir, err;
  if (!ControlDir(&dir, &err)) {
    std::cerr << "wsflow: " << err << "\n";
    return kExitUsage;
  }
  DIR* d = ::opendir(dir.c_str());
  if (!d) return kExitCompleted;
  std::vector<std::string> socks;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".sock") == 0) socks.push_back(dir + "/" + n);
  }
  ::closedir(d);
  std::sort(socks.begin(), socks.end());
  NdjsonWriter out(NdjsonWriter::Options{});
  for (const auto& path : socks) {
    int fd = ConnectControl(path, &err);
    if (fd < 0) {  // left by a process that was killed: nobody will answer there again
      ::unlink(path.c_str());
      continue;
    }
    ControlRequest(fd, R"({"op":"hello"})", [&](const std::string& line) {
      out.Write(line);
      return false;
    }, &err);
    ::close(fd);
  }
  return kExitCompleted;
}

}  // namespace wsflow
