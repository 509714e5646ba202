#include "session/ws_session.h"

#include <websocketpp/client.hpp>
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_client.hpp>
#include <websocketpp/extensions/permessage_deflate/enabled.hpp>

#include <websocketpp/logger/stub.hpp>

#include <asio/ssl/host_name_verification.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <type_traits>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <random>
#include <sstream>

#include "core/byte_size.h"
#include "core/url.h"
#include "session/loop_impl.h"

namespace wsflow {

namespace {

struct DeflateConfig {};

// One message object per connection, reused for every frame while nobody else holds it: no
// allocation per received frame (websocketpp's default manager makes a new message, and a new
// payload buffer, for each). A frame still referenced (a queued send, a control frame in the
// middle of a fragmented message) gets a fresh one.
template <typename message>
class RecyclingMsgManager : public std::enable_shared_from_this<RecyclingMsgManager<message>> {
 public:
  typedef RecyclingMsgManager<message> type;
  typedef std::shared_ptr<RecyclingMsgManager> ptr;
  typedef std::weak_ptr<RecyclingMsgManager> weak_ptr;
  typedef typename message::ptr message_ptr;

  message_ptr get_message() { return std::make_shared<message>(type::shared_from_this()); }
  message_ptr get_message(websocketpp::frame::opcode::value op, size_t size) {
    if (cached_ && cached_.use_count() == 1) {
      cached_->set_opcode(op);
      cached_->set_prepared(false);
      cached_->set_fin(true);
      cached_->set_terminal(false);
      cached_->set_compressed(false);
      cached_->set_header("");
      std::string& payload = cached_->get_raw_payload();
      payload.clear();
      if (payload.capacity() > kKeep) payload.shrink_to_fit();  // a huge frame does not stay resident
      payload.reserve(size);
      return cached_;
    }
    cached_ = std::make_shared<message>(type::shared_from_this(), op, size);
    return cached_;
  }
  bool recycle(message*) { return false; }

 private:
  static constexpr size_t kKeep = 1u << 20;
  message_ptr cached_;
};

template <typename con_msg_manager>
class RecyclingEndpointMsgManager {
 public:
  typedef typename con_msg_manager::ptr con_msg_man_ptr;
  con_msg_man_ptr get_manager() const { return std::make_shared<con_msg_manager>(); }
};

// One thread runs the loop: no locks, no strands. Bigger reads than the default 16 KiB.
// Instantiated four times, here only: plain (ws://) and TLS (wss://), each with and without
// permessage-deflate (websocketpp offers the extension whenever it is compiled into the config,
// so --compress needs a config of its own).
template <class Base, bool kDeflate>
struct ClientConfigT : public Base {
  typedef ClientConfigT type;
  typedef Base base;
  typedef websocketpp::concurrency::none concurrency_type;
  typedef websocketpp::log::basic<concurrency_type, websocketpp::log::elevel> elog_type;
  // The access log is never shown: the stub compiles its calls out of the frame path.
  typedef websocketpp::log::stub alog_type;
  typedef websocketpp::message_buffer::message<RecyclingMsgManager> message_type;
  typedef RecyclingMsgManager<message_type> con_msg_manager_type;
  typedef RecyclingEndpointMsgManager<con_msg_manager_type> endpoint_msg_manager_type;
  struct transport_config : public base::transport_config {
    typedef typename type::concurrency_type concurrency_type;
    typedef typename type::alog_type alog_type;
    typedef typename type::elog_type elog_type;
    static bool const enable_multithreading = false;
    // Our own per-attempt timer (--connect-timeout) bounds DNS + TCP + upgrade; these only
    // stop websocketpp from cutting an attempt short first.
    static const long timeout_dns_resolve = 3600000;
    static const long timeout_connect = 3600000;
  };
  typedef websocketpp::transport::asio::endpoint<transport_config> transport_type;
  static bool const enable_multithreading = false;
  static const size_t connection_read_buffer_size = 65536;
  typedef std::conditional_t<kDeflate, websocketpp::extensions::permessage_deflate::enabled<DeflateConfig>,
                             typename Base::permessage_deflate_type>
      permessage_deflate_type;
};

using TlsBase = websocketpp::config::asio_tls_client;
using PlainBase = websocketpp::config::asio_client;

// websocketpp's error log, kept per attempt: it alone says why a proxy refused the tunnel
// ("Proxy connection error: 403 (Forbidden)"). Echoed to stderr with -vv.
class LogCapture : public std::streambuf {
 public:
  std::string text;
  bool echo = false;

