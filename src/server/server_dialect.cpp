// The common part of the server-side dialects: names, endpoints, timestamps, JSON building, and
// the dispatch to the per-dialect files.
#include "server/server_dialect.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <cstdio>
#include <ctime>

#include "core/url.h"
#include "server/scenario.h"
#include "server/server_dialect_internal.h"

namespace wsflow::serve {

namespace {

struct DialectName {
  ServerDialect d;
  const char* name;
};
const DialectName kNames[] = {{ServerDialect::kNative, "native"},   {ServerDialect::kCmbagent, "cmbagent"},
                              {ServerDialect::kRyx, "ryx"},         {ServerDialect::kA2a, "a2a"},
                              {ServerDialect::kAladdin, "aladdin"}, {ServerDialect::kChat, "chat"}};

uint64_t Fnv1a(std::string_view s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// A UUID (version 4 layout) that depends only on `seed`: a restarted server shows the same one.
std::string StableUuid(const std::string& seed) {
  uint64_t a = Fnv1a(seed, 14695981039346656037ULL), b = Fnv1a(seed + "/mars-run", 1469598103934665603ULL);
  unsigned char bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<unsigned char>(a >> (8 * i));
    bytes[8 + i] = static_cast<unsigned char>(b >> (8 * i));
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return out;
}

void ParseQuery(std::string_view q, std::map<std::string, std::string>* out) {
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string key(part.substr(0, eq)), value(eq == std::string_view::npos ? "" : part.substr(eq + 1));
    for (auto* s : {&key, &value})
      for (auto& ch : *s)
        if (ch == '+') ch = ' ';  // a query string's space
    (*out)[PercentDecode(key)] = PercentDecode(value);
  }
}

}  // namespace

bool ParseServerDialect(std::string_view name, ServerDialect* out) {
  for (const auto& n : kNames)
    if (name == n.name) {
      *out = n.d;
      return true;
    }
  return false;
}

const char* ServerDialectName(ServerDialect d) {
  for (const auto& n : kNames)
    if (n.d == d) return n.name;
  return "native";
}

std::vector<std::string> ServerDialectNames() {
  std::vector<std::string> out;
  for (const auto& n : kNames) out.emplace_back(n.name);
  return out;
}

int64_t DefaultHeartbeatMs(ServerDialect d) {
  switch (d) {
    case ServerDialect::kCmbagent:
      return 1000;
    case ServerDialect::kA2a:
    case ServerDialect::kAladdin:
    case ServerDialect::kChat:
      return 30000;
    default:
      return 0;
  }
}

int64_t ProtocolPingMs(const DialectOptions& o) {
  switch (o.dialect) {
    case ServerDialect::kCmbagent:
    case ServerDialect::kRyx:
    case ServerDialect::kA2a:
      return 20000;
    default:
      return 0;
  }
}

bool AutoApproves(ServerDialect d) {
  return d == ServerDialect::kRyx || d == ServerDialect::kA2a || d == ServerDialect::kAladdin ||
         d == ServerDialect::kChat;
}

// ---- timestamps ----
std::string PyIsoTimestamp(Clock::time_point t, bool utc, std::string_view suffix) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  int frac = static_cast<int>(us % 1000000);
  std::tm tm{};
  if (utc)
    gmtime_r(&secs, &tm);
  else
    localtime_r(&secs, &tm);
  char buf[96];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (frac) std::snprintf(buf + n, sizeof buf - n, ".%06d", frac);  // isoformat() drops a zero fraction
  return std::string(buf) + std::string(suffix);
}

