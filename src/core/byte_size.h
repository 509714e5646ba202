// Sizes on the command line and in messages: "64MiB", "512K", "20MB", "1048576" (bytes).
#pragma once

#include <cstdint>
#include <string>

namespace wsflow {

/// Parses `text` into `*out` bytes: a number (a decimal point allowed) and an optional unit.
/// K, M, G, T, KiB, MiB, GiB, TiB are powers of 1024; kB, MB, GB, TB powers of 1000; B or none is bytes
/// (units in any case). False with the reason in `*err`, `*out` untouched.
bool ParseByteSize(const std::string& text, uint64_t* out, std::string* err);

/// "512 B", "1.5 KiB", "64 MiB" (whole units without a fraction): a size for people.
std::string FormatByteSize(uint64_t n);

}  // namespace wsflow
