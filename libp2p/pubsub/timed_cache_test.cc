#include "libp2p/pubsub/timed_cache.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace libp2p::pubsub {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(TimedCacheTest, InsertReportsNewKeysOnly) {
  ManualClock clock;
  TimedCache cache(&clock, seconds(120), 1000);
  EXPECT_TRUE(cache.Insert("a"));
  EXPECT_FALSE(cache.Insert("a"));
  EXPECT_TRUE(cache.Insert("b"));
  EXPECT_TRUE(cache.Contains("a"));
  EXPECT_FALSE(cache.Contains("c"));
  EXPECT_EQ(cache.size(), 2u);
}

// An empty cache's oldest expiry is the latest time there is: a clock that reached it finds nothing to evict.
TEST(TimedCacheTest, AnEmptyCacheAtTheEndOfTimeHasNothingToEvict) {
  ManualClock clock(MonoTime::max());
  TimedCache cache(&clock, std::chrono::seconds(1), 100);
  EXPECT_FALSE(cache.Contains("a"));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TimedCacheTest, ExpiresExactlyAtTheTtl) {
  ManualClock clock;
  TimedCache cache(&clock, seconds(120), 1000);
  ASSERT_TRUE(cache.Insert("id"));
  clock.Advance(seconds(120) - Duration(1));
  EXPECT_TRUE(cache.Contains("id"));
  clock.Advance(Duration(1));
  EXPECT_FALSE(cache.Contains("id"));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_TRUE(cache.Insert("id"));  // A new life after expiry.
}

TEST(TimedCacheTest, FirstSeenSemanticsDoNotExtendLife) {
  ManualClock clock;
  TimedCache cache(&clock, seconds(10), 1000);
  ASSERT_TRUE(cache.Insert("id"));
  clock.Advance(seconds(9));
  EXPECT_FALSE(cache.Insert("id"));
  clock.Advance(seconds(1));
  EXPECT_FALSE(cache.Contains("id"));
}

TEST(TimedCacheTest, LazyEvictionOldestFirst) {
  ManualClock clock;
  TimedCache cache(&clock, seconds(10), 1000);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(cache.Insert("k" + std::to_string(i)));
    clock.Advance(seconds(1));
  }
  // Now 10 s after the first insert: k0 expired, k1..k9 remain.
  EXPECT_EQ(cache.size(), 9u);
  EXPECT_FALSE(cache.Contains("k0"));
  EXPECT_TRUE(cache.Contains("k1"));
  clock.Advance(seconds(5));
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_TRUE(cache.Contains("k6"));
  EXPECT_FALSE(cache.Contains("k5"));
}

TEST(TimedCacheTest, BoundedSizeEvictsOldest) {
  ManualClock clock;
  TimedCache cache(&clock, seconds(120), 3);
  EXPECT_TRUE(cache.Insert("a"));
  EXPECT_TRUE(cache.Insert("b"));
  EXPECT_TRUE(cache.Insert("c"));
  EXPECT_TRUE(cache.Insert("d"));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.Contains("a"));
  EXPECT_TRUE(cache.Contains("b"));
  EXPECT_TRUE(cache.Contains("d"));
  EXPECT_EQ(cache.capacity_evictions(), 1u);
}

TEST(TimedCacheTest, BinaryKeysAreDistinct) {
  ManualClock clock;
  TimedCache cache(&clock, seconds(120), 100);
  const std::string with_nul("a\0b", 3);
  const std::string with_high("\xff\xfe", 2);
  EXPECT_TRUE(cache.Insert(with_nul));
  EXPECT_TRUE(cache.Insert(std::string("a")));
  EXPECT_TRUE(cache.Insert(with_high));
  EXPECT_TRUE(cache.Contains(with_nul));
  EXPECT_FALSE(cache.Contains(std::string("a\0c", 3)));
}

