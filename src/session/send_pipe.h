// `wsflow send`: a pipe filter over one WebSocket. Each stdin line goes out as one frame (JSON lines
// are checked unless --text); each frame received comes out as one NDJSON line. Lines read while
// disconnected wait in the session's offline queue. Ends at stdin EOF plus --linger, when the
// server closes, or when a wait condition holds.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/ndjson_writer.h"
#include "core/predicate.h"
#include "core/wait_condition.h"
#include "replay/recording.h"
#include "session/ws_session.h"

namespace wsflow {

struct SendOptions {
  std::string url;
  enum class Mode { kJson, kText, kBinary } mode = Mode::kJson;
  Millis linger{1000};
  WaitCondition wait;  ///< --until (approval: a frame of type approval_requested), --until-match, --max-events
  Millis timeout{0};
  std::string record_file;
  SessionOptions session;
};

class SendPipe : public SessionHandler {
 public:
  explicit SendPipe(SendOptions opts);
  int Run();

  void OnOpen(bool reconnect) override;
  void OnText(std::string_view frame) override;
  void OnBinary(std::string_view frame) override;
  void OnRetry(const Disconnect& why, Millis delay, int attempt, int max_attempts) override;
  bool ShouldReconnect(const Disconnect& why) override;
  void OnGiveUp(const Disconnect& why, bool exhausted) override;
  void OnSignal(int signo) override;

 private:
  void OnLine(std::string line, int64_t number);
  void OnEof();
  void Linger();
  void Emit(std::string_view line, const JsonValue* v, std::string_view type);
  void Finish(int status, const std::string& message);
  /// Runs `fn` on the loop, from any thread; dropped once the loop has ended.
  void PostFromThread(std::function<void()> fn);

  SendOptions opts_;
  NdjsonWriter writer_;
  RecordingWriter recorder_;
  std::unique_ptr<Session> session_;
  std::shared_ptr<std::mutex> post_mu_ = std::make_shared<std::mutex>();
  std::shared_ptr<Session*> post_target_ = std::make_shared<Session*>(nullptr);
  JsonParser parser_;
  std::string_view in_frame_;  ///< the frame being handled (for the recording)
  bool eof_ = false;
  bool finished_ = false;
  int exit_ = -1;
  int64_t sent_ = 0;
  int64_t received_ = 0;
};

}  // namespace wsflow
