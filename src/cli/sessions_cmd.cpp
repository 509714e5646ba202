#include "cli/sessions_cmd.h"

#include <dirent.h>
#include <sys/stat.h>
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
  // A process's socket is p<pid>.sock; each run it holds is a symbolic link to it (docs/sessions.md).
  // Links whose process is gone are removed on the way.
  std::vector<std::string> socks, links;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() <= 5 || n.compare(n.size() - 5, 5, ".sock") != 0) continue;
    std::string path = dir + "/" + n;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISSOCK(st.st_mode)) socks.push_back(path);
    else if (S_ISLNK(st.st_mode)) links.push_back(path);
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
      return true;  // a process holding several runs says one line for each
    }, &err);
    ::close(fd);
  }
  for (const auto& path : links) {  // runs of processes that are gone
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) ::unlink(path.c_str());
  }
  return kExitCompleted;
}

}  // namespace wsflow
