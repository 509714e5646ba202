#include "server/faults.h"

#include <iostream>

#include "core/text.h"

namespace wsflow::serve {

FaultInjector::FaultInjector(Transport* transport, Options opts) : transport_(transport), opts_(opts) {}

std::ostream& FaultInjector::Log() const { return opts_.log ? *opts_.log : std::cerr; }

// When several apply to the same event: the garbage frame first, then the frame that is not
// UTF-8, then the stall, then the drop.
bool FaultInjector::AfterEvent(ConnId id) {
  if (!opts_.drop_every && !opts_.stall_after && !opts_.garbage_every && !opts_.invalid_utf8_every) return false;
  int64_t n = ++sent_[id];
  if (opts_.garbage_every && n % opts_.garbage_every == 0) transport_->Send(id, "{this is not json");
  if (opts_.invalid_utf8_every && n % opts_.invalid_utf8_every == 0) {
    if (opts_.verbose) Log() << "wsflow serve: fault: sent a text frame that is not UTF-8 after " << Count(n, "event", "events") << "\n";
    transport_->SendRawText(id, kInvalidUtf8);
  }
  if (opts_.stall_after && n >= opts_.stall_after) {
    if (opts_.verbose) Log() << "wsflow serve: fault: stalled a connection after " << Count(n, "event", "events") << "\n";
    transport_->Stall(id, kStallMs);
    return true;
  }
  if (opts_.drop_every && n % opts_.drop_every == 0) {
    if (opts_.close_code) {
      transport_->Close(id, opts_.close_code, "fault injection");
    } else {
      if (opts_.verbose) Log() << "wsflow serve: fault: dropping a connection after " << Count(n, "event", "events") << "\n";
      transport_->Drop(id);
    }
    return true;
  }
  return false;
}

bool FaultInjector::AtRunEnd(ConnId id) {
  if (!opts_.close_code || opts_.drop_every) return false;
  transport_->Close(id, opts_.close_code, "run finished");
  return true;
}

}  // namespace wsflow::serve
