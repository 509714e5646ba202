// Writing a whole buffer to a file descriptor: one copy of the EINTR-retrying loop for the
// terminal, the server's run files and the control socket.
#pragma once

#include <string_view>

namespace wsflow {

/// Writes all of `data` to `fd`, retrying after EINTR and short writes. A socket is written with
/// send(MSG_NOSIGNAL), so a peer that has gone gives EPIPE rather than SIGPIPE even where SIGPIPE
/// is not ignored (unit tests, the fuzzers). False on any other error; errno says which.
bool WriteAll(int fd, std::string_view data, bool socket = false);

}  // namespace wsflow
