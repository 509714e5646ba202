#include "server/run_store.h"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json.h"
#include "core/url.h"

namespace wsflow {

namespace {
const char* kMetaSuffix = ".run.json";
const char* kEventsSuffix = ".events.ndjson";

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}
}  // namespace

RunStore::RunStore(std::string dir) : dir_(std::move(dir)) {}

RunStore::~RunStore() {
  Flush();
  for (auto& [id, f] : files_) std::fclose(f);
}

bool RunStore::Load(std::vector<StoredRun>* runs, std::string* err) {
  runs->clear();
  if (dir_.empty()) return true;
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    *err = "cannot create data dir " + dir_ + ": " + std::strerror(errno);
    return false;
  }
  DIR* d = ::opendir(dir_.c_str());
  if (!d) {
    *err = "cannot read data dir " + dir_ + ": " + std::strerror(errno);
    return false;
  }
  std::vector<std::string> metas;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (EndsWith(name, kMetaSuffix)) metas.push_back(name.substr(0, name.size() - std::strlen(kMetaSuffix)));
  }
  ::closedir(d);
  for (const auto& base : metas) {
    StoredRun run;
    std::string meta_path = dir_ + "/" + base + kMetaSuffix, events_path = dir_ + "/" + base + kEventsSuffix;
    JsonDoc meta;
    if (!ReadFile(meta_path, &run.meta) || !ParseJson(run.meta, &meta, err)) {
      *err = meta_path + ": " + (err->empty() ? "unreadable" : *err);
      return false;
    }
    run.run_id = std::string(GetString(meta, "run_id"));
    std::string text;
    ReadFile(events_path, &text);
    size_t complete = text.rfind('\n');
    complete = complete == std::string::npos ? 0 : complete + 1;
    if (complete < text.size()) {  // torn last line: the server died while writing it
      if (::truncate(events_path.c_str(), static_cast<off_t>(complete)) != 0) {
        *err = events_path + ": cannot cut the torn last line: " + std::strerror(errno);
        return false;
      }
      text.resize(complete);
    }
    size_t line_no = 0;
    for (size_t pos = 0; pos < text.size();) {
      size_t nl = text.find('\n', pos);
      run.events.push_back(text.substr(pos, nl - pos));
      ++line_no;
      JsonDoc ev;
      if (!ParseJson(run.events.back(), &ev, err)) {
        *err = events_path + ":" + std::to_string(line_no) + ": " + *err;
        return false;
      }
      pos = nl + 1;
    }
    runs->push_back(std::move(run));
  }
  return true;
}

bool RunStore::Create(const std::string& run_id, const std::string& meta, std::string* err) {
  if (dir_.empty()) return true;
  std::string path = dir_ + "/" + EncodePathSegment(run_id) + kMetaSuffix;
  std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f || std::fwrite(meta.data(), 1, meta.size(), f) != meta.size() || std::fclose(f) != 0 ||
      std::rename(tmp.c_str(), path.c_str()) != 0) {
    *err = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

std::FILE* RunStore::Open(const std::string& run_id) {
  auto it = files_.find(run_id);
  if (it != files_.end()) return it->second;
  std::string path = dir_ + "/" + EncodePathSegment(run_id) + kEventsSuffix;
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (f) files_[run_id] = f;
  return f;
}

void RunStore::Append(const std::string& run_id, const std::string& line) {
  if (dir_.empty()) return;
  if (std::FILE* f = Open(run_id)) {
    std::fwrite(line.data(), 1, line.size(), f);
    std::fputc('\n', f);
    dirty_ = true;
  }
}

void RunStore::Flush() {
  if (!dirty_) return;
  for (auto& [id, f] : files_) std::fflush(f);
  dirty_ = false;
}

void RunStore::Finish(const std::string& run_id) {
  auto it = files_.find(run_id);
  if (it == files_.end()) return;
  std::fflush(it->second);
  std::fclose(it->second);
  files_.erase(it);
}

}  // namespace wsflow
