#include "core/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <streambuf>
#include <thread>

#include "core/fd_io.h"
#include "core/line_editor.h"
#include "core/utf8.h"

namespace wsflow::terminal {

namespace {
constexpr char kErase[] = "\r\x1b[K";
constexpr int kErr = 2;

// How many columns a bottom line takes, to know how many rows it wrapped into (its colours none).
size_t Width(const std::string& s) { return DisplayWidth(s); }

// The rows above the cursor that `text` (lines without a final newline, each perhaps wrapped at
// `cols`) took when it was drawn from the start of a row.
size_t RowsAbove(const std::string& text, int cols) {
  size_t rows = 0, start = 0;
  for (;;) {
    size_t nl = text.find('\n', start);
    size_t w = Width(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (cols > 0 && w > 0) rows += (w - 1) / static_cast<size_t>(cols);
    if (nl == std::string::npos) return rows;
    ++rows;
    start = nl + 1;
  }
}

// The device stderr is on, when it is a terminal (0: not one).
dev_t StderrTerminal() {
  static const dev_t dev = [] {
    struct stat st {};
    return ::isatty(kErr) && ::fstat(kErr, &st) == 0 ? st.st_rdev : dev_t(0);
  }();
  return dev;
}

// Whether `fd` is the terminal stderr is on: asked once per descriptor (stdout's writer asks per batch).
bool OnStderrTerminal(int fd) {
  static std::atomic<int> known[16] = {};  // 0: not asked yet, 1: no, 2: yes
  auto ask = [fd] {
    struct stat st {};
    return StderrTerminal() != 0 && ::isatty(fd) && ::fstat(fd, &st) == 0 && st.st_rdev == StderrTerminal();
  };
  if (fd < 0 || fd >= 16) return ask();
  int k = known[fd].load(std::memory_order_relaxed);
  if (k == 0) known[fd].store(k = ask() ? 2 : 1, std::memory_order_relaxed);
  return k == 2;
}

// Everything about the terminal's bottom line. Its functions ending in Locked want `mu` held.
struct Screen {
  std::mutex mu;
  std::string status;
  bool prompt_up = false;
  std::string prompt;  ///< the bottom line of the prompt, before what is typed
  std::string typed;
  bool shown = false;  ///< a bottom line is on the screen, the cursor at its end
  std::string shown_text;  ///< what it is (the board of several runs has several lines)
  bool at_line_start = true;  ///< the terminal's cursor is at the start of a line (else the bottom line waits)
  bool owed_newline = false;  ///< stdout's text was given a newline under which to draw the bottom line
  std::string partial;        ///< std::cerr's text, held for the rest of its line while a bottom line is shown
  bool asking = false;        ///< a prompt has the turn
  std::thread::id asker;
  std::condition_variable turn;
  std::string unread;  ///< keys typed after an Enter: the next question's
  // The modes of the terminal while a prompt reads it: restored at the end, and at exit.
  int tty = -1;
  termios saved{};
  std::atomic<bool> raw{false};

  std::string BottomLocked() const { return prompt_up ? prompt + typed : status; }

  void EraseLocked() {
    if (!shown) return;
    std::string out = kErase;
    for (size_t rows = RowsAbove(shown_text, Columns(kErr)); rows > 0; --rows) out += "\x1b[A\x1b[K";
    WriteAll(kErr, out);
    shown = false;
  }

  void DrawLocked() {
    std::string text = BottomLocked();
    if (text.empty() || !at_line_start) return;  // mid-line: drawn after its newline
    EraseLocked();  // what it replaces may have had more lines
    WriteAll(kErr, kErase + text);
    shown = true;
    shown_text = text;
  }

  // Text of std::cerr that was held for the rest of its line goes out as it is.
  void ReleasePartialLocked() {
    if (partial.empty()) return;
    WriteAll(kErr, partial);
    at_line_start = partial.back() == '\n';
    partial.clear();
  }

  // std::cerr's text.
  void PutErr(const char* s, size_t n) {
    std::lock_guard<std::mutex> lk(mu);
    if (n == 0) return;
    if (!shown) {
      WriteAll(kErr, {s, n});
      at_line_start = s[n - 1] == '\n';
      return DrawLocked();
    }
    partial.append(s, n);
    size_t nl = partial.rfind('\n');
    if (nl == std::string::npos) return;  // the rest of its line first
    EraseLocked();
    WriteAll(kErr, {partial.data(), nl + 1});
    partial.erase(0, nl + 1);
    at_line_start = true;
    DrawLocked();
  }
};

Screen& S() {
  static Screen* s = new Screen;  // never destroyed: threads may still write while the program ends
  return *s;
}

// Sits in front of std::cerr: its text goes through the Screen.
class ErrBuf : public std::streambuf {
 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    char ch = static_cast<char>(c);
    S().PutErr(&ch, 1);
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n > 0) S().PutErr(s, static_cast<size_t>(n));
    return n;
  }
};

}  // namespace

