#include "libp2p/pubsub/gossipsub/promise_tracker.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/sha256.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using std::chrono::seconds;

crypto::PeerId PeerOf(int n) {
  auto key = crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("promise-" + std::to_string(n))));
  return crypto::PeerId::FromPublicKey(key->public_key());
}

class PromiseTrackerTest : public ::testing::Test {
 protected:
  std::vector<crypto::PeerId> Broken() {
    std::vector<crypto::PeerId> out;
    tracker_.ExpireBroken([&](const crypto::PeerId& p) { out.push_back(p); });
    return out;
  }

  ManualClock clock_;
  PromiseTracker tracker_{&clock_, seconds(3), 2};
  const crypto::PeerId a_ = PeerOf(1), b_ = PeerOf(2);
};

TEST_F(PromiseTrackerTest, APromiseNotKeptInTimeIsBrokenOnce) {
  ASSERT_TRUE(tracker_.Add(a_, "m1"));
  clock_.Advance(seconds(2));
  EXPECT_TRUE(Broken().empty());
  clock_.Advance(seconds(1));
  EXPECT_EQ(Broken(), std::vector<crypto::PeerId>{a_});
  EXPECT_TRUE(Broken().empty());
  EXPECT_EQ(tracker_.size(), 0u);
  EXPECT_FALSE(tracker_.Has("m1"));
}

TEST_F(PromiseTrackerTest, AnyArrivalKeepsEveryPromiseForTheMessageAndADuplicateKeepsItsSenders) {
  ASSERT_TRUE(tracker_.Add(a_, "m1"));
  ASSERT_TRUE(tracker_.Add(b_, "m1"));
  ASSERT_TRUE(tracker_.Add(b_, "m2"));
  tracker_.Keep("m1");
  EXPECT_FALSE(tracker_.Has("m1"));
  tracker_.KeepBy(a_, "m2");  // Not a's promise: nothing changes.
  EXPECT_TRUE(tracker_.Has("m2"));
  tracker_.KeepBy(b_, "m2");
  EXPECT_EQ(tracker_.size(), 0u);
  clock_.Advance(seconds(10));
  EXPECT_TRUE(Broken().empty());
}

TEST_F(PromiseTrackerTest, EachPeerHasAtMostItsShareOfOpenPromises) {
  EXPECT_TRUE(tracker_.Add(a_, "m1"));
  EXPECT_TRUE(tracker_.Add(a_, "m2"));
  EXPECT_FALSE(tracker_.Add(a_, "m3")) << "over the per-peer cap";
  EXPECT_FALSE(tracker_.Add(a_, "m1")) << "the same promise twice";
  EXPECT_TRUE(tracker_.Add(b_, "m3")) << "another peer is not crowded out";
  EXPECT_EQ(tracker_.open_for(a_), 2u);
  tracker_.Keep("m1");
  EXPECT_TRUE(tracker_.Add(a_, "m4"));
}

TEST_F(PromiseTrackerTest, ARemovedPeersPromisesGoWithoutLeavingEmptyEntries) {
  ASSERT_TRUE(tracker_.Add(a_, "m1"));
  ASSERT_TRUE(tracker_.Add(b_, "m1"));
  ASSERT_TRUE(tracker_.Add(a_, "m2"));
  tracker_.RemovePeer(a_);
  EXPECT_EQ(tracker_.open_for(a_), 0u);
  EXPECT_FALSE(tracker_.Has("m2")) << "an id nobody promises any more must be asked for again";
  EXPECT_TRUE(tracker_.Has("m1"));
  EXPECT_EQ(tracker_.size(), 1u);
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
