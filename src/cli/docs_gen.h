// The man page and the shell completions, generated from the CLI11 definitions so that they
// cannot drift from the code: `wsflow __gen man|bash|zsh|fish` prints one; the committed copies
// under man/ and completions/ are checked against it by a test (regenerate: cmake --build
// build --target gen-docs).
#pragma once

#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

namespace wsflow {

/// Writes `kind` ("man", "bash", "zsh", "fish") for `app` to `out`. False for an unknown kind.
bool GenerateDocs(const CLI::App& app, const std::string& kind, std::ostream& out);

}  // namespace wsflow
