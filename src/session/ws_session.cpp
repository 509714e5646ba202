#include "session/ws_session.h"

#include <websocketpp/client.hpp>
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <random>

namespace wsflow {

namespace {

// One thread runs the loop: no locks, no strands. Bigger reads than the default 16 KiB.
struct ClientConfig : public websocketpp::config::asio_client {
  typedef ClientConfig type;
  typedef websocketpp::config::asio_client base;
  typedef websocketpp::concurrency::none concurrency_type;
  typedef websocketpp::log::basic<concurrency_type, websocketpp::log::elevel> elog_type;
  typedef websocketpp::log::basic<concurrency_type, websocketpp::log::alevel> alog_type;
  struct transport_config : public base::transport_config {
    typedef type::concurrency_type concurrency_type;
    typedef type::alog_type alog_type;
    typedef type::elog_type elog_type;
    static bool const enable_multithreading = false;
    // Our own per-attempt timer (--connect-timeout) bounds DNS + TCP + upgrade; these only
    // stop websocketpp from cutting an attempt short first.
    static const long timeout_dns_resolve = 3600000;
    static const long timeout_connect = 3600000;
  };
  typedef websocketpp::transport::asio::endpoint<transport_config> transport_type;
  static bool const enable_multithreading = false;
  static const size_t connection_read_buffer_size = 65536;
};

using Client = websocketpp::client<ClientConfig>;
using ConPtr = Client::connection_ptr;
using Hdl = websocketpp::connection_hdl;
using Clock = std::chrono::steady_clock;

std::string CloseText(int code, const std::string& reason) {
  std::string s = "close " + std::to_string(code);
  if (!reason.empty()) s += " (" + reason + ")";
  return s;
}

}  // namespace

struct Session::Impl {
  Impl(SessionOptions o, SessionHandler* h)
      : opts(std::move(o)), handler(h), backoff(opts.backoff, [this] { return uniform(rng); }),
        rng(std::random_device{}()), signals(ioc, SIGINT, SIGTERM) {}

  SessionOptions opts;
  SessionHandler* handler;
  Backoff backoff;
  std::mt19937_64 rng;
  std::uniform_real_distribution<double> uniform{0.0, 1.0};
  asio::io_context ioc;
  asio::signal_set signals;
  Client ws;
  ConPtr con;
  uint64_t gen = 0;  // attempt number; callbacks of an older connection see a newer gen and return
  bool open = false;
  bool ever_open = false;
  bool closing = false;
  bool stopped = false;
  bool paused = false;
  int sigints = 0;
  std::string drop_reason;  // why we ended the connection ourselves (pong timeout, idle, ...)
  std::deque<std::pair<std::string, bool>> queue;  // frame, binary
  SessionStats stats;
  Clock::time_point last_rx;
  Client::timer_ptr attempt_timer, ping_timer, idle_timer, retry_timer;

  void Init() {
    ws.clear_access_channels(websocketpp::log::alevel::all);
    ws.clear_error_channels(websocketpp::log::elevel::all);
    // websocketpp logs to std::cout by default: never let it near stdout.
    ws.get_alog().set_ostream(&std::cerr);
    ws.get_elog().set_ostream(&std::cerr);
    if (opts.verbose >= 2) ws.set_error_channels(websocketpp::log::elevel::rerror | websocketpp::log::elevel::fatal);
    websocketpp::lib::error_code ec;
    ws.init_asio(&ioc, ec);
    ws.start_perpetual();
    WaitSignal();
  }

  void WaitSignal() {
    signals.async_wait([this](const asio::error_code& ec, int signo) {
      if (ec) return;
      if (signo == SIGINT && ++sigints >= 2) std::_Exit(130);  // a second Ctrl-C: at once
      handler->OnSignal(signo);
      WaitSignal();
    });
  }

  void CancelTimers() {
    for (auto* t : {&attempt_timer, &ping_timer, &idle_timer, &retry_timer})
      if (*t) {
        (*t)->cancel();
        t->reset();
      }
  }