 protected:
  int overflow(int ch) override {
    if (ch == EOF) return 0;
    if (text.size() < 65536) text += static_cast<char>(ch);
    if (echo) std::cerr.put(static_cast<char>(ch));
    return ch;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (text.size() < 65536) text.append(s, static_cast<size_t>(n));
    if (echo) std::cerr.write(s, n);
    return n;
  }
};

// What websocketpp logged about the proxy's answer: "403 (Forbidden)", or "".
std::string ProxyAnswer(const std::string& log) {
  const std::string key = "Proxy connection error: ";
  size_t at = log.rfind(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return log.substr(at, log.find('\n', at) - at);
}

using Hdl = websocketpp::connection_hdl;
using Clock = std::chrono::steady_clock;

std::string CloseText(int code, const std::string& reason) {
  std::string s = "close " + std::to_string(code);
  if (!reason.empty()) s += " (" + reason + ")";
  return s;
}

// The names a certificate is for: its DNS and IP subjectAltNames, else its common name.
std::string CertNames(X509* cert) {
  std::string out;
  auto add = [&out](const std::string& n) { out += (out.empty() ? "" : ", ") + n; };
  if (!cert) return "none";
  if (auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
      if (g->type == GEN_DNS) {
        add(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                        static_cast<size_t>(ASN1_STRING_length(g->d.dNSName))));
      } else if (g->type == GEN_IPADD) {
        const unsigned char* b = ASN1_STRING_get0_data(g->d.iPAddress);
        int len = ASN1_STRING_length(g->d.iPAddress);
        if (len == 4) {
          add(std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
              std::to_string(b[3]));
        } else if (len == 16) {
          asio::ip::address_v6::bytes_type bytes;
          std::copy(b, b + 16, bytes.begin());
          add(asio::ip::address_v6(bytes).to_string());
        }
      }
    }
    GENERAL_NAMES_free(names);
  }
  if (out.empty()) {
    char cn[256] = {0};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) add(cn);
  }
  return out.empty() ? "no names" : out;
}

std::string AddQuery(const std::string& url, const std::string& name, const std::string& value) {
  std::string enc = EncodePathSegment(value);  // only unreserved characters stay: right for a query value too
  std::string base = url, frag;
  if (auto h = base.find('#'); h != std::string::npos) frag = base.substr(h), base.resize(h);
  return base + (base.find('?') == std::string::npos ? "?" : "&") + name + "=" + enc + frag;
}

}  // namespace

// What does not depend on the transport; ImplT<Config> below is the websocketpp part.
struct Session::Impl {
  Impl(SessionOptions o, SessionHandler* h, Loop* l)
      : opts(std::move(o)), handler(h), backoff(opts.backoff, [this] { return uniform(rng); }),
        rng(std::random_device{}()), loop(l), ioc(l->impl().ioc) {}
  virtual ~Impl() = default;
  virtual void Init() = 0;
  virtual void Connect() = 0;
  virtual void SendNow(const std::string& frame, bool binary = false) = 0;
  virtual void Close(int code, const std::string& reason) = 0;
  virtual void Halt() = 0;  // ends the session for good (the loop goes on when it is shared)
  virtual void PauseCon() = 0;
  virtual void ResumeCon() = 0;
  virtual void After(Millis delay, std::function<void()> fn) = 0;

  SessionOptions opts;
  SessionHandler* handler;
  Backoff backoff;
  std::mt19937_64 rng;
  std::uniform_real_distribution<double> uniform{0.0, 1.0};
  Loop* loop;
  asio::io_context& ioc;
  bool own_loop = false;  // the session's own loop: it stops with the session
  uint64_t gen = 0;  // attempt number; callbacks of an older connection see a newer gen and return
  bool open = false;
  bool ever_open = false;
  bool attempted = false;
  Clock::time_point first_attempt;  // of the first connection attempt (--wait-for-backend)
  bool closing = false;
  bool stopped = false;
  bool paused = false;
  std::string drop_reason;  // why we ended the connection ourselves (pong timeout, idle, ...)
  std::deque<std::pair<std::string, bool>> queue;  // frame, binary
  SessionStats stats;
  Clock::time_point last_rx;   // when data was last seen (by the idle check)
  int64_t frames_at_check = 0;  // stats.frames at the idle check before
};

