#include "session/session_host.h"

#include <unistd.h>

#include <iostream>

#include "session/control_request.h"

namespace wsflow {

SessionHost::SessionHost(std::function<void(std::function<void()>)> post, ControlServer::Limits limits, bool verbose)
    : post_(std::move(post)), limits_(limits), verbose_(verbose) {}

SessionHost::~SessionHost() { Stop(); }

bool SessionHost::Serve(const std::string& url, const std::string& run_id, HostedRun* run, bool keep_history) {
  std::string dir, err;
  if (!ControlDir(&dir, &err)) {
    if (verbose_) std::cerr << "wsflow: no local control socket: " << err << "\n";
    return false;
  }
  Served s;
  s.run = run;
  if (keep_history && !(s.history = std::tmpfile())) {
    if (verbose_) std::cerr << "wsflow: no local control socket: no temporary file for the run's history\n";
    return false;
  }
  s.server = std::make_unique<ControlServer>();
  std::string path = ControlSocketPath(dir, url, run_id);
  auto handler = [this, run_id](const std::string& line, std::shared_ptr<ControlClient> client) {
    post_([this, run_id, line, client] { OnRequest(run_id, line, client); });
  };
  if (!s.server->Start(path, handler, &err, limits_)) {
    if (s.history) std::fclose(s.history);
    if (verbose_) std::cerr << "wsflow: no local control socket: " << err << "\n";
    return false;
  }
  if (verbose_) std::cerr << "wsflow: local control socket " << path << "\n";
  runs_[run_id] = std::move(s);
  return true;
}

void SessionHost::KeepHistory(const std::string& run_id) {
  auto it = runs_.find(run_id);
  if (it != runs_.end() && !it->second.history) it->second.history = std::tmpfile();
}

void SessionHost::OnRequest(const std::string& run_id, const std::string& line, std::shared_ptr<ControlClient> client) {
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return;
  Served& s = it->second;
  ControlRequestMsg req;
  std::string refusal;
  if (!ParseControlRequest(line, &req, &refusal)) return client->End(refusal);
  if (!req.run_id.empty() && req.run_id != run_id)
    return client->End(RefusalLine(kExitProtocol, "wsflow: this session holds run " + run_id + ", not " + req.run_id));
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
                               " were not sent to it: watch again with since_seq " + std::to_string(w.sent)));
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
  for (auto& [id, s] : runs_) {
    s.server->Stop();
    if (s.history) std::fclose(s.history);
  }
  runs_.clear();
}

}  // namespace wsflow
