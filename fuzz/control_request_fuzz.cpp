// The local control socket's request lines (session/control_request.h): any bytes another process
// of the user writes to `wsflow sessions`' socket. No crash; a refusal is one JSON line with
// "ok":false and exit status 2; a parsed request prints (ControlRequestLine) as a line that parses
// back to the same request.
#include <cstdint>
#include <string>

#include "core/json.h"
#include "fuzz_check.h"
#include "session/control_request.h"

using namespace wsflow;

namespace {
bool Same(const ControlRequestMsg& a, const ControlRequestMsg& b) {
  if (a.op != b.op || a.run_id != b.run_id) return false;
  if (a.op == ControlRequestMsg::Op::kWatch) return a.since_seq == b.since_seq;
  if (a.op != ControlRequestMsg::Op::kAction) return true;
  const ControlAction &x = a.action, &y = b.action;
  return x.type == y.type && x.approval_id == y.approval_id && x.resolution == y.resolution && x.reject == y.reject &&
         x.feedback == y.feedback && x.modifications == y.modifications;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string line(wsflow_fuzz::Text(data, size));
  ControlRequestMsg msg;
  std::string refusal;
  if (!ParseControlRequest(line, &msg, &refusal)) {
    JsonDoc d;
    std::string err;
    FUZZ_CHECK(ParseJson(refusal, &d, &err) && d.IsObject(), "refusal '%s' is not a JSON object", refusal.c_str());
    FUZZ_CHECK(!GetBool(d, "ok", true) && GetInt(d, "status", 0) == 2 && !GetString(d, "message").empty(),
               "refusal '%s'", refusal.c_str());
    FUZZ_CHECK(refusal.find('\n') == std::string::npos, "a refusal holds a newline");
    return 0;
  }
  if (msg.op == ControlRequestMsg::Op::kWatch) FUZZ_CHECK(msg.since_seq >= 0, "since_seq %lld", (long long)msg.since_seq);
  std::string printed = ControlRequestLine(msg);
  FUZZ_CHECK(printed.find('\n') == std::string::npos, "the request line holds a newline");
  ControlRequestMsg again;
  FUZZ_CHECK(ParseControlRequest(printed, &again, &refusal), "'%s' does not parse back: %s", printed.c_str(),
             refusal.c_str());
  FUZZ_CHECK(Same(msg, again), "'%s' parses back differently", printed.c_str());
  return 0;
}
