#include "libp2p/pubsub/gossipsub/peer_gater.h"

#include <string>

#include "gtest/gtest.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/sha256.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

crypto::PeerId PeerOf(int n) {
  auto key = crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("gater-" + std::to_string(n))));
  return crypto::PeerId::FromPublicKey(key->public_key());
}

// The share of `n` evenly spread draws for which `peer`'s messages are read.
double AcceptedShare(const PeerGater& gater, const crypto::PeerId& peer, int n = 1000) {
  int accepted = 0;
  for (int i = 0; i < n; ++i) accepted += gater.AcceptMessages(peer, (i + 0.5) / n) ? 1 : 0;
  return static_cast<double>(accepted) / n;
}

class PeerGaterTest : public ::testing::Test {
 protected:
  // Validation throttled: `throttled` of `validated + throttled` messages found no room.
  void Load(int validated, int throttled) {
    for (int i = 0; i < validated; ++i) gater_.Validated();
    for (int i = 0; i < throttled; ++i) gater_.Throttled();
  }

  ManualClock clock_;
  PeerGaterParams params_;
  PeerGater gater_{&clock_, params_};
  const crypto::PeerId good_ = PeerOf(1), bad_ = PeerOf(2), sybil_ = PeerOf(3), newcomer_ = PeerOf(4);
};

TEST_F(PeerGaterTest, EveryoneIsReadWhileValidationKeepsUp) {
  gater_.AddPeer(bad_, "10.0.0.2");
  for (int i = 0; i < 100; ++i) gater_.Rejected(bad_);
  Load(100, 0);
  EXPECT_FALSE(gater_.Active());
  EXPECT_EQ(AcceptedShare(gater_, bad_), 1.0);
  // Throttling below the threshold (0.33 of validations) does not gate either.
  Load(0, 30);
  EXPECT_FALSE(gater_.Active());
  EXPECT_EQ(AcceptedShare(gater_, bad_), 1.0);
}

TEST_F(PeerGaterTest, WhileThrottledPeersAreReadInProportionToTheirGoodput) {
  gater_.AddPeer(good_, "10.0.0.1");
  gater_.AddPeer(bad_, "10.0.0.2");
  gater_.AddPeer(newcomer_, "10.0.0.4");
  for (int i = 0; i < 50; ++i) gater_.Delivered(good_, "t");
  for (int i = 0; i < 9; ++i) gater_.Delivered(bad_, "t");
  for (int i = 0; i < 10; ++i) gater_.Rejected(bad_);  // (1 + 9) / (1 + 9 + 16 * 10) = 10 / 170
  Load(100, 50);
  ASSERT_TRUE(gater_.Active());
  EXPECT_EQ(AcceptedShare(gater_, good_), 1.0);
  EXPECT_NEAR(AcceptedShare(gater_, bad_), 10.0 / 170, 0.002);
  // Duplicates and ignores weigh less than rejects.
  gater_.AddPeer(sybil_, "10.0.0.3");
  for (int i = 0; i < 8; ++i) gater_.Duplicate(sybil_);  // 8 * 0.125 = 1
  gater_.Ignored(sybil_);                                // 1
  EXPECT_NEAR(AcceptedShare(gater_, sybil_), 1.0 / 3, 0.002);
  // A peer with no record yet is read.
  EXPECT_EQ(AcceptedShare(gater_, newcomer_), 1.0);
}

TEST_F(PeerGaterTest, TopicDeliveryWeightsScaleDeliveries) {
  params_.topic_delivery_weights["blocks"] = 4;
  PeerGater gater(&clock_, params_);
  gater.AddPeer(good_, "10.0.0.1");
  gater.Delivered(good_, "blocks");  // Worth 4.
  for (int i = 0; i < 5; ++i) gater.Ignored(good_);
  gater.Validated();
  gater.Throttled();
  EXPECT_NEAR(AcceptedShare(gater, good_), 5.0 / 10, 0.002);
}

