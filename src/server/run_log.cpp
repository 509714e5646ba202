#include "server/run_log.h"

#include <algorithm>

namespace wsflow::serve {

RunLog::RunLog(RunStore* store, LogCache* cache, std::string run_id)
    : store_(store), cache_(cache), run_id_(std::move(run_id)), open_(std::make_shared<LogBlock>()) {}

RunLog::~RunLog() { cache_->Forget(this); }

void RunLog::SetStored(size_t count) {
  count_ = count;
  loaded_ = false;
  open_.reset();
}

void RunLog::Append(std::string_view line) {
  store_->Append(run_id_, line);
  if (!open_) {  // appending after Seal(): a new open block
    open_ = std::make_shared<LogBlock>();
    open_first_ = count_;
    open_offset_ = bytes_;
  }
  open_->text.append(line.data(), line.size());
  open_->ends.push_back(static_cast<uint32_t>(open_->text.size()));
  open_->text.push_back('\n');
  bytes_ += line.size() + 1;
  ++count_;
  if (Full(*open_)) CloseOpenBlock(true);
}

// Live readers mostly want what was just written: a closed block goes to the cache at once.
void RunLog::CloseOpenBlock(bool cache_it) {
  blocks_.push_back({open_first_, open_offset_});
  if (cache_it && open_->lines() > 0) {
    open_->text.shrink_to_fit();
    open_->ends.shrink_to_fit();
    cache_->Put(this, blocks_.size() - 1, std::move(open_));
  }
  open_ = std::make_shared<LogBlock>();
  open_first_ = count_;
  open_offset_ = bytes_;
}

void RunLog::Seal() {
  if (!open_) return;
  if (open_->lines() > 0) CloseOpenBlock(true);
  open_.reset();
}

size_t RunLog::held_bytes() const {
  return blocks_.capacity() * sizeof(BlockStart) + (open_ ? open_->bytes() : 0) + sizeof(*this);
}

bool RunLog::Line(size_t i, std::string_view* out, std::string* err) {
  if (!loaded_) {  // an ended run stored before: its blocks are found now, none is kept open
    if (!Load(nullptr, false, err)) return false;
    Seal();
  }
  if (i >= count_) {
    *err = "run " + run_id_ + " has no event " + std::to_string(i + 1);
    return false;
  }
  if (open_ && i >= open_first_) {
    *out = open_->line(i - open_first_);
    return true;
  }
  auto after = std::upper_bound(blocks_.begin(), blocks_.end(), i,
                                [](size_t line, const BlockStart& b) { return line < b.first_line; });
  size_t b = static_cast<size_t>(after - blocks_.begin()) - 1;
  if (!hold_ || hold_index_ != b) {
    std::shared_ptr<const LogBlock> block = cache_->Find(this, b);
    if (!block && !ReadBlock(b, &block, err)) return false;
    hold_ = std::move(block);
    hold_index_ = b;
  }
  *out = hold_->line(i - blocks_[b].first_line);
  return true;
}

bool RunLog::ReadBlock(size_t b, std::shared_ptr<const LogBlock>* out, std::string* err) {
  uint64_t end_offset = b + 1 < blocks_.size() ? blocks_[b + 1].offset : open_ ? open_offset_ : bytes_;
  uint64_t end_line = b + 1 < blocks_.size() ? blocks_[b + 1].first_line : open_ ? open_first_ : count_;
  auto block = std::make_shared<LogBlock>();
  if (!store_->Read(run_id_, blocks_[b].offset, end_offset - blocks_[b].offset, &block->text, err)) return false;
  for (size_t pos = 0; pos < block->text.size();) {
    size_t nl = block->text.find('\n', pos);
    if (nl == std::string::npos) break;
    block->ends.push_back(static_cast<uint32_t>(nl));
    pos = nl + 1;
  }
  if (block->lines() != end_line - blocks_[b].first_line) {
    *err = "the events file of run " + run_id_ + " changed under the server";
    return false;
  }
  cache_->Put(this, b, block);
  *out = std::move(block);
  return true;
}

bool RunLog::Load(const std::function<bool(std::string_view line, std::string* err)>& each, bool cut_torn,
                  std::string* err) {
  loaded_ = false;  // until the whole file is read
  blocks_.clear();
  cache_->Forget(this);
  hold_.reset();
  open_ = std::make_shared<LogBlock>();
  open_first_ = open_offset_ = bytes_ = 0;
  count_ = 0;
  std::string partial;  // a line cut by the end of a chunk
  bool failed = false;
  auto take = [&](std::string_view line) {
    if (each && !each(line, err)) {
      failed = true;
      return false;
    }
    open_->text.append(line.data(), line.size());
    open_->ends.push_back(static_cast<uint32_t>(open_->text.size()));
    open_->text.push_back('\n');
    bytes_ += line.size() + 1;
    ++count_;
    if (Full(*open_)) CloseOpenBlock(false);  // read again from disk when someone wants it
    return true;
  };
  uint64_t size = 0;
  bool ok = store_->Scan(
      run_id_,
      [&](std::string_view chunk) {
        while (!chunk.empty()) {
          size_t nl = chunk.find('\n');
          if (nl == std::string_view::npos) {
            partial.append(chunk.data(), chunk.size());
            return true;
          }
          bool more;
          if (partial.empty()) {
            more = take(chunk.substr(0, nl));
          } else {
            partial.append(chunk.data(), nl);
            more = take(partial);
            partial.clear();
          }
          if (!more) return false;
          chunk.remove_prefix(nl + 1);
        }
        return true;
      },
      &size, err);
  if (!ok || failed) return false;
  if (!partial.empty() && cut_torn && !store_->Truncate(run_id_, bytes_, err)) return false;
  loaded_ = true;
  return true;
}

}  // namespace wsflow::serve