TEST(TimedCacheTest, LongKeysLiveOutOfLineAndAreFreed) {
  ManualClock clock;
  TimedCache cache(&clock, seconds(1), 4);
  const std::string inline_max(TimedCache::kInlineKeyBytes, 'i');
  const std::string out_of_line(TimedCache::kInlineKeyBytes + 1, 'o');
  const std::string huge(100000, 'h');
  EXPECT_TRUE(cache.Insert(inline_max));
  EXPECT_TRUE(cache.Insert(out_of_line));
  EXPECT_TRUE(cache.Insert(huge));
  EXPECT_FALSE(cache.Insert(out_of_line));
  EXPECT_TRUE(cache.Contains(huge));
  EXPECT_FALSE(cache.Contains(std::string(TimedCache::kInlineKeyBytes + 1, 'p')));
  EXPECT_GE(cache.MemoryUsage(), huge.size());
  clock.Advance(seconds(1));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_LT(cache.MemoryUsage(), huge.size());  // Out-of-line keys are freed on eviction (ASan checks leaks).
  EXPECT_TRUE(cache.Insert(huge));
}

TEST(TimedCacheTest, FindThenInsertActsAsOfTheLookup) {
  ManualClock clock;
  TimedCache cache(&clock, seconds(10), 100);
  ASSERT_TRUE(cache.Insert("old"));
  const TimedCache::Lookup miss = cache.Find("new");
  EXPECT_FALSE(miss.found);
  EXPECT_EQ(miss.now, clock.Now());
  EXPECT_TRUE(cache.Insert(miss));
  EXPECT_FALSE(cache.Insert(miss));  // Present now.
  EXPECT_TRUE(cache.Find("new").found);
  EXPECT_TRUE(cache.Find("old").found);
  // The key's life runs from the lookup.
  clock.Advance(seconds(10) - Duration(1));
  EXPECT_TRUE(cache.Contains("new"));
  clock.Advance(Duration(1));
  EXPECT_FALSE(cache.Find("new").found);
}

TEST(TimedCacheTest, AnInsertIsNeverDatedBeforeAnEarlierOne) {
  ManualClock clock;
  TimedCache cache(&clock, seconds(10), 100);
  const TimedCache::Lookup early = cache.Find("early");
  clock.Advance(seconds(5));
  ASSERT_TRUE(cache.Insert("later"));
  // Inserted after "later": dated as it, so that the oldest entry is always the first to expire.
  ASSERT_TRUE(cache.Insert(early));
  clock.Advance(seconds(10) - Duration(1));
  EXPECT_TRUE(cache.Contains("early"));
  EXPECT_TRUE(cache.Contains("later"));
  clock.Advance(Duration(1));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TimedCacheTest, EntryBlocksAreReusedWhenFullAndReturnedWhenEmpty) {
  ManualClock clock;
  const size_t max_entries = 100000;
  TimedCache cache(&clock, seconds(1), max_entries, SeededHash(3, 4));
  uint64_t n = 0;
  for (; n < max_entries; ++n) ASSERT_TRUE(cache.Insert("k" + std::to_string(n)));
  const size_t full = cache.MemoryUsage();
  // 64 bytes an entry, blocks of 1 MiB (an eighth of the largest ring), and the index at half load.
  EXPECT_GE(full, max_entries * 64);
  EXPECT_LE(full, max_entries * 64 + 3 * (size_t{1} << 20) + 2 * 262144 * 8);
  // Full: each insert evicts the oldest, and what the entries take does not grow.
  for (; n < 5 * max_entries; ++n) ASSERT_TRUE(cache.Insert("k" + std::to_string(n)));
  EXPECT_EQ(cache.size(), max_entries);
  EXPECT_EQ(cache.capacity_evictions(), 4 * max_entries);
  EXPECT_LE(cache.MemoryUsage(), full + (size_t{1} << 20));
  EXPECT_TRUE(cache.Contains("k" + std::to_string(n - 1)));
  EXPECT_TRUE(cache.Contains("k" + std::to_string(n - max_entries)));
  EXPECT_FALSE(cache.Contains("k" + std::to_string(n - max_entries - 1)));
  // All expired: the blocks go but for a spare (the index keeps its size).
  clock.Advance(seconds(1));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_LE(cache.MemoryUsage(), (size_t{1} << 20) + 2 * 262144 * 8 + 4096);
  // And the cache works on from there.
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(cache.Insert("again" + std::to_string(i)));
  EXPECT_TRUE(cache.Contains("again0"));
  EXPECT_FALSE(cache.Contains("k" + std::to_string(n - 1)));
  EXPECT_EQ(cache.size(), 1000u);
}

