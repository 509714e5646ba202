// URLs (core/url.h) and the masker of secrets in them (recordings, config show, sessions): any
// text is a ws:// URL or refused with a reason. A parsed URL prints (ToString) as one that parses
// to the same; path segments survive EncodePathSegment then PercentDecode; masking is idempotent.
#include <cctype>
#include <cstdint>
#include <string>

#include "core/url.h"
#include "fuzz_check.h"

using namespace wsflow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(wsflow_fuzz::Text(data, size));
  std::string masked = MaskUrlSecrets(text);
  FUZZ_CHECK(MaskUrlSecrets(masked) == masked, "masking '%s' twice changes it", text.c_str());
  std::string seg = EncodePathSegment(text);
  FUZZ_CHECK(PercentDecode(seg) == text, "EncodePathSegment '%s' does not decode back", seg.c_str());
  for (size_t i = 0; i < seg.size(); ++i) {
    bool escape = seg[i] == '%' && i + 2 < seg.size() && std::isxdigit(static_cast<unsigned char>(seg[i + 1])) &&
                  std::isxdigit(static_cast<unsigned char>(seg[i + 2]));
    FUZZ_CHECK(std::string_view("/?# \"\\").find(seg[i]) == std::string_view::npos && (seg[i] != '%' || escape) &&
                   static_cast<unsigned char>(seg[i]) > 0x20 && static_cast<unsigned char>(seg[i]) < 0x7f,
               "segment '%s' leaves byte %zu as it was", seg.c_str(), i);
  }
  WsUrl u;
  std::string err;
  if (!ParseWsUrl(text, &u, &err)) {
    FUZZ_CHECK(!err.empty(), "refused without a reason");
    return 0;
  }
  FUZZ_CHECK(u.scheme == "ws" || u.scheme == "wss", "scheme '%s'", u.scheme.c_str());
  std::string printed = u.ToString();
  WsUrl again;
  FUZZ_CHECK(ParseWsUrl(printed, &again, &err), "'%s' prints as '%s', which does not parse: %s", text.c_str(),
             printed.c_str(), err.c_str());
  FUZZ_CHECK(again.ToString() == printed && again.host == u.host && again.port == u.port && again.path == u.path &&
                 again.query == u.query,
             "'%s' prints as '%s', which parses differently", text.c_str(), printed.c_str());
  (void)u.Origin();
  WsUrl with;
  FUZZ_CHECK(ParseWsUrl(u.WithPath("/ws/" + seg), &with, &err) && with.path == "/ws/" + seg,
             "WithPath('/ws/%s') of '%s' gives '%s'", seg.c_str(), text.c_str(), u.WithPath("/ws/" + seg).c_str());
  return 0;
}
