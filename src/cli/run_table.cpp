#include "cli/run_table.h"

#include <algorithm>
#include <vector>

#include "core/utf8.h"

namespace wsflow {

namespace {
// Terminal columns, not bytes (core/utf8): a task in any script is cut between characters.
size_t Width(std::string_view s) { return DisplayWidth(s); }

std::string Cut(std::string_view s, size_t width) {
  if (Width(s) <= width) return std::string(s);
  if (width == 0) return "";
  return std::string(s.substr(0, PrefixFitting(s, width - 1))) + "\xE2\x80\xA6";  // …
}

std::string Pad(const std::string& s, size_t width) { return s + std::string(width - std::min(width, Width(s)), ' '); }

std::string OneLine(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return out;
}
}  // namespace

std::string ShortTime(std::string_view iso) {
  if (iso.size() < 19 || iso[10] != 'T') return std::string(iso);
  return std::string(iso.substr(0, 10)) + " " + std::string(iso.substr(11, 8));
}

std::string RunsTable(const JsonValue& runs, size_t total, int columns) {
  std::vector<std::vector<std::string>> rows = {{"RUN", "STATE", "EVENTS", "CREATED", "UPDATED", "TASK"}};
  if (runs.IsArray()) {
    for (const auto& r : runs.GetArray()) {
      rows.push_back({std::string(GetString(r, "run_id")), std::string(GetString(r, "state")),
                      std::to_string(GetInt(r, "last_seq", 0)), ShortTime(GetString(r, "created")),
                      ShortTime(GetString(r, "updated")), OneLine(GetString(r, "task"))});
    }
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], Width(row[c]));
  size_t fixed = 0;
  for (size_t c = 0; c + 1 < width.size(); ++c) fixed += width[c] + 2;
  size_t task_width = columns > 0 && static_cast<size_t>(columns) > fixed + 8 ? columns - fixed : 8;
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c + 1 < row.size(); ++c) line += Pad(row[c], width[c] + 2);
    line += Cut(row.back(), task_width);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  size_t shown = rows.size() - 1;
  if (total > shown)
    out += "(" + std::to_string(shown) + " of " + std::to_string(total) + " runs; --limit N shows more)\n";
  if (shown == 0) out += "(no runs)\n";
  return out;
}

}  // namespace wsflow
