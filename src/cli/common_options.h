// Options every client subcommand takes after its name: where to connect and how to keep the
// connection (retries, heartbeat, queue), and how chatty to be on stderr.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/config_file.h"
#include "core/predicate.h"
#include "core/wait_condition.h"
#include "session/ws_session.h"

namespace wsflow {

struct ConnectionFlags {
  std::string url;
  std::string dialect = "auto";
  std::string connect_timeout = "10s";
  std::string wait_for_backend = "5s";
  std::string ping_interval = "15s";
  std::string pong_timeout = "10s";
  std::string idle_timeout = "0";
  std::string max_frame_size = "64MiB";
  int retries = 10;
  std::string retry_initial = "1s";
  std::string retry_max_delay = "30s";
  std::string retry_jitter = "full";
  size_t queue_size = 100;
  bool quiet = false;
  int verbose = 0;
  std::string profile;  ///< --profile: a profile of the config file
  // TLS (wss://) and authentication.
  std::string ca, capath, cert, key;
  bool insecure = false;
  std::string token_file;   ///< else $WSFLOW_TOKEN_FILE, the file's token_file, else $WSFLOW_TOKEN
  std::string token_query;  ///< send the token as this query parameter instead of a header
  std::vector<std::string> headers;  ///< 'Name: value' or @FILE (one header a line)
  std::string proxy;            ///< --proxy URL|none (else $WSFLOW_PROXY, the file, the standard variables)
  std::string proxy_auth_file;  ///< USER:PASSWORD for the proxy, in a file
  bool compress = false;        ///< --compress: offer permessage-deflate
  /// The flag of each setting (by config key: "url", "retries", ...): a setting whose flag was not
  /// given comes from the environment, then the config file, then the flag's default.
  std::map<std::string, CLI::Option*> options;
};

/// The default backend: `wsflow serve` with no flags listens here.
inline constexpr const char* kDefaultUrl = "ws://127.0.0.1:8000";

void AddConnectionOptions(CLI::App* app, ConnectionFlags* flags);

/// What ends watch/execute/send besides the run's end: --until, --until-match, --max-events, --timeout.
struct WaitFlags {
  std::vector<std::string> until;
  std::vector<std::string> until_match;
  int64_t max_events = 0;
  std::string timeout = "0";
};

void AddWaitOptions(CLI::App* app, WaitFlags* flags);
/// --until, --until-match and --max-events into `wait`, --timeout into `timeout`.
bool ResolveWait(const WaitFlags& flags, WaitCondition* wait, Millis* timeout, std::string* err);
bool ParsePredicates(const std::vector<std::string>& texts, std::vector<Predicate>* out, std::string* err);

/// Validates `flags` into session options and the URL to use. A setting whose flag was not given
/// comes from the environment ($WSFLOW_URL, ...), else the config file, else the default; `config`,
/// when given, receives the loaded config file. False with a one-line reason in `*err`.
bool ResolveConnection(const ConnectionFlags& flags, SessionOptions* out, std::string* url, std::string* err,
                       ConfigFile* config = nullptr);

/// One setting: `flag_value` when its flag (flags.options[key]) was given, else the environment,
/// the config file, or `flag_value` as the default. Values that do not come from a flag are checked
/// as the flag would check them; false with the reason naming where the value came from.
bool ResolveSetting(const ConnectionFlags& flags, const ConfigFile& config, const std::string& key,
                    const std::string& flag_value, SettingValue* out, std::string* err);

/// The session for a query: the connection flags resolved, a URL without a path given /ws. Only
/// wsflow's native protocol lists runs and tells their status: another dialect (--dialect, or
/// the URL's path under --dialect auto) is exit 2 with "the NAME backend cannot `cannot`".
/// Returns 0, or the exit status with a one-line reason in `*err`.
int QuerySession(const ConnectionFlags& flags, const std::string& cannot, SessionOptions* out, std::string* err);

/// The connection settings the flags hold, as text by config key (the defaults where not given).
std::map<std::string, std::string> ConnectionSettings(const ConnectionFlags& flags);

}  // namespace wsflow