  void Connect() {
    if (stopped) return;
    ++gen;
    open = false;
    paused = false;
    drop_reason.clear();
    websocketpp::lib::error_code ec;
    ConPtr c = ws.get_connection(opts.url, ec);
    if (ec) {
      Disconnect d;
      d.reason = "bad URL " + opts.url + ": " + ec.message();
      d.retryable = false;
      return GiveUp(d, false);
    }
    for (auto& [k, v] : opts.headers) c->append_header(k, v);
    uint64_t g = gen;
    c->set_open_handler([this, g](Hdl) {
      if (g == gen) OnOpen();
    });
    c->set_fail_handler([this, g](Hdl) {
      if (g == gen) OnEnded();
    });
    c->set_close_handler([this, g](Hdl) {
      if (g == gen) OnEnded();
    });
    c->set_message_handler([this, g](Hdl, Client::message_ptr m) {
      if (g == gen) OnMessage(m);
    });
    c->set_pong_timeout(static_cast<long>(opts.pong_timeout.count()));
    c->set_pong_timeout_handler([this, g](Hdl, std::string) {
      if (g == gen && !paused) Drop("no pong within " + FormatDuration(opts.pong_timeout));
    });
    c->set_open_handshake_timeout(0);  // the attempt timer below covers the handshake too
    c->set_close_handshake_timeout(2000);
    con = c;
    if (opts.verbose) std::cerr << "wsflow: connecting to " << opts.url << "\n";
    ws.connect(c);
    attempt_timer = ws.set_timer(opts.connect_timeout.count(), [this, g](const websocketpp::lib::error_code& e) {
      if (!e && g == gen && !open) Drop("no connection within " + FormatDuration(opts.connect_timeout));
    });
  }

  // We end the current connection ourselves; it counts as lost (and is retried).
  void Drop(const std::string& reason) {
    if (!con) return;
    ConPtr c = con;
    bool was_open = open;
    ++gen;  // ignore whatever this connection still reports
    Disconnect d;
    d.was_open = was_open;
    d.close_code = 1006;
    d.reason = reason;
    c->terminate(websocketpp::lib::error_code());
    Lost(d);
  }

  void OnOpen() {
    open = true;
    ever_open ? ++stats.reconnects : 0;
    ++stats.connects;
    bool reconnect = ever_open;
    ever_open = true;
    last_rx = Clock::now();
    if (attempt_timer) attempt_timer->cancel();
    if (opts.verbose) std::cerr << "wsflow: connected to " << opts.url << "\n";
    handler->OnOpen(reconnect);
    while (open && !queue.empty()) {  // what the user asked for while we were away, in order
      SendNow(queue.front().first, queue.front().second);
      queue.pop_front();
    }
    SchedulePing();
    ScheduleIdleCheck();
  }

  void SchedulePing() {
    if (opts.ping_interval.count() <= 0) return;
    uint64_t g = gen;
    ping_timer = ws.set_timer(opts.ping_interval.count(), [this, g](const websocketpp::lib::error_code& e) {
      if (e || g != gen || !open) return;
      // While reading is paused no pong can be read: do not ping then, or the peer would look dead.
      if (!paused && !closing) {
        websocketpp::lib::error_code ec;
        con->ping("wsflow", ec);
      }
      SchedulePing();
    });
  }

  void ScheduleIdleCheck() {
    if (opts.idle_timeout.count() <= 0) return;
    uint64_t g = gen;
    long step = std::max<long>(50, static_cast<long>(opts.idle_timeout.count() / 4));
    idle_timer = ws.set_timer(step, [this, g](const websocketpp::lib::error_code& e) {
      if (e || g != gen || !open) return;
      if (paused) last_rx = Clock::now();  // our own pause is not the peer's silence
      if (!closing && Clock::now() - last_rx > opts.idle_timeout)
        return Drop("no data for " + FormatDuration(opts.idle_timeout));
      ScheduleIdleCheck();
    });
  }

  void OnMessage(Client::message_ptr m) {
    last_rx = Clock::now();
    const std::string& p = m->get_payload();
    ++stats.frames;
    stats.bytes += static_cast<int64_t>(p.size());
    if (m->get_opcode() == websocketpp::frame::opcode::text) handler->OnText(p);
    else handler->OnBinary(p);
  }

  // The connection failed to open, or closed.
  void OnEnded() {
    ConPtr c = con;
    ++gen;
    Disconnect d;
    d.was_open = open;
    if (open) {
      d.close_code = c->get_remote_close_code();
      std::string reason = c->get_remote_close_reason();
      if (d.close_code == websocketpp::close::status::abnormal_close || d.close_code == 0) {
        d.close_code = 1006;
        auto tec = c->get_transport_ec();
        d.reason = "closed without a close frame" + (tec ? " (" + tec.message() + ")" : std::string());
      } else {
        d.reason = CloseText(d.close_code, reason);
      }
    } else {
      d.http_status = static_cast<int>(c->get_response_code());
      auto tec = c->get_transport_ec();
      auto ec = c->get_ec();
      if (d.http_status >= 400) {
        d.reason = "upgrade refused: HTTP " + std::to_string(d.http_status) + " " + c->get_response_msg();
        d.retryable = d.http_status >= 500;
      } else if (tec) {
        d.reason = tec.message();
      } else if (ec) {
        d.reason = ec.message();
      } else {
        d.reason = "connection failed";
      }
      for (auto& ch : d.reason) ch = ch == '\n' ? ' ' : ch;
    }
    if (closing) return StopLoop();
    Lost(d);
  }

