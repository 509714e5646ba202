#include "server/ws_server.h"

#include <websocketpp/config/asio.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>
#include <websocketpp/concurrency/none.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <type_traits>

#include "core/envelope.h"
#include "core/exit_status.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "server/run_engine.h"
#include "server/run_store.h"
#include "server/scenario.h"
#include "server/server_dialect.h"

namespace wsflow {

namespace {

using namespace serve;  // the server-side dialects

// One thread runs everything: no locks, no strands. `Base`: websocketpp's asio (ws://) or
// asio_tls (wss://) config; the two servers are the two instantiations of Server below.
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
using websocketpp::frame::opcode::text;

constexpr size_t kSendHighWater = 1u << 20;  // bytes queued per connection before we wait
constexpr int kBatch = 256;                  // events made per loop turn when a run has no delay
constexpr size_t kRememberedReplies = 4096;  // request ids remembered per run (idempotent retries)

template <class Config>
class Server {
  using WsServer = websocketpp::server<Config>;
  using ConPtr = typename WsServer::connection_ptr;
  using MessagePtr = typename WsServer::message_ptr;
  static constexpr bool kTls = std::is_same_v<Config, TlsConfig>;

  struct Conn {
    ConPtr con;
    std::string path_run;                // from /ws/{run_id}
    std::map<std::string, size_t> subs;  // run id -> index of the next event to send
    int64_t sent = 0;                    // run events sent on this connection (fault counters)
    bool dead = false;
    bool stalled = false;
    bool pump_scheduled = false;
    bool held_back = false;  // backpressure was applied (logged once)
    std::chrono::steady_clock::time_point play_start;  // replay --serve: when this client's playback began
    // replay --serve of a dialect (the recorded frames): the next one, whether the client has sent
    // its first frame, and the recorded time that play_start stands for
    size_t script_next = 0;
    bool script_gate_open = false;
    int64_t script_base_ms = 0;
    // --dialect other than native (server_dialect.h)
    Endpoint ep;                  // what the path and query said
    std::string client_id;        // a2a
    bool started = false;         // cmbagent: the first frame was handled
    bool orphaned = false;        // cmbagent --mars-strict: a newer socket whose control answers are lost
    std::string drive;            // cmbagent, ryx, chat: the run this socket drives
    bool busy = false;            // ryx, chat: a run goes on; frames wait for its end
    std::deque<std::pair<bool, std::string>> waiting;  // ryx, chat: (binary, payload) received meanwhile
    std::set<std::string> watch;  // aladdin: the ids subscribed to
    bool watch_all = false;       // aladdin: executionId "all"
    bool awaiting_pong = false;   // aladdin: the last protocol ping is not answered yet
  };

  struct RunState {
    std::string id;
    std::string request_id;  // the execute request that created it
    std::unique_ptr<RunEngine> engine;
    int delay_ms = 0;
    std::vector<std::string> events;
    std::vector<double> times;  // unix seconds of each event, for request_state
    std::set<Conn*> subscribers;
    bool tick_scheduled = false;
    std::map<std::string, std::string> replies;  // request_id -> the reply it got
    std::deque<std::string> reply_order;
    std::vector<int64_t> offsets_ms;  // replay --serve: when each event happened in the recording
    // --dialect other than native: what the backend sends (the native events stay in `events`)
    RunContext ctx;
    std::vector<std::string> frames;
    std::vector<double> frame_times;  // unix seconds (cmbagent request_state)
    std::vector<char> frame_cm;       // cmbagent: sent by the connection manager
    int deferred = 0;                 // frames still to come after a delay
    bool closing = false;             // the backend closes the run's sockets after its last frame
  };

 public:
  /// `tls`: the context of every wss:// connection (kTls only), made and checked by MakeTlsContext.
  Server(const ServeOptions& opts, TlsContext tls)
      : opts_(opts), tls_(std::move(tls)), store_(opts.data_dir), rng_(std::random_device{}()) {
    ParseServerDialect(opts.dialect, &dopts_.dialect);  // the command line checked the name
    native_ = dopts_.dialect == ServerDialect::kNative;
    dopts_.mars_strict = opts.mars_strict;
    dopts_.ryx_documented = opts.ryx_documented;
    dopts_.a2a_coordinator = opts.a2a_coordinator;
    dopts_.heartbeat_ms = opts.heartbeat_ms < 0 ? DefaultHeartbeatMs(dopts_.dialect) : opts.heartbeat_ms;
    LoadScript();
  }

  int Run() {
    std::string err;
    if (!Restore(&err)) {
      std::cerr << "wsflow serve: " << err << "\n";
      return kExitUsage;
    }
    ws_.clear_access_channels(websocketpp::log::alevel::all);
    ws_.clear_error_channels(websocketpp::log::elevel::all);
    ws_.get_alog().set_ostream(&std::cerr);
    ws_.get_elog().set_ostream(&std::cerr);
    if (opts_.verbose) ws_.set_error_channels(websocketpp::log::elevel::rerror | websocketpp::log::elevel::fatal);
    websocketpp::lib::error_code ec;
    ws_.init_asio(&ioc_, ec);
    ws_.set_reuse_addr(true);
    if constexpr (kTls) ws_.set_tls_init_handler([this](Hdl) { return tls_; });
    ws_.set_validate_handler([this](Hdl h) { return Validate(h); });
    ws_.set_open_handler([this](Hdl h) { OnOpen(h); });
    ws_.set_close_handler([this](Hdl h) { OnGone(h); });
    ws_.set_fail_handler([this](Hdl h) { OnGone(h); });
    ws_.set_message_handler([this](Hdl h, MessagePtr m) { OnMessage(h, m); });
    if (dopts_.dialect == ServerDialect::kAladdin) {
      ws_.set_pong_handler([this](Hdl h, std::string) {
        auto it = conns_.find(ws_.get_con_from_hdl(h).get());
        if (it != conns_.end()) it->second->awaiting_pong = false;
      });
    }
    // Handlers go in before the port file appears: a test (or a supervisor) that reads the port
    // and signals at once must get a clean shutdown, not the default action of SIGTERM.
    asio::signal_set signals(ioc_, SIGINT, SIGTERM);
    signals.async_wait([this](const asio::error_code& e, int) {
      if (!e) Shutdown();
    });
    asio::ip::address addr = asio::ip::make_address(opts_.host, ec);
    if (ec) {
      std::cerr << "wsflow serve: bad --host '" << opts_.host << "': " << ec.message() << "\n";
      return kExitUsage;
    }
    ws_.listen(asio::ip::tcp::endpoint(addr, static_cast<uint16_t>(opts_.port)), ec);
    if (ec) {
      std::cerr << "wsflow serve: cannot listen on " << opts_.host << ":" << opts_.port << ": " << ec.message()
                << "\n";
      return kExitConnection;
    }
    ws_.start_accept(ec);
    int port = ws_.get_local_endpoint(ec).port();
    if (!opts_.port_file.empty() && !WritePortFile(port)) return kExitUsage;
    if (!opts_.quiet) {
      std::cerr << "wsflow serve: listening on " << (kTls ? "wss://" : "ws://") << opts_.host << ":" << port;
      if (!native_) std::cerr << " (dialect " << ServerDialectName(dopts_.dialect) << ")";
      std::cerr << "\n";
    }

    if (!opts_.replay_events.empty()) LoadRecordedRun();
    for (auto& [id, run] : runs_) {  // runs cut short by a restart go on
      if (!native_) AutoApprove(*run);
      ScheduleTick(*run, 0);
    }
    ioc_.run();
    store_.Flush();
    return kExitCompleted;
  }

