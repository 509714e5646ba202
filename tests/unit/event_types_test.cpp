#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dialects/event_types.h"

using namespace wsflow;

namespace {
std::vector<std::string> Cells(const std::string& row) {
  std::vector<std::string> out;
  std::istringstream in(row);
  std::string cell;
  std::getline(in, cell, '|');  // before the first bar
  while (std::getline(in, cell, '|')) {
    size_t a = cell.find_first_not_of(' '), b = cell.find_last_not_of(' ');
    out.push_back(a == std::string::npos ? "" : cell.substr(a, b - a + 1));
  }
  return out;
}

// The first `word` of each row under a table header cell named "event_type".
std::vector<std::string> DocumentedTypes(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::vector<std::string> types;
  int column = -1;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| ", 0) != 0) {
      column = -1;
      continue;
    }
    std::vector<std::string> cells = Cells(line);
    if (column < 0) {
      for (size_t i = 0; i < cells.size(); ++i)
        if (cells[i] == "event_type") column = static_cast<int>(i);
      continue;
    }
    if (static_cast<size_t>(column) >= cells.size()) continue;
    const std::string& c = cells[column];
    size_t a = c.find('`'), b = c.find('`', a + 1);
    if (a != std::string::npos && b != std::string::npos) types.push_back(c.substr(a + 1, b - a - 1));
  }
  return types;
}
}  // namespace

TEST_CASE("the known event types are sorted, and hold those of every dialect and of the native protocol") {
  const auto& t = KnownEventTypes();
  CHECK(std::is_sorted(t.begin(), t.end()));
  for (const char* type : {"workflow_completed", "step_start", "task_complete", "progress", "orchestration-complete",
                           "tool_execution", "message", "connected", "unknown"})
    CHECK(IsKnownEventType(type));
  CHECK_FALSE(IsKnownEventType("workflow_complted"));
  CHECK_FALSE(IsKnownEventType(""));
}

TEST_CASE("every event type docs/events.md lists is known") {
  std::vector<std::string> types = DocumentedTypes(std::string(WSFLOW_DOCS) + "/events.md");
  CHECK(types.size() >= 30);
  for (const auto& type : types) {
    INFO(type);
    CHECK(IsKnownEventType(type));
  }
}
