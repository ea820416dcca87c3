#include "libp2p/pubsub/timed_cache.h"

#include <map>
#include <random>
#include <string>

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
  const std::string inline_max(47, 'i');
  const std::string out_of_line(48, 'o');
  const std::string huge(100000, 'h');
  EXPECT_TRUE(cache.Insert(inline_max));
  EXPECT_TRUE(cache.Insert(out_of_line));
  EXPECT_TRUE(cache.Insert(huge));
  EXPECT_FALSE(cache.Insert(out_of_line));
  EXPECT_TRUE(cache.Contains(huge));
  EXPECT_FALSE(cache.Contains(std::string(48, 'p')));
  EXPECT_GE(cache.MemoryUsage(), huge.size());
  clock.Advance(seconds(1));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_LT(cache.MemoryUsage(), huge.size());  // Out-of-line keys are freed on eviction (ASan checks leaks).
  EXPECT_TRUE(cache.Insert(huge));
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
