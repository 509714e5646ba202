// --match / --until-match predicates (core/predicate.h). Input: the predicate, a newline, then an
// envelope as JSON. Any predicate text is parsed or refused with a reason; a parsed one is matched
// against the envelope (when it is JSON) without crashing.
#include <cstdint>
#include <string>
#include <vector>

#include "core/predicate.h"
#include "fuzz_check.h"

using namespace wsflow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = wsflow_fuzz::Text(data, size);
  size_t nl = text.find('\n');
  std::string pred_text(text.substr(0, nl));
  std::string_view json = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  Predicate p;
  std::string err;
  if (!Predicate::Parse(pred_text, &p, &err)) {
    FUZZ_CHECK(!err.empty(), "refused without a reason");
    return 0;
  }
  JsonDoc doc;
  if (!ParseJson(json, &doc, &err)) return 0;
  bool one = p.Matches(doc);
  FUZZ_CHECK(MatchesAll({p}, doc) == one, "MatchesAll of one predicate differs from Matches");
  return 0;
}
