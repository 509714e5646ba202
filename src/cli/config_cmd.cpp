#include "cli/config_cmd.h"

#include <unistd.h>

#include <iostream>

#include "cli/help_format.h"
#include "cli/stream_cmd.h"
#include "core/exit_status.h"
#include "core/json.h"
#include "core/url.h"

namespace wsflow {

CLI::App* SetupConfig(CLI::App& app, ConfigFlags* f) {
  auto* sub = app.add_subcommand("config", "show the effective settings and where each came from");
  sub->add_option("action", f->action, "show: print every setting with its value and source as JSON")
      ->check(CLI::IsMember({"show"}))->required();
  AddConnectionOptions(sub, &f->conn);
  ShowInBriefHelp(sub, {"--profile", "--url"});
  sub->footer("Example: WSFLOW_RETRIES=3 wsflow config show --profile ci | jq .retries");
  return sub;
}

int RunConfig(const ConfigFlags& f) {
  ConfigFile config;
  std::string err;
  if (!config.Load(ProcessEnv(), f.conn.profile, &err)) {
    std::cerr << "wsflow: " << err << "\n";
    return kExitUsage;
  }
  std::map<std::string, std::string> defaults = ConnectionSettings(f.conn);
  StreamFlags stream;  // the defaults of watch and execute
  defaults["output"] = stream.output;
  defaults["color"] = stream.color;
  defaults["progress"] = stream.progress;

  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  auto entry = [&](JsonValue value, const std::string& source) {
    JsonValue e(rapidjson::kObjectType);
    e.AddMember("value", value, a);
    e.AddMember("source", Str(source, a), a);
    return e;
  };
  d.AddMember("config_file", entry(Str(config.path(), a), config.path_source()), a);
  d["config_file"].AddMember("exists", config.exists(), a);
  d.AddMember("profile", entry(config.profile().empty() ? JsonValue() : Str(config.profile(), a), config.profile_source()),
              a);
  for (const auto& s : Settings()) {
    SettingValue v;
    if (!ResolveSetting(f.conn, config, s.key, defaults[s.key], &v, &err)) {
      std::cerr << "wsflow: " << err << "\n";
      return kExitUsage;
    }
    JsonValue value;
    if (v.value.empty() && (s.secret || v.source == "default")) value.SetNull();
    else if (s.secret) value = Str("***", a);
    else if (s.type == SettingInfo::kCount) value.SetInt64(std::stoll(v.value));
    else if (s.type == SettingInfo::kBool) value.SetBool(v.value == "true");
    else value = Str(MaskUrlSecrets(v.value), a);
    d.AddMember(JsonValue(rapidjson::StringRef(s.key)), entry(std::move(value), v.source), a);
  }
  std::cout << (::isatty(1) ? ToPrettyJson(d) : ToJson(d)) << "\n";  // compact when piped, for jq and scripts
  return kExitCompleted;
}

}  // namespace wsflow
