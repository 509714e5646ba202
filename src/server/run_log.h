// One run's events, numbered from 0 (the event with seq 1): appended as the run makes them and
// read back by position for any watcher, at any position. The text lives in the run's events
// file (RunStore); memory holds the block being filled and, in the shared LogCache, the blocks
// read lately. A finished run nobody reads costs a few dozen bytes per block of events.
//
// Blocks close at kBlockLines lines or kBlockBytes bytes, whichever comes first, so one rule cuts
// a file the same way when it is written and when it is read again after a restart.
//
// Thread contract: the server's loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/log_cache.h"
#include "server/run_store.h"

namespace wsflow::serve {

class RunLog {
 public:
  static constexpr size_t kBlockLines = 256;
  static constexpr size_t kBlockBytes = 32 * 1024;

  RunLog(RunStore* store, LogCache* cache, std::string run_id);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  /// A run that has ended and is already on disk with `count` events (its summary says so): its
  /// file is read when a line is first asked for, not before.
  void SetStored(size_t count);

  size_t size() const { return count_; }
  /// Appends an event line (no newline) to the file (buffered in the store) and the open block.
  void Append(std::string_view line);
  /// Event `i` (< size()). The view stays valid until the next call on this log. False with a
  /// reason when the file cannot be read or does not hold the line.
  bool Line(size_t i, std::string_view* out, std::string* err);

  /// Reads the events file once to learn where its blocks start, calling `each` (when given) on
  /// every line in order; `each` returning false (with `*err` set) stops with that error. With
  /// `cut_torn`, a torn last line (a killed server) is cut off the file; without, it is ignored.
  bool Load(const std::function<bool(std::string_view line, std::string* err)>& each, bool cut_torn,
            std::string* err);
  bool loaded() const { return loaded_; }
  /// The run has ended: its open block goes to the cache (and may leave memory).
  void Seal();

  /// Bytes this log holds outside the cache (the open block and the block index).
  size_t held_bytes() const;
  const std::string& run_id() const { return run_id_; }

 private:
  struct BlockStart {
    uint64_t first_line;
    uint64_t offset;
  };
  static bool Full(const LogBlock& b) { return b.lines() >= kBlockLines || b.text.size() >= kBlockBytes; }
  void CloseOpenBlock(bool cache_it);
  bool ReadBlock(size_t b, std::shared_ptr<const LogBlock>* out, std::string* err);

  RunStore* store_;
  LogCache* cache_;
  std::string run_id_;
  std::vector<BlockStart> blocks_;  ///< the closed blocks
  std::shared_ptr<LogBlock> open_;  ///< lines from open_first_ on; null once sealed
  uint64_t open_first_ = 0, open_offset_ = 0;
  uint64_t bytes_ = 0;  ///< the events file's length once everything appended is written
  size_t count_ = 0;
  bool loaded_ = true;
  std::shared_ptr<const LogBlock> hold_;  ///< the block of the last view given out
  size_t hold_index_ = 0;
};

}  // namespace wsflow::serve
