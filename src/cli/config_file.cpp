#include "cli/config_file.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/byte_size.h"
#include "core/duration.h"
#include "core/json.h"

namespace wsflow {

namespace {
const char* Get(const EnvLookup& env, const char* name) {
  const char* v = env ? env(name) : nullptr;
  return v && *v ? v : nullptr;
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string KnownKeys() {
  std::string out;
  for (const auto& s : Settings())
    if (s.in_file) out += std::string(out.empty() ? "" : ", ") + s.key;
  return out + ", profile, profiles";
}

// A file value as the text a flag would have given.
bool ValueText(const SettingInfo& s, const JsonValue& v, std::string* out, std::string* why) {
  switch (s.type) {
    case SettingInfo::kText:
      if (!v.IsString()) {
        *why = "must be a string";
        return false;
      }
      *out = v.GetString();
      return true;
    case SettingInfo::kDuration:
      if (v.IsString()) {
        *out = v.GetString();
        return true;
      }
      if (v.IsNumber() && v.GetDouble() >= 0) {  // a bare number is seconds, as on the command line
        std::ostringstream ss;
        ss << v.GetDouble();
        *out = ss.str();
        return true;
      }
      *why = "must be a duration such as \"10s\" or a number of seconds";
      return false;
    case SettingInfo::kBool:
      if (v.IsBool()) {
        *out = v.GetBool() ? "true" : "false";
        return true;
      }
      *why = "must be true or false";
      return false;
    case SettingInfo::kSize:
      if (v.IsString()) {
        *out = v.GetString();
        return true;
      }
      if (v.IsInt64() && v.GetInt64() >= 0) {  // a bare number is bytes, as on the command line
        *out = std::to_string(v.GetInt64());
        return true;
      }
      *why = "must be a size such as \"64MiB\" or a number of bytes";
      return false;
    case SettingInfo::kCount:
      if (v.IsInt64() && v.GetInt64() >= 0) {
        *out = std::to_string(v.GetInt64());
        return true;
      }
      *why = "must be a whole number >= 0";
      return false;
  }
  return false;
}

bool ReadSettings(const JsonValue& obj, const std::string& where_prefix, const std::string& file_label, bool top,
                  std::map<std::string, std::string>* out, std::string* err) {
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    std::string key(it->name.GetString(), it->name.GetStringLength());
    std::string where = file_label + ": " + where_prefix + key;
    if (top && (key == "profiles" || key == "profile")) continue;  // read by the caller
    const SettingInfo* s = FindSetting(key);
    if (!s) {
      *err = where + ": unknown key (known: " + KnownKeys() + ")";
      return false;
    }
    if (!s->in_file) {
      *err = where + ": not allowed in a file; put the " + key + " in a file named by token_file, or in $" + s->env;
      return false;
    }
    std::string text, why;
    if (!ValueText(*s, it->value, &text, &why) || !CheckSetting(*s, text, &why)) {
      *err = where + ": " + why;
      return false;
    }
    (*out)[key] = text;
  }
  return true;
}
}  // namespace

EnvLookup ProcessEnv() {
  return [](const char* name) -> const char* { return std::getenv(name); };
}

const std::vector<SettingInfo>& Settings() {
  static const std::vector<SettingInfo> all = {
      {"url", "WSFLOW_URL", SettingInfo::kText, {}},
      {"dialect", "WSFLOW_DIALECT", SettingInfo::kText, {}},
      {"connect_timeout", "WSFLOW_CONNECT_TIMEOUT", SettingInfo::kDuration, {}},
      {"wait_for_backend", "WSFLOW_WAIT_FOR_BACKEND", SettingInfo::kDuration, {}},
      {"ping_interval", "WSFLOW_PING_INTERVAL", SettingInfo::kDuration, {}},
      {"pong_timeout", "WSFLOW_PONG_TIMEOUT", SettingInfo::kDuration, {}},
      {"idle_timeout", "WSFLOW_IDLE_TIMEOUT", SettingInfo::kDuration, {}},
      {"max_frame_size", "WSFLOW_MAX_FRAME_SIZE", SettingInfo::kSize, {}},
      {"retries", "WSFLOW_RETRIES", SettingInfo::kCount, {}},
      {"retry_initial", "WSFLOW_RETRY_INITIAL", SettingInfo::kDuration, {}},
      {"retry_max_delay", "WSFLOW_RETRY_MAX_DELAY", SettingInfo::kDuration, {}},
      {"retry_jitter", "WSFLOW_RETRY_JITTER", SettingInfo::kText, {"full", "none"}},
      {"queue_size", "WSFLOW_QUEUE_SIZE", SettingInfo::kCount, {}},
      {"proxy", "WSFLOW_PROXY", SettingInfo::kText, {}},
      {"proxy_auth_file", "WSFLOW_PROXY_AUTH_FILE", SettingInfo::kText, {}},
      {"compress", "WSFLOW_COMPRESS", SettingInfo::kBool, {"true", "false"}},
      {"output", "WSFLOW_OUTPUT", SettingInfo::kText, {"json", "pretty", "auto"}},
      {"color", "WSFLOW_COLOR", SettingInfo::kText, {"auto", "always", "never"}},
      {"answer_delay", "WSFLOW_ANSWER_DELAY", SettingInfo::kDuration, {}},
      {"progress", "WSFLOW_PROGRESS", SettingInfo::kText, {"auto", "always", "never"}},
      {"token_file", "WSFLOW_TOKEN_FILE", SettingInfo::kText, {}},
      {"token", "WSFLOW_TOKEN", SettingInfo::kText, {}, true, false},
  };
  return all;
}

const SettingInfo* FindSetting(std::string_view key) {
  for (const auto& s : Settings())
    if (key == s.key) return &s;
  return nullptr;
}

bool CheckSetting(const SettingInfo& s, const std::string& value, std::string* why) {
  if (!s.choices.empty()) {
    for (const auto& c : s.choices)
      if (value == c) return true;
    std::string list;
    for (const auto& c : s.choices) list += (list.empty() ? "" : ", ") + c;
    *why = Quote(value) + " is not one of " + list;
    return false;
  }
  if (s.type == SettingInfo::kDuration) {
    Millis ms;
    return ParseDuration(value, &ms, why);
  }
  if (s.type == SettingInfo::kSize) {
    uint64_t n;
    return ParseByteSize(value, &n, why);
  }
  if (s.type == SettingInfo::kCount) {
    bool digits = !value.empty() && value.size() <= 9;
    for (char c : value) digits = digits && c >= '0' && c <= '9';
    if (!digits) *why = Quote(value) + " is not a whole number from 0 to 999999999";
    return digits;
  }
  return true;
}

std::string ConfigPath(const EnvLookup& env, std::string* source) {
  if (const char* p = Get(env, "WSFLOW_CONFIG")) {
    *source = "env:WSFLOW_CONFIG";
    return p;
  }
  if (const char* x = Get(env, "XDG_CONFIG_HOME"); x && x[0] == '/') {  // relative: ignored, as XDG says
    *source = "env:XDG_CONFIG_HOME";
    return std::string(x) + "/wsflow/config.json";
  }
  *source = "default";
  const char* home = Get(env, "HOME");
  return home ? std::string(home) + "/.config/wsflow/config.json" : std::string();
}

bool ConfigFile::Load(const EnvLookup& env, const std::string& profile_flag, std::string* err) {
  std::string source;
  std::string path = ConfigPath(env, &source);
  std::string text;
  bool exists = false;
  struct stat st {};
  if (!path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {  // ifstream would read it as empty
    *err = "config " + path + ": is a directory, not a file" +
           (source == "env:WSFLOW_CONFIG" ? " (named by WSFLOW_CONFIG)" : "");
    return false;
  }
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
      exists = true;
    } else if (errno != ENOENT || source == "env:WSFLOW_CONFIG") {
      *err = "config " + path + ": cannot read it: " + std::strerror(errno) +
             (source == "env:WSFLOW_CONFIG" ? " (named by WSFLOW_CONFIG)" : "");
      return false;
    }
  }
  if (!LoadText(env, path, exists, text, profile_flag, err)) return false;
  path_source_ = source;
  return true;
}

