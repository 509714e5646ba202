#include "core/predicate.h"

#include <re2/re2.h>

#include <cstdlib>

namespace wsflow {

namespace {
std::string TextOf(const JsonValue& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  return ToJson(v);
}

bool Truthy(const JsonValue& v) {
  if (v.IsNull()) return false;
  if (v.IsBool()) return v.GetBool();
  if (v.IsNumber()) return v.GetDouble() != 0;
  if (v.IsString()) return v.GetStringLength() > 0;
  return true;
}
}  // namespace

bool Predicate::Parse(const std::string& text, Predicate* out, std::string* err) {
  *out = Predicate{};
  out->text_ = text;
  size_t at = text.find_first_of("=~!");
  std::string path = text.substr(0, at);
  if (at != std::string::npos) {
    if (text[at] == '!' ) {
      if (at + 1 >= text.size() || text[at + 1] != '=') {
        *err = "'" + text + "': use PATH!=VALUE";
        return false;
      }
      out->op_ = Op::kNotEquals;
      out->value_ = text.substr(at + 2);
    } else {
      out->op_ = text[at] == '=' ? Op::kEquals : Op::kRegex;
      out->value_ = text.substr(at + 1);
    }
  }
  if (path.empty()) {
    *err = "'" + text + "' has no field path (e.g. data.status=failed)";
    return false;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    if (dot == std::string::npos) dot = path.size();
    std::string part = path.substr(start, dot - start);
    if (part.empty()) {
      *err = "'" + text + "' has an empty field name in its path";
      return false;
    }
    out->path_.push_back(part);
    start = dot + 1;
  }
  if (out->op_ == Op::kRegex) {
    // Not std::regex: libstdc++'s recurses once per character of the text and overflowed the stack
    // on a 100 KB field (`.*error`). RE2 matches in time linear in the text, on the heap.
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const RE2>(out->value_, options);
    if (!re->ok()) {
      *err = "'" + text + "': bad regular expression: " + re->error();
      return false;
    }
    out->regex_ = std::move(re);
  }
  return true;
}

const JsonValue* Lookup(const JsonValue& v, const std::vector<std::string>& path) {
  const JsonValue* cur = &v;
  for (const auto& part : path) {
    if (cur->IsObject()) {
      auto it = cur->FindMember(part.c_str());
      if (it == cur->MemberEnd()) return nullptr;
      cur = &it->value;
    } else if (cur->IsArray()) {
      char* end = nullptr;
      unsigned long i = std::strtoul(part.c_str(), &end, 10);
      if (*end != '\0' || i >= cur->Size()) return nullptr;
      cur = &(*cur)[static_cast<rapidjson::SizeType>(i)];
    } else {
      return nullptr;
    }
  }
  return cur;
}

bool Predicate::Matches(const JsonValue& envelope) const {
  const JsonValue* v = Lookup(envelope, path_);
  switch (op_) {
    case Op::kExists: return v && Truthy(*v);
    case Op::kEquals: return v && TextOf(*v) == value_;
    case Op::kNotEquals: return !v || TextOf(*v) != value_;
    case Op::kRegex: return v && RE2::PartialMatch(TextOf(*v), *regex_);
  }
  return false;
}

bool MatchesAll(const std::vector<Predicate>& preds, const JsonValue& envelope) {
  for (const auto& p : preds)
    if (!p.Matches(envelope)) return false;
  return true;
}

}  // namespace wsflow
