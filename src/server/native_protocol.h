// wsflow's native protocol (docs/protocol.md): execute, subscribe, unsubscribe, request_state,
// the controls and approvals, ping, list_runs and run_status, each answered with an ack, an error
// or a pong that echoes the request_id; run events go out through the Fanout.
//
// Thread contract: the server's loop thread only.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "core/json.h"
#include "server/fanout.h"
#include "server/id_maker.h"
#include "server/protocol.h"
#include "server/run_registry.h"

namespace wsflow::serve {

class NativeProtocol : public Protocol, public RunListener {
 public:
  struct Options {
    /// Not empty: serving the recording of this run (`replay --serve`); execute is refused.
    std::string replay_run_id;
  };
  static constexpr size_t kDefaultListLimit = 100;
  static constexpr size_t kMaxListLimit = 10000;
  static constexpr size_t kMaxRunIdBytes = 200;

  NativeProtocol(RunRegistry* runs, Fanout* fanout, Transport* transport, IdMaker* ids, Options opts);

  // Protocol
  bool Accepts(const std::string& resource, Refusal* refusal) override;
  void OnOpen(ConnId id, const std::string& resource) override;
  void OnMessage(ConnId id, bool binary, std::string_view payload) override;
  void OnClose(ConnId id) override;

  // RunListener
  void OnRunPublished(Run& run) override { fanout_->Publish(run.id()); }

 private:
  void Reply(ConnId id, const std::string& line) { transport_->Send(id, line); }
  std::string ErrorLine(std::string_view run_id, std::string_view request_id, std::string_view error_type,
                        const std::string& message) const;
  std::string AckLine(const Run& run, std::string_view request_id, std::string_view action,
                      int64_t from_seq = -1) const;
  void Execute(ConnId id, const JsonValue& msg, std::string run_id, const std::string& request_id);
  void Subscribe(ConnId id, Run& run, int64_t since_seq, const std::string& request_id,
                 std::string_view action = "subscribe");
  void ListRuns(ConnId id, const JsonValue& msg, const std::string& request_id);
  void RunStatus(ConnId id, Run& run, const std::string& request_id);
  void Control(ConnId id, Run& run, const std::string& type, const JsonValue& msg, const std::string& request_id);
  std::string RunOfApproval(ConnId id, std::string_view approval_id);

  RunRegistry* runs_;
  Fanout* fanout_;
  Transport* transport_;
  IdMaker* ids_;
  Options opts_;
  std::unordered_map<ConnId, std::string> path_run_;  ///< from /ws/{run_id}
  JsonParser parser_;  ///< reused for every frame
};

}  // namespace wsflow::serve