namespace {

// What OpenSSL and websocketpp say when the other side answered a ClientHello with plain HTTP, or
// waited for an HTTP request that never came.
bool PlainServer(const std::string& text) {
  for (const char* w : {"wrong version number", "packet length too long", "http request", "shutdown while in init",
                        "TLS handshake timed out", "unexpected eof while reading"})
    if (text.find(w) != std::string::npos) return true;
  return false;
}

template <class Cfg>
struct ImplT final : Session::Impl {
  using Client = websocketpp::client<Cfg>;
  using ConPtr = typename Client::connection_ptr;
  static constexpr bool kTls = std::is_same_v<typename Cfg::base, TlsBase>;

  ImplT(SessionOptions o, SessionHandler* h, Loop* l) : Impl(std::move(o), h, l), elog_stream(&elog) {}

  LogCapture elog;
  std::ostream elog_stream;

  Client ws;
  ConPtr con;
  typename Client::timer_ptr attempt_timer, ping_timer, idle_timer, retry_timer;
  std::string host;       // the host name the certificate must be for (this attempt)
  std::string tls_error;  // why verification failed (this attempt)

  // A fresh context per attempt: files are read again, and errors belong to this attempt.
  std::shared_ptr<asio::ssl::context> MakeTlsContext() {
    namespace ssl = asio::ssl;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    std::string what = "TLS settings";  // what was being loaded when it failed
    try {
      ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
      const TlsOptions& t = opts.tls;
      if (!t.cert_file.empty()) {
        what = "client certificate " + t.cert_file;
        ctx->use_certificate_chain_file(t.cert_file);
        what = "client key " + t.key_file;
        ctx->use_private_key_file(t.key_file, ssl::context::pem);
      }
      if (t.insecure) {
        ctx->set_verify_mode(ssl::verify_none);
        return ctx;
      }
      if (!t.ca_file.empty()) {
        what = "--ca " + t.ca_file;
        ctx->load_verify_file(t.ca_file);
      }
      if (!t.ca_path.empty()) {
        what = "--capath " + t.ca_path;
        ctx->add_verify_path(t.ca_path);
      }
      if (t.ca_file.empty() && t.ca_path.empty()) {
        what = "the system's CA store";
        ctx->set_default_verify_paths();
      }
    } catch (const std::exception& e) {
      tls_error = "cannot load " + what + ": " + e.what();
      return nullptr;
    }
    ctx->set_verify_mode(ssl::verify_peer);
    // host is this attempt's: set in Connect() (the context may be made before it is).
    ctx->set_verify_callback([this](bool preverified, ssl::verify_context& vc) {
      const std::string& want = host;
      X509_STORE_CTX* sc = vc.native_handle();
      if (!preverified) {
        int err = X509_STORE_CTX_get_error(sc);
        int depth = X509_STORE_CTX_get_error_depth(sc);
        if (tls_error.empty()) {
          tls_error = std::string("certificate verify failed: ") + X509_verify_cert_error_string(err);
          if (depth > 0) tls_error += " (in the chain, depth " + std::to_string(depth) + ")";
          char subject[256] = {0};
          if (X509* c = X509_STORE_CTX_get_current_cert(sc))
            X509_NAME_oneline(X509_get_subject_name(c), subject, sizeof subject);
          if (subject[0]) tls_error += std::string(" for ") + subject;
        }
        return false;
      }
      bool ok = ssl::host_name_verification(want)(preverified, vc);
      if (!ok && tls_error.empty())
        tls_error = "host name mismatch: wanted " + want + ", the certificate is for " +
                    CertNames(X509_STORE_CTX_get_current_cert(sc));
      return ok;
    });
    return ctx;
  }

  void Init() override {
    ws.clear_access_channels(websocketpp::log::alevel::all);
    ws.clear_error_channels(websocketpp::log::elevel::all);
    // websocketpp logs to std::cout by default: never let it near stdout. (The access log is a
    // stub that writes nothing.)
    ws.get_elog().set_ostream(&elog_stream);
    elog.echo = opts.verbose >= 2;
    // Captured always (shown with -vv): only its "consume error" says that websocketpp closed the
    // connection over what the server sent (PeerBrokeProtocol).
    ws.set_error_channels(websocketpp::log::elevel::rerror);
    if (opts.verbose >= 2) ws.set_error_channels(websocketpp::log::elevel::fatal);
    if (opts.proxy.enabled()) ws.set_error_channels(websocketpp::log::elevel::info);
    ws.set_max_message_size(opts.max_frame_size);  // checked against each frame's header
    websocketpp::lib::error_code ec;
    ws.init_asio(&ioc, ec);
    if constexpr (kTls) ws.set_tls_init_handler([this](Hdl) { return MakeTlsContext(); });
    ws.start_perpetual();
  }

