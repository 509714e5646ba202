#include "server/ws_server.h"

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>
#include <websocketpp/concurrency/none.hpp>

#include <algorithm>
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

#include "core/envelope.h"
#include "core/exit_status.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "server/run_engine.h"
#include "server/run_store.h"
#include "server/scenario.h"

namespace wsflow {

namespace {

// One thread runs everything: no locks, no strands.
struct ServerConfig : public websocketpp::config::asio {
  typedef ServerConfig type;
  typedef websocketpp::config::asio base;
  typedef websocketpp::concurrency::none concurrency_type;
  typedef websocketpp::log::basic<concurrency_type, websocketpp::log::elevel> elog_type;
  typedef websocketpp::log::basic<concurrency_type, websocketpp::log::alevel> alog_type;
  struct transport_config : public base::transport_config {
    typedef type::concurrency_type concurrency_type;
    typedef type::alog_type alog_type;
    typedef type::elog_type elog_type;
    static bool const enable_multithreading = false;
  };
  typedef websocketpp::transport::asio::endpoint<transport_config> transport_type;
  static bool const enable_multithreading = false;
};

using WsServer = websocketpp::server<ServerConfig>;
using ConPtr = WsServer::connection_ptr;
using Hdl = websocketpp::connection_hdl;
using websocketpp::frame::opcode::text;

constexpr size_t kSendHighWater = 1u << 20;  // bytes queued per connection before we wait
constexpr int kBatch = 256;                  // events made per loop turn when a run has no delay
constexpr size_t kRememberedReplies = 4096;  // request ids remembered per run (idempotent retries)

struct Conn {
  ConPtr con;
  std::string path_run;                // from /ws/{run_id}
  std::map<std::string, size_t> subs;  // run id -> index of the next event to send
  int64_t sent = 0;                    // run events sent on this connection (fault counters)
  bool dead = false;
  bool stalled = false;
  bool pump_scheduled = false;
  bool held_back = false;  // backpressure was applied (logged once)
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
};

class Server {
 public:
  explicit Server(const ServeOptions& opts) : opts_(opts), store_(opts.data_dir), rng_(std::random_device{}()) {}

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
    ws_.set_validate_handler([this](Hdl h) { return Validate(h); });
    ws_.set_open_handler([this](Hdl h) { OnOpen(h); });
    ws_.set_close_handler([this](Hdl h) { OnGone(h); });
    ws_.set_fail_handler([this](Hdl h) { OnGone(h); });
    ws_.set_message_handler([this](Hdl h, WsServer::message_ptr m) { OnMessage(h, m); });
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
    if (!opts_.quiet) std::cerr << "wsflow serve: listening on ws://" << opts_.host << ":" << port << "\n";

