#include "cli/common_options.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

#include "core/byte_size.h"
#include "core/duration.h"
#include "core/event_filter.h"
#include "core/exit_status.h"
#include "core/text.h"
#include "core/url.h"
#include "dialects/dialect.h"
#include "dialects/event_types.h"
#include "session/proxy.h"

namespace wsflow {

namespace {
// --dialect's choices: auto, then every dialect.
std::vector<std::string> DialectChoices() {
  std::vector<std::string> names = {"auto"};
  for (const auto& n : DialectNames()) names.push_back(n);
  return names;
}
}  // namespace

void AddConnectionOptions(CLI::App* app, ConnectionFlags* f) {
  auto* g = "Connection";
  app->add_option("--url", f->url, "backend URL (default: $WSFLOW_URL, the config file, else ws://127.0.0.1:8000)")
      ->type_name("URL")->group(g);
  app->add_option("--dialect", f->dialect, "backend protocol (auto: from the URL's path, else the first frames)")
      ->check(CLI::IsMember(DialectChoices()))->group(g);
  app->add_option("--connect-timeout", f->connect_timeout, "bound on each attempt (TCP + upgrade)")->type_name("DURATION")->group(g);
  app->add_option("--wait-for-backend", f->wait_for_backend, "before the first connection: retry a refused one this long")
      ->type_name("DURATION")->group(g);
  app->add_option("--ping-interval", f->ping_interval, "ping the peer this often (0: never)")->type_name("DURATION")->group(g);
  app->add_option("--pong-timeout", f->pong_timeout,
                  "peer is dead without a pong within this (shorter than --ping-interval)")
      ->type_name("DURATION")->group(g);
  app->add_option("--idle-timeout", f->idle_timeout, "reconnect after this long without data (0: off)")->type_name("DURATION")->group(g);
  app->add_option("--max-frame-size", f->max_frame_size, "a larger frame from the server is exit 4 (default: 64MiB)")
      ->type_name("SIZE")->group(g);
  app->add_option("--retries", f->retries, "reconnect attempts before giving up (0: forever)")
      ->check(CLI::NonNegativeNumber)->group(g);
  app->add_option("--retry-initial", f->retry_initial, "first reconnect delay ceiling")->type_name("DURATION")->group(g);
  app->add_option("--retry-max-delay", f->retry_max_delay, "cap of the reconnect delay")->type_name("DURATION")->group(g);
  app->add_option("--retry-jitter", f->retry_jitter, "full: random delay under the ceiling; none: the ceiling")
      ->check(CLI::IsMember({"full", "none"}))->group(g);
  app->add_option("--queue-size", f->queue_size, "requests kept while disconnected")
      ->check(CLI::PositiveNumber)->group(g);
  app->add_option("--proxy", f->proxy,
                  "HTTP CONNECT proxy http://[USER:PASS@]HOST:PORT, or none (default: $HTTPS_PROXY, ...)")
      ->type_name("URL")->group(g);
  app->add_option("--proxy-auth-file", f->proxy_auth_file, "the proxy's USER:PASSWORD, from this file")
      ->type_name("FILE")->group(g);
  app->add_flag("--compress", f->compress, "offer permessage-deflate (off by default)")->group(g);
  app->add_option("--profile", f->profile, "use this profile of the config file (default: $WSFLOW_PROFILE)")
      ->type_name("NAME")->group(g);
  auto* t = "TLS and authentication";
  app->add_option("--ca", f->ca, "wss://: trust the CAs in this PEM file instead of the system's")
      ->type_name("FILE")->group(t);
  app->add_option("--capath", f->capath, "wss://: trust the CAs in this hashed directory")->type_name("DIR")->group(t);
  app->add_option("--cert", f->cert, "wss://: client certificate (PEM; with --key)")->type_name("FILE")->group(t);
  app->add_option("--key", f->key, "wss://: the client certificate's private key (PEM)")->type_name("FILE")->group(t);
  app->add_flag("--insecure", f->insecure, "wss://: do not verify the server's certificate (warns on every connect)")
      ->group(t);
  app->add_option("--token-file", f->token_file,
                  "bearer token from this file (default: $WSFLOW_TOKEN_FILE, the config file, $WSFLOW_TOKEN)")
      ->type_name("FILE")->group(t);
  app->add_option("--token-query", f->token_query,
                  "send the token as this URL query parameter instead of 'Authorization: Bearer'")
      ->type_name("NAME")->group(t);
  app->add_option("--header", f->headers, "extra upgrade header 'Name: value', or @FILE of such lines")
      ->type_name("HEADER")->group(t);
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
std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

bool ReadText(const std::string& path, std::string* out, std::string* err, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *err = std::string(what) + " " + path + ": cannot read it";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool Readable(const std::string& path, const char* flag, std::string* err) {
  if (path.empty() || access(path.c_str(), R_OK) == 0) return true;
  *err = std::string(flag) + " " + path + ": cannot read it";
  return false;
}

bool AddHeader(const std::string& line, SessionOptions* out, std::string* err) {
  auto colon = line.find(':');
  std::string name = colon == std::string::npos ? "" : Trim(line.substr(0, colon));
  if (name.empty() || name.find_first_of(" \t\r\n") != std::string::npos) {
    *err = "--header: expected 'Name: value'";  // the value may be a secret: not repeated
    return false;
  }
  std::string value = Trim(line.substr(colon + 1));
  if (value.find_first_of("\r\n") != std::string::npos) {
    *err = "--header " + name + ": the value has a line break";
    return false;
  }
  out->headers.emplace_back(name, value);
  return true;
}

// --ca/--capath/--cert/--key/--insecure, the token, --header.
bool ResolveSecurity(const ConnectionFlags& flags, const ConfigFile& cfg, SessionOptions* out, std::string* err) {
  TlsOptions& t = out->tls;
  t.ca_file = flags.ca;
  t.ca_path = flags.capath;
  t.cert_file = flags.cert;
  t.key_file = flags.key;
  t.insecure = flags.insecure;
  if (t.cert_file.empty() != t.key_file.empty()) {
    *err = t.cert_file.empty() ? "--key needs --cert" : "--cert needs --key";
    return false;
  }
  if (!Readable(t.ca_file, "--ca", err) || !Readable(t.cert_file, "--cert", err) || !Readable(t.key_file, "--key", err))
    return false;
  if (!t.ca_path.empty() && access(t.ca_path.c_str(), R_OK | X_OK) != 0) {
    *err = "--capath " + t.ca_path + ": cannot read it";
    return false;
  }
  SettingValue file;
  if (!ResolveSetting(flags, cfg, "token_file", flags.token_file, &file, err)) return false;
  if (!file.value.empty()) {
    std::string text;
    if (!ReadText(file.value, &text, err, "token file")) return false;
    out->token = Trim(text);
    if (out->token.empty()) {
      *err = "token file " + file.value + " is empty";
      return false;
    }
  } else {
    SettingValue env;
    if (!ResolveSetting(flags, cfg, "token", "", &env, err)) return false;
    out->token = Trim(env.value);
  }
  if (out->token.find_first_of("\r\n") != std::string::npos) {
    *err = "the token has a line break";
    return false;
  }
  out->token_query = flags.token_query;
  for (const auto& h : flags.headers) {
    if (!h.empty() && h[0] == '@') {
      std::string text;
      if (!ReadText(h.substr(1), &text, err, "--header")) return false;
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) {
        if (Trim(line).empty() || Trim(line)[0] == '#') continue;
        if (!AddHeader(line, out, err)) return false;
      }
    } else if (!AddHeader(h, out, err)) {
      return false;
    }
  }
  return true;
}

// The proxy: --proxy, WSFLOW_PROXY or the file, else the standard variables; credentials from
// the URL or --proxy-auth-file (USER:PASSWORD).
bool ResolveProxySettings(const ConnectionFlags& flags, const ConfigFile& cfg, const WsUrl& url, SessionOptions* out,
                          std::string* err) {
  SettingValue v;
  if (!ResolveSetting(flags, cfg, "proxy", flags.proxy, &v, err)) return false;
  ProxySetting setting;
  setting.value = v.value;
  setting.source = v.where.empty() ? "--proxy" : v.where;
  setting.from_flag = v.source == "flag";
  if (!ResolveProxy(setting, url.scheme == "wss", url.host, url.port, ProcessEnv(), &out->proxy, err)) return false;
  SettingValue auth;
  if (!ResolveSetting(flags, cfg, "proxy_auth_file", flags.proxy_auth_file, &auth, err)) return false;
  if (!auth.value.empty() && out->proxy.enabled()) {
    std::string text;
    if (!ReadText(auth.value, &text, err, "proxy auth file")) return false;
    text = Trim(text);
    size_t colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || text.find_first_of("\r\n") != std::string::npos) {
      *err = "proxy auth file " + auth.value + ": expected one line USER:PASSWORD";
      return false;
    }
    out->proxy.user = text.substr(0, colon);
    out->proxy.password = text.substr(colon + 1);
  }
  return true;
}

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

int QuerySession(const ConnectionFlags& flags, const std::string& cannot, SessionOptions* out, std::string* err) {
  std::string base;
  if (!ResolveConnection(flags, out, &base, err)) return kExitUsage;
  WsUrl url;
  if (!ParseWsUrl(base, &url, err)) return kExitUsage;
  std::string dialect = out->dialect;
  if (dialect == "auto" && url.has_path()) dialect = DialectFromPath(url.path);
  if (!dialect.empty() && dialect != "auto" && dialect != "native") {
    *err = "the " + dialect + " backend cannot " + cannot + " (only wsflow's native protocol can)";
    return kExitUsage;
  }
  out->dialect = "native";
  out->url = url.has_path() ? url.ToString() : url.WithPath("/ws");
  return kExitCompleted;
}

std::map<std::string, std::string> ConnectionSettings(const ConnectionFlags& f) {
  return {{"url", f.url.empty() ? kDefaultUrl : f.url},
          {"dialect", f.dialect},
          {"connect_timeout", f.connect_timeout},
          {"wait_for_backend", f.wait_for_backend},
          {"ping_interval", f.ping_interval},
          {"pong_timeout", f.pong_timeout},
          {"idle_timeout", f.idle_timeout},
          {"max_frame_size", f.max_frame_size},
          {"retries", std::to_string(f.retries)},
          {"retry_initial", f.retry_initial},
          {"retry_max_delay", f.retry_max_delay},
          {"retry_jitter", f.retry_jitter},
          {"queue_size", std::to_string(f.queue_size)},
          {"compress", f.compress ? "true" : "false"}};
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
  auto url_flag = flags.options.find("url");
  if (url_flag != flags.options.end() && url_flag->second->count() > 0 && flags.url.empty()) {
    *err = "--url is empty: give a ws:// or wss:// URL, or leave --url out for the default";  // never the default
    return false;
  }
  ConnectionFlags f = flags;  // what the user did not give: from the environment, the file, the default
  for (const auto& [key, text] : ConnectionSettings(flags)) {
    SettingValue v;
    if (!ResolveSetting(flags, cfg, key, text, &v, err)) return false;
    if (key == "url") f.url = v.value;
    else if (key == "dialect") f.dialect = v.value;
    else if (key == "connect_timeout") f.connect_timeout = v.value;
    else if (key == "wait_for_backend") f.wait_for_backend = v.value;
    else if (key == "ping_interval") f.ping_interval = v.value;
    else if (key == "pong_timeout") f.pong_timeout = v.value;
    else if (key == "idle_timeout") f.idle_timeout = v.value;
    else if (key == "max_frame_size") f.max_frame_size = v.value;
    else if (key == "retries") f.retries = std::stoi(v.value);  // checked: digits
    else if (key == "retry_initial") f.retry_initial = v.value;
    else if (key == "retry_max_delay") f.retry_max_delay = v.value;
    else if (key == "retry_jitter") f.retry_jitter = v.value;
    else if (key == "queue_size") f.queue_size = std::stoul(v.value);
    else if (key == "compress") f.compress = v.value == "true";
  }
  if (f.dialect != "auto" && !MakeDialect(f.dialect)) {
    *err = "unknown dialect '" + f.dialect + "' (" + JoinList(DialectChoices()) + ")";
    return false;
  }
  out->dialect = f.dialect;
  *url = f.url;
  WsUrl parsed;
  if (!ParseWsUrl(*url, &parsed, err)) return false;
  if (!ResolveSecurity(flags, cfg, out, err)) return false;
  if (!ResolveProxySettings(flags, cfg, parsed, out, err)) return false;
  out->compress = f.compress;
  struct {
    const std::string& text;
    Millis* into;
    const char* flag;
  } durations[] = {{f.connect_timeout, &out->connect_timeout, "--connect-timeout"},
                   {f.wait_for_backend, &out->wait_for_backend, "--wait-for-backend"},
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
  if (!ParseByteSize(f.max_frame_size, &out->max_frame_size, err)) {
    *err = "--max-frame-size: " + *err;
    return false;
  }
  if (out->max_frame_size == 0) {
    *err = "--max-frame-size must be more than 0";
    return false;
  }
  if (out->connect_timeout.count() <= 0) {
    *err = "--connect-timeout must be more than 0";
    return false;
  }
  if (out->ping_interval.count() > 0 && out->pong_timeout >= out->ping_interval) {
    // websocketpp cancels the pong timer on every ping: a longer timeout would never fire.
    *err = "--pong-timeout (" + FormatDuration(out->pong_timeout) + ") must be shorter than --ping-interval (" +
           FormatDuration(out->ping_interval) + "): each ping restarts the wait for a pong";
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
  app->add_option("--timeout", f->timeout, "give up after this long (exit 124; 0: never)")
      ->type_name("DURATION")->group(g);
}

bool ParsePredicates(const std::vector<std::string>& texts, std::vector<Predicate>* out, std::string* err) {
  for (const auto& t : texts) {
    Predicate p;
    if (!Predicate::Parse(t, &p, err)) return false;
    out->push_back(std::move(p));
  }
  return true;
}

bool ResolveWait(const WaitFlags& f, WaitCondition* out, Millis* timeout, std::string* err) {
  for (const auto& u : f.until)
    for (auto& item : SplitList(u)) {
      if (item == "terminal") continue;
      if (item == "approval") {
        out->approval = true;
        continue;
      }
      out->types.push_back(item);
      if (!IsKnownEventType(item)) {  // the wait would never end: probably a typo
        std::string near = Nearest(item, KnownEventTypes());
        std::cerr << "wsflow: warning: --until " << item << ": no backend wsflow knows sends this event type"
                  << (near.empty() ? "" : "; did you mean " + near + "?") << "\n";
      }
    }
  if (!ParsePredicates(f.until_match, &out->match, err)) {
    *err = "--until-match " + *err;
    return false;
  }
  out->max_events = f.max_events;
  if (!ParseDuration(f.timeout, timeout, err)) {
    *err = "--timeout: " + *err;
    return false;
  }
  return true;
}

}  // namespace wsflow
