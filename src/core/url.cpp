#include "core/url.h"

#include "core/text.h"

#include <cctype>
#include <cstdlib>

namespace wsflow {

bool ParseWsUrl(const std::string& text, WsUrl* out, std::string* err) {
  *out = WsUrl{};
  size_t colon = text.find("://");
  if (colon == std::string::npos) {
    *err = "'" + text + "' is not a URL (expected ws://host:port or wss://host:port)";
    return false;
  }
  out->scheme = text.substr(0, colon);
  out->scheme = Lower(out->scheme);
  if (out->scheme != "ws" && out->scheme != "wss") {
    *err = "'" + text + "': scheme must be ws:// or wss://";
    return false;
  }
  std::string rest = text.substr(colon + 3);
  size_t path_at = rest.find_first_of("/?");
  std::string authority = rest.substr(0, path_at);
  std::string tail = path_at == std::string::npos ? "" : rest.substr(path_at);
  if (authority.find('@') != std::string::npos) {
    *err = "'" + text + "': credentials in the URL are not supported";
    return false;
  }
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) {
      *err = "'" + text + "': unterminated IPv6 address";
      return false;
    }
    out->host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        *err = "'" + text + "': bad authority";
        return false;
      }
      port_text = authority.substr(close + 2);
    }
  } else {
    size_t pc = authority.rfind(':');
    out->host = authority.substr(0, pc);
    if (pc != std::string::npos) port_text = authority.substr(pc + 1);
  }
  if (out->host.empty()) {
    *err = "'" + text + "': no host";
    return false;
  }
  // Names and addresses only (an IPv6 zone, %25eth0, only in brackets): a host with other bytes
  // ("a[b:1]", a space, a control byte) would print (Origin) as a URL naming another host.
  bool zone = authority[0] == '[' && out->host.find(':') != std::string::npos;  // printed in brackets again
  for (unsigned char c : out->host) {
    if (!std::isalnum(c) && c != '-' && c != '.' && c != '_' && c != '~' && c != ':' && !(c == '%' && zone)) {
      *err = "'" + text + "': the host has a character no host name or address has";
      return false;
    }
  }
  out->port = out->scheme == "wss" ? 443 : 80;
  if (!port_text.empty()) {
    char* end = nullptr;
    long p = std::strtol(port_text.c_str(), &end, 10);
    if (*end != '\0' || p < 1 || p > 65535) {
      *err = "'" + text + "': bad port '" + port_text + "'";
      return false;
    }
    out->port = static_cast<int>(p);
  }
  size_t q = tail.find('?');
  out->path = tail.substr(0, q);
  if (q != std::string::npos) out->query = tail.substr(q + 1);
  if (out->path == "/") out->path.clear();
  return true;
}

std::string WsUrl::Origin() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + std::to_string(port);
}

std::string WsUrl::WithPath(const std::string& new_path) const {
  return Origin() + new_path + (query.empty() ? "" : "?" + query);
}

std::string WsUrl::ToString() const { return WithPath(path.empty() ? "/" : path); }

std::string EncodePathSegment(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
      continue;
    }
    out.push_back(s[i]);
  }
  return out;
}

namespace {
bool LooksSecret(const std::string& name) {
  std::string lower = Lower(name);
  for (const char* w : {"token", "key", "secret", "pass", "auth", "sig", "credential"})
    if (lower.find(w) != std::string::npos) return true;
  return false;
}
}  // namespace

std::string MaskUrlSecrets(const std::string& url) {
  std::string out = url;
  size_t scheme = out.find("://");
  // user:password@host, when the "://" is the URL's own (nothing of a path, query or fragment
  // before it): one inside a query value would be masked on a second pass only (found by fuzz/url)
  if (scheme != std::string::npos && out.find_first_of("/?#") == scheme + 1) {
    size_t host = scheme + 3;
    size_t end = out.find_first_of("/?#", host);
    size_t at = out.rfind('@', end == std::string::npos ? out.size() : end);
    if (at != std::string::npos && at > host) {
      size_t colon = out.find(':', host);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  size_t q = out.find('?');
  if (q == std::string::npos) return out;
  std::string masked = out.substr(0, q + 1);
  for (size_t pos = q + 1; pos <= out.size();) {
    size_t amp = out.find('&', pos);
    if (amp == std::string::npos) amp = out.size();
    std::string param = out.substr(pos, amp - pos);
    size_t eq = param.find('=');
    if (eq != std::string::npos && LooksSecret(param.substr(0, eq))) param = param.substr(0, eq + 1) + "***";
    masked += param;
    if (amp < out.size()) masked += '&';
    pos = amp + 1;
  }
  return masked;
}

}  // namespace wsflow
