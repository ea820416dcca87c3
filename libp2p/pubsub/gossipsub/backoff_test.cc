#include "libp2p/pubsub/gossipsub/backoff.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/bytes.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::PeerId;
using std::chrono::hours;
using std::chrono::seconds;

// A sha2-256 peer id whose digest is 32 copies of `n`.
PeerId Peer(uint8_t n) {
  Bytes multihash = {0x12, 0x20};
  multihash.resize(34, n);
  StatusOr<PeerId> id = PeerId::FromBytes(multihash);
  EXPECT_TRUE(id.ok());
  return *id;
}

TEST(BackoffFromSecondsTest, ClampsBeforeConverting) {
  EXPECT_EQ(BackoffFromSeconds(0), Duration::zero());
  EXPECT_EQ(BackoffFromSeconds(60), seconds(60));
  EXPECT_EQ(BackoffFromSeconds(86399), seconds(86399));
  EXPECT_EQ(BackoffFromSeconds(86400), kMaxBackoff);
  EXPECT_EQ(BackoffFromSeconds(86401), kMaxBackoff);
  // Values whose conversion to nanoseconds would overflow int64, or whose conversion to int64 would wrap.
  EXPECT_EQ(BackoffFromSeconds(uint64_t{1} << 34), kMaxBackoff);
  EXPECT_EQ(BackoffFromSeconds(uint64_t{1} << 63), kMaxBackoff);
  EXPECT_EQ(BackoffFromSeconds((uint64_t{1} << 63) - 1), kMaxBackoff);
  EXPECT_EQ(BackoffFromSeconds(std::numeric_limits<uint64_t>::max()), kMaxBackoff);
  EXPECT_EQ(kMaxBackoff, hours(24));
}

TEST(BackoffTest, DeadlineIsExact) {
  ManualClock clock;
  Backoff backoff(&clock, seconds(1));
  const PeerId p = Peer(1);
  EXPECT_FALSE(backoff.InBackoff(p, "t"));
  EXPECT_FALSE(backoff.Remaining(p, "t").has_value());
  backoff.Add(p, "t", seconds(60));
  EXPECT_TRUE(backoff.InBackoff(p, "t"));
  EXPECT_EQ(backoff.Remaining(p, "t"), seconds(60));
  clock.Advance(seconds(60) - Duration(1));
  EXPECT_TRUE(backoff.InBackoff(p, "t"));
  EXPECT_EQ(backoff.Remaining(p, "t"), Duration(1));
  clock.Advance(Duration(1));
  EXPECT_FALSE(backoff.InBackoff(p, "t"));
  EXPECT_FALSE(backoff.Remaining(p, "t").has_value());
}

TEST(BackoffTest, SlackExtendsOnlyTheWithSlackReading) {
  ManualClock clock;
  Backoff backoff(&clock, seconds(2));
  const PeerId p = Peer(1);
  backoff.Add(p, "t", seconds(10));
  clock.Advance(seconds(10));
  EXPECT_FALSE(backoff.InBackoff(p, "t"));
  EXPECT_TRUE(backoff.InBackoffWithSlack(p, "t"));
  clock.Advance(seconds(2) - Duration(1));
  EXPECT_TRUE(backoff.InBackoffWithSlack(p, "t"));
  clock.Advance(Duration(1));
  EXPECT_FALSE(backoff.InBackoffWithSlack(p, "t"));
  EXPECT_FALSE(backoff.InBackoffWithSlack(Peer(2), "t"));
}

TEST(BackoffTest, AddKeepsTheLaterDeadline) {
  ManualClock clock;
  Backoff backoff(&clock);
  const PeerId p = Peer(1);
  backoff.Add(p, "t", seconds(60));
  clock.Advance(seconds(10));
  backoff.Add(p, "t", seconds(10));  // Earlier than the 50 s left: ignored.
  EXPECT_EQ(backoff.Remaining(p, "t"), seconds(50));
  backoff.Add(p, "t", Duration::zero());
  EXPECT_EQ(backoff.Remaining(p, "t"), seconds(50));
  backoff.Add(p, "t", seconds(120));  // Later: extends.
  EXPECT_EQ(backoff.Remaining(p, "t"), seconds(120));
  EXPECT_EQ(backoff.size(), 1u);
}

