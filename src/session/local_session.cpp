#include "session/local_session.h"

#include <unistd.h>

#include <iostream>

#include "core/ndjson_writer.h"
#include "dialects/native.h"
#include "session/control_request.h"
#include "session/control_socket.h"

namespace wsflow {

namespace {
// How a run ended, from an event the holder shared (its envelopes, in any dialect).
Outcome EndOf(std::string_view type, const JsonValue& ev) {
  Outcome o = native::TerminalOutcome(type, ev);
  if (o == Outcome::kNone && (type == "complete" || type == "result")) o = Outcome::kCompleted;
  return o;
}

int Act(int fd, const LocalSessionRequest& r) {
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
    std::cerr << "wsflow: the local session holding run " << r.run_id << " did not answer"
              << (err.empty() ? "" : ": " + err) << "\n";
    return kExitProtocol;
  }
  if (GetBool(d, "ok", false)) {
    NdjsonWriter out(NdjsonWriter::Options{});
    if (const JsonValue* ev = GetObject(d, "event")) out.Write(ToJson(*ev));
    out.Close();
    return kExitCompleted;
  }
  std::cerr << GetString(d, "message", "wsflow: the local session refused") << "\n";
  return static_cast<int>(GetInt(d, "status", kExitProtocol));
}

// Watch through the holder: its history, then live events, filtered here.
int Watch(int fd, const LocalSessionRequest& r) {
  NdjsonWriter out(NdjsonWriter::Options{});
  int64_t printed = 0;
  int status = kExitProtocol;
  Outcome outcome = Outcome::kNone;
  ControlRequestMsg m;
  m.op = ControlRequestMsg::Op::kWatch;
  m.run_id = r.run_id;
  m.since_seq = r.since_seq;
  std::string err;
  ControlRequest(fd, ControlRequestLine(m), [&](const std::string& l) {
    JsonDoc ev;
    std::string perr;
    if (!ParseJson(l, &ev, &perr)) return true;
    if (GetBool(ev, "end", false)) {
      status = static_cast<int>(GetInt(ev, "exit_status", kExitProtocol));
      std::string_view reason = GetString(ev, "reason");
      if (!reason.empty()) std::cerr << "wsflow: the local session ended this watch: " << reason << "\n";
      return false;
    }
    std::string_view type = GetString(ev, "event_type");
    if (r.filter.Accepts(type) && MatchesAll(r.match, ev)) {
      out.Write(l);
      ++printed;
    }
    Outcome o = EndOf(type, ev);
    if (o != Outcome::kNone && outcome == Outcome::kNone) outcome = o;
    if (outcome != Outcome::kNone && !r.follow) {
      status = ExitStatusFor(outcome);
      return false;
    }
    if (r.wait.Met(type, &ev) || (r.wait.approval && type == "approval_requested") || r.wait.Enough(printed)) {
      status = kExitCompleted;
      return false;
    }
    return !out.broken();
  }, &err);
  out.Close();
  if (out.broken()) return kExitCompleted;
  return status;
}
}  // namespace

int ViaLocalSession(const LocalSessionRequest& r) {
  std::string dir, err;
  if (!ControlDir(&dir, &err)) return -1;
  std::string path = ControlSocketPath(dir, r.url, r.run_id);
  int fd = ConnectControl(path, &err);
  if (fd < 0) return -1;
  std::string hello;
  ControlRequestMsg m;
  m.run_id = r.run_id;
  ControlRequest(fd, ControlRequestLine(m), [&](const std::string& l) {
    hello = l;
    return false;
  }, &err);
  ::close(fd);
  JsonDoc h;
  if (!ParseJson(hello, &h, &err) || !h.IsObject() || GetBool(h, "ok", true) == false) return -1;
  // watch attaches to the holder only where a second socket would hurt; actions always go through it.
  if (!r.action && !GetBool(h, "one_socket_per_run", false)) return -1;
  fd = ConnectControl(path, &err);
  if (fd < 0) return -1;
  if (r.verbose || !r.quiet)
    std::cerr << "wsflow: through the local session of pid " << GetInt(h, "pid", 0) << " that holds run " << r.run_id
              << "\n";
  int status = r.action ? Act(fd, r) : Watch(fd, r);
  ::close(fd);
  return status;
}

}  // namespace wsflow
