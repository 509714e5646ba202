#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "server/log_cache.h"

using namespace wsflow::serve;

namespace {
std::shared_ptr<LogBlock> Block(size_t bytes) {
  auto b = std::make_shared<LogBlock>();
  b->text = std::string(bytes - 1, 'x') + "\n";
  b->ends.push_back(static_cast<uint32_t>(bytes - 1));
  return b;
}
}  // namespace

TEST_CASE("LogBlock: lines are cut at their ends, without the newline") {
  LogBlock b;
  b.text = "one\ntwo\n\nfour\n";
  b.ends = {3, 7, 8, 13};
  CHECK(b.lines() == 4);
  CHECK(b.line(0) == "one");
  CHECK(b.line(1) == "two");
  CHECK(b.line(2) == "");
  CHECK(b.line(3) == "four");
}

TEST_CASE("LogCache: the least recently used blocks go when the budget is passed") {
  int owner = 0;
  size_t one = Block(1000)->bytes();
  LogCache cache(3 * one);
  cache.Put(&owner, 0, Block(1000));
  cache.Put(&owner, 1, Block(1000));
  cache.Put(&owner, 2, Block(1000));
  CHECK(cache.blocks() == 3);
  CHECK(cache.Find(&owner, 0));  // 0 is now the most recently used
  cache.Put(&owner, 3, Block(1000));
  CHECK(cache.blocks() == 3);
  CHECK(cache.bytes() <= cache.budget());
  CHECK_FALSE(cache.Find(&owner, 1));  // the least recently used went
  CHECK(cache.Find(&owner, 0));
  CHECK(cache.Find(&owner, 2));
  CHECK(cache.Find(&owner, 3));
}

TEST_CASE("LogCache: a block over the budget stays until the next one; a holder keeps a dropped block alive") {
  int owner = 0;
  LogCache cache(100);
  cache.Put(&owner, 0, Block(5000));
  std::shared_ptr<const LogBlock> held = cache.Find(&owner, 0);
  REQUIRE(held);
  cache.Put(&owner, 1, Block(5000));
  CHECK_FALSE(cache.Find(&owner, 0));
  CHECK(held->text.size() == 5000);  // still readable by whoever holds it
}

TEST_CASE("LogCache: Forget drops one owner's blocks only; Put again replaces") {
  int a = 0, b = 0;
  LogCache cache(1 << 20);
  cache.Put(&a, 0, Block(100));
  cache.Put(&a, 1, Block(100));
  cache.Put(&b, 0, Block(100));
  cache.Put(&b, 0, Block(200));
  CHECK(cache.blocks() == 3);
  CHECK(cache.Find(&b, 0)->text.size() == 200);
  cache.Forget(&a);
  CHECK(cache.blocks() == 1);
  CHECK_FALSE(cache.Find(&a, 0));
  CHECK(cache.Find(&b, 0));
  CHECK(cache.bytes() == cache.Find(&b, 0)->bytes());
}
