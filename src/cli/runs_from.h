// --runs-from FILE: the run ids of a file (or of all of stdin for `-` where the command needs them
// before it starts: cancel, pause, resume), one per line (core/run_ids.h).
#pragma once

#include <string>
#include <vector>

namespace wsflow {

/// Appends the ids of `path` ("-": stdin, read to its end) to `ids`. False with a reason naming
/// the line when the file cannot be read or a line holds no usable run id.
bool ReadRunIds(const std::string& path, std::vector<std::string>* ids, std::string* err);

}  // namespace wsflow
