#include "cli/common_options.h"

#include <algorithm>
#include <cstdlib>

#include "core/duration.h"
#include "core/event_filter.h"
#include "core/url.h"

namespace wsflow {

void AddConnectionOptions(CLI::App* app, ConnectionFlags* f) {
  auto* g = "Connection";
  app->add_option("--url", f->url, "backend URL (default: $WSFLOW_URL, the config file, else ws://127.0.0.1:8000)")
      ->type_name("URL")->group(g);
  app->add_option("--dialect", f->dialect, "backend protocol (auto: from the URL's path, else the first frames)")
      ->check(CLI::IsMember({"auto", "native", "cmbagent", "ryx", "a2a", "aladdin", "chat"}))->group(g);
  app->add_option("--connect-timeout", f->connect_timeout, "bound on each attempt (TCP + upgrade)")->type_name("DURATION")->group(g);
  app->add_option("--ping-interval", f->ping_interval, "ping the peer this often (0: never)")->type_name("DURATION")->group(g);
  app->add_option("--pong-timeout", f->pong_timeout, "peer is dead without a pong within this")->type_name("DURATION")->group(g);
  app->add_option("--idle-timeout", f->idle_timeout, "reconnect after this long without data (0: off)")->type_name("DURATION")->group(g);
  app->add_option("--retries", f->retries, "reconnect attempts before giving up (0: forever)")
      ->check(CLI::NonNegativeNumber)->group(g);
  app->add_option("--retry-initial", f->retry_initial, "first reconnect delay ceiling")->type_name("DURATION")->group(g);
  app->add_option("--retry-max-delay", f->retry_max_delay, "cap of the reconnect delay")->type_name("DURATION")->group(g);
  app->add_option("--retry-jitter", f->retry_jitter, "full: random delay under the ceiling; none: the ceiling")
      ->check(CLI::IsMember({"full", "none"}))->group(g);
  app->add_option("--queue-size", f->queue_size, "requests kept while disconnected")
      ->check(CLI::PositiveNumber)->group(g);
  app->add_option("--profile", f->profile, "use this profile of the config file (default: $WSFLOW_PROFILE)")
      ->type_name("NAME")->group(g);
  app->add_flag("-q,--quiet", f->quiet, "no status lines on stderr (errors still)")->group("Output");
  app->add_flag("-v,--verbose", f->verbose, "more detail on stderr (-vv: websocketpp's errors too)")->group("Output");
  // Remember each setting's flag (the subcommand's own ones, such as --output, too), to tell a
  // flag the user gave from a default that the environment or the config file may replace.
  for (const auto& s : Settings()) {
    std::string flag = std::string("--") + s.key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    if (CLI::Option* o = app->get_option_no_throw(flag)) f->options[s.key] = o;
  }
}

namespace {
// A value from the environment or the file must pass the flag's own checks (CLI::IsMember, ...).
bool CheckLikeFlag(CLI::Option* opt, std::string value, std::string* why) {
  for (int i = 0;; ++i) {
    CLI::Validator* v = nullptr;
    try {
      v = opt->get_validator(i);
    } catch (const CLI::OptionNotFound&) {
      return true;
    }
    std::string msg = (*v)(value);
    if (!msg.empty()) {
      *why = msg;
      return false;
    }
  }
}
}  // namespace

std::map<std::string, std::string> ConnectionSettings(const ConnectionFlags& f) {
  return {{"url", f.url.empty() ? kDefaultUrl : f.url},
          {"dialect", f.dialect},
          {"connect_timeout", f.connect_timeout},
          {"ping_interval", f.ping_interval},
          {"pong_timeout", f.pong_timeout},
          {"idle_timeout", f.idle_timeout},
          {"retries", std::to_string(f.retries)},
          {"retry_initial", f.retry_initial},
          {"retry_max_delay", f.retry_max_delay},
          {"retry_jitter", f.retry_jitter},
          {"queue_size", std::to_string(f.queue_size)}};
}

bool ResolveSetting(const ConnectionFlags& f, const ConfigFile& config, const std::string& key,
                    const std::string& flag_value, SettingValue* out, std::string* err) {
  auto it = f.options.find(key);
  CLI::Option* opt = it == f.options.end() ? nullptr : it->second;
  bool given = opt && opt->count() > 0;
  *out = config.Resolve(key, given ? &flag_value : nullptr, flag_value);
  if (given || out->source == "default") return true;
  const SettingInfo* info = FindSetting(key);
  std::string why;
  if ((info && !CheckSetting(*info, out->value, &why)) || (opt && !CheckLikeFlag(opt, out->value, &why))) {
    *err = out->where + ": " + why;
    return false;
  }
  return true;
}

bool ResolveConnection(const ConnectionFlags& flags, SessionOptions* out, std::string* url, std::string* err,
                       ConfigFile* config) {
  ConfigFile local;
  ConfigFile& cfg = config ? *config : local;
  if (!cfg.Load(ProcessEnv(), flags.profile, err)) return false;
  ConnectionFlags f = flags;  // what the user did not give: from the environment, the file, the default
  for (const auto& [key, text] : ConnectionSettings(flags)) {
    SettingValue v;
    if (!ResolveSetting(flags, cfg, key, text, &v, err)) return false;
    if (key == "url") f.url = v.value;
    else if (key == "dialect") f.dialect = v.value;
    else if (key == "connect_timeout") f.connect_timeout = v.value;
    else if (key == "ping_interval") f.ping_interval = v.value;
    else if (key == "pong_timeout") f.pong_timeout = v.value;
    else if (key == "idle_timeout") f.idle_timeout = v.value;
    else if (key == "retries") f.retries = std::stoi(v.value);  // checked: digits
    else if (key == "retry_initial") f.retry_initial = v.value;
    else if (key == "retry_max_delay") f.retry_max_delay = v.value;
    else if (key == "retry_jitter") f.retry_jitter = v.value;
    else if (key == "queue_size") f.queue_size = std::stoul(v.value);
  }
  if (f.dialect != "auto" && f.dialect != "native" && f.dialect != "cmbagent" && f.dialect != "ryx" &&
      f.dialect != "a2a" && f.dialect != "aladdin" && f.dialect != "chat") {
    *err = "unknown dialect '" + f.dialect + "' (auto, native, cmbagent, ryx, a2a, aladdin, chat)";
    return false;
  }
  out->dialect = f.dialect;
  *url = f.url;
  WsUrl parsed;
  if (!ParseWsUrl(*url, &parsed, err)) return false;
  if (parsed.scheme == "wss") {
    *err = "wss:// is not supported yet (use ws://)";
    return false;
  }
  struct {
    const std::string& text;
    Millis* into;
    const char* flag;
  } durations[] = {{f.connect_timeout, &out->connect_timeout, "--connect-timeout"},
                   {f.ping_interval, &out->ping_interval, "--ping-interval"},
                   {f.pong_timeout, &out->pong_timeout, "--pong-timeout"},
                   {f.idle_timeout, &out->idle_timeout, "--idle-timeout"},
                   {f.retry_initial, &out->backoff.initial, "--retry-initial"},
                   {f.retry_max_delay, &out->backoff.max_delay, "--retry-max-delay"}};
  for (auto& d : durations) {
    if (!ParseDuration(d.text, d.into, err)) {
      *err = std::string(d.flag) + ": " + *err;
      return false;
    }
  }
  if (out->connect_timeout.count() <= 0) {
    *err = "--connect-timeout must be more than 0";
    return false;
  }
  if (out->ping_interval.count() > 0 && out->pong_timeout >= out->ping_interval) {
    // websocketpp cancels the pong timer on every ping: a longer timeout would never fire.
    *err = "--pong-timeout must be shorter than --ping-interval";
    return false;
  }
  out->backoff.retries = f.retries;
  out->backoff.jitter = f.retry_jitter != "none";
  out->queue_size = f.queue_size;
  out->quiet = f.quiet;
  out->verbose = f.verbose;
  return true;
}

}  // namespace wsflow

