#include "server/ws_transport.h"

#include <websocketpp/config/asio.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>
#include <websocketpp/concurrency/none.hpp>

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace wsflow::serve {

namespace {

// One thread runs everything: no locks, no strands. `Base`: websocketpp's asio (ws://) or
// asio_tls (wss://) config.
template <class Base>
struct ServerConfig : public Base {
  typedef ServerConfig type;
  typedef Base base;
  typedef websocketpp::concurrency::none concurrency_type;
  typedef websocketpp::log::basic<concurrency_type, websocketpp::log::elevel> elog_type;
  typedef websocketpp::log::basic<concurrency_type, websocketpp::log::alevel> alog_type;
  struct transport_config : public Base::transport_config {
    typedef websocketpp::concurrency::none concurrency_type;
    typedef ServerConfig::alog_type alog_type;
    typedef ServerConfig::elog_type elog_type;
    static bool const enable_multithreading = false;
  };
  typedef websocketpp::transport::asio::endpoint<transport_config> transport_type;
  static bool const enable_multithreading = false;
};

using PlainConfig = ServerConfig<websocketpp::config::asio>;
using TlsConfig = ServerConfig<websocketpp::config::asio_tls>;
using TlsContext = std::shared_ptr<asio::ssl::context>;
using Hdl = websocketpp::connection_hdl;

// The OpenSSL errors queued by the last call, oldest first ("" when none).
std::string SslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += reason ? reason : buf;
  }
  return out;
}

