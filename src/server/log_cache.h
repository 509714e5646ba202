// The blocks of run events that serve keeps in memory, shared by every run, bounded by a byte
// budget: the ones used last stay, the others are dropped (their text is on disk). Memory then
// stays flat however many runs have finished and however long they are.
//
// Thread contract: the server's loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace wsflow::serve {

/// Consecutive event lines of one run: line k is text[begin(k), ends[k]), without its newline.
struct LogBlock {
  std::string text;           ///< the lines, each followed by '\n', as in the events file
  std::vector<uint32_t> ends; ///< the end of each line (the offset of its '\n')
  size_t lines() const { return ends.size(); }
  std::string_view line(size_t k) const {
    size_t begin = k == 0 ? 0 : ends[k - 1] + 1;
    return std::string_view(text).substr(begin, ends[k] - begin);
  }
  size_t bytes() const { return text.capacity() + ends.capacity() * sizeof(uint32_t) + sizeof(LogBlock); }
};

class LogCache {
 public:
  /// serve's budget: enough for the recent blocks of a thousand live runs and a few readers.
  static constexpr size_t kDefaultBudget = 32u << 20;
  explicit LogCache(size_t budget_bytes) : budget_(budget_bytes) {}
  LogCache(const LogCache&) = delete;
  LogCache& operator=(const LogCache&) = delete;

  /// The block `index` of `owner` (a run's log), or null. A hit becomes the most recently used.
  std::shared_ptr<const LogBlock> Find(const void* owner, size_t index);
  /// Keeps a block, dropping the least recently used ones beyond the budget. A holder of a
  /// dropped block's pointer keeps it alive until it lets go.
  void Put(const void* owner, size_t index, std::shared_ptr<const LogBlock> block);
  /// Drops every block of `owner`.
  void Forget(const void* owner);

  size_t bytes() const { return bytes_; }
  size_t blocks() const { return lru_.size(); }
  size_t budget() const { return budget_; }

 private:
  struct Key {
    const void* owner;
    size_t index;
    bool operator==(const Key& o) const { return owner == o.owner && index == o.index; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<const void*>()(k.owner) * 31 + k.index; }
  };
  struct Entry {
    Key key;
    std::shared_ptr<const LogBlock> block;
  };
  void Evict();

  size_t budget_;
  size_t bytes_ = 0;
  std::list<Entry> lru_;  ///< most recently used first
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index_;
};

}  // namespace wsflow::serve
