#include "core/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace wsflow {

namespace {
constexpr unsigned kParseFlags = rapidjson::kParseValidateEncodingFlag;

template <typename Doc>
bool ParseInto(Doc& doc, std::string_view text, std::string* err) {
  doc.template Parse<kParseFlags>(text.data(), text.size());
  if (!doc.HasParseError()) return true;
  if (err) {
    *err = std::string(rapidjson::GetParseError_En(doc.GetParseError())) + " at byte " +
           std::to_string(doc.GetErrorOffset());
  }
  return false;
}
}  // namespace

JsonParser::JsonParser() : doc_(&pool_) {}

bool JsonParser::Parse(std::string_view text, std::string* err) {
  doc_.SetNull();
  pool_.Clear();  // keeps nothing from the previous frame; the first chunk is reused by malloc
  return ParseInto(doc_, text, err);
}

bool ParseJson(std::string_view text, JsonDoc* doc, std::string* err) { return ParseInto(*doc, text, err); }

std::string ToJson(const JsonValue& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

bool IsCompactJson(std::string_view text) {
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      return false;
    }
  }
  return true;
}

std::string_view GetString(const JsonValue& v, const char* key, std::string_view dflt) {
  if (!v.IsObject()) return dflt;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return dflt;
  return {it->value.GetString(), it->value.GetStringLength()};
}

int64_t GetInt(const JsonValue& v, const char* key, int64_t dflt) {
  if (!v.IsObject()) return dflt;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsInt64()) return dflt;
  return it->value.GetInt64();
}

double GetDouble(const JsonValue& v, const char* key, double dflt) {
  if (!v.IsObject()) return dflt;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsNumber()) return dflt;
  return it->value.GetDouble();
}

bool GetBool(const JsonValue& v, const char* key, bool dflt) {
  if (!v.IsObject()) return dflt;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsBool()) return dflt;
  return it->value.GetBool();
}

const JsonValue* GetObject(const JsonValue& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

const JsonValue* GetArray(const JsonValue& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsArray() ? &it->value : nullptr;
}

}  // namespace wsflow
