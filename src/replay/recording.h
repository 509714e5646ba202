// Recordings (docs/recording.md): NDJSON, a header line, then one line per frame sent or received
// with its offset from the start and, for events that were printed, the envelope as printed.
// Append-only and flushed per line, so a killed recorder leaves a usable file. Secrets never
// enter it: URL query values that look like credentials are masked.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/exit_status.h"
#include "core/json.h"
#include "core/url.h"  // MaskUrlSecrets, for the header's url

namespace wsflow {

inline constexpr int kRecordingFormat = 1;

struct RecordingHeader {
  std::string command;  ///< watch, execute, send
  std::string url;      ///< masked
  std::string dialect = "native";  ///< as known when recording started; "auto": detected later
  std::string run_id;
  std::string task;         ///< execute: the task
  std::string config_json;  ///< execute: the config object ("" = none)
  std::string started_at;
};

class RecordingWriter {
 public:
  RecordingWriter() = default;
  ~RecordingWriter();
  RecordingWriter(const RecordingWriter&) = delete;
  RecordingWriter& operator=(const RecordingWriter&) = delete;

  /// Creates (truncates) `path` and writes the header. False with a reason.
  bool Open(const std::string& path, const RecordingHeader& header, std::string* err);
  /// A frame we sent.
  void Out(std::string_view frame);
  /// A frame we received; `printed` is the envelope line printed for it ("" when none).
  void In(std::string_view frame, std::string_view printed);
  /// The command's exit status, as the last line.
  void End(int exit_status);
  /// Closes the file: false (with the reason) when any line could not be written whole (ENOSPC,
  /// EIO, ...): the recording is not to be trusted.
  bool Close(std::string* err);
  bool is_open() const { return file_ != nullptr; }
  /// Lines written so far (the header and every frame).
  int64_t lines() const { return lines_; }

 private:
  void Line(const char* dir, std::string_view frame, std::string_view printed, int exit_status);
  void Put(const char* data, size_t size);
  std::FILE* file_ = nullptr;
  std::string path_;
  int error_ = 0;  ///< the first write error (errno)
  int64_t lines_ = 0;
  std::chrono::steady_clock::time_point start_;
};

struct RecordedEvent {
  std::string line;  ///< the envelope as printed
  int64_t t_ms = 0;
};

/// A frame as it went over the wire: JSON frames re-serialised compactly, others as they were.
struct RecordedFrame {
  bool in = false;  ///< received (true) or sent
  std::string text;
  int64_t t_ms = 0;
};

struct Recording {
  bool has_header = false;  ///< false: plain `wsflow watch` output (no timing)
  RecordingHeader header;
  std::vector<RecordedEvent> events;
  std::vector<RecordedFrame> frames;  ///< every frame sent or received, in order (with a header only)
  int end_status = -1;            ///< from the end line, when the recorder finished
  bool torn_tail = false;         ///< the last line was cut (a killed recorder)
  int skipped = 0;                ///< bad lines skipped (--skip-bad)
};

/// Parses a recording or plain NDJSON events. `name` is used in messages ("FILE:LINE: ...").
/// A torn last line is tolerated (torn_tail); any other bad line is an error unless skip_bad.
bool ParseRecording(const std::string& text, const std::string& name, bool skip_bad, Recording* out,
                    std::string* err);

/// How the recorded run ended, from its first terminal event as its dialect reads it (kNone when
/// it has none).
Outcome RecordedOutcome(const Recording& r);

/// The protocol the recorded backend spoke: the `dialect` of its events when they name one (the
/// client may have detected it after the header was written), else the header's; "native" when
/// neither tells.
std::string RecordedDialect(const Recording& r);

}  // namespace wsflow
