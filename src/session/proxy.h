// Which HTTP CONNECT proxy a connection goes through, decided the way curl and most tools do:
// --proxy, else WSFLOW_PROXY or the config file's "proxy", else https_proxy/HTTPS_PROXY (wss://)
// or http_proxy/HTTP_PROXY (ws://), else all_proxy/ALL_PROXY; hosts in NO_PROXY go direct unless
// the proxy was given on the command line. Pure: no sockets, the environment is passed in.
#pragma once

#include <functional>
#include <string>

namespace wsflow {

struct ProxySpec {
  std::string url;       ///< "http://host:port", without credentials (safe to print); "" = direct
  std::string user;      ///< basic-auth credentials, percent-decoded (never printed)
  std::string password;
  std::string source;    ///< where it came from, for messages: "--proxy", "HTTPS_PROXY", ...
  std::string bypassed;  ///< when direct although a proxy was set: why ("NO_PROXY matches 10.0.0.1")

  bool enabled() const { return !url.empty(); }
};

/// Where a proxy setting came from before the environment's standard variables are looked at.
struct ProxySetting {
  std::string value;      ///< "" = not set; "none" (or "direct") = never use a proxy
  std::string source;     ///< "--proxy", "WSFLOW_PROXY", "config ...: proxy"
  bool from_flag = false; ///< a command-line proxy applies even to NO_PROXY hosts
};

using ProxyEnv = std::function<const char*(const char*)>;

/// The proxy for a connection to `host`:`port` (`tls`: wss://). False with a one-line reason
/// when the chosen setting is not a usable proxy URL (only http:// CONNECT proxies are).
bool ResolveProxy(const ProxySetting& setting, bool tls, const std::string& host, int port, const ProxyEnv& env,
                  ProxySpec* out, std::string* err);

/// Parses "http://[user[:password]@]host[:port][/]" (the scheme may be left out; port 1080 like
/// curl when none is given). False with the reason; the reason never holds the password.
bool ParseProxyUrl(const std::string& text, ProxySpec* out, std::string* err);

/// True when NO_PROXY-style `list` ("a.example, .b.example, 10.0.0.0/8, host:8080, *") says that
/// `host`:`port` goes direct. Names match themselves and their subdomains; IPs match exactly or by CIDR.
bool NoProxyMatches(const std::string& list, const std::string& host, int port);

}  // namespace wsflow
