// The reconnecting WebSocket session every client subcommand uses. It owns the event loop, the
// connection attempts (a fresh websocketpp connection each time, on the same endpoint and loop),
// backoff, heartbeat, the offline queue and read pausing. What to send on each (re)connect and
// what frames mean is the handler's business (the Dispatcher of watch/execute, SendPipe).
// websocketpp stays inside ws_session.cpp.
//
// Threads: Run() runs the loop on the calling thread; every handler callback runs there, and
// every method must be called there, except Post and ResumeReading (any thread). The loop never
// blocks on a peer: a slow stdout pauses reading instead (PauseReading).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/duration.h"
#include "session/backoff.h"
#include "session/loop.h"
#include "session/proxy.h"
#include "session/session_port.h"

namespace wsflow {

/// wss:// settings. Peer and host-name verification are on unless `insecure`.
struct TlsOptions {
  std::string ca_file;    ///< --ca: trust these CAs instead of the system store
  std::string ca_path;    ///< --capath: a hashed directory of CAs
  std::string cert_file;  ///< --cert: client certificate (PEM, may hold the chain)
  std::string key_file;   ///< --key: its private key (PEM)
  bool insecure = false;  ///< --insecure: no verification (a warning on every connect)
};

struct SessionOptions {
  std::string url;  ///< the full URL to connect to (dialect path already applied)
  std::string dialect = "auto";  ///< the protocol spoken (the handler's business; resolved with the URL)
  Millis connect_timeout{10000};
  /// Before the first connection ever opened: a refused (or unanswered) connection is retried this
  /// long, then given up (exit 5 naming the URL); other failures give up at once. After a first
  /// success, reconnects follow `backoff`.
  Millis wait_for_backend{5000};
  Millis ping_interval{15000};
  Millis pong_timeout{10000};
  Millis idle_timeout{0};  ///< 0: off
  /// A frame (a whole message) from the server larger than this ends the session: exit 4.
  uint64_t max_frame_size = 64ull << 20;
  BackoffPolicy backoff;
  size_t queue_size = 100;  ///< offline queue bound
  std::vector<std::pair<std::string, std::string>> headers;  ///< sent on every attempt (never logged)
  TlsOptions tls;
  /// A bearer token: sent as "Authorization: Bearer ..." on every attempt, or, when token_query is
  /// set, as that query parameter (added at connect time only: opts.url never holds it).
  std::string token;
  std::string token_query;
  ProxySpec proxy;        ///< an HTTP CONNECT proxy to tunnel through (url empty: direct)
  bool compress = false;  ///< offer permessage-deflate (websocketpp always offers it when compiled in)
  bool quiet = false;  ///< no state lines on stderr
  int verbose = 0;     ///< 1: details on stderr; 2: websocketpp's own error log too
};

/// Why a connection ended (or never opened).
struct Disconnect {
  bool was_open = false;
  int close_code = 0;     ///< the peer's close code; 1006 when the TCP connection just ended
  std::string reason;     ///< one human line: "connection refused", "close 1011 (going down)", ...
  int http_status = 0;    ///< the upgrade's HTTP status when the server refused it
  bool retryable = true;  ///< false for 4xx upgrades and the like
  bool tls = false;       ///< a TLS failure (verification, handshake): not retried, exit 5
  bool auth = false;      ///< credentials refused (upgrade 401/403, proxy 407): not retried, exit 6
  bool never_open = false;  ///< given up before any connection had ever opened (the reason says all)
  /// The server broke the protocol (a text frame not UTF-8, a frame over max_frame_size): wsflow
  /// closed the connection itself (1007, 1009); not retried, exit 4.
  bool protocol = false;
};

class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  /// A connection is open (the first, or after a reconnect): send what the stream depends on
  /// with Session::SendNow. The offline queue is flushed right after this returns.
  virtual void OnOpen(bool reconnect) = 0;
  virtual void OnText(std::string_view frame) = 0;
  virtual void OnBinary(std::string_view frame) { (void)frame; }
  /// The connection ended; the session will retry after `delay` (attempt of max, 0 = forever).
  virtual void OnRetry(const Disconnect& why, Millis delay, int attempt, int max_attempts) {
    (void)why, (void)delay, (void)attempt, (void)max_attempts;
  }
  /// The connection ended: false stops the session instead of reconnecting (the handler has
  /// decided how the command ends).
  virtual bool ShouldReconnect(const Disconnect& why) {
    (void)why;
    return true;
  }
  /// Before any connection has opened, a refusal that no retry heals (an HTTP 404): another URL
  /// to try at once instead of giving up, or "" (--dialect auto looks for the endpoint).
  virtual std::string OtherUrl(const Disconnect& why) {
    (void)why;
    return "";
  }
  /// The session gives up: not retryable, or retries exhausted. It stops after this returns.
  virtual void OnGiveUp(const Disconnect& why, bool exhausted) = 0;
  /// SIGINT, SIGTERM or SIGHUP arrived (the second SIGINT exits at once without calling this).
  /// Only for a session with a loop of its own: a shared loop's owner handles its signals.
  virtual void OnSignal(int signo) = 0;
  /// The session has stopped (closed, given up, or stopped): it will not call anything again.
  virtual void OnStopped() {}
};

struct SessionStats {
  int64_t connects = 0;
  int64_t reconnects = 0;
  int64_t frames = 0;
  int64_t bytes = 0;
};

class Session final : public SessionPort {
 public:
  /// `loop`: the loop to live on, shared with other sessions (Start, then the owner runs it);
  /// null: a loop of the session's own (Run), which also delivers signals to `handler`.
  Session(SessionOptions opts, SessionHandler* handler, Loop* loop = nullptr);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Starts connecting, on a shared loop.
  void Start();
  /// Connects and runs the session's own loop until Stop() (or a graceful Close() has finished).
  void Run();

  /// Sends now when open; when not, queues (FIFO, bounded). False when the queue is full.
  bool Send(std::string frame, bool binary = false);
  /// Frames queued while disconnected, not sent yet.
  size_t queued() const;

  // SessionPort
  void SendNow(const std::string& frame) override;
  bool is_open() const override;
  void Close(int code, const std::string& reason) override;
  void Stop() override;
  void MarkProgress() override;
  void PauseReading() override;
  void ResumeReading() override;
  void Post(std::function<void()> fn) override;
  void After(Millis delay, std::function<void()> fn) override;
  int64_t reconnects() const override;
  const std::string& url() const override;

  const SessionStats& stats() const;
  const SessionOptions& options() const;

  struct Impl;  ///< ws_session.cpp only (plain and TLS implementations derive from it)

 private:
  std::unique_ptr<Loop> own_loop_;  ///< declared first: the session's Impl lives on it
  std::unique_ptr<Impl> impl_;
};

}  // namespace wsflow