TEST_F(PeerGaterTest, GatingStopsAQuietMinuteAfterTheLastThrottle) {
  gater_.AddPeer(bad_, "10.0.0.2");
  gater_.Rejected(bad_);
  Load(10, 10);
  ASSERT_TRUE(gater_.Active());
  clock_.Advance(seconds(59));
  EXPECT_TRUE(gater_.Active());
  clock_.Advance(seconds(2));
  EXPECT_FALSE(gater_.Active());
  EXPECT_EQ(AcceptedShare(gater_, bad_), 1.0);
}

TEST_F(PeerGaterTest, CountersDecayToOnePercentInTheirDecayTimes) {
  gater_.AddPeer(bad_, "10.0.0.2");
  for (int i = 0; i < 1000; ++i) gater_.Rejected(bad_);
  Load(1000, 1000);
  // Two minutes take the global counters to 1%: 10 throttles of 10 validations, still over the threshold.
  clock_.Advance(minutes(1));
  gater_.Refresh();
  clock_.Advance(minutes(1));
  gater_.Refresh();
  ASSERT_FALSE(gater_.Active());  // The last throttle is two minutes old.
  gater_.Throttled();
  ASSERT_TRUE(gater_.Active());
  // The source's record decays over an hour: 1000 rejects become 10, so goodput (1) / (1 + 160).
  clock_.Advance(minutes(58));
  gater_.Refresh();
  gater_.Throttled();
  EXPECT_NEAR(AcceptedShare(gater_, bad_), 1.0 / 161, 0.002);
}

// Identities made up on one host share its record: a new peer id from the same IP inherits it.
TEST_F(PeerGaterTest, PeersFromOneIpShareOneRecordWhichOutlivesThemForSixHours) {
  params_.source_decay = hours(1000);  // So that the record is still worth something after hours.
  PeerGater gater(&clock_, params_);
  gater.AddPeer(bad_, "10.0.0.2");
  for (int i = 0; i < 10; ++i) gater.Rejected(bad_);
  gater.Validated();
  gater.Throttled();
  gater.AddPeer(sybil_, "10.0.0.2");
  EXPECT_EQ(gater.source_count(), 1u);
  EXPECT_NEAR(AcceptedShare(gater, sybil_), 1.0 / 161, 0.002);
  gater.RemovePeer(bad_);
  gater.RemovePeer(sybil_);
  EXPECT_EQ(gater.peer_count(), 0u);
  clock_.Advance(hours(5));
  gater.Refresh();
  ASSERT_EQ(gater.source_count(), 1u);
  // Back under another identity, within the retention: the record is still there.
  gater.AddPeer(newcomer_, "10.0.0.2");
  gater.Throttled();
  EXPECT_LT(AcceptedShare(gater, newcomer_), 0.01);
  gater.RemovePeer(newcomer_);
  clock_.Advance(hours(6) + seconds(1));
  gater.Refresh();
  EXPECT_EQ(gater.source_count(), 0u);
}

TEST_F(PeerGaterTest, APeerMovedToAnotherIpLeavesItsOldRecord) {
  gater_.AddPeer(bad_, "10.0.0.2");
  for (int i = 0; i < 10; ++i) gater_.Rejected(bad_);
  gater_.AddPeer(bad_, "10.0.0.9");
  Load(10, 10);
  EXPECT_EQ(gater_.peer_count(), 1u);
  EXPECT_EQ(gater_.source_count(), 2u);
  EXPECT_EQ(AcceptedShare(gater_, bad_), 1.0);  // The new address has no record yet.
}

