// The adapters behind MakeDialect, one file each; shared helpers for converting frames.
#pragma once

#include <memory>

#include "dialects/dialect.h"

namespace wsflow {

std::unique_ptr<Dialect> MakeNativeDialect();
std::unique_ptr<Dialect> MakeCmbagentDialect();
std::unique_ptr<Dialect> MakeRyxDialect();
std::unique_ptr<Dialect> MakeA2aDialect();
std::unique_ptr<Dialect> MakeAladdinDialect();
std::unique_ptr<Dialect> MakeChatDialect();

/// An ISO 8601 UTC timestamp with milliseconds and Z, from what a backend sent ("...Z",
/// "...+00:00", naive = UTC); now when `ts` is empty or not a timestamp.
std::string NormalizeTimestamp(std::string_view ts);

/// A copy of object `frame` without the members named in `drop` (the envelope's data).
void DataWithout(const JsonValue& frame, std::initializer_list<const char*> drop, JsonDoc* out);


}  // namespace wsflow
