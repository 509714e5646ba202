#include "cli/replay_cmd.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/help_format.h"
#include "cli/human_output.h"
#include "cli/number_checks.h"
#include "core/approval_policy.h"
#include "core/event_filter.h"
#include "core/exit_status.h"
#include "core/ndjson_writer.h"
#include "core/text.h"
#include "replay/recording.h"
#include "session/event.h"
#include "session/messages.h"
#include "session/output.h"
#include "cli/serve_cmd.h"
#include "server/server_dialect.h"
#include "server/serve.h"

namespace wsflow {

namespace {

int Usage(const std::string& msg) {
  std::cerr << "wsflow: " << msg << "\n";
  return kExitUsage;
}

bool ReadInput(const std::string& file, std::string* text, std::string* err) {
  std::stringstream ss;
  if (file == "-") {
    ss << std::cin.rdbuf();
  } else {
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      *err = file + " is a directory, not a recording";
      return false;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      *err = "cannot open " + file + ": " + std::strerror(errno);
      return false;
    }
    ss << in.rdbuf();
  }
  *text = ss.str();
  return true;
}

// Re-emits the recorded events as they were printed, filtered and paced as asked, as JSON or for
// people (--output, --color, --progress) as watch prints them.
int Emit(const Recording& rec, const ReplayFlags& f) {
  EventFilter filter;
  filter.Include(f.stream.types);
  filter.Exclude(f.stream.exclude_types);
  std::vector<Predicate> match;
  WaitCondition wait;
  Millis timeout{0};
  std::string err;
  if (!ParsePredicates(f.stream.match, &match, &err)) return Usage("--match " + err);
  if (!ResolveWait(f.stream.wait, &wait, &timeout, &err)) return Usage(err);
  ConfigFile config;
  HumanOutput human;
  if (!config.Load(ProcessEnv(), f.stream.conn.profile, &err) || !ResolveHumanOutput(f.stream, config, &human, &err))
    return Usage(err);
  bool waiting = wait.AwaitsEvent();
  if (wait.approval) wait.types.push_back("approval_requested");  // a recording has no open approvals to judge
  NdjsonWriter writer(NdjsonWriter::Options{});
  Output out(&writer, human.pretty, human.status, f.stream.raw);
  auto start = std::chrono::steady_clock::now();
  int64_t printed = 0;
  for (const auto& ev : rec.events) {
    if (f.speed > 0) {
      auto due = start + std::chrono::milliseconds(static_cast<int64_t>(ev.t_ms / f.speed));
      std::this_thread::sleep_until(due);
    }
    if (writer.broken()) return kExitCompleted;  // the reader left
    JsonDoc d;
    ParseJson(ev.line, &d, &err);
    std::string type(GetString(d, "event_type"));
    if (!filter.Accepts(type) || !MatchesAll(match, d)) continue;
    Event event(type, GetInt(d, "seq", -1), Outcome::kNone, ev.line, &d);
    out.PrintEvent(event, 0);
    ++printed;
    if (wait.Met(type, &d) || wait.Enough(printed)) {
      out.Finish();
      return kExitCompleted;
    }
  }
  out.Finish();
  writer.Close();
  Outcome outcome = RecordedOutcome(rec);
  if (waiting && outcome == Outcome::kCompleted) {
    std::cerr << "wsflow: the recorded run completed without the awaited event\n";
    return kExitProtocol;
  }
  if (outcome != Outcome::kNone) return ExitStatusFor(outcome);
  if (rec.end_status >= 0) return rec.end_status;
  std::cerr << "wsflow: the recording ends before its run did (" << Count(static_cast<int64_t>(rec.events.size()), "event", "events") << ")\n";
  return kExitIncomplete;
}

int Serve(const Recording& rec, const ReplayFlags& f) {
  ServeOptions o;
  o.host = f.host;
  o.port = f.port;
  o.port_file = f.port_file;
  o.quiet = f.stream.conn.quiet;
  o.verbose = f.stream.conn.verbose > 0;
  o.replay_speed = f.speed;
  o.replay_loop = f.loop;
  o.tls_cert = f.tls.tls_cert;
  o.tls_key = f.tls.tls_key;
  o.tls_client_ca = f.tls.tls_client_ca;
  // A recording made against another backend is served in its dialect, its frames verbatim,
  // unless --serve-as native asks for its events over wsflow's protocol.
  std::string dialect = RecordedDialect(rec);
  bool has_frames = std::any_of(rec.frames.begin(), rec.frames.end(), [](const RecordedFrame& r) { return r.in; });
  if (f.serve_as == "recorded" && dialect != "native" && !has_frames)
    return Usage(f.file + " holds no frames of the " + dialect + " backend (saved watch output?); " +
                 "--serve-as native serves its events");
  if (f.serve_as != "native" && dialect != "native" && has_frames) {
    serve::ServerDialect known;
    if (!serve::ParseServerDialect(dialect, &known))
      return Usage(f.file + " was recorded against the " + dialect + " dialect, which replay --serve cannot speak; " +
                   "--serve-as native serves its events");
    o.dialect = dialect;
    for (const auto& fr : rec.frames) o.replay_script.push_back({!fr.in, fr.text, fr.t_ms});
    if (!o.quiet)
      std::cerr << "wsflow: serving the recording" << (rec.header.run_id.empty() ? "" : " of run " + rec.header.run_id)
                << " in the " << dialect << " dialect: its frames as recorded, on its endpoints\n";
    return RunServer(o);
  }
  o.replay_run_id = rec.header.run_id;
  for (const auto& ev : rec.events) {
    o.replay_events.push_back(ev.line);
    o.replay_offsets_ms.push_back(ev.t_ms);
    if (o.replay_run_id.empty()) {
      JsonDoc d;
      std::string err;
      if (ParseJson(ev.line, &d, &err)) o.replay_run_id = std::string(GetString(d, "run_id"));
    }
  }
  if (o.replay_run_id.empty()) return Usage("the recording names no run id");
  if (!o.quiet) std::cerr << "wsflow: serving the recording of run " << o.replay_run_id << "\n";
  return RunServer(o);
}

std::string UtcStamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string BaseName(const std::string& path) {
  std::string b = path.substr(path.find_last_of('/') + 1);
  for (const char* ext : {".ndjson", ".jsonl", ".json"})
    if (b.size() > std::strlen(ext) && b.compare(b.size() - std::strlen(ext), std::string::npos, ext) == 0)
      return b.substr(0, b.size() - std::strlen(ext));
  return b == "-" ? "stdin" : b;
}

// Keeps the `keep` newest recordings named PREFIX-<stamp>.ndjson in `dir` (names sort by time).
void Prune(const std::string& dir, const std::string& prefix, int keep) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.rfind(prefix + "-", 0) == 0 && n.size() > 7 && n.compare(n.size() - 7, 7, ".ndjson") == 0) names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (size_t i = 0; i + keep < names.size(); ++i) ::unlink((dir + "/" + names[i]).c_str());
}