// A peer that moves when its old record is the one evicted to make room counts on its new record only.
TEST_F(PeerGaterTest, APeerMovedWhileItsOldRecordIsEvictedCountsOnTheNewOne) {
  params_.max_sources = 1;
  PeerGater gater(&clock_, params_);
  gater.AddPeer(bad_, "10.0.0.2");
  gater.AddPeer(bad_, "10.0.0.9");  // 10.0.0.2 is left with no peer, and evicted for 10.0.0.9.
  EXPECT_EQ(gater.source_count(), 1u);
  for (int i = 0; i < 10; ++i) gater.Rejected(bad_);
  gater.Validated();
  gater.Throttled();
  EXPECT_NEAR(AcceptedShare(gater, bad_), 1.0 / 161, 0.002);  // No delivery against 10 rejects (weight 16).
  gater.RemovePeer(bad_);
  EXPECT_EQ(gater.peer_count(), 0u);
}

// Forgetting a record moves another into its place: the peers of the moved record still count on it, and
// its source still finds it.
TEST_F(PeerGaterTest, ForgettingARecordKeepsTheOthersWithTheirPeers) {
  params_.source_decay = hours(1000);  // So that the counts are still there after the retention.
  PeerGater gater(&clock_, params_);
  gater.AddPeer(sybil_, "10.0.0.1");
  gater.AddPeer(bad_, "10.0.0.2");
  gater.AddPeer(good_, "10.0.0.3");
  for (int i = 0; i < 10; ++i) gater.Rejected(bad_);
  for (int i = 0; i < 10; ++i) gater.Delivered(good_, "t");
  gater.RemovePeer(sybil_);
  clock_.Advance(hours(6) + seconds(1));
  gater.Refresh();  // 10.0.0.1 is forgotten.
  ASSERT_EQ(gater.source_count(), 2u);
  gater.Validated();
  gater.Throttled();
  EXPECT_EQ(AcceptedShare(gater, good_), 1.0);
  EXPECT_NEAR(AcceptedShare(gater, bad_), 1.0 / 161, 0.002);
  // The moved record still takes its peer's outcomes, and a newcomer from its source shares it.
  for (int i = 0; i < 10; ++i) gater.Rejected(good_);
  gater.AddPeer(newcomer_, "10.0.0.3");
  EXPECT_EQ(gater.source_count(), 2u);
  EXPECT_NEAR(AcceptedShare(gater, newcomer_), 11.0 / 171, 0.002);
  EXPECT_NEAR(AcceptedShare(gater, bad_), 1.0 / 161, 0.002);
}

// Records are bounded: an attacker rotating addresses pushes out the records of sources that left longest
// ago, never those of connected peers.
TEST_F(PeerGaterTest, RecordsAreBoundedAndConnectedSourcesAreKept) {
  params_.max_sources = 3;
  PeerGater gater(&clock_, params_);
  gater.AddPeer(good_, "10.0.0.1");
  for (int i = 0; i < 100; ++i) {
    const crypto::PeerId p = PeerOf(100 + i);
    gater.AddPeer(p, "10.1.0." + std::to_string(i));
    gater.RemovePeer(p);
    clock_.Advance(seconds(1));
    ASSERT_LE(gater.source_count(), 3u);
  }
  gater.Delivered(good_, "t");
  gater.Rejected(good_);
  gater.Validated();
  gater.Throttled();
  // good_'s record survived: one delivery against one reject.
  EXPECT_NEAR(AcceptedShare(gater, good_), 2.0 / 18, 0.002);
}

TEST_F(PeerGaterTest, ParamsOutOfRangeAreNamed) {
  EXPECT_TRUE(PeerGaterParams{}.Validate().ok());
  PeerGaterParams p;
  p.threshold = 0;
  EXPECT_NE(p.Validate().message().find("threshold"), std::string::npos);
  p = PeerGaterParams{};
  p.reject_weight = -1;
  EXPECT_NE(p.Validate().message().find("reject_weight"), std::string::npos);
  p = PeerGaterParams{};
  p.topic_delivery_weights["t"] = -1;
  EXPECT_NE(p.Validate().message().find("delivery weight of t"), std::string::npos);
  p = PeerGaterParams{};
  p.global_decay = Duration::zero();
  EXPECT_NE(p.Validate().message().find("global_decay"), std::string::npos);
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
