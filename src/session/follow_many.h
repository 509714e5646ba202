// watch with several runs (watch RUN..., --runs-from): each run followed as `watch RUN` would
// follow it, their events merged on stdout as they arrive. Native runs share one connection (each
// subscribed on /ws from its own seq, all resubscribed after a reconnect); a backend that wants a
// socket per run gets a session per run on the same loop, at most --max-connections at once. The
// command ends when every run has ended and --runs-from has closed; the exit status is
// run_tally.h's CombinedStatus (docs/protocol.md "Several runs", README "Several runs").
//
// Threads: everything runs on the loop thread, except the reader of --runs-from -, which posts
// each run id to the loop.
#pragma once

#include <string>
#include <vector>

#include "session/follow_command.h"

namespace wsflow {

struct FollowManyCommand {
  FollowCommand base;                ///< what every run shares (base.run: since_seq/tail unused)
  std::vector<std::string> run_ids;  ///< from the command line and --runs-from FILE, in order
  bool ids_from_stdin = false;       ///< --runs-from -: more ids arrive on stdin, one per line
  bool fail_fast = false;            ///< end at the first run that does not complete
  bool cancel_rest = false;          ///< with fail_fast: cancel the runs still going
  int max_connections = 16;          ///< backends with a socket per run: sockets open at once
};

/// Runs the command; returns its exit status.
int RunFollowMany(FollowManyCommand cmd);

}  // namespace wsflow