// The context every wss:// connection shares: the certificate chain and key of --tls-cert and
// --tls-key, TLS 1.2 or newer, and with --tls-client-ca a client certificate required and
// verified. Null with a one-line reason naming the option and the file.
TlsContext MakeTlsContext(const TransportOptions& o, std::string* err) {
  for (auto [flag, file] : {std::pair{"--tls-cert", &o.tls_cert}, {"--tls-key", &o.tls_key},
                            {"--tls-client-ca", &o.tls_client_ca}}) {
    if (file->empty()) continue;
    std::ifstream in(*file);
    if (!in) {
      *err = std::string(flag) + " " + *file + ": cannot read it: " + std::strerror(errno);
      return nullptr;
    }
  }
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ERR_clear_error();
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  auto failed = [err](const char* flag, const std::string& file, const std::string& what) {
    std::string why = SslErrors();
    *err = std::string(flag) + " " + file + ": " + what + (why.empty() ? "" : " (" + why + ")");
    return nullptr;
  };
  if (SSL_CTX_use_certificate_chain_file(native, o.tls_cert.c_str()) != 1)
    return failed("--tls-cert", o.tls_cert, "not a PEM certificate (chain)");
  if (SSL_CTX_use_PrivateKey_file(native, o.tls_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(native) != 1) {
    bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    if (mismatch) ERR_clear_error();  // says no more than the message
    return failed("--tls-key", o.tls_key,
                  mismatch ? "not the key of the certificate in " + o.tls_cert : "not a PEM private key");
  }
  if (!o.tls_client_ca.empty()) {
    if (SSL_CTX_load_verify_locations(native, o.tls_client_ca.c_str(), nullptr) != 1)
      return failed("--tls-client-ca", o.tls_client_ca, "no PEM CA certificate in it");
    // The CA names go in the certificate request, so that a client can choose its certificate.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.tls_client_ca.c_str()))
      SSL_CTX_set_client_CA_list(native, names);
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

template <class Config>
class AsioTransport : public WsTransport {
  using WsServer = websocketpp::server<Config>;
  using ConPtr = typename WsServer::connection_ptr;
  using MessagePtr = typename WsServer::message_ptr;
  static constexpr bool kTls = std::is_same_v<Config, TlsConfig>;

  struct Conn {
    ConPtr con;
    bool stalled = false;  ///< fault: reads, writes and pongs no more
    bool closing = false;  ///< a close (or drop) was asked for: takes no more frames
  };

 public:
  AsioTransport(const TransportOptions& opts, TlsContext tls)
      : opts_(opts), tls_(std::move(tls)), signals_(ioc_, SIGINT, SIGTERM) {
    // websocketpp's own logs are off: a client that goes away is not a [fatal] error, nor is a
    // stopped accept loop. What matters is logged below, in words that say what happened.
    ws_.clear_access_channels(websocketpp::log::alevel::all);
    ws_.clear_error_channels(websocketpp::log::elevel::all);
    ws_.get_alog().set_ostream(&std::cerr);
    ws_.get_elog().set_ostream(&std::cerr);
    signals_.async_wait([this](const asio::error_code& e, int signo) {
      if (!e && handler_) handler_->OnSignal(signo);
    });
  }

  bool Listen(TransportHandler* handler, int* port, std::string* err, int* exit_status) override {
    handler_ = handler;
    websocketpp::lib::error_code ec;
    ws_.init_asio(&ioc_, ec);
    ws_.set_reuse_addr(true);
    ws_.set_max_message_size(opts_.max_message_bytes);
    if constexpr (kTls) ws_.set_tls_init_handler([this](Hdl) { return tls_; });
    ws_.set_validate_handler([this](Hdl h) { return Validate(h); });
    ws_.set_open_handler([this](Hdl h) { OnOpen(h); });
    ws_.set_close_handler([this](Hdl h) { OnGone(h, false); });
    ws_.set_fail_handler([this](Hdl h) { OnGone(h, true); });
    ws_.set_message_handler([this](Hdl h, MessagePtr m) { OnMessage(h, m); });
    ws_.set_pong_handler([this](Hdl h, std::string) {
      if (ConnId id = IdOf(h)) handler_->OnPong(id);
    });
    // A stalled connection answers no ping: that is what a client's dead-peer check must see.
    ws_.set_ping_handler([this](Hdl h, std::string) {
      Conn* c = Find(h);
      return !c || !c->stalled;
    });
    asio::ip::address addr = asio::ip::make_address(opts_.host, ec);
    if (ec) {
      *err = "bad --host '" + opts_.host + "': " + ec.message();
      *exit_status = 2;
      return false;
    }
    ws_.listen(asio::ip::tcp::endpoint(addr, static_cast<uint16_t>(opts_.port)), ec);
    if (ec) {
      *err = "cannot listen on " + opts_.host + ":" + std::to_string(opts_.port) + ": " + ec.message();
      *exit_status = 5;
      return false;
    }
    ws_.start_accept(ec);
    *port = ws_.get_local_endpoint(ec).port();
    return true;
  }

  void Run() override { ioc_.run(); }
  void Stop() override { ioc_.stop(); }
  bool tls() const override { return kTls; }
  size_t connections() const override { return conns_.size(); }

  // ---- Transport ----
  MonoClock::time_point Now() const override { return MonoClock::now(); }

  void SetTimer(int64_t ms, std::function<void()> fn) override {
    if (ms <= 0) {
      asio::post(ioc_, std::move(fn));
      return;
    }
    ws_.set_timer(static_cast<long>(ms), [fn = std::move(fn)](const websocketpp::lib::error_code& ec) {
      if (!ec) fn();
    });
  }

  bool Send(ConnId id, std::string_view text) override {
    Conn* c = Find(id);
    if (!c || c->stalled || c->closing) return false;
    return !c->con->send(text.data(), text.size(), websocketpp::frame::opcode::text);
  }

  bool SendRawText(ConnId id, std::string_view bytes) override {
    Conn* c = Find(id);
    if (!c || c->stalled || c->closing) return false;
    // A message marked prepared goes out as it is: websocketpp's UTF-8 check is in the preparing.
    namespace fr = websocketpp::frame;
    auto msg = c->con->get_message(fr::opcode::text, bytes.size());
    msg->set_header(fr::prepare_header(fr::basic_header(fr::opcode::text, bytes.size(), true, false),
                                       fr::extended_header(bytes.size())));
    msg->set_payload(bytes.data(), bytes.size());
    msg->set_prepared(true);
    return !c->con->send(msg);
  }

  size_t Buffered(ConnId id) const override {
    auto it = conns_.find(id);
    return it == conns_.end() ? 0 : it->second.con->get_buffered_amount();
  }

  void Close(ConnId id, int code, const std::string& reason) override {
    Conn* c = Find(id);
    if (!c || c->closing) return;
    c->closing = true;
    ConPtr con = c->con;
    bool stalled = c->stalled;
    asio::post(ioc_, [con, code, reason, stalled] {
      websocketpp::lib::error_code ec;
      if (stalled) return con->terminate(ec);  // it reads nothing: no handshake can happen
      con->close(code ? static_cast<websocketpp::close::status::value>(code) : websocketpp::close::status::blank,
                 reason, ec);
    });
  }

  void Drop(ConnId id) override {
    Conn* c = Find(id);
    if (!c || c->closing) return;
    c->closing = true;
    DropWhenFlushed(c->con, 0);
  }

  void Stall(ConnId id, int64_t ms) override {
    Conn* c = Find(id);
    if (!c || c->stalled) return;
    c->stalled = true;
    c->con->pause_reading();
    ConPtr con = c->con;  // a stalled socket is dropped after a while so it does not live for ever
    ws_.set_timer(static_cast<long>(ms), [con](const websocketpp::lib::error_code&) {
      if (con->get_state() != websocketpp::session::state::closed) con->terminate({});
    });
  }

  bool Ping(ConnId id) override {
    Conn* c = Find(id);
    if (!c || c->stalled || c->closing) return false;
    websocketpp::lib::error_code ec;
    c->con->ping("", ec);
    return !ec;
  }

  void Shutdown(int code, const std::string& reason, int64_t ms) override {
    shutting_down_ = true;
    websocketpp::lib::error_code ec;
    ws_.stop_listening(ec);
    signals_.cancel(ec);
    std::vector<std::pair<ConPtr, bool>> open;  // copied: terminate() can erase from conns_
    for (auto& [id, c] : conns_) open.emplace_back(c.con, c.stalled || c.closing);
    for (auto& [con, broken] : open) {
      if (broken) con->terminate(ec);
      else con->close(static_cast<websocketpp::close::status::value>(code), reason, ec);
    }
    if (conns_.empty()) ioc_.stop();
    ws_.set_timer(static_cast<long>(ms), [this](const websocketpp::lib::error_code&) { ioc_.stop(); });
  }

 private:
  Conn* Find(ConnId id) {
    auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : &it->second;
  }
  Conn* Find(Hdl h) {
    auto it = ids_.find(h.lock().get());
    return it == ids_.end() ? nullptr : Find(it->second);
  }
  ConnId IdOf(Hdl h) {
    auto it = ids_.find(h.lock().get());
    return it == ids_.end() ? 0 : it->second;
  }

  bool Validate(Hdl h) {
    ConPtr con = ws_.get_con_from_hdl(h);
    Upgrade up{con->get_resource(), con->get_request_header("Authorization")};
    Refusal refusal;
    if (handler_->OnUpgrade(up, &refusal)) return true;
    con->set_status(static_cast<websocketpp::http::status_code::value>(refusal.status));
    for (const auto& [name, value] : refusal.headers) con->append_header(name, value);
    con->set_body(refusal.body);
    return false;
  }

  void OnOpen(Hdl h) {
    ConPtr con = ws_.get_con_from_hdl(h);
    ConnId id = ++last_id_;
    conns_[id] = Conn{con};
    ids_[con.get()] = id;
    handler_->OnOpen(id, con->get_resource());
  }

  // The connection is over (closed, dropped, or its handshake failed). An ordinary end is not
  // worth a line; a failed handshake is (with -v): a wrong certificate, a client speaking plain
  // HTTP, ...
  void OnGone(Hdl h, bool failed) {
    ConPtr con = ws_.get_con_from_hdl(h);
    auto it = ids_.find(con.get());
    if (failed && opts_.verbose && !shutting_down_ && it == ids_.end()) {
      websocketpp::lib::error_code ec = con->get_ec();
      Log() << "wsflow serve: a connection from " << con->get_remote_endpoint()
            << " failed before it opened: " << (ec ? ec.message() : "handshake refused") << "\n";
    }
    if (it == ids_.end()) return;
    ConnId id = it->second;
    ids_.erase(it);
    conns_.erase(id);
    handler_->OnClose(id);
    if (shutting_down_ && conns_.empty()) ioc_.stop();
  }

  void OnMessage(Hdl h, MessagePtr msg) {
    ConnId id = IdOf(h);
    Conn* c = Find(id);
    if (!c || c->stalled || c->closing) return;
    handler_->OnMessage(id, msg->get_opcode() != websocketpp::frame::opcode::text, msg->get_payload());
  }

  // The N events go out first; then the TCP connection ends without a close frame. websocketpp
  // says nothing of writes in flight, so wait until its queue and the kernel's are empty twice in a
  // row. Later, not now: closing calls our close handler.
  void DropWhenFlushed(ConPtr con, int waited_ms, int quiet_checks = 0) {
    ws_.set_timer(5, [this, con, waited_ms, quiet_checks](const websocketpp::lib::error_code&) {
      if (con->get_state() != websocketpp::session::state::open) return;
      int unsent = 0;
      ::ioctl(con->get_raw_socket().native_handle(), SIOCOUTQ, &unsent);
      bool quiet = con->get_buffered_amount() == 0 && unsent == 0;
      if ((!quiet || quiet_checks < 1) && waited_ms < 5000)
        return DropWhenFlushed(con, waited_ms + 5, quiet ? quiet_checks + 1 : 0);
      websocketpp::lib::error_code ec;
      con->get_raw_socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      con->get_raw_socket().close(ec);
    });
  }

  std::ostream& Log() const { return opts_.log ? *opts_.log : std::cerr; }

  TransportOptions opts_;
  TlsContext tls_;
  asio::io_context ioc_;
  asio::signal_set signals_;
  WsServer ws_;
  TransportHandler* handler_ = nullptr;
  std::unordered_map<ConnId, Conn> conns_;
  std::unordered_map<void*, ConnId> ids_;
  ConnId last_id_ = 0;
  bool shutting_down_ = false;
};

}  // namespace

std::unique_ptr<WsTransport> WsTransport::Make(const TransportOptions& opts, std::string* err) {
  if (opts.tls_cert.empty() && opts.tls_key.empty() && opts.tls_client_ca.empty())
    return std::make_unique<AsioTransport<PlainConfig>>(opts, nullptr);
  if (opts.tls_cert.empty() || opts.tls_key.empty()) {
    *err = "--tls-cert and --tls-key go together (and --tls-client-ca needs them)";
    return nullptr;
  }
  TlsContext tls = MakeTlsContext(opts, err);
  if (!tls) return nullptr;
  return std::make_unique<AsioTransport<TlsConfig>>(opts, std::move(tls));
}

}  // namespace wsflow::serve