bool ConfigFile::LoadText(const EnvLookup& env, const std::string& path, bool exists, const std::string& text,
                          const std::string& profile_flag, std::string* err) {
  env_ = env;
  path_ = path;
  exists_ = exists;
  top_.clear();
  chosen_.clear();
  const std::string label = "config " + path;
  // A byte-order mark, as editors on Windows write: ParseJson refuses one, and it is no setting.
  std::string_view body = text;
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  JsonDoc doc;
  bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (exists && !blank) {
    std::string why;
    if (!ParseJson(body, &doc, &why)) {
      *err = label + ": not valid JSON: " + why;
      return false;
    }
    if (!doc.IsObject()) {
      *err = label + ": must be a JSON object of settings";
      return false;
    }
    if (!ReadSettings(doc, "", label, true, &top_, err)) return false;
  } else {
    doc.SetObject();
  }

  const JsonValue* profiles = nullptr;
  auto p = doc.FindMember("profiles");
  if (p != doc.MemberEnd()) {
    if (!p->value.IsObject()) {
      *err = label + ": profiles: must be an object of {NAME: {settings}}";
      return false;
    }
    profiles = &p->value;
    for (auto it = profiles->MemberBegin(); it != profiles->MemberEnd(); ++it) {
      std::string name(it->name.GetString(), it->name.GetStringLength());
      if (!it->value.IsObject()) {
        *err = label + ": profiles." + name + ": must be an object of settings";
        return false;
      }
      std::map<std::string, std::string> ignored;  // checked now, so that a bad profile shows up before it is used
      if (!ReadSettings(it->value, "profiles." + name + ".", label, false, &ignored, err)) return false;
    }
  }

  profile_.clear();
  profile_source_ = "default";
  if (!profile_flag.empty()) {
    profile_ = profile_flag;
    profile_source_ = "flag";
  } else if (const char* e = Get(env, "WSFLOW_PROFILE")) {
    profile_ = e;
    profile_source_ = "env:WSFLOW_PROFILE";
  } else if (auto d = doc.FindMember("profile"); d != doc.MemberEnd()) {
    if (!d->value.IsString()) {
      *err = label + ": profile: must be the name of a profile (a string)";
      return false;
    }
    profile_ = d->value.GetString();
    profile_source_ = "file";
  }
  if (profile_.empty()) return true;
  std::string asked_by = profile_source_ == "flag" ? "--profile" : profile_source_ == "file" ? "\"profile\"" : "WSFLOW_PROFILE";
  if (!exists) {
    *err = asked_by + " " + profile_ + ": there is no config file" + (path.empty() ? "" : " (looked for " + path + ")");
    return false;
  }
  auto chosen = profiles ? profiles->FindMember(profile_.c_str()) : doc.MemberEnd();
  if (!profiles || chosen == profiles->MemberEnd()) {
    std::string have;
    if (profiles)
      for (auto it = profiles->MemberBegin(); it != profiles->MemberEnd(); ++it)
        have += (have.empty() ? "" : ", ") + std::string(it->name.GetString());
    *err = label + ": profiles." + profile_ + ": no such profile (asked for by " + asked_by + "; defined: " +
           (have.empty() ? "none" : have) + ")";
    return false;
  }
  return ReadSettings(chosen->value, "profiles." + profile_ + ".", label, false, &chosen_, err);
}

SettingValue ConfigFile::Resolve(const std::string& key, const std::string* flag, const std::string& dflt) const {
  const SettingInfo* s = FindSetting(key);
  std::string flag_name = "--" + key;
  for (auto& c : flag_name)
    if (c == '_') c = '-';
  if (flag) return {*flag, "flag", flag_name};
  if (s) {
    if (const char* e = Get(env_, s->env)) return {e, std::string("env:") + s->env, s->env};
  }
  if (auto it = chosen_.find(key); it != chosen_.end())
    return {it->second, "file:" + profile_, "config " + path_ + ": profiles." + profile_ + "." + key};
  if (auto it = top_.find(key); it != top_.end()) return {it->second, "file", "config " + path_ + ": " + key};
  return {dflt, "default", flag_name};
}

}  // namespace wsflow
