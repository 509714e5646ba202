// What the per-dialect files share: their tables (one server_dialect_<name>.cpp each) and small
// helpers; server_dialect.cpp reads the tables.
#pragma once

#include <string>

#include "server/server_dialect.h"

namespace wsflow::serve::dialect_detail {

extern const DialectSpec kCmbagent;  // server_dialect_cmbagent.cpp
extern const DialectSpec kRyx;       // server_dialect_ryx.cpp
extern const DialectSpec kA2a;       // server_dialect_a2a.cpp
extern const DialectSpec kAladdin;   // server_dialect_aladdin.cpp
extern const DialectSpec kChat;      // server_dialect_chat.cpp

/// config for a run from a client frame: its "config" object, with a top-level "scenario" (string)
/// and "delay_ms" (integer) of `frame` laid over it.
std::string ConfigFrom(const JsonValue& frame);

/// `path` is exactly `prefix` followed by one path segment (percent-decoded into `*id`).
bool PathParameter(const std::string& path, const char* prefix, std::string* id);

}  // namespace wsflow::serve::dialect_detail
