// The one parser of outside JSON (frames, stdin, recordings, config files, control messages) and
// small RapidJSON helpers shared by every layer: compact output, typed member access that never
// throws or asserts on the wrong type.
//
// Every parse is depth-limited (kMaxJsonDepth): RapidJSON's iterative reader alone takes any
// depth, but Accept() and CopyFrom() on the document recurse, so `[` x 100,000 would overflow the
// stack later. Parse nothing from outside with rapidjson directly: use ParseJson, JsonParser or
// FrameScanner (core/frame_scan.h).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace wsflow {

using JsonValue = rapidjson::Value;
using JsonDoc = rapidjson::Document;

/// Arrays and objects nested deeper than this are refused ("nested deeper than 128 levels").
inline constexpr int kMaxJsonDepth = 128;

/// A Document whose arena is reused from one Parse to the next: parsing one frame after another
/// (hundreds of thousands a second) then allocates nothing once warm.
class JsonParser {
 public:
  JsonParser();
  /// Parses a whole JSON text (UTF-8 validated, at most kMaxJsonDepth deep, nothing after the
  /// value). On failure returns false and sets `*err` to a one-line reason with the byte offset.
  bool Parse(std::string_view text, std::string* err);
  JsonDoc& doc() { return doc_; }
  /// After a failed Parse: RapidJSON's error code (rapidjson::ParseErrorCode) and the byte offset
  /// where it was found, for callers that word the error their own way.
  int error_code() const { return error_code_; }
  size_t error_offset() const { return error_offset_; }

 private:
  rapidjson::MemoryPoolAllocator<> pool_;
  JsonDoc doc_;
  int error_code_ = 0;
  size_t error_offset_ = 0;
};

/// Parses `text` into a standalone document, with the same checks as JsonParser.
bool ParseJson(std::string_view text, JsonDoc* doc, std::string* err);

/// True when a decoded string holds a UTF-16 surrogate as UTF-8 (ED A0-BF xx): RapidJSON 1.1 makes
/// one of a lone "\uDC00".."\uDFFF" escape, which would print as bytes that are not UTF-8. The
/// parsers above and FrameScanner refuse such strings.
bool HasSurrogate(const char* s, size_t n);

/// RapidJSON's parse error `code` (rapidjson::ParseErrorCode) in short plain words ("expected a
/// member name"), the one place they are worded: RapidJSON's own ("Missing a name for object
/// member.") read like its source, not like a message.
const char* JsonErrorPhrase(int code);

/// The one-line reason for a failed parse of `text`: JsonErrorPhrase(`code`)
/// (rapidjson::ParseErrorCode), or the depth limit, or a byte-order mark at the start (refused:
/// outside JSON has none; the config loader strips one before parsing), then " at byte N".
std::string JsonErrorText(std::string_view text, int code, size_t offset, bool too_deep);

/// The compact serialisation of `v`.
std::string ToJson(const JsonValue& v);
/// Indented JSON for people (two spaces a level), without a final newline.
std::string ToPrettyJson(const JsonValue& v);

/// True when `text` has no white space outside strings, so it is already one compact line.
bool IsCompactJson(std::string_view text);

// Member access: the default when `v` is not an object, or the member is missing or of another type.
std::string_view GetString(const JsonValue& v, const char* key, std::string_view dflt = {});
int64_t GetInt(const JsonValue& v, const char* key, int64_t dflt);
double GetDouble(const JsonValue& v, const char* key, double dflt);
bool GetBool(const JsonValue& v, const char* key, bool dflt);
const JsonValue* GetObject(const JsonValue& v, const char* key);
const JsonValue* GetArray(const JsonValue& v, const char* key);

/// A string value that copies `s` into `alloc`.
inline JsonValue Str(std::string_view s, rapidjson::MemoryPoolAllocator<>& alloc) {
  return JsonValue(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc);
}

/// A JSON string literal of `s` (quotes and escapes).
std::string Quote(std::string_view s);

/// A compact JSON object text from members given as (key, JSON value text) pairs; an empty value
/// text leaves the member out.
std::string JsonObject(std::initializer_list<std::pair<const char*, std::string>> members);

}  // namespace wsflow