TEST(BackoffTest, KeysArePeerAndTopic) {
  ManualClock clock;
  Backoff backoff(&clock);
  const std::string binary_topic("a\0b", 3);
  backoff.Add(Peer(1), "a", seconds(60));
  backoff.Add(Peer(2), binary_topic, seconds(30));
  EXPECT_TRUE(backoff.InBackoff(Peer(1), "a"));
  EXPECT_FALSE(backoff.InBackoff(Peer(1), "b"));
  EXPECT_FALSE(backoff.InBackoff(Peer(2), "a"));
  EXPECT_FALSE(backoff.InBackoff(Peer(1), ""));
  EXPECT_TRUE(backoff.InBackoff(Peer(2), binary_topic));
  EXPECT_FALSE(backoff.InBackoff(Peer(2), std::string("a\0c", 3)));
  EXPECT_FALSE(backoff.InBackoff(Peer(2), "a"));
  EXPECT_EQ(backoff.Remaining(Peer(2), binary_topic), seconds(30));
}

TEST(BackoffTest, HugeRemoteValuesClampWithoutOverflow) {
  ManualClock clock;
  Backoff backoff(&clock);
  const PeerId p = Peer(1);
  // A remote PRUNE with backoff = 2^64 - 1 seconds.
  backoff.Add(p, "t", BackoffFromSeconds(std::numeric_limits<uint64_t>::max()));
  EXPECT_EQ(backoff.Remaining(p, "t"), kMaxBackoff);
  backoff.Add(p, "t", BackoffFromSeconds(std::numeric_limits<uint64_t>::max()));
  EXPECT_EQ(backoff.Remaining(p, "t"), kMaxBackoff);
  // Durations that were never clamped by BackoffFromSeconds are clamped by Add.
  backoff.Add(Peer(2), "t", Duration::max());
  EXPECT_EQ(backoff.Remaining(Peer(2), "t"), kMaxBackoff);
  backoff.Add(Peer(3), "t", Duration::min());  // Counts as 0.
  EXPECT_FALSE(backoff.InBackoff(Peer(3), "t"));
  EXPECT_TRUE(backoff.InBackoffWithSlack(Peer(3), "t"));
  clock.Advance(kMaxBackoff);
  EXPECT_FALSE(backoff.InBackoff(p, "t"));
  EXPECT_FALSE(backoff.InBackoff(Peer(2), "t"));
  clock.Advance(backoff.slack());
  backoff.ExpireOld();
  EXPECT_EQ(backoff.size(), 0u);
}

TEST(BackoffTest, DeadlinesSaturateAtTheEndOfTime) {
  // A clock a minute before the largest representable time: now + backoff and deadline + slack saturate.
  ManualClock clock(MonoTime::max() - std::chrono::minutes(1));
  Backoff backoff(&clock, kMaxBackoff);
  const PeerId p = Peer(1);
  backoff.Add(p, "t", kMaxBackoff);
  EXPECT_TRUE(backoff.InBackoff(p, "t"));
  EXPECT_TRUE(backoff.InBackoffWithSlack(p, "t"));
  EXPECT_EQ(backoff.Remaining(p, "t"), std::chrono::minutes(1));
  backoff.ExpireOld();
  EXPECT_EQ(backoff.size(), 1u);
}

TEST(BackoffTest, SlackIsClamped) {
  ManualClock clock;
  EXPECT_EQ(Backoff(&clock, Duration::max()).slack(), kMaxBackoff);
  EXPECT_EQ(Backoff(&clock, -seconds(1)).slack(), Duration::zero());
  EXPECT_EQ(Backoff(&clock).slack(), Backoff::kDefaultSlack);
  EXPECT_EQ(Backoff(&clock, seconds(1), 0).max_entries(), 1u);
}

TEST(BackoffTest, Clear) {
  ManualClock clock;
  Backoff backoff(&clock);
  backoff.Add(Peer(1), "t", seconds(60));
  backoff.Add(Peer(1), "u", seconds(60));
  backoff.Clear(Peer(1), "t");
  backoff.Clear(Peer(2), "t");  // Absent: nothing happens.
  EXPECT_FALSE(backoff.InBackoff(Peer(1), "t"));
  EXPECT_FALSE(backoff.InBackoffWithSlack(Peer(1), "t"));
  EXPECT_TRUE(backoff.InBackoff(Peer(1), "u"));
  EXPECT_EQ(backoff.size(), 1u);
  // A cleared key starts afresh.
  backoff.Add(Peer(1), "t", seconds(5));
  EXPECT_EQ(backoff.Remaining(Peer(1), "t"), seconds(5));
}