  void CancelTimers() {
    for (auto* t : {&attempt_timer, &ping_timer, &idle_timer, &retry_timer})
      if (*t) {
        (*t)->cancel();
        t->reset();
      }
  }

  void Connect() override {
    if (stopped) return;
    if (!attempted) attempted = true, first_attempt = Clock::now();
    ++gen;
    open = false;
    paused = false;
    drop_reason.clear();
    tls_error.clear();
    elog.text.clear();
    websocketpp::lib::error_code ec;
    std::string url = opts.url;
    if (!opts.token.empty() && !opts.token_query.empty()) url = AddQuery(url, opts.token_query, opts.token);
    ConPtr c = ws.get_connection(url, ec);
    if (ec) {
      Disconnect d;
      d.reason = "bad URL " + opts.url + ": " + ec.message();
      d.retryable = false;
      return GiveUp(d, false);
    }
    host = websocketpp::uri(url).get_host();
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if constexpr (kTls) {
      if (opts.tls.insecure)
        std::cerr << "wsflow: warning: --insecure: the server's certificate is not verified (" << host << ")\n";
    }
    if (opts.proxy.enabled()) {
      c->set_proxy(opts.proxy.url, ec);
      if (!ec && !opts.proxy.user.empty()) c->set_proxy_basic_auth(opts.proxy.user, opts.proxy.password, ec);
      if (!ec) c->set_proxy_timeout(static_cast<long>(opts.connect_timeout.count()), ec);
      if (ec) {
        Disconnect d;
        d.reason = "proxy " + opts.proxy.url + ": " + ec.message();
        d.retryable = false;
        return GiveUp(d, false);
      }
    }
    for (auto& [k, v] : opts.headers) c->append_header(k, v);
    if (!opts.token.empty() && opts.token_query.empty()) c->append_header("Authorization", "Bearer " + opts.token);
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
    c->set_message_handler([this, g](Hdl, typename Client::message_ptr m) {
      if (g == gen) OnMessage(m);
    });
    c->set_pong_timeout(static_cast<long>(opts.pong_timeout.count()));
    c->set_pong_timeout_handler([this, g](Hdl, std::string) {
      if (g == gen && !paused) Drop("no pong within " + FormatDuration(opts.pong_timeout));
    });
    c->set_open_handshake_timeout(0);  // the attempt timer below covers the handshake too
    c->set_close_handshake_timeout(2000);
    con = c;
    if (opts.verbose) {
      std::cerr << "wsflow: connecting to " << opts.url;
      if (opts.proxy.enabled()) std::cerr << " through the proxy " << opts.proxy.url << " (" << opts.proxy.source << ")";
      else if (!opts.proxy.bypassed.empty()) std::cerr << " directly (" << opts.proxy.bypassed << ")";
      std::cerr << "\n";
    }
    ws.connect(c);
    attempt_timer = ws.set_timer(opts.connect_timeout.count(), [this, g](const websocketpp::lib::error_code& e) {
      if (!e && g == gen && !open) Drop(Unanswered());
    });
  }