  void Lost(const Disconnect& d) {
    open = false;
    CancelTimers();
    if (stopped) return;
    if (closing) return StopLoop();
    if (!d.retryable) return GiveUp(d, false);
    if (!handler->ShouldReconnect(d)) return StopLoop();
    if (backoff.Exhausted()) return GiveUp(d, true);
    Millis delay = backoff.Next();
    handler->OnRetry(d, delay, backoff.attempt(), backoff.policy().retries);
    if (stopped || closing) return;
    retry_timer = ws.set_timer(delay.count(), [this](const websocketpp::lib::error_code& e) {
      if (!e) Connect();
    });
  }

  void GiveUp(const Disconnect& d, bool exhausted) {
    handler->OnGiveUp(d, exhausted);
    StopLoop();
  }

  void SendNow(const std::string& frame, bool binary = false) {
    if (!open || !con) return;
    websocketpp::lib::error_code ec =
        con->send(frame, binary ? websocketpp::frame::opcode::binary : websocketpp::frame::opcode::text);
    if (ec && opts.verbose) std::cerr << "wsflow: send failed: " << ec.message() << "\n";
  }

  void Close(int code, const std::string& reason) {
    if (closing || stopped) return;
    closing = true;
    if (!open) return StopLoop();
    websocketpp::lib::error_code ec;
    con->close(static_cast<websocketpp::close::status::value>(code), reason, ec);
    if (ec) return StopLoop();
    ws.set_timer(2500, [this](const websocketpp::lib::error_code&) { StopLoop(); });
  }

  void StopLoop() {
    if (stopped) return;
    stopped = true;
    open = false;
    CancelTimers();
    ++gen;
    if (con) {
      websocketpp::lib::error_code ec;
      if (con->get_state() != websocketpp::session::state::closed) con->terminate(ec);
    }
    ws.stop_perpetual();
    asio::error_code ec;
    signals.cancel(ec);
    ioc.stop();
  }
};

Session::Session(SessionOptions opts, SessionHandler* handler)
    : impl_(std::make_unique<Impl>(std::move(opts), handler)) {
  impl_->Init();
}

Session::~Session() = default;

void Session::Run() {
  impl_->Connect();
  impl_->ioc.run();
}

bool Session::Send(std::string frame, bool binary) {
  if (impl_->open && !impl_->closing) {
    impl_->SendNow(frame, binary);
    return true;
  }
  if (impl_->queue.size() >= impl_->opts.queue_size) return false;
  impl_->queue.emplace_back(std::move(frame), binary);
  return true;
}

size_t Session::queued() const { return impl_->queue.size(); }

void Session::SendNow(const std::string& frame) { impl_->SendNow(frame); }
void Session::Close(int code, const std::string& reason) { impl_->Close(code, reason); }
void Session::Stop() { impl_->StopLoop(); }
void Session::Reconnect(const std::string& reason) { impl_->Drop(reason); }

void Session::MarkProgress() { impl_->backoff.Reset(); }

void Session::PauseReading() {
  if (!impl_->open || impl_->paused) return;
  impl_->paused = true;
  impl_->con->pause_reading();
}

void Session::ResumeReading() {
  Post([this] {
    // Only a connection we paused has no read in flight; resuming any other would start a second.
    if (!impl_->open || !impl_->paused) return;
    impl_->paused = false;
    impl_->con->resume_reading();
  });
}

void Session::Post(std::function<void()> fn) { asio::post(impl_->ioc, std::move(fn)); }

void Session::After(Millis delay, std::function<void()> fn) {
  impl_->ws.set_timer(delay.count(), [fn = std::move(fn)](const websocketpp::lib::error_code& e) {
    if (!e) fn();
  });
}

bool Session::is_open() const { return impl_->open; }
const SessionStats& Session::stats() const { return impl_->stats; }
const SessionOptions& Session::options() const { return impl_->opts; }

}  // namespace wsflow