namespace wsflow {

void AddWaitOptions(CLI::App* app, WaitFlags* f) {
  auto* g = "Waiting";
  app->add_option("--until", f->until, "stop at: terminal (default), approval, or event types (comma lists)")
      ->group(g);
  app->add_option("--until-match", f->until_match, "stop at an event where this holds (PATH=V, PATH!=V, PATH~RE)")
      ->group(g);
  app->add_option("--max-events", f->max_events, "stop after printing N events")
      ->check(CLI::NonNegativeNumber)->group(g);
  app->add_option("--timeout", f->timeout, "give up after this long (exit 124)")->type_name("DURATION")->group(g);
}

bool ParsePredicates(const std::vector<std::string>& texts, std::vector<Predicate>* out, std::string* err) {
  for (const auto& t : texts) {
    Predicate p;
    if (!Predicate::Parse(t, &p, err)) return false;
    out->push_back(std::move(p));
  }
  return true;
}

bool ResolveWait(const WaitFlags& f, WaitSpec* out, std::string* err) {
  for (const auto& u : f.until)
    for (auto& item : SplitList(u)) {
      if (item == "terminal") continue;
      if (item == "approval") out->until_approval = true;
      else out->until_types.push_back(item);
    }
  if (!ParsePredicates(f.until_match, &out->until_match, err)) {
    *err = "--until-match " + *err;
    return false;
  }
  out->max_events = f.max_events;
  if (!ParseDuration(f.timeout, &out->timeout, err)) {
    *err = "--timeout: " + *err;
    return false;
  }
  return true;
}

}  // namespace wsflow
