#include "session/local_session.h"

#include <unistd.h>

#include <iostream>

#include "core/envelope.h"
#include "core/ndjson_writer.h"
#include "dialects/native.h"
#include "session/control_request.h"
#include "session/control_socket.h"

namespace wsflow {

namespace {
constexpr Millis kHelloLimit{2000};  // a holder that does not say hello in this time is not asked

// How a run ended, from an event the holder shared (its envelopes, in any dialect).
Outcome EndOf(std::string_view type, const JsonValue& ev) {
  Outcome o = native::TerminalOutcome(type, ev);
  if (o == Outcome::kNone && (type == "complete" || type == "result")) o = Outcome::kCompleted;
  return o;
}

int Act(int fd, const LocalSessionRequest& r, const std::function<bool(std::string)>& print, std::string* reason) {
  ControlRequestMsg m;
  m.op = ControlRequestMsg::Op::kAction;
  m.run_id = r.run_id;
  m.action = *r.action;
  std::string answer, err;
  bool ok = ControlRequest(fd, ControlRequestLine(m), [&](const std::string& l) {
    answer = l;
    return false;
  }, &err);
  JsonDoc d;
  std::string perr;
  if (!ok || !ParseJson(answer, &d, &perr)) {
    *reason = "the local session holding run " + r.run_id + " did not answer" + (err.empty() ? "" : ": " + err);
    return kExitProtocol;
  }
  if (GetBool(d, "ok", false)) {
    if (const JsonValue* ev = GetObject(d, "event")) print(ToJson(*ev));
    return kExitCompleted;
  }
  *reason = std::string(GetString(d, "message", "wsflow: the local session refused"));
  return static_cast<int>(GetInt(d, "status", kExitProtocol));
}

// Watch through the holder: its history, then live events, filtered here. `print` returns false
// when nobody reads any more. A holder that dropped this watcher for reading too slowly says from
// where to go on: the watch connects to `path` again and asks from there, so nothing is lost.
int Watch(int fd, const std::string& path, const LocalSessionRequest& r, const std::function<bool(std::string)>& print,
          const std::function<bool(int)>& connected, std::string* reason, bool* ended_by_holder) {
  *ended_by_holder = false;
  int64_t printed = 0;
  int status = kExitProtocol;
  Outcome outcome = Outcome::kNone;
  ControlRequestMsg m;
  m.op = ControlRequestMsg::Op::kWatch;
  m.run_id = r.run_id;
  m.since_seq = r.since_seq;
  std::string err;
  for (int conn = fd;;) {
    int64_t resume = -1;
    ControlRequest(conn, ControlRequestLine(m), [&](const std::string& l) {
      JsonDoc ev;
      std::string perr;
      if (!ParseJson(l, &ev, &perr)) return true;
      if (GetBool(ev, "end", false)) {
        if (!path.empty() && GetInt(ev, "since_seq", -1) >= 0) {
          resume = GetInt(ev, "since_seq", -1);
          return false;
        }
        status = static_cast<int>(GetInt(ev, "exit_status", kExitProtocol));
        std::string_view why = GetString(ev, "reason");
        if (!why.empty()) *reason = "the local session ended this watch: " + std::string(why);
        *ended_by_holder = !why.empty();
        return false;
      }
      std::string_view type = GetString(ev, "event_type");
      if (r.filter.Accepts(type) && MatchesAll(r.match, ev)) {
        if (!print(l)) return false;
        ++printed;
      }
      Outcome o = EndOf(type, ev);
      if (o != Outcome::kNone && outcome == Outcome::kNone) {
        outcome = o;
        if (o != Outcome::kCompleted) *reason = EndMessage(ev);
      }
      if (outcome != Outcome::kNone && !r.follow) {
        status = ExitStatusFor(outcome);
        return false;
      }
      if (r.wait.Met(type, &ev) || (r.wait.approval && type == "approval_requested") || r.wait.Enough(printed)) {
        status = kExitCompleted;
        return false;
      }
      return true;
    }, &err);
    if (conn != fd) {
      if (connected) connected(-1);  // before the close: nobody may shut down a number reused
      ::close(conn);
    }
    if (resume < 0) break;
    if (r.verbose)
      std::cerr << "wsflow: the local session dropped this watch of run " << r.run_id
                << " (it read too slowly); going on after its line " << resume << "\n";
    m.since_seq = resume;
    conn = ConnectControl(path, &err);
    if (conn >= 0 && connected && !connected(conn)) {  // stopped meanwhile
      ::close(conn);
      status = kExitIncomplete;
      break;
    }
    if (conn < 0) {
      status = kExitIncomplete;
      *reason = "the local session holding run " + r.run_id + " went away: events after seq " +
                std::to_string(resume) + " may be missing (" + err + ")";
      *ended_by_holder = true;
      break;
    }
  }
  return status;
}
}  // namespace

int ThroughHolder(int fd, const std::string& path, const LocalSessionRequest& r,
                  const std::function<bool(std::string)>& print, std::string* reason,
                  const std::function<bool(int)>& connected) {
  if (r.action) return Act(fd, r, print, reason);
  bool ended_by_holder = false;  // said in `reason` either way
  return Watch(fd, path, r, print, connected, reason, &ended_by_holder);
}

std::string HolderFor(const LocalSessionRequest& r, int64_t* pid) {
  std::string dir, err;
  if (!ControlDir(&dir, &err)) return "";
  std::string path = ControlSocketPath(dir, r.url, r.run_id);
  int fd = ConnectControl(path, &err);
  if (fd < 0) return "";
  SetReceiveTimeout(fd, kHelloLimit);
  std::string hello;
  ControlRequestMsg m;
  m.run_id = r.run_id;
  ControlRequest(fd, ControlRequestLine(m), [&](const std::string& l) {
    hello = l;
    return false;
  }, &err);
  ::close(fd);
  JsonDoc h;
  if (!ParseJson(hello, &h, &err) || !h.IsObject() || GetBool(h, "ok", true) == false) return "";
  // watch attaches to the holder only where a second socket would hurt; actions always go through it.
  if (!r.action && !GetBool(h, "one_socket_per_run", false)) return "";
  *pid = GetInt(h, "pid", 0);
  return path;
}

int ViaLocalSession(const LocalSessionRequest& r) {
  int64_t pid = 0;
  std::string path = HolderFor(r, &pid), err, reason;
  if (path.empty()) return -1;
  int fd = ConnectControl(path, &err);
  if (fd < 0) return -1;
  if (r.verbose || !r.quiet)
    std::cerr << "wsflow: through the local session of pid " << pid << " that holds run " << r.run_id << "\n";
  NdjsonWriter out(NdjsonWriter::Options{});
  bool say = true;  // an action's refusal, or the holder's word on ending a watch; not a run's failure
  int status = r.action ? Act(fd, r, [&out](std::string l) {
                            out.Write(l);
                            return true;
                          }, &reason)
                        : Watch(fd, path, r, [&out](std::string l) {
                            out.Write(l);
                            // stdout backlogged: stop reading until it drains (the holder keeps
                            // the lines, or drops this watcher and says from where to go on)
                            while (!out.broken() && !out.failed() && out.AboveHighWater()) out.Drain(Millis(1000));
                            return !out.broken();
                          }, nullptr, &reason, &say);
  ::close(fd);
  out.Close();
  if (!r.action && out.broken()) return kExitCompleted;
  if (say && !reason.empty()) std::cerr << (reason.rfind("wsflow: ", 0) == 0 ? "" : "wsflow: ") << reason << "\n";
  return status;
}

}  // namespace wsflow
