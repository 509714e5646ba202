// The per-dialect halves of server_dialect.h, one .cpp each; server_dialect.cpp dispatches.
#pragma once

#include "server/server_dialect.h"

namespace wsflow::serve::dialect_detail {

// cmbagent (MARS): server_dialect_cmbagent.cpp
ClientAction ParseCmbagent(const DialectOptions& o, const Endpoint& ep, bool binary, std::string_view payload,
                           Clock::time_point now);
std::vector<DialectFrame> MapCmbagent(const DialectOptions& o, RunContext& ctx, std::string_view type,
                                      const JsonValue& data, Clock::time_point t, bool* close_after);
std::string HeartbeatCmbagent(const RunContext* run, const Endpoint& ep, Clock::time_point now);

// ryx: server_dialect_ryx.cpp
ClientAction ParseRyx(const DialectOptions& o, bool binary, std::string_view payload);
std::vector<DialectFrame> MapRyx(const DialectOptions& o, RunContext& ctx, std::string_view type, const JsonValue& data,
                                 Clock::time_point t);

// a2a: server_dialect_a2a.cpp
ClientAction ParseA2a(const DialectOptions& o, const Endpoint& ep, bool binary, std::string_view payload);
std::vector<DialectFrame> MapA2a(RunContext& ctx, std::string_view type, const JsonValue& data, Clock::time_point t);
std::vector<std::string> GreetingA2a(const DialectOptions& o, const Endpoint& ep, const std::string& client_id,
                                     const RunContext* run, Clock::time_point now);
std::string HeartbeatA2a(Clock::time_point now);

// aladdin: server_dialect_aladdin.cpp
ClientAction ParseAladdin(bool binary, std::string_view payload, Clock::time_point now);
std::vector<DialectFrame> MapAladdin(RunContext& ctx, std::string_view type, const JsonValue& data,
                                     Clock::time_point t);
std::vector<std::string> GreetingAladdin(Clock::time_point now);

// chat: server_dialect_chat.cpp
ClientAction ParseChat(const Endpoint& ep, bool binary, std::string_view payload, Clock::time_point now);
std::vector<DialectFrame> MapChat(RunContext& ctx, std::string_view type, const JsonValue& data, Clock::time_point t);
std::vector<std::string> GreetingChat(const Endpoint& ep, Clock::time_point now);
std::string HeartbeatChat(Clock::time_point now);

/// config for a run from a client frame: its "config" object, with a top-level "scenario" (string)
/// and "delay_ms" (integer) of `frame` laid over it.
std::string ConfigFrom(const JsonValue& frame);

}  // namespace wsflow::serve::dialect_detail