// Keys whose hashes share their low 12 bits all have the same home in an index of up to 4096 slots: past 64
// of them, one would lie too far from home, and the index grows until they spread. Every key stays found,
// and they expire and are evicted as any others.
TEST(TimedCacheTest, KeysFarFromHomeGrowTheIndex) {
  const SeededHash hash(5, 6);
  std::vector<std::string> keys;
  for (uint64_t n = 0; keys.size() < 100; ++n) {
    const std::string key = "c" + std::to_string(n);
    if ((hash(key) & 4095) == 0) keys.push_back(key);
  }
  ManualClock clock;
  TimedCache cache(&clock, seconds(10), 1000, hash);
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_TRUE(cache.Insert(keys[i])) << i;
    clock.Advance(milliseconds(1));
  }
  for (const std::string& k : keys) EXPECT_TRUE(cache.Contains(k)) << k;
  EXPECT_FALSE(cache.Contains(std::string("c-none")));
  // 200 live keys would need 512 slots; the colliding ones took at least 8192.
  EXPECT_GE(cache.MemoryUsage(), 8192 * sizeof(uint32_t));
  // The oldest half expires; the rest stay found as the index shifts keys back toward their home.
  // (Key i was inserted at i ms and the clock is at 100 ms: this is 10 s past the insert of key 49.)
  clock.Advance(seconds(10) - milliseconds(51));
  EXPECT_EQ(cache.size(), 50u);
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(cache.Contains(keys[i]), i >= 50) << i;
  clock.Advance(seconds(1));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TimedCacheTest, ClearEmpties) {
  ManualClock clock;
  TimedCache cache(&clock, seconds(1), 100);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(cache.Insert(std::to_string(i)));
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_TRUE(cache.Insert("7"));
}

TEST(TimedCacheTest, CollidingHashesStillWork) {
  // A fixed hash key and many keys exercise long probe runs, rehashing and backward-shift deletion.
  ManualClock clock;
  TimedCache cache(&clock, seconds(100), 5000, SeededHash(1, 1));
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(cache.Insert("key-" + std::to_string(i)));
    clock.Advance(milliseconds(10));
  }
  // 20000 inserts at 10 ms: at most 5000 held (capacity), and those still in their TTL are the newest.
  EXPECT_EQ(cache.size(), 5000u);
  for (int i = 15000; i < 20000; ++i) ASSERT_TRUE(cache.Contains("key-" + std::to_string(i))) << i;
  for (int i = 0; i < 15000; ++i) ASSERT_FALSE(cache.Contains("key-" + std::to_string(i))) << i;
}

TEST(TimedCacheTest, MatchesAReferenceModelUnderRandomOperations) {
  ManualClock clock;
  const Duration ttl = seconds(30);
  const size_t max_entries = 256;
  TimedCache cache(&clock, ttl, max_entries, SeededHash(7, 9));
  // Reference: key -> (insertion order, expiry); eviction of the oldest by insertion order.
  std::map<std::string, std::pair<uint64_t, MonoTime>> model;
  uint64_t order = 0;
  auto expire_model = [&] {
    for (auto it = model.begin(); it != model.end();) {
      it = it->second.second <= clock.Now() ? model.erase(it) : std::next(it);
    }
  };
  std::mt19937 rng(1234);
  for (int step = 0; step < 200000; ++step) {
    const std::string key = "m" + std::to_string(rng() % 600);
    switch (rng() % 4) {
      case 0:
      case 1: {
        expire_model();
        const bool fresh = model.count(key) == 0;
        if (fresh && model.size() >= max_entries) {
          auto oldest = model.begin();
          for (auto it = model.begin(); it != model.end(); ++it) {
            if (it->second.first < oldest->second.first) oldest = it;
          }
          model.erase(oldest);
        }
        if (fresh) model[key] = {order++, clock.Now() + ttl};
        ASSERT_EQ(cache.Insert(key), fresh) << step;
        break;
      }
      case 2:
        expire_model();
        ASSERT_EQ(cache.Contains(key), model.count(key) == 1) << step;
        break;
      case 3:
        clock.Advance(milliseconds(rng() % 400));
        break;
    }
  }
  expire_model();
  EXPECT_EQ(cache.size(), model.size());
}

}  // namespace
}  // namespace libp2p::pubsub