TEST(BackoffTest, ExpireOldDropsEntriesPastDeadlinePlusSlack) {
  ManualClock clock;
  Backoff backoff(&clock, seconds(2));
  backoff.Add(Peer(1), "t", seconds(10));
  backoff.Add(Peer(2), "t", seconds(20));
  backoff.Add(Peer(3), "t", seconds(30));
  clock.Advance(seconds(11));
  backoff.ExpireOld();  // Peer 1's deadline passed 1 s ago, less than the slack: kept.
  EXPECT_EQ(backoff.size(), 3u);
  clock.Advance(seconds(1));
  backoff.ExpireOld();  // Now exactly the slack ago: dropped.
  EXPECT_EQ(backoff.size(), 2u);
  EXPECT_FALSE(backoff.InBackoffWithSlack(Peer(1), "t"));
  EXPECT_TRUE(backoff.InBackoff(Peer(2), "t"));
  clock.Advance(seconds(100));
  backoff.ExpireOld();
  EXPECT_EQ(backoff.size(), 0u);
  backoff.ExpireOld();  // Empty: nothing to do.
  EXPECT_EQ(backoff.size(), 0u);
}

TEST(BackoffTest, ExtendedEntriesExpireAtTheirNewDeadline) {
  ManualClock clock;
  Backoff backoff(&clock, Duration::zero());
  backoff.Add(Peer(1), "t", seconds(10));
  backoff.Add(Peer(1), "t", seconds(30));
  clock.Advance(seconds(10));
  backoff.ExpireOld();
  EXPECT_TRUE(backoff.InBackoff(Peer(1), "t"));
  clock.Advance(seconds(20));
  backoff.ExpireOld();
  EXPECT_EQ(backoff.size(), 0u);
}

TEST(BackoffTest, FullTableDropsTheEntryClosestToExpiry) {
  ManualClock clock;
  Backoff backoff(&clock, seconds(1), 3);
  backoff.Add(Peer(1), "t", seconds(20));
  backoff.Add(Peer(2), "t", seconds(10));
  backoff.Add(Peer(3), "t", seconds(30));
  backoff.Add(Peer(4), "t", seconds(40));  // Peer 2 expires first: it goes.
  EXPECT_EQ(backoff.size(), 3u);
  EXPECT_EQ(backoff.capacity_evictions(), 1u);
  EXPECT_FALSE(backoff.InBackoff(Peer(2), "t"));
  EXPECT_TRUE(backoff.InBackoff(Peer(1), "t"));
  EXPECT_TRUE(backoff.InBackoff(Peer(4), "t"));
  backoff.Add(Peer(5), "t", seconds(5));  // The new entry would expire first: it is the one dropped.
  EXPECT_EQ(backoff.size(), 3u);
  EXPECT_EQ(backoff.capacity_evictions(), 2u);
  EXPECT_FALSE(backoff.InBackoff(Peer(5), "t"));
  backoff.Add(Peer(1), "t", seconds(50));  // Extending an existing entry needs no room.
  EXPECT_EQ(backoff.capacity_evictions(), 2u);
  EXPECT_EQ(backoff.Remaining(Peer(1), "t"), seconds(50));
  // Peer 3 (30 s) is now the earliest.
  backoff.Add(Peer(6), "t", seconds(35));
  EXPECT_FALSE(backoff.InBackoff(Peer(3), "t"));
  EXPECT_TRUE(backoff.InBackoff(Peer(6), "t"));
}

TEST(BackoffTest, FullTablePrefersDroppingExpiredEntries) {
  ManualClock clock;
  Backoff backoff(&clock, seconds(100), 2);
  backoff.Add(Peer(1), "t", seconds(1));
  backoff.Add(Peer(2), "t", seconds(60));
  clock.Advance(seconds(2));  // Peer 1 expired but is kept for the slack.
  backoff.Add(Peer(3), "t", seconds(5));
  EXPECT_FALSE(backoff.InBackoffWithSlack(Peer(1), "t"));
  EXPECT_TRUE(backoff.InBackoff(Peer(2), "t"));
  EXPECT_TRUE(backoff.InBackoff(Peer(3), "t"));
}

TEST(BackoffTest, PruneFloodCannotGrowMemoryPastTheBound) {
  ManualClock clock;
  Backoff backoff(&clock, seconds(1), 1000);
  const PeerId attacker = Peer(9);
  for (int i = 0; i < 100000; ++i) {
    backoff.Add(attacker, "topic-" + std::to_string(i), BackoffFromSeconds(std::numeric_limits<uint64_t>::max()));
    if (i % 1000 == 0) clock.Advance(Duration(1));  // Distinct deadlines, so eviction order is observable.
  }
  EXPECT_EQ(backoff.size(), 1000u);
  EXPECT_EQ(backoff.capacity_evictions(), 99000u);
  EXPECT_TRUE(backoff.InBackoff(attacker, "topic-99999"));
  EXPECT_FALSE(backoff.InBackoff(attacker, "topic-0"));
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