  // Why an attempt ran out of --connect-timeout: a server that accepts TCP but never answers the
  // upgrade (a stopped process: the kernel still accepts) is another problem than a host that
  // never completes the TCP handshake.
  std::string Unanswered() {
    std::string within = " within " + FormatDuration(opts.connect_timeout) + " (--connect-timeout)";
    if (opts.proxy.enabled()) return "no connection through the proxy" + within;
    asio::error_code ec;
    con->get_raw_socket().remote_endpoint(ec);
    if (ec) return "no TCP connection" + within;
    if constexpr (kTls) {
      if (!SSL_is_init_finished(con->get_socket().native_handle()))
        return "TCP connected, but the TLS handshake got no answer" + within;
    }
    return "TCP connected, but the WebSocket upgrade got no answer" + within;
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
    if (opts.verbose) {
      std::cerr << "wsflow: connected to " << opts.url << "\n";
      if (opts.compress) {
        std::string ext = con->get_response_header("Sec-WebSocket-Extensions");
        if (ext.find("permessage-deflate") != std::string::npos)
          std::cerr << "wsflow: compression: permessage-deflate negotiated (" << ext << ")\n";
        else
          std::cerr << "wsflow: compression: the server declined permessage-deflate; frames are not compressed\n";
      }
    }
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
      // Frames counted since the last look are data seen (no clock read per frame); our own
      // pause is not the peer's silence.
      if (paused || stats.frames != frames_at_check) last_rx = Clock::now();
      frames_at_check = stats.frames;
      if (!closing && Clock::now() - last_rx > opts.idle_timeout)
        return Drop("no data for " + FormatDuration(opts.idle_timeout));
      ScheduleIdleCheck();
    });
  }

  void OnMessage(typename Client::message_ptr m) {
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
    if (open && !closing && PeerBrokeProtocol(c, &d)) return Lost(d);  // not retried: d says why
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
      bool tls_failed = false;
      if constexpr (kTls) {
        tls_failed = !tls_error.empty() || (tec && (tec.category() == websocketpp::transport::asio::socket::get_socket_category() ||
                                                    tec.category() == asio::error::get_ssl_category() ||
                                                    tec == websocketpp::transport::error::tls_error ||
                                                    tec == websocketpp::transport::error::tls_short_read));
      }
      if (d.http_status >= 400) {
        d.reason = "upgrade refused: HTTP " + std::to_string(d.http_status) + " " + c->get_response_msg();
        d.retryable = d.http_status >= 500 || d.http_status == 429;  // busy or down: may heal
        d.auth = d.http_status == 401 || d.http_status == 403;
      } else if (d.http_status > 0 && d.http_status != 101 && !ever_open) {
        // A plain web server, a redirect: no retry turns it into a WebSocket endpoint.
        d.reason = "the server answered HTTP " + std::to_string(d.http_status) + " " + c->get_response_msg() +
                   ", not a WebSocket upgrade";
        std::string location = c->get_response_header("Location");
        if (!location.empty()) d.reason += " (Location: " + location + ")";
        d.retryable = false;
      } else if (tls_failed) {
        d.tls = true;
        d.retryable = false;
        std::string what = tec ? tec.message() : std::string("handshake failed");
        if (!tls_error.empty()) {
          d.reason = "TLS: " + tls_error;
        } else if (PlainServer(what + " " + elog.text)) {
          d.reason = "TLS: the server did not answer a TLS handshake (" + what +
                     "): it does not speak TLS; is it a ws:// server?";
        } else {
          d.reason = "TLS: " + what;
          if (opts.tls.cert_file.empty()) d.reason += " (does the server require a client certificate? --cert/--key)";
        }
      } else if (!ever_open && !opts.proxy.enabled() && ec &&
                 (ec.category() == asio::error::get_netdb_category() ||
                  ec.category() == asio::error::get_addrinfo_category())) {
        // A name that does not resolve will not resolve on retry either (the transport's own
        // error is then a meaningless "Bad file descriptor").
        d.reason = "cannot resolve host " + host + ": " + ec.message();
        d.retryable = false;
      } else if (tec) {
        d.reason = tec.message();
      } else if (ec) {
        d.reason = ec.message();
      } else {
        d.reason = "connection failed";
      }
      if (opts.proxy.enabled() && !d.tls && d.http_status == 0) ProxyFailure(tec ? tec : ec, &d);
      for (auto& ch : d.reason) ch = ch == '\n' ? ' ' : ch;
    }
    if (closing) return Halt();
    Lost(d);
  }

  // websocketpp closed the connection itself over what the server sent: a frame that breaks the
  // WebSocket protocol (RFC 6455 section 5), such as a text frame that is not UTF-8 (1007), a frame
  // over --max-frame-size (1009), a reserved bit or opcode, a masked frame (1002). The close codes
  // alone would not tell this from the server closing with the same code; the error log's
  // "consume error: <category:value> (<message>)" does. A server that sends such frames sends them
  // again on a new connection: not retried, exit 4.
  bool PeerBrokeProtocol(const ConPtr& c, Disconnect* d) {
    namespace pe = websocketpp::processor::error;
    size_t at = elog.text.find("consume error: ");
    if (at == std::string::npos) return false;
    std::string line = elog.text.substr(at, elog.text.find('\n', at) - at);
    auto is = [&line](pe::processor_errors e) {
      std::ostringstream code;
      code << pe::make_error_code(e) << " ";  // "websocketpp.processor:N "
      return line.find(code.str()) != std::string::npos;
    };
    static const struct {
      pe::processor_errors error;
      const char* what;
    } kWords[] = {
        {pe::invalid_utf8, "a text frame that is not valid UTF-8"},
        {pe::invalid_rsv_bit, "a frame with a reserved bit set (no extension was agreed that uses it)"},
        {pe::invalid_opcode, "a frame with a reserved opcode"},
        {pe::fragmented_control, "a fragmented control frame"},
        {pe::invalid_continuation, "a continuation frame out of place"},
        {pe::masking_forbidden, "a masked frame (a server must not mask)"},
        {pe::control_too_big, "a control frame larger than 125 bytes"},
        {pe::non_minimal_encoding, "a frame whose length is not minimally encoded"},
    };
    if (is(pe::message_too_big)) {
      d->reason = "the server sent a frame larger than --max-frame-size " + FormatByteSize(opts.max_frame_size);
    } else {
      d->reason.clear();
      for (const auto& w : kWords)
        if (is(w.error)) d->reason = std::string("the server sent ") + w.what;
      if (d->reason.empty()) {  // websocketpp's own words: "consume error: websocketpp.processor:3 (...)"
        size_t open = line.find(" (");
        std::string words = open == std::string::npos ? line.substr(15) : line.substr(open + 2);
        if (!words.empty() && words.back() == ')') words.pop_back();
        d->reason = "the server broke the WebSocket protocol: " + words;
      }
    }
    d->protocol = true;
    d->retryable = false;
    d->close_code = c->get_local_close_code();
    return true;
  }

  // Before the upgrade, every failure through a proxy is about the proxy: name it, and say what
  // it answered. Its 4xx answers (forbidden, authentication) do not get better by retrying.
  void ProxyFailure(const websocketpp::lib::error_code& tec, Disconnect* d) {
    std::string who = "proxy " + opts.proxy.url + " (" + opts.proxy.source + ")";
    namespace te = websocketpp::transport::asio::error;
    if (tec == te::make_error_code(te::proxy_failed)) {
      std::string answer = ProxyAnswer(elog.text);
      int status = std::atoi(answer.c_str());
      d->reason = who + " refused the tunnel to " + host + ": " + (answer.empty() ? "no 200 answer" : answer);
      // 407 is the standard answer; tinyproxy answers wrong credentials with 401.
      d->auth = status == 407 || status == 401;
      if (d->auth) d->reason += opts.proxy.user.empty() ? " (it wants credentials: http://USER:PASS@ or --proxy-auth-file)"
                                                        : " (wrong credentials)";
      d->retryable = status == 0 || status >= 500;
    } else if (tec == te::make_error_code(te::pass_through)) {
      d->reason = who + " closed the connection before the tunnel was open";
    } else {
      d->reason = who + ": " + d->reason;
    }
  }

  void Lost(const Disconnect& lost) {
    open = false;
    CancelTimers();
    if (stopped) return;
    if (closing) return Halt();
    Disconnect d = lost;
    if (!d.retryable && !ever_open) {
      std::string other = handler->OtherUrl(d);
      if (!other.empty()) {  // not this endpoint: the next one, at once (a fresh connection, off this handler)
        opts.url = other;
        retry_timer = ws.set_timer(0, [this](const websocketpp::lib::error_code& e) {
          if (!e) Connect();
        });
        return;
      }
    }
    if (!d.retryable) return GiveUp(d, false);
    if (!ever_open) {  // nothing has ever answered: retried for --wait-for-backend only
      auto waited = std::chrono::duration_cast<Millis>(Clock::now() - first_attempt);
      if (waited >= opts.wait_for_backend) {
        d.never_open = true;
        d.reason += " (retried for " + FormatDuration(waited) + ": is the backend running? --wait-for-backend)";
        return GiveUp(d, false);
      }
      if (backoff.Exhausted()) return GiveUp(d, true);
      Millis delay = std::min(backoff.Next(), opts.wait_for_backend - waited);
      handler->OnRetry(d, delay, backoff.attempt(), backoff.policy().retries);
      if (stopped || closing) return;
      retry_timer = ws.set_timer(delay.count(), [this](const websocketpp::lib::error_code& e) {
        if (!e) Connect();
      });
      return;
    }
    if (!handler->ShouldReconnect(d)) return Halt();
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
    Halt();
  }

  void SendNow(const std::string& frame, bool binary = false) override {
    if (!open || !con) return;
    websocketpp::lib::error_code ec =
        con->send(frame, binary ? websocketpp::frame::opcode::binary : websocketpp::frame::opcode::text);
    if (ec && opts.verbose) std::cerr << "wsflow: send failed: " << ec.message() << "\n";
  }

  void Close(int code, const std::string& reason) override {
    if (closing || stopped) return;
    closing = true;
    if (!open) return Halt();
    websocketpp::lib::error_code ec;
    con->close(static_cast<websocketpp::close::status::value>(code), reason, ec);
    if (ec) return Halt();
    ws.set_timer(2500, [this](const websocketpp::lib::error_code&) { Halt(); });
  }

  void Halt() override {
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
    if (own_loop) loop->Stop();
    handler->OnStopped();
  }

  // websocketpp's pause_reading() and resume_reading() only post their handlers. A pause asked for
  // inside the read (from OnText) then came after the read had re-armed itself, and the resume
  // started a second read into the same buffer while that one was in flight: the bytes of the
  // two interleaved, and the stream failed as "Invalid UTF8 encoding" or worse (seen under load
  // in a 100,000-event run). On this one thread the handlers are safe to run at once: the pause
  // is in effect before the read ends, so that no read is in flight while paused.
  void PauseCon() override { con->handle_pause_reading(); }
  void ResumeCon() override { con->handle_resume_reading(); }
  void After(Millis delay, std::function<void()> fn) override {
    ws.set_timer(delay.count(), [fn = std::move(fn)](const websocketpp::lib::error_code& e) {
      if (!e) fn();
    });
  }
};

