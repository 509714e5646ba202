// Ids serve makes up: run ids ("r-" and 12 hex digits) and random (version 4) UUIDs, and the
// UUID a key always gets (a restarted server shows the same one).
//
// Thread contract: one thread per IdMaker.
#pragma once

#include <random>
#include <string>

namespace wsflow::serve {

class IdMaker {
 public:
  IdMaker();
  explicit IdMaker(uint64_t seed) : rng_(seed) {}
  std::string RunId();
  std::string Uuid();

 private:
  std::mt19937_64 rng_;
};

/// A UUID (version 4 layout) that depends only on `seed`.
std::string StableUuid(const std::string& seed);

}  // namespace wsflow::serve
