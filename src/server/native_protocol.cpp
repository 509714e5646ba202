#include "server/native_protocol.h"

#include <algorithm>
#include <set>

#include "core/envelope.h"
#include "core/url.h"

namespace wsflow::serve {

namespace {
// request_id goes at top level, after the envelope fields.
std::string WithRequestId(std::string line, std::string_view request_id) {
  if (request_id.empty()) return line;
  line.pop_back();
  return line + ",\"request_id\":" + Quote(request_id) + "}";
}

// An envelope without seq made of `data_json`, our own JSON.
std::string ReplyLine(std::string_view type, std::string_view run_id, const std::string& data_json,
                      std::string_view request_id) {
  JsonDoc data;
  std::string err;
  ParseJson(data_json, &data, &err);
  return WithRequestId(EnvelopeLine({type, "", run_id, -1, &data}), request_id);
}

std::string PathOf(const std::string& resource) { return resource.substr(0, resource.find('?')); }

const std::set<std::string> kRunTypes = {"subscribe", "unsubscribe", "resolve_approval", "approval_response",
                                         "pause",     "resume",      "cancel",           "request_state",
                                         "run_status"};
}  // namespace

NativeProtocol::NativeProtocol(RunRegistry* runs, Fanout* fanout, Transport* transport, IdMaker* ids, Options opts)
    : runs_(runs), fanout_(fanout), transport_(transport), ids_(ids), opts_(std::move(opts)) {}

bool NativeProtocol::Accepts(const std::string& resource, Refusal* refusal) {
  std::string path = PathOf(resource);
  if (path == "/" || path == "/ws" || path.rfind("/ws/", 0) == 0) return true;
  refusal->status = 404;
  refusal->body = "wsflow serve: no such endpoint " + path + " (use /ws or /ws/{run_id})\n";
  return false;
}

void NativeProtocol::OnOpen(ConnId id, const std::string& resource) {
  std::string path = PathOf(resource);
  if (path.rfind("/ws/", 0) == 0) path_run_[id] = PercentDecode(path.substr(4));
}

void NativeProtocol::OnClose(ConnId id) {
  path_run_.erase(id);
  fanout_->Remove(id);
}

std::string NativeProtocol::ErrorLine(std::string_view run_id, std::string_view request_id,
                                      std::string_view error_type, const std::string& message) const {
  return ReplyLine("error", run_id, JsonObject({{"error_type", Quote(error_type)}, {"message", Quote(message)}}),
                   request_id);
}

// Acks of subscriptions (from_seq >= 0) also say where the run stands: a watcher of a run that
// has ended knows at once that nothing will follow its history.
std::string NativeProtocol::AckLine(const Run& run, std::string_view request_id, std::string_view action,
                                    int64_t from_seq) const {
  bool sub = from_seq >= 0;
  const char* outcome = OutcomeName(run.outcome());
  return ReplyLine("ack", run.id(),
                   JsonObject({{"action", Quote(action)},
                               {"last_seq", std::to_string(run.last_seq())},
                               {"from_seq", sub ? std::to_string(from_seq) : ""},
                               {"state", sub ? Quote(RunStateName(run.state())) : ""},
                               {"outcome", !sub ? "" : *outcome ? Quote(outcome) : "null"}}),
                   request_id);
}

void NativeProtocol::OnMessage(ConnId id, bool binary, std::string_view payload) {
  if (binary) {
    Reply(id, ErrorLine("", "", "invalid_frame", "binary frames are not understood; send JSON text"));
    return;
  }
  std::string err;
  if (!parser_.Parse(payload, &err) || !parser_.doc().IsObject()) {
    Reply(id, ErrorLine("", "", "invalid_json", "invalid JSON: " + (err.empty() ? "not an object" : err)));
    return;
  }
  const JsonDoc& msg = parser_.doc();
  std::string type(GetString(msg, "type"));
  std::string request_id(GetString(msg, "request_id"));
  std::string run_id(GetString(msg, "run_id"));
  if (run_id.empty()) {
    auto p = path_run_.find(id);
    if (p != path_run_.end()) run_id = p->second;
  }
  if (type == "ping") return Reply(id, WithRequestId(EnvelopeLine({"pong", "", "", -1, nullptr}), request_id));
  if (type.empty() && msg.HasMember("task")) type = "execute";  // the first frame of a cmbagent client: {"task":...}
  if (type == "execute") return Execute(id, msg, run_id, request_id);
  if (type == "list_runs") return ListRuns(id, msg, request_id);
  if (type.empty())
    return Reply(id, ErrorLine(run_id, request_id, "invalid_request", "a frame needs \"type\" (or \"task\")"));
  if (!kRunTypes.count(type))
    return Reply(id, ErrorLine(run_id, request_id, "unknown_type", "unknown message type '" + type + "'"));
  if (run_id.empty() && (type == "resolve_approval" || type == "approval_response"))
    run_id = RunOfApproval(id, GetString(msg, "approval_id"));
  if (run_id.empty()) {
    std::vector<std::string> keys = fanout_->Keys(id);
    if (keys.size() == 1) run_id = keys[0];
  }
  Run* run = run_id.empty() ? nullptr : runs_->Find(run_id, &err);
  if (!run && !err.empty()) return Reply(id, ErrorLine(run_id, request_id, "server_error", err));
  if (!run)
    return Reply(id, ErrorLine(run_id, request_id, "unknown_run",
                               run_id.empty() ? "no run_id given" : "run " + run_id + " not found"));
  if (type == "subscribe") {
    int64_t since = GetInt(msg, "since_seq", 0);
    int64_t tail = GetInt(msg, "tail", -1);
    if (tail >= 0) since = std::max<int64_t>(0, run->last_seq() - tail);
    return Subscribe(id, *run, since, request_id);
  }
  if (type == "unsubscribe") {
    fanout_->Unsubscribe(id, run->id());
    return Reply(id, AckLine(*run, request_id, "unsubscribe"));
  }
  if (type == "request_state") {
    size_t from = 0;
    if (!runs_->FirstAfter(*run, GetDouble(msg, "since", 0), &from, &err))
      return Reply(id, ErrorLine(run->id(), request_id, "server_error", err));
    return Subscribe(id, *run, static_cast<int64_t>(from), request_id, "request_state");
  }
  if (type == "run_status") return RunStatus(id, *run, request_id);
  Control(id, *run, type, msg, request_id);
}

std::string NativeProtocol::RunOfApproval(ConnId id, std::string_view approval_id) {
  std::string err;
  for (const auto& key : fanout_->Keys(id)) {
    Run* run = runs_->Find(key, &err);
    if (run && run->engine().pending_approval_id() == approval_id) return key;
  }
  return "";
}

void NativeProtocol::Control(ConnId id, Run& run, const std::string& type, const JsonValue& msg,
                             const std::string& request_id) {
  if (const std::string* seen = runs_->Remembered(run, request_id)) return Reply(id, *seen);  // applied once
  std::vector<EngineEvent> caused;
  std::string err;
  RunEngine& engine = run.engine();
  bool ok = false;
  if (type == "pause") ok = engine.Pause(&caused, &err);
  else if (type == "resume") ok = engine.Resume(&caused, &err);
  else if (type == "cancel") ok = engine.Cancel(&caused, &err);
  else {
    std::string approval_id(GetString(msg, "approval_id"));
    std::string resolution(GetString(msg, "resolution"));
    if (type == "approval_response" || (resolution.empty() && msg.HasMember("approved"))) {
      auto approved = msg.FindMember("approved");
      if (approved != msg.MemberEnd() && approved->value.IsBool())
        resolution = engine.ResolutionFor(approved->value.GetBool());
    }
    if (resolution.empty()) err = "an answer needs \"resolution\" (or a boolean \"approved\")";
    else ok = engine.Resolve(approval_id, resolution, GetString(msg, "feedback"), &caused, &err);
  }
  bool state_control = type == "pause" || type == "resume" || type == "cancel";
  std::string reply = ok ? AckLine(run, request_id, type)
                         : ErrorLine(run.id(), request_id, state_control ? "invalid_state" : "approval_error", err);
  runs_->Remember(run, request_id, reply);
  Reply(id, reply);
  if (ok) runs_->Apply(run, caused);
}

void NativeProtocol::Execute(ConnId id, const JsonValue& msg, std::string run_id, const std::string& request_id) {
  if (!opts_.replay_run_id.empty())
    return Reply(id, ErrorLine(run_id, request_id, "invalid_request",
                               "this server replays a recording of run " + opts_.replay_run_id +
                                   "; it starts no runs"));
  std::string err;
  if (!run_id.empty() && runs_->Exists(run_id)) {
    Run* existing = runs_->Find(run_id, &err);
    if (!existing) return Reply(id, ErrorLine(run_id, request_id, "server_error", err));
    // A retried execute (same request id) attaches to the run it started; anything else is refused.
    if (!request_id.empty() && existing->request_id() == request_id)
      return Subscribe(id, *existing, GetInt(msg, "since_seq", 0), request_id, "execute");
    return Reply(id, ErrorLine(run_id, request_id, "run_exists", "run " + run_id + " already exists"));
  }
  if (GetString(msg, "task").empty()) return Reply(id, ErrorLine(run_id, request_id, "invalid_request", "No task provided"));
  if (run_id.empty()) {
    do run_id = ids_->RunId();
    while (runs_->Exists(run_id));
  }
  if (run_id.size() > kMaxRunIdBytes)
    return Reply(id, ErrorLine("", request_id, "invalid_request", "run_id is longer than 200 bytes"));
  const JsonValue* config = GetObject(msg, "config");
  RunSpec spec;
  spec.run_id = run_id;
  spec.task = std::string(GetString(msg, "task"));
  spec.model = std::string(GetString(msg, "model"));
  if (spec.model.empty() && config) spec.model = std::string(GetString(*config, "model"));
  spec.config_json = config ? ToJson(*config) : "{}";
  spec.request_id = request_id;
  std::string error_type;
  Run* run = runs_->Create(spec, &error_type, &err);
  if (!run) return Reply(id, ErrorLine(run_id, request_id, error_type, err));
  Subscribe(id, *run, 0, request_id, "execute");
}

void NativeProtocol::Subscribe(ConnId id, Run& run, int64_t since_seq, const std::string& request_id,
                               std::string_view action) {
  size_t from = static_cast<size_t>(std::clamp<int64_t>(since_seq, 0, run.last_seq()));
  Reply(id, AckLine(run, request_id, action, static_cast<int64_t>(from)));
  fanout_->Subscribe(id, &run, from);
}

void NativeProtocol::ListRuns(ConnId id, const JsonValue& msg, const std::string& request_id) {
  RunState state;
  const RunState* filter = nullptr;
  auto s = msg.FindMember("state");
  if (s != msg.MemberEnd() && !s->value.IsNull()) {
    if (!s->value.IsString() || !ParseRunState(GetString(msg, "state"), &state))
      return Reply(id, ErrorLine("", request_id, "invalid_request",
                                 std::string("state must be one of ") + RunStateNames()));
    filter = &state;
  }
  int64_t limit = static_cast<int64_t>(kDefaultListLimit);
  auto l = msg.FindMember("limit");
  if (l != msg.MemberEnd() && !l->value.IsNull()) {
    if (!l->value.IsInt64() || l->value.GetInt64() < 1 || l->value.GetInt64() > static_cast<int64_t>(kMaxListLimit))
      return Reply(id, ErrorLine("", request_id, "invalid_request",
                                 "limit must be a whole number from 1 to " + std::to_string(kMaxListLimit)));
    limit = l->value.GetInt64();
  }
  size_t total = 0;
  std::vector<Run*> found = runs_->List(filter, static_cast<size_t>(limit), &total);
  std::string list = "[";
  for (size_t i = 0; i < found.size(); ++i) list += (i ? "," : "") + found[i]->SummaryJson();
  list += "]";
  Reply(id, ReplyLine("ack", "",
                      JsonObject({{"action", Quote("list_runs")}, {"runs", list}, {"total", std::to_string(total)}}),
                      request_id));
}

void NativeProtocol::RunStatus(ConnId id, Run& run, const std::string& request_id) {
  std::string approvals = "[]";
  if (const JsonDoc* pending = run.pending_approval()) {  // seq first, then the request as it was made
    std::string data = ToJson(*pending);
    approvals = "[{\"seq\":" + std::to_string(run.pending_seq()) + (data.size() > 2 ? "," + data.substr(1) : "}") + "]";
  }
  const char* outcome = OutcomeName(run.outcome());
  Reply(id, ReplyLine("ack", run.id(),
                      JsonObject({{"action", Quote("run_status")},
                                  {"last_seq", std::to_string(run.last_seq())},
                                  {"state", Quote(RunStateName(run.state()))},
                                  {"outcome", *outcome ? Quote(outcome) : "null"},
                                  {"task", Quote(run.task())},
                                  {"created", Quote(run.created())},
                                  {"updated", Quote(run.updated())},
                                  {"approvals", approvals}}),
                      request_id));
}

}  // namespace wsflow::serve