void Install() {
  static const bool installed = [] {
    std::cerr.rdbuf(new ErrBuf);  // never removed (see Screen)
    return true;
  }();
  (void)installed;
}

void SetStatus(const std::string& text) {
  Screen& s = S();
  std::lock_guard<std::mutex> lk(s.mu);
  s.status = text;
  if (s.prompt_up) return;  // drawn when the prompt is done
  if (text.empty()) {
    s.EraseLocked();
    return s.ReleasePartialLocked();
  }
  s.DrawLocked();
}

bool CanAsk() {
  // tcgetpgrp answers only for the controlling terminal (/dev/tty's own inode names no device).
  if (StderrTerminal() == 0 || ::tcgetpgrp(kErr) < 0) return false;
  int fd = ::open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd >= 0) ::close(fd);
  return fd >= 0;
}

const char kAnsweredElsewhere[] = "answered elsewhere";

bool Ask(const std::string& prompt, std::string* line, std::string* problem, bool more,
         const std::atomic<bool>* withdrawn) {
  auto gone = [withdrawn] { return withdrawn && withdrawn->load(); };
  Screen& s = S();
  // Leaving without a question shown: a turn this thread kept (`more` of the question before)
  // goes back, or every later prompt would wait for a thread that has gone.
  auto leave = [&s](std::string why, std::string* problem) {
    {
      std::lock_guard<std::mutex> lk(s.mu);
      if (s.asking && s.asker == std::this_thread::get_id()) s.asking = false;
    }
    s.turn.notify_all();
    *problem = std::move(why);
    return false;
  };
  if (gone()) return leave(kAnsweredElsewhere, problem);
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return leave(std::string("cannot read the terminal (/dev/tty): ") + std::strerror(errno), problem);
  static const bool at_exit = [] { return std::atexit(Restore) == 0; }();
  (void)at_exit;
  size_t cut = prompt.rfind('\n');
  std::string above = cut == std::string::npos ? std::string() : prompt.substr(0, cut + 1);
  {
    std::unique_lock<std::mutex> lk(s.mu);
    // One prompt at a time; a question withdrawn while it waits for its turn is never shown.
    while (s.asking && s.asker != std::this_thread::get_id()) {
      if (gone()) {
        lk.unlock();
        ::close(fd);
        *problem = kAnsweredElsewhere;
        return false;
      }
      s.turn.wait_for(lk, std::chrono::milliseconds(100));
    }
    s.asking = true;
    s.asker = std::this_thread::get_id();
    termios t{};
    if (::tcgetattr(fd, &t) == 0) {
      s.saved = t;
      s.tty = fd;
      // Keys one at a time, echoed by us: the line is ours to draw again under other output.
      // Ctrl-C still interrupts (ISIG stays).
      t.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
      t.c_cc[VMIN] = 1;
      t.c_cc[VTIME] = 0;
      if (::tcsetattr(fd, TCSANOW, &t) == 0) s.raw = true;
    }
    s.EraseLocked();
    s.ReleasePartialLocked();
    if (!s.at_line_start) WriteAll(kErr, "\n");  // a line of its own
    s.at_line_start = true;
    WriteAll(kErr, above);
    s.prompt_up = true;
    s.prompt = prompt.substr(above.size());
    s.typed.clear();
    s.DrawLocked();
  }
  LineEditor editor;
  bool done = false, eof = false, withdrew = false;
  while (!done) {
    std::string keys;
    {
      std::lock_guard<std::mutex> lk(s.mu);
      keys.swap(s.unread);  // typed ahead, after the Enter of the question before
    }
    if (keys.empty() && withdrawn) {  // a key, or every 100 ms a look whether it was withdrawn
      pollfd p{fd, POLLIN, 0};
      int ready = ::poll(&p, 1, 100);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0 && gone()) {
        withdrew = true;
        break;
      }
      if (ready == 0) continue;
    }
    if (keys.empty()) {
      char buf[256];
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        eof = true;
        break;
      }
      keys.assign(buf, static_cast<size_t>(r));
    }
    std::lock_guard<std::mutex> lk(s.mu);
    size_t i = 0;
    while (i < keys.size() && !done) done = editor.Key(static_cast<unsigned char>(keys[i++]), &s.typed, &eof);
    s.unread = keys.substr(i);
    s.EraseLocked();
    if (!done) s.DrawLocked();
  }
  {
    std::lock_guard<std::mutex> lk(s.mu);
    *line = withdrew ? std::string() : s.typed;
    s.EraseLocked();
    // The answered prompt stays on the screen, as typed; a withdrawn one says why it went.
    WriteAll(kErr, s.prompt + (withdrew ? std::string("(") + kAnsweredElsewhere + ")" : s.typed) + "\n");
    s.at_line_start = true;
    s.prompt_up = false;
    if (s.raw.exchange(false)) ::tcsetattr(fd, TCSANOW, &s.saved);
    s.tty = -1;
    s.asking = more && !eof && !withdrew;
    s.DrawLocked();
  }
  s.turn.notify_all();
  ::close(fd);
  if (eof) *problem = "no answer on the terminal (end of input)";
  if (withdrew) *problem = kAnsweredElsewhere;
  return !eof && !withdrew;
}