int Rerun(const Recording& rec, ReplayFlags& f) {
  if (!rec.has_header || rec.header.task.empty()) {
    return Usage("--rerun needs a recording of `wsflow execute` (made with --record); " + f.file + " has no request");
  }
  Millis lock_wait;
  std::string err;
  if (!ParseDuration(f.lock_wait, &lock_wait, &err)) return Usage("--lock-wait: " + err);
  int lock_fd = -1;
  if (!f.lock.empty()) {  // cron: never two reruns of the same job at once
    lock_fd = ::open(f.lock.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (lock_fd < 0) return Usage("cannot open --lock " + f.lock + ": " + std::strerror(errno));
    auto deadline = std::chrono::steady_clock::now() + lock_wait;
    while (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        std::cerr << "wsflow: another rerun holds " << f.lock << "; skipping this one\n";
        return kExitCompleted;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  StreamFlags& s = f.stream;
  s.execute = true;
  s.task = rec.header.task;
  s.config = rec.header.config_json.empty() ? "{}" : rec.header.config_json;
  s.run_id = f.same_run_id ? rec.header.run_id : "";
  std::string prefix = BaseName(f.file);
  if (!f.record_dir.empty()) {
    if (::mkdir(f.record_dir.c_str(), 0755) != 0 && errno != EEXIST)
      return Usage("cannot create --record-dir " + f.record_dir + ": " + std::strerror(errno));
    std::string path = f.record_dir + "/" + prefix + "-" + UtcStamp() + ".ndjson";
    for (int n = 2; ::access(path.c_str(), F_OK) == 0; ++n)
      path = f.record_dir + "/" + prefix + "-" + UtcStamp() + "-" + std::to_string(n) + ".ndjson";
    s.record = path;
  }
  int status = RunStream(s);
  if (!f.record_dir.empty() && f.keep > 0) Prune(f.record_dir, prefix, f.keep);
  if (lock_fd >= 0) ::close(lock_fd);
  return status;
}

}  // namespace

CLI::App* SetupReplay(CLI::App& app, ReplayFlags* f) {
  auto* sub = app.add_subcommand("replay", "re-emit a recording; or serve it as a backend; or re-run its request");
  sub->add_option("file", f->file, "a recording (--record) or saved watch output; - for stdin")->required();
  sub->add_option("--speed", f->speed, "1: recorded timing, 10: ten times faster, 0: no waiting")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--skip-bad", f->skip_bad, "skip corrupt lines instead of failing");
  auto* g = "Serve (--serve)";
  auto* serve = sub->add_flag("--serve", f->serve, "serve the recorded run as a backend, in the recording's own dialect")
                    ->group(g);
  sub->add_option("--host", f->host, "address to listen on")->group(g);
  sub->add_option("--port", f->port, "port to listen on (0: any free port)")->check(Between(0, 65535))->group(g);
  sub->add_option("--port-file", f->port_file, "write the port listened on to this file")->type_name("FILE")->group(g);
  sub->add_flag("--loop", f->loop, "play the recording again after it ends")->group(g);
  sub->add_option("--serve-as", f->serve_as,
                  "recorded: the recording's own dialect, its frames verbatim (the default when it has them); "
                  "native: its events over wsflow's protocol")
      ->check(CLI::IsMember({"recorded", "native"}))->group(g);
  AddServerTlsOptions(sub, &f->tls, g);
  auto* r = "Re-run (--rerun)";
  auto* rerun = sub->add_flag("--rerun", f->rerun, "send the recorded request to a backend again")->group(r);
  sub->add_flag("--same-run-id", f->same_run_id, "reuse the recorded run id")->group(r);
  sub->add_option("--lock", f->lock, "skip (exit 0) when another rerun holds this lock file")->type_name("FILE")->group(r);
  sub->add_option("--lock-wait", f->lock_wait, "wait this long for the lock first")->type_name("DURATION")->group(r);
  sub->add_option("--record-dir", f->record_dir, "record each rerun here, timestamped")->type_name("DIR")->group(r);
  sub->add_option("--keep", f->keep, "keep the N newest recordings in --record-dir")->check(CLI::NonNegativeNumber)->group(r);
  serve->excludes(rerun);
  AddStreamOptions(sub, &f->stream);
  ShowInBriefHelp(sub, {"--serve", "--port", "--rerun", "--record-dir", "--type", "--url"});
  sub->footer("Example: wsflow replay nightly.ndjson --rerun --record-dir runs --keep 30 -q");
  return sub;
}

int RunReplay(ReplayFlags& f) {
  std::string text, err;
  if (!ReadInput(f.file, &text, &err)) return Usage(err);
  Recording rec;
  if (!ParseRecording(text, f.file == "-" ? "stdin" : f.file, f.skip_bad, &rec, &err)) return Usage(err);
  if (rec.torn_tail) std::cerr << "wsflow: " << f.file << ": the last line is cut off (a killed recorder?); ignored\n";
  if (rec.skipped) std::cerr << "wsflow: " << f.file << ": skipped " << Count(rec.skipped, "bad line", "bad lines") << "\n";
  if (f.serve) return Serve(rec, f);
  if (f.rerun) return Rerun(rec, f);
  return Emit(rec, f);
}

}  // namespace wsflow
