#include <catch2/catch.hpp>

#include <string>

#include "session/run_tracker.h"

using namespace wsflow;
using V = SeqTracker::Verdict;

TEST_CASE("SeqTracker: seq from 1 without gaps is next") {
  SeqTracker t;
  CHECK(t.last() == 0);
  for (int64_t s = 1; s <= 5; ++s) {
    INFO(s);
    CHECK(t.Check(s) == V::kNext);
    CHECK(t.last() == s);
  }
}

TEST_CASE("SeqTracker: duplicates and gaps do not advance it") {
  SeqTracker t;
  CHECK(t.Check(1) == V::kNext);
  CHECK(t.Check(2) == V::kNext);
  CHECK(t.Check(2) == V::kDuplicate);
  CHECK(t.Check(1) == V::kDuplicate);
  CHECK(t.last() == 2);
  CHECK(t.Check(4) == V::kGap);
  CHECK(t.last() == 2);
  CHECK(t.Check(100) == V::kGap);
  CHECK(t.last() == 2);
  CHECK(t.Check(3) == V::kNext);
  CHECK(t.Check(4) == V::kNext);
  CHECK(t.last() == 4);
  CHECK(t.Check(0) == V::kDuplicate);
  CHECK(t.Check(-1) == V::kDuplicate);
}

TEST_CASE("SeqTracker starting from a since value") {
  SeqTracker t(10);
  CHECK(t.last() == 10);
  CHECK(t.Check(1) == V::kDuplicate);
  CHECK(t.Check(10) == V::kDuplicate);
  CHECK(t.Check(12) == V::kGap);
  CHECK(t.Check(11) == V::kNext);
  CHECK(t.Check(12) == V::kNext);
  CHECK(t.last() == 12);
}

TEST_CASE("DedupeWindow recognises keys it has seen") {
  DedupeWindow w(8);
  CHECK_FALSE(w.Seen("a"));
  CHECK_FALSE(w.Seen("b"));
  CHECK(w.Seen("a"));
  CHECK(w.Seen("b"));
  CHECK(w.Seen("a"));
  CHECK(w.size() == 2);
  CHECK_FALSE(w.Seen(""));
  CHECK(w.Seen(""));
}

TEST_CASE("DedupeWindow forgets the oldest key past its capacity, and can take it again") {
  DedupeWindow w(3);
  CHECK_FALSE(w.Seen("a"));
  CHECK_FALSE(w.Seen("b"));
  CHECK_FALSE(w.Seen("c"));
  CHECK(w.size() == 3);
  CHECK_FALSE(w.Seen("d"));  // evicts a
  CHECK(w.size() == 3);
  CHECK(w.Seen("b"));
  CHECK(w.Seen("c"));
  CHECK(w.Seen("d"));
  CHECK_FALSE(w.Seen("a"));  // evicted, so new again; now evicts b
  CHECK(w.Seen("a"));
  CHECK_FALSE(w.Seen("b"));  // evicts c
  CHECK(w.Seen("d"));
  CHECK(w.Seen("a"));
  CHECK(w.Seen("b"));
  CHECK_FALSE(w.Seen("c"));
  CHECK(w.size() == 3);
}

TEST_CASE("DedupeWindow stays bounded over many keys") {
  DedupeWindow w(100);
  for (int i = 0; i < 10000; ++i) REQUIRE_FALSE(w.Seen("key-" + std::to_string(i)));
  CHECK(w.size() == 100);
  // The last 100 are remembered, the one before them is not.
  for (int i = 9900; i < 10000; ++i) REQUIRE(w.Seen("key-" + std::to_string(i)));
  CHECK_FALSE(w.Seen("key-9899"));
}

TEST_CASE("DedupeWindow of capacity 0 behaves as capacity 1") {
  DedupeWindow w(0);
  CHECK_FALSE(w.Seen("a"));
  CHECK(w.Seen("a"));
  CHECK_FALSE(w.Seen("b"));
  CHECK_FALSE(w.Seen("a"));
  CHECK(w.size() == 1);
}

TEST_CASE("Fnv1a has the standard 64-bit FNV-1a values") {
  CHECK(Fnv1a("") == 14695981039346656037ull);
  CHECK(Fnv1a("") == 0xcbf29ce484222325ull);
  CHECK(Fnv1a("a") == 0xaf63dc4c8601ec8cull);
  CHECK(Fnv1a("foobar") == 0x85944171f73967e8ull);
  CHECK(Fnv1a("ab") != Fnv1a("ba"));
}