std::unique_ptr<Session::Impl> MakeImpl(SessionOptions opts, SessionHandler* h, Loop* l) {
  bool tls = opts.url.rfind("wss://", 0) == 0 || opts.url.rfind("WSS://", 0) == 0;
  if (tls && opts.compress) return std::make_unique<ImplT<ClientConfigT<TlsBase, true>>>(std::move(opts), h, l);
  if (tls) return std::make_unique<ImplT<ClientConfigT<TlsBase, false>>>(std::move(opts), h, l);
  if (opts.compress) return std::make_unique<ImplT<ClientConfigT<PlainBase, true>>>(std::move(opts), h, l);
  return std::make_unique<ImplT<ClientConfigT<PlainBase, false>>>(std::move(opts), h, l);
}

}  // namespace

Session::Session(SessionOptions opts, SessionHandler* handler, Loop* loop)
    : own_loop_(loop ? nullptr : std::make_unique<Loop>()),
      impl_(MakeImpl(std::move(opts), handler, loop ? loop : own_loop_.get())) {
  impl_->Init();
  if (own_loop_) {
    impl_->own_loop = true;
    own_loop_->OnSignal([handler](int signo) { handler->OnSignal(signo); });
  }
}

Session::~Session() = default;

void Session::Start() { impl_->loop->Post([this] { impl_->Connect(); }); }

void Session::Run() {
  Start();
  impl_->loop->Run();
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
void Session::Stop() { impl_->Halt(); }

void Session::MarkProgress() { impl_->backoff.Reset(); }

void Session::PauseReading() {
  if (!impl_->open || impl_->paused) return;
  impl_->paused = true;
  impl_->PauseCon();
}

void Session::ResumeReading() {
  Post([this] {
    // Only a connection we paused has no read in flight; resuming any other would start a second.
    if (!impl_->open || !impl_->paused) return;
    impl_->paused = false;
    impl_->ResumeCon();
  });
}

void Session::Post(std::function<void()> fn) { impl_->loop->Post(std::move(fn)); }

void Session::After(Millis delay, std::function<void()> fn) { impl_->After(delay, std::move(fn)); }

bool Session::is_open() const { return impl_->open; }
int64_t Session::reconnects() const { return impl_->stats.reconnects; }
const std::string& Session::url() const { return impl_->opts.url; }
const SessionStats& Session::stats() const { return impl_->stats; }
const SessionOptions& Session::options() const { return impl_->opts; }

}  // namespace wsflow
