// `wsflow runs` on a terminal: one row a run, the columns aligned, the task cut to the width of
// the terminal. Piped, `runs` prints NDJSON instead; this is for people.
#pragma once

#include <cstddef>
#include <string>

#include "core/json.h"

namespace wsflow {

/// The table of `runs` (the summaries list_runs answers), `columns` wide at most; `total` runs
/// matched, of which `runs` are shown (a last line says so when some were left out).
std::string RunsTable(const JsonValue& runs, size_t total, int columns);

/// "2026-11-29T15:57:23.170Z" -> "2026-11-29 15:57:23" (other text as it is).
std::string ShortTime(std::string_view iso);

}  // namespace wsflow
