#include "session/proxy.h"

#include <asio/ip/address.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "core/text.h"
#include "core/url.h"

namespace wsflow {

namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string Unbracket(const std::string& host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

// `addr` inside `net`/`bits` (both the same family).
bool InCidr(const asio::ip::address& addr, const asio::ip::address& net, int bits) {
  auto bytes = [](const asio::ip::address& a) {
    if (a.is_v4()) {
      auto b = a.to_v4().to_bytes();
      return std::string(b.begin(), b.end());
    }
    auto b = a.to_v6().to_bytes();
    return std::string(b.begin(), b.end());
  };
  if (addr.is_v4() != net.is_v4()) return false;
  std::string a = bytes(addr), n = bytes(net);
  if (bits < 0 || bits > static_cast<int>(a.size()) * 8) return false;
  for (int i = 0; i < bits; ++i) {
    int mask = 0x80 >> (i % 8);
    if ((a[i / 8] & mask) != (n[i / 8] & mask)) return false;
  }
  return true;
}

}  // namespace

bool ParseProxyUrl(const std::string& text, ProxySpec* out, std::string* err) {
  std::string rest = Trim(text);
  size_t sep = rest.find("://");
  std::string scheme = sep == std::string::npos ? "http" : Lower(rest.substr(0, sep));
  if (sep != std::string::npos) rest = rest.substr(sep + 3);
  // What is printed of this URL never includes the credentials.
  if (scheme == "https") {
    *err = "TLS to the proxy itself (https://) is not supported; use an http:// proxy (it still tunnels wss://)";
    return false;
  }
  if (scheme.rfind("socks", 0) == 0) {
    *err = "SOCKS proxies (" + scheme + "://) are not supported; use an http:// CONNECT proxy";
    return false;
  }
  if (scheme != "http") {
    *err = "unsupported proxy scheme " + scheme + ":// (use http://)";
    return false;
  }
  std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  std::string after = rest.substr(authority.size());
  if (!after.empty() && after != "/") {
    *err = "a proxy URL has no path (" + after.substr(0, after.find_first_of("?#")) + ")";
    return false;
  }
  out->user.clear();
  out->password.clear();
  if (size_t at = authority.rfind('@'); at != std::string::npos) {
    std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    out->user = PercentDecode(userinfo.substr(0, colon));
    if (colon != std::string::npos) out->password = PercentDecode(userinfo.substr(colon + 1));
  }
  std::string host = authority, port_text;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string::npos) {
      *err = "bad proxy host " + authority;
      return false;
    }
    port_text = host.substr(close + 1);
    host = host.substr(0, close + 1);
    if (!port_text.empty() && port_text[0] != ':') {
      *err = "bad proxy host " + authority;
      return false;
    }
    if (!port_text.empty()) port_text = port_text.substr(1);
  } else if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    port_text = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty()) {
    *err = "the proxy URL has no host";
    return false;
  }
  int port = 1080;  // curl's default for a proxy without a port
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), ::isdigit) ||
        (port = std::atoi(port_text.c_str())) < 1 || port > 65535) {
      *err = "bad proxy port '" + port_text + "'";
      return false;
    }
  }
  out->url = "http://" + host + ":" + std::to_string(port);
  return true;
}

bool NoProxyMatches(const std::string& list, const std::string& host_in, int port) {
  std::string host = Lower(Unbracket(host_in));
  while (!host.empty() && host.back() == '.') host.pop_back();
  asio::error_code ec;
  asio::ip::address host_ip = asio::ip::make_address(host, ec);
  bool is_ip = !ec;
  std::string item;
  for (size_t i = 0; i <= list.size(); ++i) {
    if (i < list.size() && list[i] != ',' && list[i] != ' ' && list[i] != '\t') {
      item += list[i];
      continue;
    }
    std::string e = Lower(Trim(item));
    item.clear();
    if (e.empty()) continue;
    if (e == "*") return true;
    // An optional ":port" (IPv6 entries are bracketed when they carry one).
    int want_port = 0;
    if (e.front() == '[') {
      size_t close = e.find(']');
      if (close == std::string::npos) continue;
      if (close + 1 < e.size() && e[close + 1] == ':') want_port = std::atoi(e.c_str() + close + 2);
      e = e.substr(1, close - 1);
    } else if (std::count(e.begin(), e.end(), ':') == 1) {
      size_t colon = e.find(':');
      want_port = std::atoi(e.c_str() + colon + 1);
      e = e.substr(0, colon);
    }
    if (want_port && want_port != port) continue;
    if (is_ip) {
      size_t slash = e.find('/');
      asio::ip::address net = asio::ip::make_address(e.substr(0, slash), ec);
      if (ec) continue;
      if (slash == std::string::npos ? net == host_ip : InCidr(host_ip, net, std::atoi(e.c_str() + slash + 1)))
        return true;
      continue;
    }
    while (!e.empty() && e.front() == '.') e.erase(0, 1);
    while (!e.empty() && e.back() == '.') e.pop_back();
    if (e.empty()) continue;
    if (host == e || (host.size() > e.size() && host.compare(host.size() - e.size(), e.size(), e) == 0 &&
                      host[host.size() - e.size() - 1] == '.'))
      return true;
  }
  return false;
}

bool ResolveProxy(const ProxySetting& setting, bool tls, const std::string& host, int port, const ProxyEnv& env,
                  ProxySpec* out, std::string* err) {
  *out = ProxySpec{};
  auto get = [&env](const char* name) -> std::string {
    const char* v = env(name);
    return v ? v : "";
  };
  std::string value = Trim(setting.value), source = setting.source;
  if (Lower(value) == "none" || Lower(value) == "direct") return true;
  if (value.empty()) {
    // Lower case first, as curl does; ws:// is http's, wss:// is https's.
    const char* names[] = {tls ? "https_proxy" : "http_proxy", tls ? "HTTPS_PROXY" : "HTTP_PROXY", "all_proxy",
                           "ALL_PROXY"};
    for (const char* n : names) {
      if (!get(n).empty()) {
        value = Trim(get(n));
        source = n;
        break;
      }
    }
  }
  if (value.empty()) return true;
  if (!setting.from_flag || source != setting.source) {
    std::string no_proxy = get("no_proxy").empty() ? get("NO_PROXY") : get("no_proxy");
    if (NoProxyMatches(no_proxy, host, port)) {
      out->bypassed = "NO_PROXY lists " + host;
      return true;
    }
  }
  if (!ParseProxyUrl(value, out, err)) {
    *err = source + ": " + *err;
    return false;
  }
  out->source = source;
  return true;
}

}  // namespace wsflow
