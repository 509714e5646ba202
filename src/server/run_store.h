// Keeps every event of every run, in memory and (with --data-dir) on disk, written before it is
// sent, so that a restarted server still serves a run's history and continues its numbering.
// Layout: DIR/<id>.run.json (how the run was started), DIR/<id>.events.ndjson (one event a line),
// <id> being the run id percent-encoded.
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace wsflow {

struct StoredRun {
  std::string run_id;
  std::string meta;                 ///< compact JSON: {"run_id","task","model","config","request_id"}
  std::vector<std::string> events;  ///< envelope lines, seq 1..N
};

class RunStore {
 public:
  /// `dir` empty: memory only (nothing to load, nothing written).
  explicit RunStore(std::string dir);
  ~RunStore();
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  /// Creates the directory if needed and reads every run in it. A torn last line (a server killed
  /// mid-write) is cut off; any other bad line is an error naming the file and line.
  bool Load(std::vector<StoredRun>* runs, std::string* err);
  /// Records a new run.
  bool Create(const std::string& run_id, const std::string& meta, std::string* err);
  /// Appends an event line of `run_id` (buffered until Flush).
  void Append(const std::string& run_id, const std::string& line);
  /// Hands everything appended to the kernel: call before sending what was appended.
  void Flush();
  /// The run will get no more events: close its file.
  void Finish(const std::string& run_id);

  bool persistent() const { return !dir_.empty(); }

 private:
  std::FILE* Open(const std::string& run_id);
  std::string dir_;
  std::map<std::string, std::FILE*> files_;
  bool dirty_ = false;
};

}  // namespace wsflow