ssize_t Write(int fd, const char* data, size_t n) {
  if (!OnStderrTerminal(fd)) return WriteAll(fd, {data, n}) ? static_cast<ssize_t>(n) : -1;
  Screen& s = S();
  std::lock_guard<std::mutex> lk(s.mu);
  bool was_shown = s.shown;
  s.EraseLocked();
  // The newline we gave a bar left open stands for the one its printer sends when it ends the bar.
  size_t skip = s.owed_newline && n > 0 && data[0] == '\n' ? 1 : 0;
  s.owed_newline = false;
  bool ok = WriteAll(fd, {data + skip, n - skip});
  if (n > skip) s.at_line_start = data[n - 1] == '\n';
  if (ok && was_shown && !s.at_line_start) {  // a progress bar left open: the bottom line goes under it
    ok = WriteAll(fd, "\n");
    s.at_line_start = s.owed_newline = true;
  }
  int e = errno;
  s.DrawLocked();
  errno = e;
  return ok ? static_cast<ssize_t>(n) : -1;
}

void Restore() {
  Screen& s = S();
  if (!s.raw.load()) return;
  // Another thread may hold the lock (blocked writing): the terminal's modes matter more.
  std::unique_lock<std::mutex> lk(s.mu, std::try_to_lock);
  WriteAll(kErr, kErase);  // the prompt nobody answered
  if (s.raw.exchange(false)) ::tcsetattr(s.tty, TCSANOW, &s.saved);
}

bool SharesStderr(int fd) { return OnStderrTerminal(fd); }

int Columns(int fd) {
  struct winsize ws {};
  return ::ioctl(fd, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
}

}  // namespace wsflow::terminal
