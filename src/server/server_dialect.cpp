// The common part of the server-side dialects: the table of tables, endpoints, timestamps, JSON
// helpers, and the event bookkeeping every dialect's mapping relies on.
#include "server/server_dialect.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <ctime>

#include "core/url.h"
#include "server/id_maker.h"
#include "server/server_dialect_internal.h"

namespace wsflow::serve {

namespace {

bool MatchNative(const std::string& p, Endpoint* ep) {
  ep->kind = Endpoint::Kind::kTask;
  return p == "/" || p == "/ws" || p.rfind("/ws/", 0) == 0;
}

// The native protocol is not spoken through this table (native_protocol.h); its row names it
// and its endpoints.
const DialectSpec kNativeSpec = {
    ServerDialect::kNative, "native", "/ws or /ws/{run_id}", 0, 0, false, false, false, false, 0, 1001,
    "server shutting down", MatchNative, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

const DialectSpec* const kSpecs[] = {&kNativeSpec, &dialect_detail::kCmbagent, &dialect_detail::kRyx,
                                     &dialect_detail::kA2a, &dialect_detail::kAladdin, &dialect_detail::kChat};

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

const DialectSpec& SpecOf(ServerDialect d) {
  for (const DialectSpec* s : kSpecs)
    if (s->dialect == d) return *s;
  return kNativeSpec;
}

bool ParseServerDialect(std::string_view name, ServerDialect* out) {
  for (const DialectSpec* s : kSpecs)
    if (name == s->name) {
      *out = s->dialect;
      return true;
    }
  return false;
}

const char* ServerDialectName(ServerDialect d) { return SpecOf(d).name; }

std::vector<std::string> ServerDialectNames() {
  std::vector<std::string> out;
  for (const DialectSpec* s : kSpecs) out.emplace_back(s->name);
  return out;
}

int64_t DefaultHeartbeatMs(ServerDialect d) { return SpecOf(d).default_heartbeat_ms; }

bool AutoApproves(ServerDialect d) { return SpecOf(d).auto_approves; }

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

// ---- endpoints ----
bool MatchEndpoint(ServerDialect d, const std::string& resource, Endpoint* out) {
  *out = Endpoint{};
  size_t q = resource.find('?');
  out->path = resource.substr(0, q);
  if (q != std::string::npos) ParseQuery(std::string_view(resource).substr(q + 1), &out->query);
  return SpecOf(d).match(out->path, out);
}

std::string EndpointHelp(ServerDialect d, const std::string& path) {
  const DialectSpec& s = SpecOf(d);
  return std::string("wsflow serve --dialect ") + s.name + ": no such endpoint " + path + " (use " + s.endpoints +
         ")\n";
}

// ---- dispatch through the table ----
ClientAction ParseClientFrame(const DialectOptions& o, const Endpoint& ep, bool binary, std::string_view payload,
                              Clock::time_point now) {
  const DialectSpec& s = SpecOf(o.dialect);
  return s.parse ? s.parse(o, ep, binary, payload, now) : ClientAction{};
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
  const DialectSpec& s = SpecOf(o.dialect);
  std::vector<DialectFrame> out;
  if (s.map) out = s.map(o, ctx, type, data, t, close_after);
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
  const DialectSpec& s = SpecOf(o.dialect);
  return s.greeting ? s.greeting(o, ep, client_id, run, now) : std::vector<std::string>{};
}

bool IsGreetingFrame(ServerDialect d, std::string_view frame) {
  const DialectSpec& s = SpecOf(d);
  if (!s.is_greeting) return false;
  JsonDoc doc;
  std::string err;
  return ParseJson(frame, &doc, &err) && doc.IsObject() && s.is_greeting(doc);
}

std::string HeartbeatFrame(const DialectOptions& o, const Endpoint& ep, const RunContext* run, bool executing,
                           Clock::time_point now) {
  const DialectSpec& s = SpecOf(o.dialect);
  return s.heartbeat ? s.heartbeat(ep, run, executing, now) : std::string();
}

// ---- JSON helpers ----
std::string WithStringMember(const JsonValue& data, const char* key, const std::string& value) {
  std::string out = "{";
  bool seen = false;
  if (data.IsObject()) {
    for (auto& m : data.GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      if (out.size() > 1) out += ",";
      out += Quote(name) + ":";
      if (name == key) {
        out += Quote(value);
        seen = true;
      } else {
        out += ToJson(m.value);
      }
    }
  }
  if (!seen) out += std::string(out.size() > 1 ? "," : "") + Quote(key) + ":" + Quote(value);
  return out + "}";
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

bool PathParameter(const std::string& p, const char* prefix, std::string* id) {
  std::string_view pre(prefix);
  if (p.size() <= pre.size() || p.compare(0, pre.size(), pre) != 0) return false;
  std::string rest = p.substr(pre.size());
  if (rest.find('/') != std::string::npos) return false;  // a path parameter is one segment
  *id = PercentDecode(rest);
  return true;
}

std::string ConfigFrom(const JsonValue& frame) {
  std::string out = "{";
  auto add = [&out](std::string_view key, const std::string& json) {
    if (out.size() > 1) out += ",";
    out += Quote(key) + ":" + json;
  };
  bool scenario = false, delay = false;
  std::string_view top_scenario = GetString(frame, "scenario");
  auto top_delay = frame.IsObject() ? frame.FindMember("delay_ms") : frame.MemberEnd();
  bool has_delay = frame.IsObject() && top_delay != frame.MemberEnd() && top_delay->value.IsInt64();
  if (const JsonValue* config = GetObject(frame, "config")) {
    for (auto& m : config->GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      if (name == "scenario" && !top_scenario.empty()) {
        add("scenario", Quote(top_scenario));
        scenario = true;
      } else if (name == "delay_ms" && has_delay) {
        add("delay_ms", std::to_string(top_delay->value.GetInt64()));
        delay = true;
      } else {
        add(name, ToJson(m.value));
      }
    }
  }
  if (!scenario && !top_scenario.empty()) add("scenario", Quote(top_scenario));
  if (!delay && has_delay) add("delay_ms", std::to_string(top_delay->value.GetInt64()));
  return out + "}";
}

}  // namespace dialect_detail

}  // namespace wsflow::serve
