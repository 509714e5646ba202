#include "server/log_cache.h"

namespace wsflow::serve {

std::shared_ptr<const LogBlock> LogCache::Find(const void* owner, size_t index) {
  auto it = index_.find(Key{owner, index});
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->block;
}

void LogCache::Put(const void* owner, size_t index, std::shared_ptr<const LogBlock> block) {
  Key key{owner, index};
  auto it = index_.find(key);
  if (it != index_.end()) {
    bytes_ -= it->second->block->bytes();
    lru_.erase(it->second);
    index_.erase(it);
  }
  bytes_ += block->bytes();
  lru_.push_front(Entry{key, std::move(block)});
  index_[key] = lru_.begin();
  Evict();
}

void LogCache::Evict() {
  // The block just put stays even when it alone is over the budget: its reader needs it now.
  while (bytes_ > budget_ && lru_.size() > 1) {
    Entry& last = lru_.back();
    bytes_ -= last.block->bytes();
    index_.erase(last.key);
    lru_.pop_back();
  }
}

void LogCache::Forget(const void* owner) {
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->key.owner == owner) {
      bytes_ -= it->block->bytes();
      index_.erase(it->key);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace wsflow::serve
