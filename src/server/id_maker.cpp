#include "server/id_maker.h"

#include <cstdio>

#include "session/run_tracker.h"  // Fnv1a: the one copy

namespace wsflow::serve {

namespace {
const char* kHex = "0123456789abcdef";

std::string UuidOf(const unsigned char (&bytes)[16]) {
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return out;
}

std::string UuidFrom(uint64_t a, uint64_t b) {
  unsigned char bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<unsigned char>(a >> (8 * i));
    bytes[8 + i] = static_cast<unsigned char>(b >> (8 * i));
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // variant 10
  return UuidOf(bytes);
}
}  // namespace

IdMaker::IdMaker() : rng_(std::random_device{}()) {}

std::string IdMaker::RunId() {
  std::string id = "r-";
  for (int i = 0; i < 12; ++i) id += kHex[rng_() % 16];
  return id;
}

std::string IdMaker::Uuid() { return UuidFrom(rng_(), rng_()); }

std::string StableUuid(const std::string& seed) { return UuidFrom(Fnv1a(seed), Fnv1a(seed + "/cmbagent-run")); }

}  // namespace wsflow::serve
