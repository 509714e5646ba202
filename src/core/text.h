// Small text helpers for what wsflow says to people: counts with their noun, and the nearest of
// a few names (for "did you mean ...?").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wsflow {

/// "1 event", "2 events": a count with its noun, singular or plural.
std::string Count(int64_t n, const char* singular, const char* plural);

/// The edit distance (insertions, deletions, substitutions, and transpositions of two neighbours)
/// between `a` and `b`.
size_t EditDistance(std::string_view a, std::string_view b);

/// The name in `names` nearest to `typed`, when it is near enough to be what was meant (as git
/// suggests a command); "" otherwise.
std::string Nearest(std::string_view typed, const std::vector<std::string>& names);

}  // namespace wsflow