std::string JsIsoTimestamp(Clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

// ---- endpoints ----
bool MatchEndpoint(ServerDialect d, const std::string& resource, Endpoint* out) {
  *out = Endpoint{};
  size_t q = resource.find('?');
  out->path = resource.substr(0, q);
  if (q != std::string::npos) ParseQuery(std::string_view(resource).substr(q + 1), &out->query);
  const std::string& p = out->path;
  auto tail = [&p](const char* prefix, std::string* id) {
    std::string_view pre(prefix);
    if (p.size() <= pre.size() || p.compare(0, pre.size(), pre) != 0) return false;
    std::string rest = p.substr(pre.size());
    if (rest.find('/') != std::string::npos) return false;  // a path parameter is one segment
    *id = PercentDecode(rest);
    return true;
  };
  switch (d) {
    case ServerDialect::kNative:
      out->kind = Endpoint::Kind::kTask;
      return p == "/" || p == "/ws" || p.rfind("/ws/", 0) == 0;
    case ServerDialect::kCmbagent:
      out->kind = Endpoint::Kind::kTask;
      return tail("/ws/", &out->id);
    case ServerDialect::kRyx:
      out->kind = Endpoint::Kind::kStream;
      return p == "/api/workflow/stream";
    case ServerDialect::kA2a:
      if (p == "/ws/coordinator") {
        out->kind = Endpoint::Kind::kCoordinator;
        return true;
      }
      if (tail("/ws/workflow/", &out->id)) {
        out->kind = Endpoint::Kind::kWorkflow;
        return true;
      }
      if (tail("/ws/agent/", &out->id)) {
        out->kind = Endpoint::Kind::kAgent;
        return true;
      }
      return false;
    case ServerDialect::kAladdin:
      out->kind = Endpoint::Kind::kAny;
      return true;
    case ServerDialect::kChat:
      if (p != "/ws/chat") return false;
      out->kind = Endpoint::Kind::kChat;
      if (auto it = out->query.find("session_id"); it != out->query.end()) out->id = it->second;
      return true;
  }
  return false;
}

std::string EndpointHelp(ServerDialect d, const std::string& path) {
  std::string use;
  switch (d) {
    case ServerDialect::kCmbagent:
      use = "/ws/{task_id}";
      break;
    case ServerDialect::kRyx:
      use = "/api/workflow/stream";
      break;
    case ServerDialect::kA2a:
      use = "/ws/workflow/{id}, /ws/agent/{name} or /ws/coordinator";
      break;
    case ServerDialect::kChat:
      use = "/ws/chat?session_id=S";
      break;
    default:
      use = "/ws or /ws/{run_id}";
      break;
  }
  return std::string("wsflow serve --dialect ") + ServerDialectName(d) + ": no such endpoint " + path + " (use " + use +
         ")\n";
}

// ---- dispatch ----
ClientAction ParseClientFrame(const DialectOptions& o, const Endpoint& ep, bool binary, std::string_view payload,
                              Clock::time_point now) {
  using namespace dialect_detail;
  switch (o.dialect) {
    case ServerDialect::kCmbagent:
      return ParseCmbagent(o, ep, binary, payload, now);
    case ServerDialect::kRyx:
      return ParseRyx(o, binary, payload);
    case ServerDialect::kA2a:
      return ParseA2a(o, ep, binary, payload);
    case ServerDialect::kAladdin:
      return ParseAladdin(binary, payload, now);
    case ServerDialect::kChat:
      return ParseChat(ep, binary, payload, now);
    default:
      return {};
  }
}

void InitRunContext(const DialectOptions& o, const std::string& key, const std::string& public_id,
                    const std::string& task, const std::string& model, const JsonValue& config, RunContext* ctx) {
  *ctx = RunContext{};
  ctx->key = key;
  ctx->public_id = public_id;
  ctx->task = task;
  ctx->model = model.empty() ? "sim-1" : model;
  ctx->session_id = std::string(GetString(config, "session_id"));
  if (o.dialect == ServerDialect::kCmbagent) ctx->uuid = StableUuid(key);
  if (o.dialect == ServerDialect::kAladdin) ctx->conversation = GetBool(config, "conversation", false);
}

std::vector<DialectFrame> MapEvent(const DialectOptions& o, RunContext& ctx, std::string_view type,
                                   const JsonValue& data, Clock::time_point t, bool* close_after) {
  using namespace dialect_detail;
  *close_after = false;
  if (!ctx.have_start) {
    ctx.started = t;
    ctx.have_start = true;
  }
  if (type == "dag_created" || type == "dag_updated") {  // every dialect may use the DAG's shape
    if (const JsonValue* nodes = GetArray(data, "nodes")) {
      ctx.total_steps = nodes->Size();
      for (auto& n : nodes->GetArray()) {
        std::string id(GetString(n, "id")), agent(GetString(n, "agent"));
        if (!id.empty() && !agent.empty()) ctx.step_agent[id] = agent;
      }
    }
  }
  if (type == "cost_update") {
    ctx.tokens += GetInt(data, "tokens", 0);
    ctx.cost_usd = GetDouble(data, "total_cost_usd", ctx.cost_usd);
  }
  if (type == "error_occurred") ctx.last_error_type = std::string(GetString(data, "error_type"));
  std::vector<DialectFrame> out;
  switch (o.dialect) {
    case ServerDialect::kCmbagent:
      out = MapCmbagent(o, ctx, type, data, t, close_after);
      break;
    case ServerDialect::kRyx:
      out = MapRyx(o, ctx, type, data, t);
      break;
    case ServerDialect::kA2a:
      out = MapA2a(ctx, type, data, t);
      break;
    case ServerDialect::kAladdin:
      out = MapAladdin(ctx, type, data, t);
      break;
    case ServerDialect::kChat:
      out = MapChat(ctx, type, data, t);
      break;
    default:
      break;
  }
  // After the dialect: it sees where the run was before this event.
  if (type == "step_started") {
    ctx.current_step = GetInt(data, "step_number", ctx.current_step + 1);
    ctx.current_step_id = std::string(GetString(data, "step_id"));
    ctx.step_started[ctx.current_step] = t;
    ctx.step_goal[ctx.current_step] = std::string(GetString(data, "goal"));
    if (ctx.current_step > ctx.total_steps) ctx.total_steps = ctx.current_step;
  } else if (type == "step_completed") {
    ++ctx.done_steps;
  }
  return out;
}

std::vector<std::string> Greeting(const DialectOptions& o, const Endpoint& ep, const std::string& client_id,
                                  const RunContext* run, Clock::time_point now) {
  using namespace dialect_detail;
  switch (o.dialect) {
    case ServerDialect::kA2a:
      return GreetingA2a(o, ep, client_id, run, now);
    case ServerDialect::kAladdin:
      return GreetingAladdin(now);
    case ServerDialect::kChat:
      return GreetingChat(ep, now);
    default:
      return {};
  }
}

bool IsGreetingFrame(ServerDialect d, std::string_view frame) {
  JsonDoc doc;
  std::string err;
  if (!ParseJson(frame, &doc, &err) || !doc.IsObject()) return false;
  std::string_view type = GetString(doc, "type");
  switch (d) {
    case ServerDialect::kA2a:
      return type == "info" || type == "status";
    case ServerDialect::kAladdin:
      return type == "ping";
    case ServerDialect::kChat: {
      const JsonValue* data = GetObject(doc, "data");
      return type == "status" && data && GetString(*data, "status") == "connected";
    }
    default:
      return false;
  }
}

std::string HeartbeatFrame(const DialectOptions& o, const Endpoint& ep, const RunContext* run, Clock::time_point now) {
  using namespace dialect_detail;
  switch (o.dialect) {
    case ServerDialect::kCmbagent:
      return HeartbeatCmbagent(run, ep, now);
    case ServerDialect::kA2a:
      return HeartbeatA2a(now);
    case ServerDialect::kChat:
      return HeartbeatChat(now);
    default:
      return "";
  }
}

// ---- JSON helpers ----
void JsonObj::Key(const char* key) {
  if (text_.size() > 1) text_ += ',';
  text_ += '"';
  text_ += JsonEscape(key);
  text_ += "\":";
}

JsonObj& JsonObj::Str(const char* key, std::string_view v) {
  Key(key);
  text_ += '"';
  text_ += JsonEscape(std::string(v));
  text_ += '"';
  return *this;
}

JsonObj& JsonObj::Int(const char* key, int64_t v) {
  Key(key);
  text_ += std::to_string(v);
  return *this;
}

JsonObj& JsonObj::Num(const char* key, double v) {
  Key(key);
  text_ += JsonNumber(v);
  return *this;
}

JsonObj& JsonObj::Bool(const char* key, bool v) {
  Key(key);
  text_ += v ? "true" : "false";
  return *this;
}

JsonObj& JsonObj::Null(const char* key) {
  Key(key);
  text_ += "null";
  return *this;
}

JsonObj& JsonObj::Raw(const char* key, std::string_view json) {
  Key(key);
  text_ += json;
  return *this;
}

JsonObj& JsonObj::Val(const char* key, const JsonValue& v) { return Raw(key, ToJson(v)); }

std::string WithStringMember(const JsonValue& data, const char* key, const std::string& value) {
  JsonObj o;
  bool seen = false;
  if (data.IsObject()) {
    for (auto& m : data.GetObject()) {
      std::string name(m.name.GetString(), m.name.GetStringLength());
      if (name == key) {
        o.Str(key, value);
        seen = true;
      } else {
        o.Val(name.c_str(), m.value);
      }
    }
  }
  if (!seen) o.Str(key, value);
  return o.str();
}

std::string JsonNumber(double v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.SetMaxDecimalPlaces(6);
  w.Double(v);
  return std::string(buf.GetString(), buf.GetSize());
}

int64_t MillisBetween(Clock::time_point a, Clock::time_point b) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
  return ms < 0 ? 0 : ms;
}

namespace dialect_detail {

std::string ConfigFrom(const JsonValue& frame) {
  JsonObj o;
  bool scenario = false, delay = false;
  std::string_view top_scenario = GetString(frame, "scenario");
  auto top_delay = frame.IsObject() ? frame.FindMember("delay_ms") : frame.MemberEnd();
  bool has_delay = frame.IsObject() && top_delay != frame.MemberEnd() && top_delay->value.IsInt64();
  if (const JsonValue* config = GetObject(frame, "config")) {
    for (auto& m : config->GetObject()) {
      std::string name(m.name.GetString(), m.name.GetStringLength());
      if (name == "scenario" && !top_scenario.empty()) {
        o.Str("scenario", top_scenario);
        scenario = true;
      } else if (name == "delay_ms" && has_delay) {
        o.Int("delay_ms", top_delay->value.GetInt64());
        delay = true;
      } else {
        o.Val(name.c_str(), m.value);
      }
    }
  }
  if (!scenario && !top_scenario.empty()) o.Str("scenario", top_scenario);
  if (!delay && has_delay) o.Int("delay_ms", top_delay->value.GetInt64());
  return o.str();
}

}  // namespace dialect_detail

}  // namespace wsflow::serve
