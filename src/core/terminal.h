// The terminal that stderr is on, shared by everything that writes to it: the live status line
// (--progress), the approval prompt, the lines of std::cerr, and stdout's pretty lines when stdout
// is the same terminal. Its bottom line belongs to the prompt while one is up, else to the status
// line; any other text goes above it -- the bottom line is erased, the text written, the bottom
// line drawn again -- so nothing ever lands inside it, as a shell prints a job notification above
// the line being typed. While a bottom line is shown, std::cerr's text goes out a line at a time.
//
// Threads: every function may be called from any thread (one mutex, never held while reading the
// terminal). Ask blocks the calling thread until a line is typed.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <string>

namespace wsflow::terminal {

/// Puts std::cerr through the terminal. Once, and for good: call it before other threads write to
/// std::cerr (threads that answer approvals may write while the program ends).
void Install();

/// The status line's text, drawn at the bottom unless a prompt is up ("": none, erased). It may
/// have several lines (the board of several runs), without a final newline.
void SetStatus(const std::string& text);

/// Whether `fd` is on the terminal stderr is on (then text written through Write goes above the
/// bottom lines).
bool SharesStderr(int fd);

/// Whether Ask can be used: stderr is a terminal, and it is this process's controlling terminal
/// (/dev/tty), which Ask reads -- so stdin may carry something else (`watch --runs-from -`).
bool CanAsk();

/// Shows `prompt` (its last line is the one typed on, the lines before it are printed above) and
/// reads a line typed on /dev/tty: echoed, with backspace, Ctrl-U and Ctrl-W; other output goes
/// above it meanwhile. Waits while another prompt is up: one at a time (`more`: another question
/// of this thread follows, which keeps the turn). False, with `problem`, when there is no answer
/// (Ctrl-D on an empty line, no terminal), or when another thread sets `*withdrawn` (the question
/// was answered elsewhere: looked at every 100 ms; the prompt then stays on the screen saying so).
bool Ask(const std::string& prompt, std::string* line, std::string* problem, bool more = false,
         const std::atomic<bool>* withdrawn = nullptr);

/// The `problem` of an Ask that was withdrawn.
extern const char kAnsweredElsewhere[];

/// write(2) for a writer of stdout: whole (retried on EINTR), and above the bottom line when `fd`
/// is this terminal and a bottom line is shown (text left without a newline gets one then, so
/// the bottom line is drawn under it). `n`, or -1 with errno.
ssize_t Write(int fd, const char* data, size_t n);

/// Leaves the terminal as wsflow found it: a prompt still up is erased and the terminal's modes
/// restored. Registered with atexit by Ask; call it before leaving by _Exit.
void Restore();

/// The columns of the terminal `fd` is on; 0 when it is not a terminal or does not say.
int Columns(int fd);

}  // namespace wsflow::terminal
