#include "core/json.h"

#include <rapidjson/error/error.h>
#include <rapidjson/reader.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstring>

namespace wsflow {

namespace {
constexpr unsigned kParseFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;

// Forwards SAX events to the document being built, refusing a nesting deeper than kMaxJsonDepth.
template <typename Doc>
struct DepthLimited {
  Doc& doc;
  int depth = 0;
  bool too_deep = false;
  bool too_big = false;
  bool surrogate = false;

  bool Null() { return doc.Null(); }
  bool Bool(bool b) { return doc.Bool(b); }
  bool Int(int i) { return doc.Int(i); }
  bool Uint(unsigned u) { return doc.Uint(u); }
  bool Int64(int64_t i) { return doc.Int64(i); }
  bool Uint64(uint64_t u) { return doc.Uint64(u); }
  // RapidJSON reads some numbers beyond a double's range (82231e308) as infinity, which no JSON
  // text can hold: ToJson would then stop writing there.
  bool Double(double d) { return std::isfinite(d) ? doc.Double(d) : (too_big = true, false); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) { return doc.RawNumber(s, n, copy); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    return HasSurrogate(s, n) ? (surrogate = true, false) : doc.String(s, n, copy);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    return HasSurrogate(s, n) ? (surrogate = true, false) : doc.Key(s, n, copy);
  }
  bool StartObject() { return Enter() && doc.StartObject(); }
  bool EndObject(rapidjson::SizeType n) { return --depth, doc.EndObject(n); }
  bool StartArray() { return Enter() && doc.StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return --depth, doc.EndArray(n); }
  bool Enter() {
    if (++depth <= kMaxJsonDepth) return true;
    too_deep = true;
    return false;
  }
};

template <typename Doc>
bool ParseInto(Doc& doc, std::string_view text, std::string* err, rapidjson::ParseResult* out = nullptr) {
  // A plain MemoryStream: RapidJSON's UTF-8 EncodedInputStream skips 0xEF, 0xBB and 0xBF at the
  // start, each on its own, so bytes that are not UTF-8 parsed (and FrameScanner refused them).
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::ParseResult result;
  bool too_deep = false, too_big = false, surrogate = false;
  auto generator = [&](Doc& target) {
    DepthLimited<Doc> limited{target};
    rapidjson::Reader reader;
    result = reader.Parse<kParseFlags>(ms, limited);
    too_deep = limited.too_deep;
    too_big = limited.too_big;
    surrogate = limited.surrogate;
    return !result.IsError();
  };
  doc.Populate(generator);
  if (!result.IsError() && ms.Tell() < text.size()) {  // a NUL byte reads as the end to RapidJSON
    result.Set(rapidjson::kParseErrorDocumentRootNotSingular, ms.Tell());
  }
  // The handler's refusals end the parse as kParseErrorTermination: give them their own codes, for
  // JsonParser::error_code()'s callers.
  if (too_big) result.Set(rapidjson::kParseErrorNumberTooBig, result.Offset());
  if (surrogate) result.Set(rapidjson::kParseErrorStringUnicodeSurrogateInvalid, result.Offset());
  if (out) *out = result;
  if (!result.IsError()) return true;
  doc.SetNull();
  if (err) *err = JsonErrorText(text, result.Code(), result.Offset(), too_deep);
  return false;
}
}  // namespace

const char* JsonErrorPhrase(int code) {
  switch (static_cast<rapidjson::ParseErrorCode>(code)) {
    case rapidjson::kParseErrorNone: return "no error";
    case rapidjson::kParseErrorDocumentEmpty: return "an empty text";
    case rapidjson::kParseErrorDocumentRootNotSingular: return "more text after the value";
    case rapidjson::kParseErrorValueInvalid: return "expected a value";
    case rapidjson::kParseErrorObjectMissName: return "expected a member name";
    case rapidjson::kParseErrorObjectMissColon: return "expected ':' after a member name";
    case rapidjson::kParseErrorObjectMissCommaOrCurlyBracket: return "expected ',' or '}' after a member";
    case rapidjson::kParseErrorArrayMissCommaOrSquareBracket: return "expected ',' or ']' after an element";
    case rapidjson::kParseErrorStringUnicodeEscapeInvalidHex: return "a \\u escape without 4 hex digits";
    case rapidjson::kParseErrorStringUnicodeSurrogateInvalid: return "a \\u escape of half a surrogate pair";
    case rapidjson::kParseErrorStringEscapeInvalid: return "an unknown escape in a string";
    case rapidjson::kParseErrorStringMissQuotationMark: return "a string without its closing quote";
    case rapidjson::kParseErrorStringInvalidEncoding: return "a string that is not UTF-8";
    case rapidjson::kParseErrorNumberTooBig: return "a number too big for a double";
    case rapidjson::kParseErrorNumberMissFraction: return "a number without digits after '.'";
    case rapidjson::kParseErrorNumberMissExponent: return "a number without digits in its exponent";
    case rapidjson::kParseErrorTermination: return "the parse was stopped";
    case rapidjson::kParseErrorUnspecificSyntaxError: break;
  }
  return "a syntax error";
}

std::string JsonErrorText(std::string_view text, int code, size_t offset, bool too_deep) {
  std::string why;
  if (too_deep) {
    why = "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
  } else if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    // Looked at only once the parse failed: a frame that parses pays nothing for it.
    return "a UTF-8 byte-order mark (EF BB BF) before the value at byte 0";
  } else {
    why = JsonErrorPhrase(code);
  }
  return why + " at byte " + std::to_string(offset);
}