    asio::signal_set signals(ioc_, SIGINT, SIGTERM);
    signals.async_wait([this](const asio::error_code& e, int) {
      if (!e) Shutdown();
    });
    for (auto& [id, run] : runs_) ScheduleTick(*run, 0);  // runs cut short by a restart go on
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
      auto run = MakeRun(s.run_id, std::string(GetString(meta, "task")), std::string(GetString(meta, "model")),
                         config ? *config : empty, err);
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
      }
      if (run->engine->state() == RunEngine::State::kFinished) store_.Finish(run->id);
      runs_[s.run_id] = std::move(run);
    }
    err->clear();
    return true;
  }

  std::unique_ptr<RunState> MakeRun(const std::string& id, const std::string& task, const std::string& model,
                                       const JsonValue& config, std::string* err) {
    Scenario scenario;
    if (!LoadScenarioFor(config, &scenario, err)) return nullptr;
    auto run = std::make_unique<RunState>();
    run->id = id;
    run->delay_ms = static_cast<int>(GetInt(config, "delay_ms", scenario.delay_ms));
    if (run->delay_ms < 0) run->delay_ms = 0;
    run->engine = std::make_unique<RunEngine>(
        std::move(scenario), std::vector<std::pair<std::string, std::string>>{
                                 {"run_id", id}, {"task", task}, {"model", model.empty() ? "sim-1" : model}});
    return run;
  }

  bool LoadScenarioFor(const JsonValue& config, Scenario* out, std::string* err) {
    std::string file(GetString(config, "scenario_file"));
    std::string name(GetString(config, "scenario", "demo"));
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

  // ---- connections ----
  bool Validate(Hdl h) {
    ConPtr con = ws_.get_con_from_hdl(h);
    std::string path = con->get_resource();
    path = path.substr(0, path.find('?'));
    if (path == "/" || path == "/ws" || path.rfind("/ws/", 0) == 0) return true;
    con->set_status(websocketpp::http::status_code::not_found);
    con->set_body("wsflow serve: no such endpoint " + path + " (use /ws or /ws/{run_id})\n");
    return false;
  }

  void OnOpen(Hdl h) {
    ConPtr con = ws_.get_con_from_hdl(h);
    auto c = std::make_unique<Conn>();
    c->con = con;
    std::string path = con->get_resource();
    path = path.substr(0, path.find('?'));
    if (path.rfind("/ws/", 0) == 0) c->path_run = Decode(path.substr(4));
    conns_[con.get()] = std::move(c);
  }

  void OnGone(Hdl h) {
    ConPtr con = ws_.get_con_from_hdl(h);
    auto it = conns_.find(con.get());
    if (it == conns_.end()) return;
    for (auto& [run_id, next] : it->second->subs) {
      auto r = runs_.find(run_id);
      if (r != runs_.end()) r->second->subscribers.erase(it->second.get());
    }
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
  void OnMessage(Hdl h, WsServer::message_ptr msg) {
    ConPtr con = ws_.get_con_from_hdl(h);
    auto it = conns_.find(con.get());
    if (it == conns_.end()) return;
    Conn& c = *it->second;
    if (c.stalled || c.dead) return;
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
        resolution = run.engine->ResolutionFor(GetBool(doc, "approved", false));
      }
      ok = run.engine->Resolve(approval_id, resolution, GetString(doc, "feedback"), &caused, &err);
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
    auto existing = runs_.find(run_id);
    if (existing != runs_.end()) {
      // A retried execute (same request id) attaches to the run it started; anything else is refused.
      if (!request_id.empty() && existing->second->request_id == request_id)
        return Subscribe(c, *existing->second, GetInt(doc, "since_seq", 0), request_id, "execute");
      SendReply(c, ErrorLine(run_id, request_id, "run_exists", "run " + run_id + " already exists"));
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
    int budget = run.engine->NextDelayMs(run.delay_ms) > 0 ? 1 : kBatch;
    for (int i = 0; i < budget && run.engine->Next(&e); ++i) Emit(run, e);
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
  }

  // Written before it is sent: a restarted server still has every event a client saw.
  void Publish(RunState& run) {
    store_.Flush();
    if (run.engine->state() == RunEngine::State::kFinished) store_.Finish(run.id);
    std::vector<Conn*> subs(run.subscribers.begin(), run.subscribers.end());
    for (Conn* c : subs) Pump(*c);
  }

  void SchedulePump(Conn& c) {
    if (c.pump_scheduled) return;
    c.pump_scheduled = true;
    ConPtr con = c.con;
    ws_.set_timer(2, [this, con](const websocketpp::lib::error_code&) {
      auto it = conns_.find(con.get());
      if (it == conns_.end()) return;
      it->second->pump_scheduled = false;
      Pump(*it->second);
    });
  }

  void Pump(Conn& c) {
    if (c.dead || c.stalled) return;
    for (auto& [run_id, next] : c.subs) {
      auto r = runs_.find(run_id);
      if (r == runs_.end()) continue;
      RunState& run = *r->second;
      while (next < run.events.size()) {
        if (c.con->get_buffered_amount() >= kSendHighWater) {
          if (!c.held_back && opts_.verbose)
            std::cerr << "wsflow serve: backpressure: a client reads slowly; holding back its events\n";
          c.held_back = true;
          return SchedulePump(c);
        }
        websocketpp::lib::error_code ec = c.con->send(run.events[next], text);
        if (ec) return;
        ++next;
        ++c.sent;
        if (Faults(c)) return;
      }
      if (opts_.close_code && !opts_.drop_every && run.engine->state() == RunEngine::State::kFinished) {
        CloseLater(c, opts_.close_code, "run finished");
        return;
      }
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
    for (auto& [ptr, c] : conns_) {
      if (c->stalled || c->dead) c->con->terminate({});
      else c->con->close(websocketpp::close::status::going_away, "server shutting down", ec);
    }
    if (conns_.empty()) ioc_.stop();
    ws_.set_timer(2000, [this](const websocketpp::lib::error_code&) { ioc_.stop(); });
  }

  ServeOptions opts_;
  RunStore store_;
  asio::io_context ioc_;
  WsServer ws_;
  std::map<void*, std::unique_ptr<Conn>> conns_;
  std::map<std::string, std::unique_ptr<RunState>> runs_;
  std::mt19937_64 rng_;
  bool shutting_down_ = false;
};

}  // namespace

int RunServer(const ServeOptions& opts) {
  Server server(opts);
  return server.Run();
}

}  // namespace wsflow
