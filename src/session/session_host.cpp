#include "session/session_host.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <iostream>
#include <iterator>

#include "session/control_request.h"

namespace wsflow {

SessionHost::SessionHost(std::function<void(std::function<void()>)> post, ControlServer::Limits limits, bool verbose)
    : post_(std::move(post)), limits_(limits), verbose_(verbose) {}

SessionHost::~SessionHost() { Stop(); }

bool SessionHost::Listen(const std::string& dir, std::string* err) {
  if (server_) return server_->listening();
  server_ = std::make_unique<ControlServer>();
  auto handler = [this](const std::string& line, std::shared_ptr<ControlClient> client) {
    post_([this, line, client] { OnRequest(line, client); });
  };
  if (!server_->Start(dir + "/p" + std::to_string(::getpid()) + ".sock", handler, err, limits_)) return false;
  if (verbose_) std::cerr << "wsflow: local control socket " << server_->path() << "\n";
  return true;
}

bool SessionHost::Serve(const std::string& url, const std::string& run_id, HostedRun* run, bool keep_history) {
  std::string dir, err;
  auto fail = [this](const std::string& why) {
    if (verbose_) std::cerr << "wsflow: no local control socket: " << why << "\n";
    return false;
  };
  if (!ControlDir(&dir, &err) || !Listen(dir, &err)) return fail(err);
  std::string link = ControlSocketPath(dir, url, run_id);
  struct stat st {};
  if (::lstat(link.c_str(), &st) == 0) {
    int fd = ConnectControl(link, &err);
    if (fd >= 0) {  // another live process holds the run
      ::close(fd);
      return fail("run " + run_id + " is held by another process already");
    }
    ::unlink(link.c_str());  // left by a process that was killed
  }
  std::string target = server_->path().substr(server_->path().rfind('/') + 1);  // relative: the same directory
  if (::symlink(target.c_str(), link.c_str()) != 0) return fail(link + ": " + std::strerror(errno));
  Served s;
  s.run = run;
  s.link = link;
  if (keep_history && !(s.history = std::tmpfile())) {
    ::unlink(link.c_str());
    return fail("no temporary file for the run's history");
  }
  runs_[run_id] = std::move(s);
  return true;
}

void SessionHost::KeepHistory(const std::string& run_id) {
  auto it = runs_.find(run_id);
  if (it != runs_.end() && !it->second.history) it->second.history = std::tmpfile();
}

void SessionHost::OnRequest(const std::string& line, std::shared_ptr<ControlClient> client) {
  ControlRequestMsg req;
  std::string refusal;
  if (!ParseControlRequest(line, &req, &refusal)) return client->End(refusal);
  if (req.run_id.empty() && runs_.size() != 1) {
    if (req.op == ControlRequestMsg::Op::kHello && !runs_.empty()) {  // wsflow sessions: every run held
      for (auto r = runs_.begin(); r != std::prev(runs_.end()); ++r) client->Send(r->second.run->Describe());
      return client->End(runs_.rbegin()->second.run->Describe());
    }
    return client->End(RefusalLine(kExitUsage, "wsflow: this process holds " + std::to_string(runs_.size()) +
                                                   " runs: name one"));
  }
  auto it = req.run_id.empty() ? runs_.begin() : runs_.find(req.run_id);
  if (it == runs_.end())
    return client->End(RefusalLine(kExitProtocol, "wsflow: this process does not hold run " + req.run_id));
  Served& s = it->second;
  switch (req.op) {
    case ControlRequestMsg::Op::kHello:
      return client->End(s.run->Describe());
    case ControlRequestMsg::Op::kAction:
      if (s.ended) return client->End(RefusalLine(kExitProtocol, "wsflow: the run's stream has ended"));
      return s.run->RemoteAction(req.action, client);
    case ControlRequestMsg::Op::kWatch: {
      Watcher w{client, std::max(req.since_seq, s.lines)};
      if (s.history && req.since_seq < s.lines) {
        std::fflush(s.history);
        client->SendFile(::fileno(s.history), static_cast<off_t>(std::ftell(s.history)), req.since_seq);
      }
      if (s.ended) return client->End(WatchEndLine(s.exit_status));
      s.watchers.push_back(std::move(w));
      return;
    }
  }
}

void SessionHost::Share(const std::string& run_id, std::string_view line) {
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return;
  Served& s = it->second;
  ++s.lines;
  if (s.history) {
    std::fwrite(line.data(), 1, line.size(), s.history);
    std::fputc('\n', s.history);
  }
  if (s.watchers.empty()) return;
  std::string text(line);
  for (size_t i = 0; i < s.watchers.size();) {
    Watcher& w = s.watchers[i];
    if (w.client->Send(text)) {
      w.sent = s.lines;
      ++i;
      continue;
    }
    if (!w.client->closed()) {  // it reads too slowly: dropped, the run goes on
      w.client->End(WatchEndLine(
          kExitIncomplete, "this watcher read too slowly (more than " + std::to_string(limits_.queue_bytes >> 10) +
                               " KiB of events waited for it); events after seq " + std::to_string(w.sent) +
                               " were not sent to it: watch again with since_seq " + std::to_string(w.sent),
          w.sent));
      if (verbose_) std::cerr << "wsflow: dropped a local watcher of run " << run_id << " that read too slowly\n";
    }
    s.watchers.erase(s.watchers.begin() + static_cast<long>(i));
  }
}

void SessionHost::End(const std::string& run_id, int exit_status) {
  auto it = runs_.find(run_id);
  if (it == runs_.end() || it->second.ended) return;
  Served& s = it->second;
  s.ended = true;
  s.exit_status = exit_status;
  for (auto& w : s.watchers) w.client->End(WatchEndLine(exit_status));
  s.watchers.clear();
}

void SessionHost::Stop() {
  if (server_) server_->Stop();
  for (auto& [id, s] : runs_) {
    ::unlink(s.link.c_str());
    if (s.history) std::fclose(s.history);
  }
  runs_.clear();
}

}  // namespace wsflow