 private:
  // ---- start-up ----
  bool WritePortFile(int port) {
    std::string tmp = opts_.port_file + ".tmp";
    {
      std::ofstream out(tmp);
      out << port << "\n";
      if (!out) {
        std::cerr << "wsflow serve: cannot write --port-file " << opts_.port_file << "\n";
        return false;
      }
    }
    if (std::rename(tmp.c_str(), opts_.port_file.c_str()) != 0) {
      std::cerr << "wsflow serve: cannot write --port-file " << opts_.port_file << "\n";
      return false;
    }
    return true;
  }

  bool Restore(std::string* err) {
    std::vector<StoredRun> stored;
    if (!store_.Load(&stored, err)) return false;
    for (auto& s : stored) {
      JsonDoc meta;
      ParseJson(s.meta, &meta, err);
      const JsonValue* config = GetObject(meta, "config");
      JsonDoc empty(rapidjson::kObjectType);
      std::string public_id(GetString(meta, "public_id", s.run_id));
      auto run = MakeRun(s.run_id, std::string(GetString(meta, "task")), std::string(GetString(meta, "model")),
                         config ? *config : empty, err, public_id);
      if (!run) {
        *err = "run " + s.run_id + " in the data dir: " + *err;
        return false;
      }
      run->request_id = std::string(GetString(meta, "request_id"));
      for (auto& line : s.events) {
        JsonDoc ev;
        ParseJson(line, &ev, err);
        const JsonValue* data = GetObject(ev, "data");
        run->engine->Restore(GetString(ev, "event_type"), data ? *data : empty);
        double t = 0;
        ParseIsoTimestamp(std::string(GetString(ev, "timestamp")), &t);
        run->times.push_back(t);
        run->events.push_back(std::move(line));
        if (!native_) {  // the backend's frames again, with the stored times
          auto at = Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(t)));
          MapFrames(*run, GetString(ev, "event_type"), data ? *data : empty, at, true);
        }
      }
      if (run->engine->state() == RunEngine::State::kFinished) store_.Finish(run->id);
      if (!native_) NoteLatest(public_id, s.run_id);
      runs_[s.run_id] = std::move(run);
    }
    err->clear();
    return true;
  }

  // `public_id`: the id a dialect shows for the run (the task_id of several MARS runs, ...); empty: `id`.
  std::unique_ptr<RunState> MakeRun(const std::string& id, const std::string& task, const std::string& model,
                                       const JsonValue& config, std::string* err, std::string public_id = "") {
    Scenario scenario;
    if (!LoadScenarioFor(config, &scenario, err)) return nullptr;
    if (public_id.empty()) public_id = id;
    auto run = std::make_unique<RunState>();
    run->id = id;
    run->delay_ms = static_cast<int>(GetInt(config, "delay_ms", scenario.delay_ms));
    if (run->delay_ms < 0) run->delay_ms = 0;
    run->engine = std::make_unique<RunEngine>(
        std::move(scenario), std::vector<std::pair<std::string, std::string>>{
                                 {"run_id", public_id}, {"task", task}, {"model", model.empty() ? "sim-1" : model}});
    if (!native_) InitRunContext(dopts_, id, public_id, task, model, config, &run->ctx);
    return run;
  }

  bool LoadScenarioFor(const JsonValue& config, Scenario* out, std::string* err) {
    std::string file(GetString(config, "scenario_file"));
    bool chat = dopts_.dialect == ServerDialect::kChat;
    std::string name(GetString(config, "scenario", chat ? "chat" : "demo"));
    if (file.empty() && chat && name == "chat") {  // the chat dialect's own reply scenario
      JsonDoc doc;
      return ParseJson(ChatScenarioJson(), &doc, err) && LoadScenario(doc, out, err);
    }
    if (file.empty()) {
      if (BuiltinScenario(name, config, out, err)) return true;
      if (opts_.scenario_dir.empty() || name.find('/') != std::string::npos) return false;
      file = opts_.scenario_dir + "/" + name + ".json";
    }
    std::ifstream in(file);
    if (!in) {
      *err = "cannot read scenario file " + file;
      return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    JsonDoc doc;
    if (!ParseJson(ss.str(), &doc, err) || !LoadScenario(doc, out, err)) {
      *err = file + ": " + *err;
      return false;
    }
    return true;
  }

  void LoadRecordedRun() {
    auto run = std::make_unique<RunState>();
    run->id = opts_.replay_run_id;
    run->engine = std::make_unique<RunEngine>(Scenario{}, std::vector<std::pair<std::string, std::string>>{});
    run->engine->Restore("workflow_completed", JsonValue(rapidjson::kObjectType));  // nothing left to simulate
    run->events = opts_.replay_events;
    run->offsets_ms = opts_.replay_offsets_ms;
    run->offsets_ms.resize(run->events.size(), 0);
    run->times.assign(run->events.size(), 0);
    for (size_t i = 0; i < run->events.size(); ++i) {
      JsonDoc ev;
      std::string err;
      if (ParseJson(run->events[i], &ev, &err)) ParseIsoTimestamp(std::string(GetString(ev, "timestamp")), &run->times[i]);
    }
    runs_[run->id] = std::move(run);
  }

  bool IsReplay(const RunState& run) const { return !run.offsets_ms.empty(); }

  // replay --serve of a dialect: the backend's frames, and where the client's first frame was.
  void LoadScript() {
    script_ = !opts_.replay_script.empty();
    // Sent on connect: the frames recorded before the client's first, and the greeting that
    // follows it (the client did not wait for the greeting; another client may).
    bool greeting = true;
    for (const auto& f : opts_.replay_script) {
      if (f.from_client) {
        if (!script_waits_) script_gate_ms_ = f.t_ms;
        script_waits_ = true;
        continue;
      }
      if (script_waits_ && !IsGreetingFrame(dopts_.dialect, f.text)) greeting = false;
      if (greeting) script_gate_ = script_frames_.size() + 1;
      script_frames_.push_back(f);
    }
    // Without a frame of the client's, nothing waits: everything is sent on connect, and again.
    script_loop_from_ = script_waits_ ? script_gate_ : 0;
  }

  void OnScriptOpen(Conn& c) {
    c.play_start = std::chrono::steady_clock::now();
    c.script_base_ms = script_frames_.empty() ? 0 : script_frames_.front().t_ms;
    c.script_gate_open = !script_waits_;
    PumpScript(c);
  }

  // The client's first frame lets the rest of the recording go, on the recorded clock from now.
  // Whatever else the client says is not answered (the recording's answers come when recorded).
  void OnScriptMessage(Conn& c) {
    if (c.script_gate_open) return;
    c.script_gate_open = true;
    c.play_start = std::chrono::steady_clock::now();
    c.script_base_ms = script_gate_ms_;
    PumpScript(c);
  }

  void PumpScript(Conn& c) {
    while (c.script_next < script_frames_.size()) {
      if (c.script_next >= script_gate_ && !c.script_gate_open) return;  // waits for the client
      const ScriptFrame& f = script_frames_[c.script_next];
      if (opts_.replay_speed > 0) {
        auto due = c.play_start + std::chrono::milliseconds(
                                      static_cast<int64_t>((f.t_ms - c.script_base_ms) / opts_.replay_speed));
        auto now = std::chrono::steady_clock::now();
        if (due > now) {
          SchedulePumpIn(c, std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count() + 1);
          return;
        }
      }
      if (c.con->get_buffered_amount() >= kSendHighWater) return SchedulePump(c);
      if (c.con->send(f.text, text)) return;
      ++c.script_next;
    }
    if (opts_.replay_loop && script_loop_from_ < script_frames_.size()) {  // again, after a breath
      c.script_next = script_loop_from_;
      c.play_start = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      c.script_base_ms = script_frames_[script_loop_from_].t_ms;
      SchedulePumpIn(c, 1000);
    }
  }

  // ---- connections ----
  bool Validate(Hdl h) {
    ConPtr con = ws_.get_con_from_hdl(h);
    std::string path = con->get_resource();
    if (!opts_.token.empty() && !Authorized(con->get_request_header("Authorization"), path)) {
      con->set_status(websocketpp::http::status_code::unauthorized);
      con->append_header("WWW-Authenticate", "Bearer");
      con->set_body("wsflow serve: a valid bearer token is required\n");
      return false;
    }
    if (!native_) {
      Endpoint ep;
      if (MatchEndpoint(dopts_.dialect, path, &ep)) return true;
      con->set_status(websocketpp::http::status_code::not_found);
      con->set_body(EndpointHelp(dopts_.dialect, ep.path));
      return false;
    }
    path = path.substr(0, path.find('?'));
    if (path == "/" || path == "/ws" || path.rfind("/ws/", 0) == 0) return true;
    con->set_status(websocketpp::http::status_code::not_found);
    con->set_body("wsflow serve: no such endpoint " + path + " (use /ws or /ws/{run_id})\n");
    return false;
  }

  // --token-file: the bearer header, or the query parameter access_token/token (decoded).
  bool Authorized(const std::string& authorization, const std::string& resource) const {
    if (authorization == "Bearer " + opts_.token) return true;
    auto q = resource.find('?');
    if (q == std::string::npos) return false;
    std::string query = resource.substr(q + 1);
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t amp = query.find('&', pos);
      std::string kv = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
      auto eq = kv.find('=');
      if (eq != std::string::npos && (kv.substr(0, eq) == "access_token" || kv.substr(0, eq) == "token") &&
          Decode(kv.substr(eq + 1)) == opts_.token)
        return true;
      if (amp == std::string::npos) break;
      pos = amp + 1;
    }
    return false;
  }

