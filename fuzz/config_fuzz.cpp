// The config file (src/cli/config_file.h): any bytes as config.json, with and without a profile
// asked for: no crash, a refusal says why, and every value taken from the file passes the same
// check as the flag it stands for.
#include <cstdint>
#include <string>

#include "cli/config_file.h"
#include "fuzz_check.h"

using namespace wsflow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(wsflow_fuzz::Text(data, size));
  EnvLookup no_env = [](const char*) -> const char* { return nullptr; };
  for (const char* profile : {"", "ci"}) {
    ConfigFile cf;
    std::string err;
    if (!cf.LoadText(no_env, "/fuzz/config.json", true, text, profile, &err)) {
      FUZZ_CHECK(!err.empty(), "refused without a reason");
      continue;
    }
    for (const SettingInfo& s : Settings()) {
      SettingValue v = cf.Resolve(s.key, nullptr, "");
      if (v.source.rfind("file", 0) != 0) continue;
      std::string why;
      FUZZ_CHECK(CheckSetting(s, v.value, &why), "%s = '%s' from the file fails its check: %s", s.key,
                 v.value.c_str(), why.c_str());
    }
  }
  return 0;
}
