#include "libp2p/base/hash_index.h"

#include <map>
#include <random>
#include <set>
#include <utility>

#include "gtest/gtest.h"

namespace libp2p {
namespace {

TEST(HashIndexTest, FindsOnlyWhatTheMatcherAccepts) {
  HashIndex index;
  EXPECT_EQ(index.Find(7, [](uint64_t) { return true; }), HashIndex::kNotFound);
  index.Insert(7, 100);
  index.Insert(7, 200);  // Same hash, another entry (a hash collision between two keys).
  EXPECT_EQ(index.Find(7, [](uint64_t p) { return p == 200; }), 200u);
  EXPECT_EQ(index.Find(7, [](uint64_t p) { return p == 100; }), 100u);
  EXPECT_EQ(index.Find(7, [](uint64_t p) { return p == 300; }), HashIndex::kNotFound);
  EXPECT_EQ(index.Find(8, [](uint64_t) { return true; }), HashIndex::kNotFound);
  EXPECT_FALSE(index.Erase(7, 300));
  EXPECT_FALSE(index.Erase(8, 100));
  EXPECT_TRUE(index.Erase(7, 100));
  EXPECT_EQ(index.Find(7, [](uint64_t p) { return p == 100; }), HashIndex::kNotFound);
  EXPECT_EQ(index.Find(7, [](uint64_t p) { return p == 200; }), 200u);
  EXPECT_EQ(index.size(), 1u);
}

// Random inserts and erases, with hashes drawn from a small set so that probe runs are long, collide and
// wrap around the end of the table; checked against a model after every step.
TEST(HashIndexTest, AgreesWithAModelUnderChurn) {
  for (const uint64_t hash_range : {4ull, 64ull, 1ull << 40}) {
    std::mt19937_64 rng(hash_range);
    HashIndex index;
    std::set<std::pair<uint64_t, uint64_t>> model;  // (hash, position)
    uint64_t next_position = 0;
    for (int step = 0; step < 20000; ++step) {
      // Phases of mostly inserts (growth) and mostly erases (shrinking).
      const bool growing = (step / 2000) % 2 == 0;
      const bool insert = model.empty() || (growing ? rng() % 4 != 0 : rng() % 4 == 0);
      if (insert) {
        const uint64_t h = rng() % hash_range;
        index.Insert(h, next_position);
        model.emplace(h, next_position++);
      } else {
        auto it = model.begin();
        std::advance(it, static_cast<long>(rng() % model.size()));
        ASSERT_TRUE(index.Erase(it->first, it->second));
        model.erase(it);
      }
      ASSERT_EQ(index.size(), model.size());
      if (step % 97 == 0) {
        for (const auto& [h, p] : model) {
          ASSERT_EQ(index.Find(h, [p = p](uint64_t q) { return q == p; }), p) << "step " << step;
        }
      }
    }
    // The load stays at most one half, and at least one eighth above the minimum size.
    EXPECT_LE(index.size() * 2, index.slot_count());
  }
}

TEST(HashIndexTest, ShrinksWhenEmptied) {
  HashIndex index;
  for (uint64_t i = 0; i < 100000; ++i) index.Insert(i * 0x9e3779b97f4a7c15ull, i);
  const size_t grown = index.slot_count();
  EXPECT_GE(grown, 200000u);
  for (uint64_t i = 0; i < 100000; ++i) ASSERT_TRUE(index.Erase(i * 0x9e3779b97f4a7c15ull, i));
  EXPECT_EQ(index.size(), 0u);
  EXPECT_LE(index.slot_count(), 32u);
}

}  // namespace
}  // namespace libp2p
