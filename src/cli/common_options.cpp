#include "cli/common_options.h"

#include <cstdlib>

#include "core/duration.h"
#include "core/event_filter.h"
#include "core/url.h"

namespace wsflow {

void AddConnectionOptions(CLI::App* app, ConnectionFlags* f) {
  auto* g = "Connection";
  app->add_option("--url", f->url, "backend URL (default: $WSFLOW_URL, else ws://127.0.0.1:8000)")
      ->type_name("URL")->group(g);
  app->add_option("--dialect", f->dialect, "backend protocol")->check(CLI::IsMember({"native"}))->group(g);
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
  app->add_flag("-q,--quiet", f->quiet, "no status lines on stderr (errors still)")->group("Output");
  app->add_flag("-v,--verbose", f->verbose, "more detail on stderr (-vv: websocketpp's errors too)")->group("Output");
}

bool ResolveConnection(const ConnectionFlags& f, SessionOptions* out, std::string* url, std::string* err) {
  *url = f.url;
  if (url->empty()) {
    const char* env = std::getenv("WSFLOW_URL");
    *url = env && *env ? env : kDefaultUrl;
  }
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
