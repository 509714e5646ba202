// Where runs live: one directory holding, per run, how it was started, its events, and once it has
// ended a short summary, so that a restarted server can list and serve it without reading its
// events (docs/protocol.md#persistence). Without --data-dir the directory is a private temporary
// one, removed when the store is destroyed: one code path, memory bounded the same way.
//
// Layout (<id> is the run id percent-encoded, core/url.h):
//   DIR/<id>.run.json       how the run was started; written once, atomically
//   DIR/<id>.events.ndjson  one event a line, appended; handed to the kernel before it is sent
//   DIR/<id>.end.json       the run's summary once it has ended; written once, atomically
//
// Appends are buffered per run and written by Flush() with one write(2) per run; descriptors are
// kept open for the runs used last (a bounded set), so a thousand live runs do not hold a
// thousand files open.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace wsflow::serve {

/// One run as the directory holds it, without its events.
struct StoredRunEntry {
  std::string run_id;
  std::string meta;         ///< the .run.json text
  std::string end;          ///< the .end.json text; empty while the run has not ended
  double meta_mtime = 0;    ///< unix seconds (the creation time of runs stored without "created")
};

class RunStore {
 public:
  /// `dir` empty: a temporary directory (under $TMPDIR, else /tmp), removed with the store.
  explicit RunStore(std::string dir);
  ~RunStore();
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  /// Creates the directory if needed. False with a one-line reason.
  bool Open(std::string* err);
  /// Every run in the directory: its start and end records, not its events. A record that cannot
  /// be read is an error naming the file.
  bool Index(std::vector<StoredRunEntry>* out, std::string* err);

  /// Records a new run (atomically).
  bool Create(const std::string& run_id, const std::string& meta, std::string* err);
  /// Appends an event line (buffered until Flush).
  void Append(const std::string& run_id, std::string_view line);
  /// Hands everything appended to the kernel: call before sending what was appended. Write
  /// errors are reported once per run on stderr; the server goes on.
  void Flush();
  /// The run has ended: its summary (atomically), after its events.
  bool End(const std::string& run_id, const std::string& summary, std::string* err);

  /// Bytes [offset, offset + len) of the run's events file (pending appends flushed first).
  bool Read(const std::string& run_id, uint64_t offset, size_t len, std::string* out, std::string* err);
  /// Reads the events file from its start in chunks: `each(chunk)` (false stops). `*size` is the
  /// file's length. A missing file is an empty one.
  bool Scan(const std::string& run_id, const std::function<bool(std::string_view chunk)>& each, uint64_t* size,
            std::string* err);
  /// Cuts the events file to `size` bytes (a torn last line left by a killed server).
  bool Truncate(const std::string& run_id, uint64_t size, std::string* err);

  /// The run's events file.
  std::string EventsPath(const std::string& run_id) const;
  const std::string& dir() const { return dir_; }
  bool temporary() const { return temporary_; }
  /// Descriptors held open now (for tests and the fd figures).
  size_t open_files() const { return fds_.size(); }
  /// At most this many event files stay open at once.
  static constexpr size_t kMaxOpenFiles = 64;

 private:
  int Fd(const std::string& run_id, std::string* err);
  void CloseFd(const std::string& run_id);
  bool FlushRun(const std::string& run_id, std::string* pending);
  void RemoveTemporary();

  std::string dir_;
  bool temporary_ = false;
  std::map<std::string, std::string> pending_;  ///< run id -> appended, not written yet
  struct OpenFile {
    int fd;
    std::list<std::string>::iterator lru;
  };
  std::map<std::string, OpenFile> fds_;
  std::list<std::string> lru_;             ///< most recently used first
  std::map<std::string, bool> reported_;   ///< write errors already said once
};

}  // namespace wsflow::serve