JsonParser::JsonParser() : doc_(&pool_) {}

bool JsonParser::Parse(std::string_view text, std::string* err) {
  doc_.SetNull();
  pool_.Clear();  // keeps nothing from the previous frame; the first chunk is reused by malloc
  rapidjson::ParseResult result;
  bool ok = ParseInto(doc_, text, err, &result);
  error_code_ = static_cast<int>(result.Code());
  error_offset_ = result.Offset();
  return ok;
}

bool ParseJson(std::string_view text, JsonDoc* doc, std::string* err) { return ParseInto(*doc, text, err); }

bool HasSurrogate(const char* s, size_t n) {
  for (const void* p; n > 1 && (p = std::memchr(s, 0xED, n - 1)) != nullptr;) {
    const char* at = static_cast<const char*>(p);
    if ((static_cast<unsigned char>(at[1]) & 0xE0) == 0xA0) return true;
    n -= static_cast<size_t>(at + 1 - s);
    s = at + 1;
  }
  return false;
}

std::string ToJson(const JsonValue& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string ToPrettyJson(const JsonValue& v) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// Strings are skipped with memchr (vectorised in libc): only the short stretches between them
// (keys' colons, commas, numbers, brackets) are looked at byte by byte.
bool IsCompactJson(std::string_view text) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const char* quote = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
    const char* stop = quote ? quote : end;
    for (; p < stop; ++p)
      if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') return false;
    if (!quote) return true;
    // Inside a string: its end is the next quote not escaped by an odd run of backslashes.
    p = quote + 1;
    for (;;) {
      const char* q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
      if (!q) return true;  // unterminated: not ours to judge (the parser refuses it)
      const char* b = q;
      while (b > p && b[-1] == '\\') --b;
      p = q + 1;
      if ((q - b) % 2 == 0) break;
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

std::string Quote(std::string_view s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

std::string JsonObject(std::initializer_list<std::pair<const char*, std::string>> members) {
  std::string out = "{";
  for (const auto& [k, v] : members) {
    if (v.empty()) continue;  // absent
    if (out.size() > 1) out += ",";
    out += Quote(k) + ":" + v;
  }
  return out + "}";
}

}  // namespace wsflow
