#include "cli/runs_from.h"

#include <fstream>
#include <iostream>

#include "core/run_ids.h"

namespace wsflow {

bool ReadRunIds(const std::string& path, std::vector<std::string>* ids, std::string* err) {
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file) {
      *err = "--runs-from: cannot read " + path;
      return false;
    }
  }
  std::istream& in = path == "-" ? std::cin : file;
  std::string line, id, why;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (!ParseRunIdLine(line, &id, &why)) {
      *err = "--runs-from " + path + ": line " + std::to_string(number) + ": " + why;
      return false;
    }
    if (!id.empty()) ids->push_back(id);
  }
  return true;
}

}  // namespace wsflow
