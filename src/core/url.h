// WebSocket URLs: ws://host[:port][/path][?query]. A URL without a path is a base to which the
// dialect adds its own path (native: /ws/{run_id}); a URL with a path is used as given.
#pragma once

#include <string>
#include <string_view>

namespace wsflow {

struct WsUrl {
  std::string scheme;  ///< "ws" or "wss"
  std::string host;    ///< without brackets for IPv6
  int port = 0;        ///< explicit or the scheme's default
  std::string path;    ///< "" when the URL has none (or just "/")
  std::string query;   ///< without '?'

  bool has_path() const { return !path.empty(); }
  /// scheme://host:port (IPv6 hosts bracketed)
  std::string Origin() const;
  /// The URL with `path` (which starts with '/') in place of this one's, query kept.
  std::string WithPath(const std::string& new_path) const;
  /// The URL as given, normalised.
  std::string ToString() const;
};

/// Parses `text`. False with a one-line reason when it is not a ws:// or wss:// URL.
bool ParseWsUrl(const std::string& text, WsUrl* out, std::string* err);

/// Percent-encodes a path segment (run ids come from users).
std::string EncodePathSegment(const std::string& s);

/// Percent-decoding of a path segment, query value or userinfo ('+' stays '+'; a bad escape stays as is).
std::string PercentDecode(std::string_view s);

/// `url` as it may be shown or recorded: the password of `user:password@` and the value of every
/// query parameter whose name looks secret (token, key, secret, pass..., auth, sig..., credential,
/// in any case) become `***`. Anything else, URL or not, is returned as it is.
std::string MaskUrlSecrets(const std::string& url);

}  // namespace wsflow
