// Settings that do not come from a flag: the environment (WSFLOW_URL, WSFLOW_RETRIES, ...) and the
// user's config file ($WSFLOW_CONFIG, else $XDG_CONFIG_HOME/wsflow/config.json, else
// ~/.config/wsflow/config.json): a JSON object of settings plus "profiles": {NAME: {settings}},
// one of which --profile (or $WSFLOW_PROFILE, or the file's "profile") selects.
// Precedence: flag > environment > the profile > the file's top level > the default.
// No CLI11 here: the caller says which flags were given.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace wsflow {

/// An environment lookup: null or "" means unset. Tests pass their own.
using EnvLookup = std::function<const char*(const char*)>;
EnvLookup ProcessEnv();

struct SettingInfo {
  enum Type { kText, kDuration, kCount, kBool, kSize };
  const char* key;  ///< in the file: "connect_timeout"
  const char* env;  ///< "WSFLOW_CONNECT_TIMEOUT"
  Type type;
  std::vector<std::string> choices;  ///< empty: any value (the flag's own check still applies)
  bool secret = false;               ///< shown as "***"
  bool in_file = true;               ///< false: environment only (secrets do not belong in files)
};

/// Every setting, in the order `config show` prints them.
const std::vector<SettingInfo>& Settings();
const SettingInfo* FindSetting(std::string_view key);

/// Checks a value from the environment or a file as its flag would: a choice, a duration, a count,
/// a size.
/// False with the reason in `*why`.
bool CheckSetting(const SettingInfo& setting, const std::string& value, std::string* why);

struct SettingValue {
  std::string value;
  std::string source;  ///< "flag", "env:WSFLOW_URL", "file", "file:PROFILE", "default"
  std::string where;   ///< for messages: "--url", "WSFLOW_URL", "config /p/config.json: profiles.ci.url"
};

class ConfigFile {
 public:
  /// Finds, reads and checks the config file and selects the profile: `profile_flag` when not
  /// empty, else $WSFLOW_PROFILE, else the file's "profile". No file is no configuration, unless
  /// $WSFLOW_CONFIG names it or a profile is asked for. False with one line naming the file and key.
  bool Load(const EnvLookup& env, const std::string& profile_flag, std::string* err);

  /// Load, with the file's text given (`exists` false: there is no file at `path`).
  bool LoadText(const EnvLookup& env, const std::string& path, bool exists, const std::string& text,
                const std::string& profile_flag, std::string* err);

  /// A setting's value and where it came from. `flag`: the flag's value when the user gave it,
  /// else null; `dflt`: the value when nothing sets it.
  SettingValue Resolve(const std::string& key, const std::string* flag, const std::string& dflt) const;

  const std::string& path() const { return path_; }
  const std::string& path_source() const { return path_source_; }  ///< "env:WSFLOW_CONFIG", "default"
  bool exists() const { return exists_; }
  const std::string& profile() const { return profile_; }  ///< "" when none
  const std::string& profile_source() const { return profile_source_; }

 private:
  EnvLookup env_;
  std::string path_, path_source_ = "default";
  bool exists_ = false;
  std::string profile_, profile_source_ = "default";
  std::map<std::string, std::string> top_, chosen_;  ///< settings of the file's top level, of the profile
};

/// Where the config file is looked for ($WSFLOW_CONFIG, $XDG_CONFIG_HOME, $HOME); `*source` says which.
std::string ConfigPath(const EnvLookup& env, std::string* source);

}  // namespace wsflow
