// Small text helpers: counts with their noun, the nearest of a few names (for "did you mean ...?"),
// ASCII lower case, and the number-and-unit scan that durations and sizes share.
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

/// `s` with ASCII letters in lower case (names, units, schemes; not for people's text).
std::string Lower(std::string s);

/// Splits "1.5MiB" into 1.5 and "MiB": digits with at most one decimal point, then the rest as the
/// unit. False when the text does not start with such a number (strtod alone would also take
/// "inf", "0x1p3", "-1" or " 1").
bool SplitNumberUnit(const std::string& text, double* value, std::string* unit);

}  // namespace wsflow
