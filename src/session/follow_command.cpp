#include "session/follow_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "core/url.h"
#include "session/dispatcher.h"
#include "session/local_session.h"
#include "session/messages.h"
#include "session/session_host.h"

namespace wsflow {

namespace {

// Before any socket: an action the backend has no frame for is a usage error (for backends with
// one socket per run, a second socket would break the run it touches).
bool Supported(const Dialect& d, const RunTarget& run, std::string* err) {
  std::vector<std::string> frames;
  StartRequest probe;
  bool ok = run.execute ? d.Start(probe, &frames, err) : d.Attach(run.run_id, 0, -1, "", &frames, err);
  std::string frame;
  if (ok && run.action && run.action->type != "approve") ok = d.Control(run.action->type, run.run_id, "", &frame, err);
  else if (ok && run.action) ok = d.Approve(run.run_id, "", "", "", "", "", &frame, err);
  return ok;
}

// Where to look after a 404 on wsflow's own path (--dialect auto, a URL without a path): the
// documented paths of the other backends that can do what the command asks. Not aladdin's: it
// takes any path, so wsflow's own would have reached it.
std::vector<Endpoint> OtherEndpoints(const std::string& base, const RunTarget& run, const std::string& first) {
  std::vector<Endpoint> out;
  std::string err;
  for (const auto& name : DialectNames()) {
    std::unique_ptr<Dialect> d = MakeDialect(name);
    std::string url = RunUrl(base, d.get(), run.run_id);
    if (name == "aladdin" || url == first || !Supported(*d, run, &err)) continue;
    out.push_back({name, url});
  }
  return out;
}

}  // namespace

std::string RunUrl(const std::string& base, const Dialect* dialect, const std::string& run_id) {
  WsUrl url;
  std::string err;
  ParseWsUrl(base, &url, &err);  // validated by the caller
  if (url.has_path()) return base;
  std::string path = dialect ? dialect->Path(EncodePathSegment(run_id)) : "/ws/" + EncodePathSegment(run_id);
  size_t q = path.find('?');
  if (q != std::string::npos && !url.query.empty()) path += "&" + url.query, url.query.clear();
  return url.WithPath(path);
}

void AddRunSummary(const RunSummaryFields& f, int exit_status, JsonValue* obj, rapidjson::MemoryPoolAllocator<>& a) {
  obj->AddMember("run_id", Str(f.run_id, a), a);
  obj->AddMember("exit_status", exit_status, a);
  obj->AddMember("outcome", Str(ExitStatusName(exit_status), a), a);
  obj->AddMember("reason", Str(exit_status == kExitCompleted ? std::string() : f.reason, a), a);
  obj->AddMember("events", f.events, a);
  obj->AddMember("last_seq", f.last_seq, a);
  obj->AddMember("reconnects", f.reconnects, a);
  obj->AddMember("duplicates_dropped", f.duplicates, a);
  obj->AddMember("gaps", f.gaps, a);
  obj->AddMember("invalid_frames", f.invalid_frames, a);
  if (!f.view) return;
  const RunView& v = *f.view;
  obj->AddMember("duration_s", v.duration(), a);
  if (v.has_cost()) obj->AddMember("cost_usd", v.total_cost(), a);
  if (!v.first_timestamp().empty()) obj->AddMember("first_event_at", Str(v.first_timestamp(), a), a);
  if (!v.last_timestamp().empty()) obj->AddMember("last_event_at", Str(v.last_timestamp(), a), a);
}

void AddRunSummary(const RunFollower& f, int exit_status, int64_t reconnects, JsonValue* obj,
                   rapidjson::MemoryPoolAllocator<>& a) {
  RunSummaryFields r;
  r.run_id = f.run_id();
  r.reason = f.reason();
  r.events = f.events_printed();
  r.last_seq = f.last_seq();
  r.reconnects = reconnects;
  r.duplicates = f.duplicates();
  r.gaps = f.gaps();
  r.invalid_frames = f.invalid_frames();
  r.view = &f.view();
  AddRunSummary(r, exit_status, obj, a);
}

bool WriteJsonFile(const std::string& path, const JsonDoc& doc, std::string* err) {
  std::string text = ToJson(doc) + "\n";
  errno = 0;
  std::FILE* f = std::fopen(path.c_str(), "w");
  bool ok = f && std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0;
  int e = errno;
  if (f && std::fclose(f) != 0 && ok) ok = false, e = errno;
  if (!ok) *err = std::strerror(e ? e : EIO);
  return ok;
}

bool CheckOutputPath(const char* option, const std::string& path, std::string* err) {
  if (path.empty()) return true;
  struct stat st {};
  bool existed = ::stat(path.c_str(), &st) == 0;
  if (existed && S_ISDIR(st.st_mode)) {
    *err = std::string(option) + " " + path + ": is a directory";
    return false;
  }
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (!f) {
    *err = std::string(option) + " " + path + ": " + std::strerror(errno);
    return false;
  }
  std::fclose(f);
  if (!existed) ::unlink(path.c_str());  // written at the end; not left behind if we never get there
  return true;
}

int RunFollowCommand(FollowCommand cmd) {
  RunTarget& run = cmd.run;
  if (run.run_id.empty()) run.run_id = NewRunId();
  cmd.stream.keep_view = !cmd.summary_file.empty();
  WsUrl url;
  std::string err;
  ParseWsUrl(cmd.base_url, &url, &err);
  std::string name = cmd.dialect;
  if (name == "auto" && url.has_path()) {
    name = DialectFromPath(url.path);  // "" when the path does not tell
    if (!name.empty() && !cmd.session.quiet) std::cerr << DialectLine(name, "from the URL path " + url.path) << "\n";
  }
  if (name.empty()) name = "auto";
  std::unique_ptr<Dialect> known = name == "auto" ? nullptr : MakeDialect(name);
  cmd.session.url = RunUrl(cmd.base_url, known.get(), run.run_id);

  RecordingWriter recorder;
  RecordingHeader h;
  h.command = run.action ? run.action->type : run.execute ? "execute" : "watch";
  h.url = cmd.session.url;
  h.dialect = name;  // auto: detected from the first frames, later
  h.run_id = run.run_id;
  h.task = run.task;
  h.config_json = run.config_json;
  // Paths that cannot be written are usage errors, said before connecting (exit 2).
  if (!CheckOutputPath("--summary", cmd.summary_file, &err)) {
    std::cerr << "wsflow: " << err << "\n";
    return kExitUsage;
  }
  if (int rc = StartRecording(&recorder, cmd.record_file, h)) return rc;

  if (!cmd.direct && !run.execute) {  // a local process may hold the run's one connection
    LocalSessionRequest r;
    r.url = cmd.session.url;
    r.run_id = run.run_id;
    r.action = run.action;
    r.since_seq = run.since_seq;
    r.filter = cmd.stream.filter;
    r.match = cmd.stream.match;
    r.wait = cmd.stream.wait;
    r.follow = cmd.stream.follow;
    r.quiet = cmd.stream.quiet;
    r.verbose = cmd.stream.verbose;
    int via = ViaLocalSession(r);
    if (via >= 0) return via;
  }
  if (known && std::string(known->name()) != "native" && !Supported(*known, run, &err)) {
    std::cerr << "wsflow: " << err << "\n";
    return kExitUsage;
  }

  NdjsonWriter writer(NdjsonWriter::Options{});
  Output out(&writer, cmd.pretty, cmd.status, cmd.stream.raw);
  if (recorder.is_open()) out.KeepPrinted();
  Dispatcher dispatcher(name, &out, recorder.is_open() ? &recorder : nullptr, cmd.session.backoff.retries,
                        cmd.session.quiet, cmd.session.verbose);
  Session session(cmd.session, &dispatcher);
  dispatcher.SetSession(&session);
  ControlServer::Limits limits;
  SessionHost host([&dispatcher](std::function<void()> fn) { dispatcher.Post(std::move(fn)); }, limits,
                   cmd.session.verbose > 0);
  bool hosting = !run.action && cmd.listen;
  if (name == "auto" && !url.has_path())
    dispatcher.SearchEndpoints(EndpointSearch(cmd.session.url, OtherEndpoints(cmd.base_url, run, cmd.session.url)));
  RunFollower& follower = dispatcher.AddRun(cmd.stream, run, hosting ? &host : nullptr);
  if (hosting) host.Serve(cmd.session.url, run.run_id, &follower, known && known->one_socket_per_run());

  WriterHooks hooks;
  hooks.post = [&session](std::function<void()> fn) { session.Post(std::move(fn)); };
  hooks.drained = [&session] { session.ResumeReading(); };
  hooks.end_all = [&dispatcher](int status, const std::string& msg) { dispatcher.EndAll(status, msg); };
  WireWriter(writer, std::move(hooks));
  if (run.execute && !cmd.session.quiet && !run.detach) std::cerr << "wsflow: run " << run.run_id << "\n";
  if (cmd.timeout.count() > 0) session.After(cmd.timeout, [&] { dispatcher.OnTimeout(cmd.timeout); });

  session.Run();

  follower.EndShares();
  dispatcher.StopPosting();  // threads still answering approvals must not post now
  host.Stop();
  int exit = follower.exit_status();
  if (!writer.broken() && !writer.failed() && !run.action && !run.detach) out.Finish();
  exit = CloseWriter(writer, exit);
  if (recorder.is_open()) {
    recorder.End(exit);
    if (!recorder.Close(&err)) {
      std::cerr << "wsflow: " << err << "\n";
      exit = kExitOutput;
    }
  }
  std::string end = follower.EndLine();
  if (!end.empty() && !writer.broken()) std::cerr << end << "\n";
  JsonDoc summary(rapidjson::kObjectType);
  AddRunSummary(follower, exit, session.reconnects(), &summary, summary.GetAllocator());
  if (!cmd.summary_file.empty() && !WriteJsonFile(cmd.summary_file, summary, &err)) {
    std::cerr << "wsflow: cannot write --summary " << cmd.summary_file << ": " << err << "\n";
    exit = kExitOutput;
  }
  return exit;
}

}  // namespace wsflow
