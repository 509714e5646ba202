// `wsflow send`: a pipe filter over one WebSocket. Each stdin line goes out as one frame (JSON lines
// are checked unless --text); each frame received comes out as one NDJSON line. Lines read while
// disconnected wait in the session's offline queue; when it is full, stdin is not read until the
// connection takes lines again (a pipe waits, nothing is dropped). Ends at stdin EOF plus
// --linger, when the server closes, when a wait condition holds, or when the session gives up.
//
// Threads: stdin is read on a thread of its own, which hands each line to the loop (Post) and
// waits while the lines it handed over and not sent yet reach the limit; everything else runs on
// the session's loop.
#pragma once

#include <condition_variable>
#include <deque>
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
  /// stdin is a terminal: a line that is not JSON is reported and skipped (a person typed it);
  /// piped, it ends the command (exit 2).
  bool interactive = false;
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
  /// Lines kept while the connection is away go out once it is open; the reader is told how many
  /// are still kept.
  void SendKept();
  void Kept();
  void Linger();
  void Emit(std::string_view line, const JsonValue* v, std::string_view type);
  void Finish(int status, const std::string& message);
  /// Runs `fn` on the loop, from any thread; dropped once the loop has ended.
  void PostFromThread(std::function<void()> fn);

  SendOptions opts_;
  NdjsonWriter writer_;
  RecordingWriter recorder_;
  std::unique_ptr<Session> session_;
  /// What the stdin thread and the loop share (the thread may outlive this object).
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    Session* target = nullptr;  ///< null: the loop has ended, nothing is posted
    size_t posted = 0;          ///< lines handed to the loop and not handled yet
    size_t kept = 0;            ///< lines the loop keeps until the connection takes them
    size_t limit = 1;           ///< the reader waits while posted + kept reach this (--queue-size)
  };
  std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
  std::deque<std::string> waiting_;  ///< lines the session's queue had no room for (--queue-size 0)
  JsonParser parser_;
  std::string_view in_frame_;  ///< the frame being handled (for the recording)
  bool eof_ = false;
  bool finished_ = false;
  int exit_ = -1;
  int64_t sent_ = 0;
  int64_t received_ = 0;
};

}  // namespace wsflow
