// The words a numeric option uses for a bad value: "--tail: must be 0 or more", "--speed: must be
// a number", "--port: must be between 0 and 65535" -- one short line, instead of CLI11's own
// (whose non-negative range prints a number of 300 digits).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace wsflow {

/// A check for a number in [lo, hi] (inclusive) in those words; `integer`: a whole number.
CLI::Validator Between(double lo, double hi, bool integer = true);

/// Every numeric option of `app` and its subcommands, those defined anywhere: CLI11's
/// NonNegativeNumber and PositiveNumber checks say it in these words, and an option of a numeric
/// type without a check gets one ("must be a number"; unsigned: "must be 0 or more"). Call once,
/// after every option is defined.
void UseShortNumberChecks(CLI::App* app);

/// The words for `text` as a value in [lo, hi]: "" when it is one.
std::string NumberProblem(const std::string& text, double lo, double hi, bool integer);

}  // namespace wsflow
