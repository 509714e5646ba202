#include "server/run_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "core/fd_io.h"
#include "core/url.h"

namespace wsflow::serve {

namespace {
constexpr const char* kMetaSuffix = ".run.json";
constexpr const char* kEventsSuffix = ".events.ndjson";
constexpr const char* kEndSuffix = ".end.json";

bool EndsWith(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::string Errno() { return std::strerror(errno); }

// The whole of a small file; false when it cannot be opened or read.
bool ReadSmall(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

// Written to a temporary name, then renamed: a reader sees the whole record or none.
bool WriteAtomically(const std::string& path, const std::string& text, std::string* err) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  bool ok = fd >= 0 && WriteAll(fd, text);
  int saved = errno;
  if (fd >= 0 && ::close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    *err = "cannot write " + path + ": " + std::strerror(saved);
  }
  return ok;
}
}  // namespace

RunStore::RunStore(std::string dir) : dir_(std::move(dir)) {}

RunStore::~RunStore() {
  Flush();
  for (auto& [id, f] : fds_) ::close(f.fd);
  fds_.clear();
  if (temporary_) RemoveTemporary();
}

bool RunStore::Open(std::string* err) {
  if (dir_.empty()) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/wsflow-serve-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) {
      *err = "cannot create a temporary data dir " + tmpl + ": " + Errno();
      return false;
    }
    dir_ = buf.data();
    temporary_ = true;
    return true;
  }
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    *err = "cannot create data dir " + dir_ + ": " + Errno();
    return false;
  }
  struct stat st;
  if (::stat(dir_.c_str(), &st) != 0 || ::access(dir_.c_str(), R_OK | W_OK | X_OK) != 0) {
    *err = "cannot use data dir " + dir_ + ": " + Errno();
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    *err = "cannot use data dir " + dir_ + ": not a directory";
    return false;
  }
  return true;
}

void RunStore::RemoveTemporary() {
  // Only what this store made is in it: flat files, no subdirectories.
  if (DIR* d = ::opendir(dir_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") ::unlink((dir_ + "/" + name).c_str());
    }
    ::closedir(d);
  }
  ::rmdir(dir_.c_str());
}

bool RunStore::Index(std::vector<StoredRunEntry>* out, std::string* err) {
  out->clear();
  DIR* d = ::opendir(dir_.c_str());
  if (!d) {
    *err = "cannot read data dir " + dir_ + ": " + Errno();
    return false;
  }
  std::vector<std::string> bases;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (EndsWith(name, kMetaSuffix)) bases.push_back(name.substr(0, name.size() - std::strlen(kMetaSuffix)));
  }
  ::closedir(d);
  for (const auto& base : bases) {
    StoredRunEntry entry;
    std::string meta_path = dir_ + "/" + base + kMetaSuffix;
    if (!ReadSmall(meta_path, &entry.meta)) {
      *err = meta_path + ": cannot read it: " + Errno();
      return false;
    }
    struct stat st;
    if (::stat(meta_path.c_str(), &st) == 0) entry.meta_mtime = static_cast<double>(st.st_mtime);
    entry.run_id = PercentDecode(base);
    std::string end_path = dir_ + "/" + base + kEndSuffix;
    if (!ReadSmall(end_path, &entry.end) && errno != ENOENT) {
      *err = end_path + ": cannot read it: " + Errno();
      return false;
    }
    out->push_back(std::move(entry));
  }
  return true;
}

bool RunStore::Create(const std::string& run_id, const std::string& meta, std::string* err) {
  return WriteAtomically(dir_ + "/" + EncodePathSegment(run_id) + kMetaSuffix, meta, err);
}

bool RunStore::End(const std::string& run_id, const std::string& summary, std::string* err) {
  auto it = pending_.find(run_id);
  if (it != pending_.end()) FlushRun(run_id, &it->second);
  CloseFd(run_id);  // a finished run writes no more
  return WriteAtomically(dir_ + "/" + EncodePathSegment(run_id) + kEndSuffix, summary, err);
}

std::string RunStore::EventsPath(const std::string& run_id) const {
  return dir_ + "/" + EncodePathSegment(run_id) + kEventsSuffix;
}

void RunStore::Append(const std::string& run_id, std::string_view line) {
  std::string& buf = pending_[run_id];
  buf.append(line.data(), line.size());
  buf.push_back('\n');
}

int RunStore::Fd(const std::string& run_id, std::string* err) {
  auto it = fds_.find(run_id);
  if (it != fds_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second.fd;
  }
  std::string path = EventsPath(run_id);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) {
    *err = "cannot open " + path + ": " + Errno();
    return -1;
  }
  if (fds_.size() >= kMaxOpenFiles) CloseFd(lru_.back());
  lru_.push_front(run_id);
  fds_[run_id] = {fd, lru_.begin()};
  return fd;
}

void RunStore::CloseFd(const std::string& run_id) {
  auto it = fds_.find(run_id);
  if (it == fds_.end()) return;
  ::close(it->second.fd);
  lru_.erase(it->second.lru);
  fds_.erase(it);
}

bool RunStore::FlushRun(const std::string& run_id, std::string* pending) {
  if (pending->empty()) return true;
  std::string err;
  int fd = Fd(run_id, &err);
  bool ok = fd >= 0 && WriteAll(fd, *pending);
  if (ok) {
    pending->clear();
    return true;
  }
  if (err.empty()) err = "cannot write " + EventsPath(run_id) + ": " + Errno();
  if (!reported_[run_id]) std::cerr << "wsflow serve: " << err << "\n";
  reported_[run_id] = true;
  pending->clear();  // kept, it would grow without end; the run's readers get an error instead
  return false;
}

void RunStore::Flush() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    FlushRun(it->first, &it->second);
    it = pending_.erase(it);  // most runs append once in a while: no idle buffers kept
  }
}

bool RunStore::Read(const std::string& run_id, uint64_t offset, size_t len, std::string* out, std::string* err) {
  auto p = pending_.find(run_id);
  if (p != pending_.end()) FlushRun(run_id, &p->second);
  int fd = Fd(run_id, err);
  if (fd < 0) return false;
  out->resize(len);
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, &(*out)[got], len - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *err = EventsPath(run_id) + ": " + (n < 0 ? Errno() : "shorter than its index says");
      return false;
    }
    got += static_cast<size_t>(n);
  }
  return true;
}

bool RunStore::Scan(const std::string& run_id, const std::function<bool(std::string_view chunk)>& each,
                    uint64_t* size, std::string* err) {
  auto p = pending_.find(run_id);
  if (p != pending_.end()) FlushRun(run_id, &p->second);
  *size = 0;
  std::string path = EventsPath(run_id);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return true;
    *err = "cannot read " + path + ": " + Errno();
    return false;
  }
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = ::read(fd, &buf[0], buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *err = "cannot read " + path + ": " + Errno();
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    *size += static_cast<uint64_t>(n);
    if (!each(std::string_view(buf.data(), static_cast<size_t>(n)))) break;
  }
  ::close(fd);
  return true;
}

bool RunStore::Truncate(const std::string& run_id, uint64_t size, std::string* err) {
  std::string path = EventsPath(run_id);
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    *err = path + ": cannot cut the torn last line: " + Errno();
    return false;
  }
  return true;
}

}  // namespace wsflow::serve
