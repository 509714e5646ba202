#include <catch2/catch.hpp>

#include "core/byte_size.h"

using namespace wsflow;

TEST_CASE("sizes take binary and decimal units, a bare number is bytes") {
  uint64_t n = 0;
  std::string err;
  struct {
    const char* text;
    uint64_t bytes;
  } good[] = {{"0", 0},           {"1048576", 1048576}, {"512B", 512},          {"4K", 4096},
              {"4KiB", 4096},     {"64MiB", 64u << 20}, {"64m", 64u << 20},     {"1.5MiB", 1572864},
              {"2GiB", 2ull << 30}, {"20MB", 20000000}, {"1kB", 1000},          {"3gb", 3000000000ull},
              {"2TiB", 2ull << 40}, {"1TB", 1000000000000ull}};
  for (auto& g : good) {
    INFO(g.text);
    err.clear();
    REQUIRE(ParseByteSize(g.text, &n, &err));
    CHECK(n == g.bytes);
  }
}

TEST_CASE("bad sizes are refused with a reason") {
  for (const char* bad : {"", "MiB", "-1", "1 MiB", "1x", "inf", "0x10", "1.2.3", "nan", ".", "1e3", "64MiBs",
                          "9999999999999999GiB"}) {
    INFO(bad);
    uint64_t n = 7;
    std::string err;  // fresh for each input
    CHECK_FALSE(ParseByteSize(bad, &n, &err));
    CHECK(err.find("'" + std::string(bad) + "'") != std::string::npos);
    CHECK(n == 7);
  }
}

TEST_CASE("a whole-unit size for people reads back (TiB too, which FormatByteSize prints)") {
  for (uint64_t n : {uint64_t{1} << 10, uint64_t{64} << 20, uint64_t{3} << 30, uint64_t{5} << 40}) {
    std::string shown = FormatByteSize(n);
    shown.erase(shown.find(' '), 1);
    uint64_t back = 0;
    std::string err;
    INFO(shown);
    REQUIRE(ParseByteSize(shown, &back, &err));
    CHECK(back == n);
  }
}

TEST_CASE("sizes for people: whole units without a fraction") {
  CHECK(FormatByteSize(0) == "0 B");
  CHECK(FormatByteSize(1023) == "1023 B");
  CHECK(FormatByteSize(1024) == "1 KiB");
  CHECK(FormatByteSize(1536) == "1.5 KiB");
  CHECK(FormatByteSize(64u << 20) == "64 MiB");
  CHECK(FormatByteSize(20000000) == "19.1 MiB");
  CHECK(FormatByteSize(3ull << 30) == "3 GiB");
}