  void OnOpen(Hdl h) {
    ConPtr con = ws_.get_con_from_hdl(h);
    auto c = std::make_unique<Conn>();
    c->con = con;
    std::string path = con->get_resource();
    path = path.substr(0, path.find('?'));
    if (path.rfind("/ws/", 0) == 0) c->path_run = Decode(path.substr(4));
    Conn& conn = *c;
    conns_[con.get()] = std::move(c);
    if (script_) return OnScriptOpen(conn);
    if (!native_) OnDialectOpen(conn);
  }

  void OnGone(Hdl h) {
    ConPtr con = ws_.get_con_from_hdl(h);
    auto it = conns_.find(con.get());
    if (it == conns_.end()) return;
    for (auto& [run_id, next] : it->second->subs) {
      auto r = runs_.find(run_id);
      if (r != runs_.end()) r->second->subscribers.erase(it->second.get());
    }
    auto owner = mars_owner_.find(it->second->ep.id);
    if (owner != mars_owner_.end() && owner->second == it->second.get()) mars_owner_.erase(owner);
    conns_.erase(it);
    if (shutting_down_ && conns_.empty()) ioc_.stop();
  }

  static std::string Decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        int v = 0;
        if (std::sscanf(s.c_str() + i + 1, "%2x", &v) == 1) {
          out.push_back(static_cast<char>(v));
          i += 2;
          continue;
        }
      }
      out.push_back(s[i]);
    }
    return out;
  }

  // ---- replies (not run events: no seq) ----
  void SendReply(Conn& c, const std::string& line) {
    if (c.dead) return;
    c.con->send(line, text);
  }

  std::string ErrorLine(std::string_view run_id, std::string_view request_id, std::string_view error_type,
                        const std::string& message) {
    JsonDoc data(rapidjson::kObjectType);
    auto& a = data.GetAllocator();
    data.AddMember("error_type", Str(error_type, a), a);
    data.AddMember("message", Str(message, a), a);
    std::string line = EnvelopeLine({"error", "", run_id, -1, &data});
    return WithRequestId(line, request_id);
  }

  std::string AckLine(const RunState& run, std::string_view request_id, std::string_view action,
                      int64_t from_seq = -1) {
    JsonDoc data(rapidjson::kObjectType);
    auto& a = data.GetAllocator();
    data.AddMember("action", Str(action, a), a);
    data.AddMember("last_seq", static_cast<int64_t>(run.events.size()), a);
    if (from_seq >= 0) data.AddMember("from_seq", from_seq, a);
    return WithRequestId(EnvelopeLine({"ack", "", run.id, -1, &data}), request_id);
  }

  // request_id goes at top level, after the envelope fields.
  static std::string WithRequestId(std::string line, std::string_view request_id) {
    if (request_id.empty()) return line;
    line.pop_back();
    return line + ",\"request_id\":\"" + JsonEscape(std::string(request_id)) + "\"}";
  }

  void Remember(RunState& run, const std::string& request_id, const std::string& reply) {
    if (request_id.empty()) return;
    if (run.replies.emplace(request_id, reply).second) run.reply_order.push_back(request_id);
    if (run.reply_order.size() > kRememberedReplies) {
      run.replies.erase(run.reply_order.front());
      run.reply_order.pop_front();
    }
  }

  // ---- messages ----
  void OnMessage(Hdl h, MessagePtr msg) {
    ConPtr con = ws_.get_con_from_hdl(h);
    auto it = conns_.find(con.get());
    if (it == conns_.end()) return;
    Conn& c = *it->second;
    if (c.stalled || c.dead) return;
    if (script_) return OnScriptMessage(c);
    if (!native_) return OnDialectMessage(c, msg->get_opcode() != text, msg->get_payload());
    if (msg->get_opcode() != text) {
      SendReply(c, ErrorLine("", "", "invalid_frame", "binary frames are not understood; send JSON text"));
      return;
    }
    JsonDoc doc;
    std::string err;
    if (!ParseJson(msg->get_payload(), &doc, &err) || !doc.IsObject()) {
      SendReply(c, ErrorLine("", "", "invalid_json", "invalid JSON: " + (err.empty() ? "not an object" : err)));
      return;
    }
    std::string type(GetString(doc, "type"));
    std::string request_id(GetString(doc, "request_id"));
    std::string run_id(GetString(doc, "run_id"));
    if (run_id.empty()) run_id = c.path_run;

    if (type == "ping") {
      SendReply(c, WithRequestId(EnvelopeLine({"pong", "", "", -1, nullptr}), request_id));
      return;
    }
    if (type.empty() && doc.HasMember("task")) type = "execute";  // the MARS first frame
    if (type == "execute") return Execute(c, doc, run_id, request_id);
    if (type.empty()) {
      SendReply(c, ErrorLine(run_id, request_id, "invalid_request", "a frame needs \"type\" (or \"task\")"));
      return;
    }
    static const std::set<std::string> kRunTypes = {"subscribe",        "unsubscribe", "resolve_approval",
                                                    "approval_response", "pause",       "resume",
                                                    "cancel",           "request_state"};
    if (!kRunTypes.count(type)) {
      SendReply(c, ErrorLine(run_id, request_id, "unknown_type", "unknown message type '" + type + "'"));
      return;
    }
    if (run_id.empty() && (type == "resolve_approval" || type == "approval_response")) {
      run_id = RunOfApproval(c, GetString(doc, "approval_id"));
    }
    if (run_id.empty() && c.subs.size() == 1) run_id = c.subs.begin()->first;
    auto r = runs_.find(run_id);
    if (r == runs_.end()) {
      SendReply(c, ErrorLine(run_id, request_id, "unknown_run",
                             run_id.empty() ? "no run_id given" : "run " + run_id + " not found"));
      return;
    }
    RunState& run = *r->second;
    auto seen = request_id.empty() ? run.replies.end() : run.replies.find(request_id);
    if (type == "subscribe") {
      int64_t since = GetInt(doc, "since_seq", 0);
      int64_t tail = GetInt(doc, "tail", -1);
      if (tail >= 0) since = std::max<int64_t>(0, static_cast<int64_t>(run.events.size()) - tail);
      return Subscribe(c, run, since, request_id);
    }
    if (type == "unsubscribe") {
      c.subs.erase(run.id);
      run.subscribers.erase(&c);
      return SendReply(c, AckLine(run, request_id, "unsubscribe"));
    }
    if (type == "request_state") {
      double since = GetDouble(doc, "since", 0);
      size_t from = 0;
      while (from < run.times.size() && run.times[from] <= since) ++from;
      return Subscribe(c, run, static_cast<int64_t>(from), request_id, "request_state");
    }
    if (seen != run.replies.end()) return SendReply(c, seen->second);  // a retried request: applied once

    std::vector<EngineEvent> caused;
    bool ok = false;
    if (type == "pause") ok = run.engine->Pause(&caused, &err);
    else if (type == "resume") ok = run.engine->Resume(&caused, &err);
    else if (type == "cancel") ok = run.engine->Cancel(&caused, &err);
    else {
      std::string approval_id(GetString(doc, "approval_id"));
      std::string resolution(GetString(doc, "resolution"));
      if (type == "approval_response" || (resolution.empty() && doc.HasMember("approved"))) {
        auto approved = doc.FindMember("approved");
        if (approved != doc.MemberEnd() && approved->value.IsBool())
          resolution = run.engine->ResolutionFor(approved->value.GetBool());
      }
      if (resolution.empty()) err = "an answer needs \"resolution\" (or a boolean \"approved\")";
      else ok = run.engine->Resolve(approval_id, resolution, GetString(doc, "feedback"), &caused, &err);
    }
    std::string reply = ok ? AckLine(run, request_id, type)
                           : ErrorLine(run.id, request_id, type == "pause" || type == "resume" || type == "cancel"
                                                               ? "invalid_state"
                                                               : "approval_error",
                                       err);
    Remember(run, request_id, reply);
    SendReply(c, reply);
    if (ok) {
      for (auto& e : caused) Emit(run, e);
      Publish(run);
      ScheduleTick(run, 0);
    }
  }

  std::string RunOfApproval(Conn& c, std::string_view approval_id) {
    for (auto& [id, next] : c.subs) {
      auto r = runs_.find(id);
      if (r != runs_.end() && r->second->engine->pending_approval_id() == approval_id) return id;
    }
    return "";
  }

  void Execute(Conn& c, const JsonDoc& doc, std::string run_id, const std::string& request_id) {
    std::string err;
    if (!opts_.replay_events.empty()) {
      SendReply(c, ErrorLine(run_id, request_id, "invalid_request",
                             "this server replays a recording of run " + opts_.replay_run_id + "; it starts no runs"));
      return;
    }
    auto existing = runs_.find(run_id);
    if (existing != runs_.end()) {
      // A retried execute (same request id) attaches to the run it started; anything else is refused.
      if (!request_id.empty() && existing->second->request_id == request_id)
        return Subscribe(c, *existing->second, GetInt(doc, "since_seq", 0), request_id, "execute");
      SendReply(c, ErrorLine(run_id, request_id, "run_exists", "run " + run_id + " already exists"));
      return;
    }
    if (GetString(doc, "task").empty()) {
      SendReply(c, ErrorLine(run_id, request_id, "invalid_request", "No task provided"));
      return;
    }
    if (run_id.empty()) run_id = NewRunId();
    if (run_id.size() > 200) {
      SendReply(c, ErrorLine("", request_id, "invalid_request", "run_id is longer than 200 bytes"));
      return;
    }
    const JsonValue* config = GetObject(doc, "config");
    JsonDoc empty(rapidjson::kObjectType);
    std::string task(GetString(doc, "task"));
    std::string model(GetString(doc, "model"));
    if (model.empty() && config) model = std::string(GetString(*config, "model"));
    auto run = MakeRun(run_id, task, model, config ? *config : empty, &err);
    if (!run) {
      SendReply(c, ErrorLine(run_id, request_id, "invalid_request", err));
      return;
    }
    run->request_id = request_id;
    JsonDoc meta(rapidjson::kObjectType);
    auto& a = meta.GetAllocator();
    meta.AddMember("run_id", Str(run_id, a), a);
    meta.AddMember("task", Str(task, a), a);
    meta.AddMember("model", Str(model, a), a);
    meta.AddMember("config", JsonValue(config ? *config : empty, a), a);
    meta.AddMember("request_id", Str(request_id, a), a);
    if (!store_.Create(run_id, ToJson(meta), &err)) {
      SendReply(c, ErrorLine(run_id, request_id, "server_error", err));
      return;
    }
    if (!opts_.quiet) std::cerr << "wsflow serve: run " << run_id << " started\n";
    RunState& r = *run;
    runs_[run_id] = std::move(run);
    Subscribe(c, r, 0, request_id, "execute");
    ScheduleTick(r, 0);
  }

  std::string NewRunId() {
    static const char* hex = "0123456789abcdef";
    std::string id = "r-";
    for (int i = 0; i < 12; ++i) id += hex[rng_() % 16];
    return id;
  }

  void Subscribe(Conn& c, RunState& run, int64_t since_seq, const std::string& request_id,
                 std::string_view action = "subscribe") {
    if (since_seq < 0) since_seq = 0;
    size_t from = std::min(static_cast<size_t>(since_seq), run.events.size());
    SendReply(c, AckLine(run, request_id, action, static_cast<int64_t>(from)));
    if (IsReplay(run) && opts_.replay_speed > 0) {  // a resumed playback keeps its pace
      int64_t at = from < run.offsets_ms.size() ? run.offsets_ms[from] : 0;
      c.play_start = std::chrono::steady_clock::now() -
                     std::chrono::milliseconds(static_cast<int64_t>(at / opts_.replay_speed));
    }
    c.subs[run.id] = from;
    run.subscribers.insert(&c);
    Pump(c);
  }

  // ---- the run's clock ----
  void ScheduleTick(RunState& run, int delay_ms) {
    if (run.tick_scheduled || run.engine->state() != RunEngine::State::kRunning || shutting_down_) return;
    run.tick_scheduled = true;
    std::string id = run.id;
    auto fire = [this, id](const websocketpp::lib::error_code& ec) {
      auto r = runs_.find(id);
      if (ec || r == runs_.end()) return;
      r->second->tick_scheduled = false;
      Tick(*r->second);
    };
    if (delay_ms <= 0) asio::post(ioc_, [fire] { fire({}); });
    else ws_.set_timer(delay_ms, fire);
  }

  void Tick(RunState& run) {
    EngineEvent e;
    // Without a delay, events go out in batches; an item with a delay of its own ends the batch.
    for (int i = 0; i < kBatch && run.engine->Next(&e); ++i) {
      Emit(run, e);
      if (run.engine->NextDelayMs(run.delay_ms) > 0) break;
    }
    Publish(run);
    ScheduleTick(run, run.engine->NextDelayMs(run.delay_ms));
  }

  void Emit(RunState& run, const EngineEvent& e) {
    JsonDoc data;
    std::string err;
    ParseJson(e.data, &data, &err);
    auto now = std::chrono::system_clock::now();
    std::string line = EnvelopeLine({e.type, IsoTimestamp(now), run.id, static_cast<int64_t>(run.events.size() + 1),
                                     &data});
    store_.Append(run.id, line);
    run.events.push_back(std::move(line));
    run.times.push_back(std::chrono::duration<double>(now.time_since_epoch()).count());
    if (run.engine->state() == RunEngine::State::kFinished && !opts_.quiet)
      std::cerr << "wsflow serve: run " << run.id << " " << ExitStatusName(ExitStatusFor(run.engine->outcome()))
                << "\n";
    if (!native_) {
      MapFrames(run, e.type, data, now, false);
      if (e.type == "approval_requested") AutoApprove(run);
    }
  }

  // Written before it is sent: a restarted server still has every event a client saw.
  void Publish(RunState& run) {
    store_.Flush();
    if (run.engine->state() == RunEngine::State::kFinished) store_.Finish(run.id);
    std::vector<Conn*> subs(run.subscribers.begin(), run.subscribers.end());
    for (Conn* c : subs) Pump(*c);
  }

  void SchedulePump(Conn& c) { SchedulePumpIn(c, 2); }

  void SchedulePumpIn(Conn& c, int64_t ms) {
    if (c.pump_scheduled) return;
    c.pump_scheduled = true;
    ConPtr con = c.con;
    ws_.set_timer(ms, [this, con](const websocketpp::lib::error_code&) {
      auto it = conns_.find(con.get());
      if (it == conns_.end()) return;
      it->second->pump_scheduled = false;
      Pump(*it->second);
    });
  }

  void Pump(Conn& c) {
    if (c.dead || c.stalled) return;
    if (script_) return PumpScript(c);
    for (auto& [run_id, next] : c.subs) {
      auto r = runs_.find(run_id);
      if (r == runs_.end()) continue;
      RunState& run = *r->second;
      const std::vector<std::string>& lines = Lines(run);
      while (next < lines.size()) {
        if (c.orphaned && run.frame_cm[next]) {  // MARS: the connection manager sends these elsewhere
          ++next;
          continue;
        }
        if (IsReplay(run) && opts_.replay_speed > 0) {
          auto due = c.play_start + std::chrono::milliseconds(
                                        static_cast<int64_t>(run.offsets_ms[next] / opts_.replay_speed));
          auto now = std::chrono::steady_clock::now();
          if (due > now) {
            SchedulePumpIn(c, std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count() + 1);
            return;
          }
        }
        if (c.con->get_buffered_amount() >= kSendHighWater) {
          if (!c.held_back && opts_.verbose)
            std::cerr << "wsflow serve: backpressure: a client reads slowly; holding back its events\n";
          c.held_back = true;
          return SchedulePump(c);
        }
        websocketpp::lib::error_code ec = c.con->send(lines[next], text);
        if (ec) return;
        ++next;
        ++c.sent;
        if (Faults(c)) return;
      }
      if (IsReplay(run) && opts_.replay_loop) {  // again from the start, after a breath
        next = 0;
        c.play_start = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        SchedulePumpIn(c, 1000);
        return;
      }
      if (opts_.close_code && !opts_.drop_every && RunDone(run)) {
        CloseLater(c, opts_.close_code, "run finished");
        return;
      }
      if (!native_ && RunDone(run) && Drained(c, run)) return;
    }
  }

  // Returns true when the connection must not be sent to any more.
  bool Faults(Conn& c) {
    if (opts_.garbage_every && c.sent % opts_.garbage_every == 0) SendReply(c, "{this is not json");
    if (opts_.stall_after && c.sent >= opts_.stall_after) {
      c.stalled = true;
      c.con->pause_reading();
      if (opts_.verbose) std::cerr << "wsflow serve: fault: stalled a connection after " << c.sent << " events\n";
      ConPtr con = c.con;  // a stalled socket is dropped after a while so it does not live for ever
      ws_.set_timer(120000, [con](const websocketpp::lib::error_code&) {
        if (con->get_state() != websocketpp::session::state::closed) con->terminate({});
      });
      return true;
    }
    if (opts_.drop_every && c.sent % opts_.drop_every == 0) {
      if (opts_.close_code) {
        CloseLater(c, opts_.close_code, "fault injection");
      } else {
        c.dead = true;
        if (opts_.verbose) std::cerr << "wsflow serve: fault: dropping a connection after " << c.sent << " events\n";
        DropWhenFlushed(c.con, 0);
      }
      return true;
    }
    return false;
  }

  // The N events go out first; then the TCP connection ends without a close frame. websocketpp
  // says nothing of writes in flight, so wait until its queue and the kernel's are empty twice in a
  // row. Later, not now: closing can call our close handler, which frees the Conn the caller uses.
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

  void CloseLater(Conn& c, int code, std::string reason) {
    c.dead = true;
    ConPtr con = c.con;
    asio::post(ioc_, [con, code, reason] {
      websocketpp::lib::error_code ec;
      con->close(static_cast<websocketpp::close::status::value>(code), reason, ec);
    });
  }

  void Shutdown() {
    if (shutting_down_) return;
    shutting_down_ = true;
    if (!opts_.quiet) std::cerr << "wsflow serve: shutting down\n";
    websocketpp::lib::error_code ec;
    ws_.stop_listening(ec);
    store_.Flush();
    std::vector<std::pair<ConPtr, bool>> open;  // copied: terminate() can erase from conns_
    for (auto& [ptr, c] : conns_) open.emplace_back(c->con, c->stalled || c->dead);
    for (auto& [con, broken] : open) {
      if (broken) con->terminate({});
      else if (dopts_.dialect == ServerDialect::kAladdin)
        con->close(websocketpp::close::status::normal, "Server shutting down", ec);
      else con->close(websocketpp::close::status::going_away, "server shutting down", ec);
    }
    if (conns_.empty()) ioc_.stop();
    ws_.set_timer(2000, [this](const websocketpp::lib::error_code&) { ioc_.stop(); });
  }

  // ---- dialects (docs/dialects.md): the backend's frames, driven by the same runs ----
  const std::vector<std::string>& Lines(const RunState& run) const { return native_ ? run.events : run.frames; }

  // The run has made its last event and the backend its last frame.
  bool RunDone(const RunState& run) const {
    return run.engine->state() == RunEngine::State::kFinished && run.deferred == 0;
  }

  static double UnixSeconds(Clock::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

  void MapFrames(RunState& run, std::string_view type, const JsonValue& data, Clock::time_point t, bool restoring) {
    bool close_after = false;
    std::vector<DialectFrame> frames = MapEvent(dopts_, run.ctx, type, data, t, &close_after);
    AppendFrames(run, std::move(frames), 0, close_after, restoring, t);
  }

  // Appends frames[from..]; a frame with a delay, and all after it, come later (not when restoring).
  void AppendFrames(RunState& run, std::vector<DialectFrame> frames, size_t from, bool close_after, bool restoring,
                    Clock::time_point t) {
    for (size_t i = from; i < frames.size(); ++i) {
      if (frames[i].delay_ms > 0 && !restoring) {
        int delay = frames[i].delay_ms;
        frames[i].delay_ms = 0;
        ++run.deferred;
        std::string id = run.id;
        ws_.set_timer(delay, [this, id, frames, i, close_after](const websocketpp::lib::error_code&) {
          auto r = runs_.find(id);
          if (r == runs_.end()) return;
          --r->second->deferred;
          AppendFrames(*r->second, frames, i, close_after, false, Clock::now());
          Publish(*r->second);
        });
        return;
      }
      run.frames.push_back(std::move(frames[i].text));
      run.frame_times.push_back(UnixSeconds(t));
      run.frame_cm.push_back(frames[i].control_answer ? 1 : 0);
    }
    if (close_after) run.closing = true;
  }

  // Backends without approvals: the gate is passed at once, as if approved.
  void AutoApprove(RunState& run) {
    if (!AutoApproves(dopts_.dialect) || run.engine->state() != RunEngine::State::kAwaitingApproval) return;
    std::vector<EngineEvent> caused;
    std::string err;
    if (run.engine->Resolve(run.engine->pending_approval_id(), run.engine->ResolutionFor(true), "", &caused, &err))
      for (auto& e : caused) Emit(run, e);
  }

  // Events a control caused go out like the run's own.
  void Apply(RunState& run, const std::vector<EngineEvent>& caused) {
    for (auto& e : caused) Emit(run, e);
    Publish(run);
    ScheduleTick(run, 0);
  }

  void Attach(Conn& c, RunState& run, size_t from, bool pump = true) {
    c.subs[run.id] = std::min(from, Lines(run).size());
    run.subscribers.insert(&c);
    if (pump) Pump(c);
  }

  void Detach(Conn& c, const std::string& run_id) {
    c.subs.erase(run_id);
    auto r = runs_.find(run_id);
    if (r != runs_.end()) r->second->subscribers.erase(&c);
  }

  void NoteLatest(const std::string& public_id, const std::string& key) {
    auto suffix = [&public_id](const std::string& k) -> long {
      return k.size() > public_id.size() + 1 ? std::atol(k.c_str() + public_id.size() + 1) : 1;
    };
    std::string& cur = latest_[public_id];
    if (cur.empty() || suffix(key) > suffix(cur)) cur = key;
  }

  RunState* LatestRun(const std::string& public_id) {
    auto l = latest_.find(public_id);
    auto r = runs_.find(l == latest_.end() ? public_id : l->second);
    return r == runs_.end() ? nullptr : r->second.get();
  }

  // Starts a run of the dialect: `key` is the server's id, `public_id` the one the backend shows.
  RunState* StartDialectRun(const std::string& key, const std::string& public_id, const std::string& task,
                            const std::string& model, const JsonValue& config, std::string* err) {
    auto run = MakeRun(key, task, model, config, err, public_id);
    if (!run) return nullptr;
    JsonDoc meta(rapidjson::kObjectType);
    auto& a = meta.GetAllocator();
    meta.AddMember("run_id", Str(key, a), a);
    meta.AddMember("task", Str(task, a), a);
    meta.AddMember("model", Str(model, a), a);
    meta.AddMember("config", JsonValue(config, a), a);
    meta.AddMember("request_id", Str("", a), a);
    meta.AddMember("public_id", Str(public_id, a), a);
    if (!store_.Create(key, ToJson(meta), err)) return nullptr;
    if (!opts_.quiet) {
      std::cerr << "wsflow serve: run " << key << " started";
      if (public_id != key) std::cerr << " (" << public_id << ")";
      std::cerr << "\n";
    }
    RunState& r = *run;
    runs_[key] = std::move(run);
    NoteLatest(public_id, key);
    for (auto& [ptr, conn] : conns_)  // aladdin monitors see every execution
      if (conn->watch_all && !conn->dead) Attach(*conn, r, 0, false);
    ScheduleTick(r, 0);
    return &r;
  }

  static void ParseConfig(const std::string& text, JsonDoc* doc) {
    std::string err;
    if (!ParseJson(text, doc, &err) || !doc->IsObject()) doc->SetObject();
  }

  std::string NewUuid() {
    static const char* hex = "0123456789abcdef";
    std::string id;
    for (int i = 0; i < 32; ++i) {
      if (i == 8 || i == 12 || i == 16 || i == 20) id += '-';
      id += i == 12 ? '4' : i == 16 ? hex[8 + rng_() % 4] : hex[rng_() % 16];
    }
    return id;
  }

  void OnDialectOpen(Conn& c) {
    MatchEndpoint(dopts_.dialect, c.con->get_resource(), &c.ep);
    auto now = Clock::now();
    RunState* run = nullptr;
    switch (dopts_.dialect) {
      case ServerDialect::kCmbagent: {
        // One socket per task_id: a newer one closes the older with "Reconnection".
        auto o = mars_owner_.find(c.ep.id);
        if (o != mars_owner_.end() && o->second != &c && !o->second->dead) {
          CloseLater(*o->second, 1000, "Reconnection");
          if (dopts_.mars_strict) c.orphaned = true;  // the old handler's clean-up unregisters the new socket
        }
        mars_owner_[c.ep.id] = &c;
        break;
      }
      case ServerDialect::kA2a: {
        auto cid = c.ep.query.find("client_id");
        c.client_id = cid != c.ep.query.end() && !cid->second.empty() ? cid->second : NewUuid();
        if (c.ep.kind == Endpoint::Kind::kWorkflow) run = WorkflowRun(c);
        break;
      }
      case ServerDialect::kChat:
        if (c.ep.id.empty()) c.ep.id = NewUuid();
        break;
      default: break;
    }
    for (const auto& line : Greeting(dopts_, c.ep, c.client_id, run ? &run->ctx : nullptr, now)) SendReply(c, line);
    if (run) {  // a2a: the workflow's last 50 frames, on every connect
      size_t n = run->frames.size();
      Attach(c, *run, n > 50 ? n - 50 : 0);
    }
    int64_t hb = dopts_.heartbeat_ms;
    bool app_heartbeat = dopts_.dialect == ServerDialect::kCmbagent || dopts_.dialect == ServerDialect::kA2a ||
                         dopts_.dialect == ServerDialect::kChat;
    if (app_heartbeat && hb > 0) ScheduleHeartbeat(c.con, hb);
    int64_t ping = dopts_.dialect == ServerDialect::kAladdin ? hb : ProtocolPingMs(dopts_);
    if (ping > 0) ScheduleProtocolPing(c.con, ping);
  }

  // a2a: the run of /ws/workflow/{id}, started by the first socket (?scenario=, ?delay_ms=, ?task=, ?model=).
  RunState* WorkflowRun(Conn& c) {
    auto r = runs_.find(c.ep.id);
    if (r != runs_.end()) return r->second.get();
    JsonDoc config(rapidjson::kObjectType);
    auto& a = config.GetAllocator();
    auto q = [&c](const char* k) {
      auto it = c.ep.query.find(k);
      return it == c.ep.query.end() ? std::string() : it->second;
    };
    if (!q("scenario").empty()) config.AddMember("scenario", Str(q("scenario"), a), a);
    for (const char* key : {"delay_ms", "events"}) {
      int64_t n = std::atoll(q(key).c_str());
      if (!q(key).empty()) config.AddMember(rapidjson::StringRef(key), n, a);
    }
    std::string task = q("task").empty() ? "workflow " + c.ep.id : q("task");
    std::string err;
    RunState* run = StartDialectRun(c.ep.id, c.ep.id, task, q("model"), config, &err);
    if (!run) SendReply(c, a2a::ErrorFrame("Cannot start workflow " + c.ep.id + ": " + err));
    return run;
  }

  void ScheduleHeartbeat(ConPtr con, int64_t ms) {
    ws_.set_timer(ms, [this, con, ms](const websocketpp::lib::error_code& ec) {
      if (ec || shutting_down_) return;
      auto it = conns_.find(con.get());
      if (it == conns_.end()) return;
      Conn& c = *it->second;
      if (c.dead) return;
      if (!c.stalled) SendHeartbeat(c);
      ScheduleHeartbeat(con, ms);
    });
  }

  void SendHeartbeat(Conn& c) {
    const RunState* run = nullptr;
    if (!c.drive.empty()) {
      auto r = runs_.find(c.drive);
      if (r != runs_.end()) run = r->second.get();
    }
    if (dopts_.dialect == ServerDialect::kCmbagent) {  // while the run executes: not paused, not ended
      if (!run) return;
      auto st = run->engine->state();
      if (st != RunEngine::State::kRunning && st != RunEngine::State::kAwaitingApproval) return;
    }
    std::string line = HeartbeatFrame(dopts_, c.ep, run ? &run->ctx : nullptr, Clock::now());
    if (!line.empty()) SendReply(c, line);
  }

  // WebSocket pings from the backend's HTTP stack; aladdin closes a client that did not answer the
  // previous one, without a status code.
  void ScheduleProtocolPing(ConPtr con, int64_t ms) {
    ws_.set_timer(ms, [this, con, ms](const websocketpp::lib::error_code& ec) {
      if (ec || shutting_down_) return;
      auto it = conns_.find(con.get());
      if (it == conns_.end()) return;
      Conn& c = *it->second;
      if (c.dead) return;
      websocketpp::lib::error_code e;
      if (!c.stalled) {
        if (dopts_.dialect == ServerDialect::kAladdin && c.awaiting_pong) {
          c.dead = true;
          con->close(websocketpp::close::status::blank, "", e);
          return;
        }
        c.awaiting_pong = true;
        con->ping("", e);
      }
      ScheduleProtocolPing(con, ms);
    });
  }

  // A run event frame outside the cursor (a MARS replay): counted for the faults like the others.
  bool SendCounted(Conn& c, const std::string& line) {
    if (c.dead || c.stalled) return true;
    websocketpp::lib::error_code ec = c.con->send(line, text);
    if (ec) return true;
    ++c.sent;
    return Faults(c);
  }

  // The connection has every frame of a finished run. True when it must not be pumped further.
  bool Drained(Conn& c, RunState& run) {
    if (dopts_.dialect == ServerDialect::kCmbagent && run.closing && c.drive == run.id) {
      CloseLater(c, 1000, "");
      return true;
    }
    if ((dopts_.dialect == ServerDialect::kRyx || dopts_.dialect == ServerDialect::kChat) && c.busy &&
        c.drive == run.id) {
      c.busy = false;  // the next frame that waited is handled now
      ConPtr con = c.con;
      asio::post(ioc_, [this, con] { HandleWaiting(con); });
    }
    return false;
  }

  void HandleWaiting(ConPtr con) {
    auto it = conns_.find(con.get());
    if (it == conns_.end()) return;
    Conn& c = *it->second;
    while (!c.busy && !c.dead && !c.waiting.empty()) {
      auto frame = std::move(c.waiting.front());
      c.waiting.pop_front();
      HandleDialectFrame(c, frame.first, frame.second);
    }
  }

  void OnDialectMessage(Conn& c, bool binary, const std::string& payload) {
    if (c.busy && dopts_.dialect == ServerDialect::kChat) {  // chat: only a new message waits for the reply
      ClientAction a = ParseClientFrame(dopts_, c.ep, binary, payload, Clock::now());
      if (a.kind != ClientAction::Kind::kStart) return TurnFrame(c, a);
    }
    if (c.busy || !c.waiting.empty()) {  // ryx: one frame at a time; this one waits for the run's end
      c.waiting.emplace_back(binary, payload);
      return;
    }
    HandleDialectFrame(c, binary, payload);
  }

  void HandleDialectFrame(Conn& c, bool binary, const std::string& payload) {
    ClientAction a = ParseClientFrame(dopts_, c.ep, binary, payload, Clock::now());
    switch (dopts_.dialect) {
      case ServerDialect::kCmbagent: return MarsFrame(c, a);
      case ServerDialect::kRyx:
      case ServerDialect::kChat: return TurnFrame(c, a);
      case ServerDialect::kA2a: return A2aFrame(c, a);
      case ServerDialect::kAladdin: return AladdinFrame(c, a);
      default: return;
    }
  }

  // ---- cmbagent ----
  void MarsFrame(Conn& c, const ClientAction& a) {
    using K = ClientAction::Kind;
    auto now = Clock::now();
    const std::string& task_id = c.ep.id;
    if (!c.started) {  // the first frame: a task, or (documented resume) a frame for the task's run
      c.started = true;
      if (a.kind == K::kBadFrame) {
        SendReply(c, mars::ErrorFrame(task_id, a.reply, now));
        return CloseLater(c, 1000, "");
      }
      if (a.has_task) return MarsStart(c, a);
      RunState* run = dopts_.mars_strict ? nullptr : LatestRun(task_id);
      if (!run) {
        SendReply(c, mars::ErrorFrame(task_id, "No task provided", now));
        return CloseLater(c, 1000, "");
      }
      c.drive = run->id;
      Attach(c, *run, run->frames.size(), false);  // a reconnect: live from here on
      MarsControl(c, *run, a);
      return Pump(c);
    }
    auto r = runs_.find(c.drive);
    if (r != runs_.end()) MarsControl(c, *r->second, a);
  }

  void MarsStart(Conn& c, const ClientAction& a) {
    const std::string& task_id = c.ep.id;
    std::string key = task_id;  // a task frame on a known task_id starts a new run: key "task_id#N"
    for (int n = 2; runs_.count(key); ++n) key = task_id + "#" + std::to_string(n);
    JsonDoc config;
    ParseConfig(a.config, &config);
    std::string err;
    RunState* run = StartDialectRun(key, task_id, a.task, a.model, config, &err);
    if (!run) {
      SendReply(c, mars::ErrorFrame(task_id, "Execution error: " + err, Clock::now()));
      return CloseLater(c, 1000, "");
    }
    c.drive = key;
    Attach(c, *run, 0);
  }

  static std::string MarsStatus(const RunEngine& e) {
    switch (e.state()) {
      case RunEngine::State::kRunning: return "executing";
      case RunEngine::State::kAwaitingApproval: return "waiting_approval";
      case RunEngine::State::kPaused: return "paused";
      case RunEngine::State::kFinished: break;
    }
    switch (e.outcome()) {
      case Outcome::kCompleted: return "completed";
      case Outcome::kCancelled: return "cancelled";
      default: return "failed";
    }
  }

  void MarsControl(Conn& c, RunState& run, const ClientAction& a) {
    using K = ClientAction::Kind;
    auto now = Clock::now();
    std::vector<EngineEvent> caused;
    std::string err;
    switch (a.kind) {
      case K::kPing:
        if (!c.orphaned) SendReply(c, a.reply);
        return;
      case K::kPause:  // a refused control is not answered
        if (run.engine->Pause(&caused, &err)) Apply(run, caused);
        return;
      case K::kResume:
        if (run.engine->Resume(&caused, &err)) Apply(run, caused);
        return;
      case K::kCancel:
        if (run.engine->Cancel(&caused, &err)) Apply(run, caused);
        return;
      case K::kApprove: {
        std::string id = a.approval_id.empty() ? run.engine->pending_approval_id() : a.approval_id;
        std::string resolution = a.resolution;
        if (resolution.empty() && a.approved >= 0) resolution = run.engine->ResolutionFor(a.approved == 1);
        bool ok = !id.empty() && run.engine->Resolve(id, resolution, a.feedback, &caused, &err);
        if (id.empty()) err = "Approval None not found or already resolved";
        if (ok) Apply(run, caused);
        else SendReply(c, mars::ErrorFrame(c.ep.id, err, now));
        return;
      }
      case K::kRequestState: {
        if (c.orphaned) return;
        std::string status = MarsStatus(*run.engine);
        SendReply(c, mars::StateFrame(c.ep.id, status, "Workflow is " + status, now));
        if (dopts_.mars_strict) return;  // the real replay queue discards
        // The run's frames pushed after `since`: kept 300 s, at most 1000.
        double horizon = UnixSeconds(now) - 300;
        std::vector<size_t> picked;
        for (size_t i = 0; i < run.frames.size(); ++i)
          if (run.frame_times[i] > a.since && run.frame_times[i] >= horizon) picked.push_back(i);
        size_t skip = picked.size() > 1000 ? picked.size() - 1000 : 0;
        for (size_t k = skip; k < picked.size(); ++k)
          if (SendCounted(c, run.frames[picked[k]])) return;
        return;
      }
      default:  // unknown types, a second task, frames that are not JSON: ignored
        return;
    }
  }

  // ---- ryx and chat: one frame at a time, a run per request ----
  void TurnFrame(Conn& c, const ClientAction& a) {
    using K = ClientAction::Kind;
    switch (a.kind) {
      case K::kReply:
      case K::kPing:
        return SendReply(c, a.reply);
      case K::kDrop:
        c.dead = true;
        return DropWhenFlushed(c.con, 0);
      case K::kStart: {
        JsonDoc config;
        ParseConfig(a.config, &config);
        std::string err, key = NewRunId();
        bool chat = dopts_.dialect == ServerDialect::kChat;
        RunState* run = StartDialectRun(key, chat ? c.ep.id : key, a.task, a.model, config, &err);
        if (!run) {
          if (chat)
            SendReply(c, JsonObj().Str("type", "error").Raw("data", JsonObj().Str("message", err).str())
                             .Str("timestamp", PyIsoTimestamp(Clock::now(), true, "")).str());
          else
            SendReply(c, JsonObj().Str(dopts_.ryx_documented ? "event" : "type", "error").Str("message", err).str());
          return;
        }
        c.drive = key;
        c.busy = true;
        return Attach(c, *run, 0);
      }
      default:
        return;
    }
  }

  // ---- a2a ----
  void A2aFrame(Conn& c, const ClientAction& a) {
    using K = ClientAction::Kind;
    switch (a.kind) {
      case K::kReply:
      case K::kPing:
        return SendReply(c, a.reply);
      case K::kClose:
        return CloseLater(c, 1000, "");
      case K::kCancel: {
        auto r = runs_.find(a.target);
        if (r == runs_.end())
          return SendReply(c, a2a::ControlResponse("cancel", "error", "Workflow " + a.target + " not found"));
        std::vector<EngineEvent> caused;
        std::string err;
        if (!r->second->engine->Cancel(&caused, &err))
          return SendReply(c, a2a::ControlResponse("cancel", "error", "Workflow " + a.target + ": " + err));
        SendReply(c, a2a::ControlResponse("cancel", "success", "Workflow " + a.target + " cancelled"));
        return Apply(*r->second, caused);
      }
      case K::kMetrics: {
        int64_t frames = 0, active = 0, agents = 0;
        for (auto& [id, run] : runs_) {
          frames += static_cast<int64_t>(run->frames.size());
          if (run->engine->state() != RunEngine::State::kFinished) ++active;
        }
        for (auto& [ptr, conn] : conns_)
          if (conn->ep.kind == Endpoint::Kind::kAgent) ++agents;
        return SendReply(c, a2a::Metrics(frames, static_cast<int64_t>(runs_.size()), agents, active, Clock::now()));
      }
      default:
        return;
    }
  }

  // ---- aladdin ----
  void AladdinFrame(Conn& c, const ClientAction& a) {
    using K = ClientAction::Kind;
    switch (a.kind) {
      case K::kPing:
        return SendReply(c, a.reply);
      case K::kSubscribe: {
        SendReply(c, a.reply);  // the pong, even for a subscribe without ids
        if (a.target.empty()) return;
        if (a.target == "all") {  // a monitor: every execution from now on
          c.watch_all = true;
          for (auto& [id, run] : runs_)
            if (!c.subs.count(id)) Attach(c, *run, Lines(*run).size(), false);
          return;
        }
        c.watch.insert(a.target);
        auto r = runs_.find(a.target);
        if (r != runs_.end()) {  // no replay for a late subscriber
          if (!c.subs.count(a.target)) Attach(c, *r->second, Lines(*r->second).size());
          return;
        }
        JsonDoc config;
        ParseConfig(a.config, &config);
        if (a.conversation) config.AddMember("conversation", true, config.GetAllocator());
        std::string err;
        std::string task = a.task.empty() ? "execution " + a.target : a.task;
        RunState* run = StartDialectRun(a.target, a.target, task, a.model, config, &err);
        if (!run) {
          if (opts_.verbose) std::cerr << "wsflow serve: cannot start " << a.target << ": " << err << "\n";
          return;
        }
        return Attach(c, *run, 0);
      }
      case K::kUnsubscribe: {
        if (a.target == "all") {
          c.watch_all = false;
          std::vector<std::string> drop;
          for (auto& [id, next] : c.subs)
            if (!c.watch.count(id)) drop.push_back(id);
          for (auto& id : drop) Detach(c, id);
        } else if (!a.target.empty()) {
          c.watch.erase(a.target);
          if (!c.watch_all) Detach(c, a.target);
        }
        return;
      }
      default:  // unknown types, bad JSON, null: no reply
        return;
    }
  }

  ServeOptions opts_;
  TlsContext tls_;
  RunStore store_;
  asio::io_context ioc_;
  WsServer ws_;
  std::map<void*, std::unique_ptr<Conn>> conns_;
  std::map<std::string, std::unique_ptr<RunState>> runs_;
  std::mt19937_64 rng_;
  bool shutting_down_ = false;
  DialectOptions dopts_;
  bool native_ = true;
  std::map<std::string, Conn*> mars_owner_;      // cmbagent: task_id -> its open socket
  std::map<std::string, std::string> latest_;    // public id -> the key of its latest run
  // replay --serve of a dialect (LoadScript)
  bool script_ = false;
  std::vector<ScriptFrame> script_frames_;  // the backend's frames only
  bool script_waits_ = false;               // the recorded client spoke: wait for this one's first frame
  size_t script_gate_ = 0;                  // the first frame sent after the client's first frame
  int64_t script_gate_ms_ = 0;              // when the client's first frame was sent
  size_t script_loop_from_ = 0;             // --loop plays from here again
};

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
TlsContext MakeTlsContext(const ServeOptions& o, std::string* err) {
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

}  // namespace

int RunServer(const ServeOptions& opts) {
  if (opts.tls_cert.empty() && opts.tls_key.empty() && opts.tls_client_ca.empty()) {
    Server<PlainConfig> server(opts, nullptr);
    return server.Run();
  }
  std::string err;
  TlsContext tls;
  if (opts.tls_cert.empty() || opts.tls_key.empty())
    err = "--tls-cert and --tls-key go together (and --tls-client-ca needs them)";
  else
    tls = MakeTlsContext(opts, &err);
  if (!tls) {  // before listening: nothing has started
    std::cerr << "wsflow serve: " << err << "\n";
    return kExitUsage;
  }
  Server<TlsConfig> server(opts, std::move(tls));
  return server.Run();
}

}  // namespace wsflow
