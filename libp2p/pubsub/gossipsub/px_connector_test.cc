#include "libp2p/pubsub/gossipsub/px_connector.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/sha256.h"

namespace libp2p::pubsub::gossipsub {
namespace {

crypto::PeerId PeerOf(int n) {
  auto key = crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("px-" + std::to_string(n))));
  return crypto::PeerId::FromPublicKey(key->public_key());
}

Multiaddr AddrOf(int n) {
  return *Multiaddr::FromString("/ip4/10.0.0.1/tcp/" + std::to_string(4000 + n) + "/p2p/" + PeerOf(n).ToBase58());
}

class PxConnectorTest : public ::testing::Test {
 protected:
  PxConnector Make(PxConnectorOptions options) {
    return PxConnector(
        &clock_, options, [this](const Multiaddr& a) { dialed_.push_back(a); },
        [this](const crypto::PeerId& p) { return connected_.count(p) > 0; });
  }

  ManualClock clock_;
  std::vector<Multiaddr> dialed_;
  std::set<crypto::PeerId> connected_;
};

TEST_F(PxConnectorTest, AtMostMaxDialingRunAndTheQueueIsBounded) {
  PxConnector c = Make({.max_pending = 5, .max_dialing = 2});
  for (int i = 0; i < 20; ++i) c.Offer(AddrOf(i));
  EXPECT_EQ(c.pending(), 5u);
  EXPECT_EQ(c.offers_dropped(), 15u);
  c.Pump();
  EXPECT_EQ(dialed_.size(), 2u);
  EXPECT_EQ(c.dialing(), 2u);
  EXPECT_EQ(c.pending(), 3u);
  c.Pump();  // Nothing ended: nothing more starts.
  EXPECT_EQ(dialed_.size(), 2u);
  EXPECT_EQ(dialed_[0], AddrOf(0));
  EXPECT_EQ(dialed_[1], AddrOf(1));
}

TEST_F(PxConnectorTest, ADialEndsWhenItsPeerConnectsOrItsLeaseRunsOut) {
  PxConnector c = Make({.max_pending = 10, .max_dialing = 2, .dial_lease = std::chrono::seconds(30)});
  for (int i = 0; i < 5; ++i) c.Offer(AddrOf(i));
  c.Pump();
  ASSERT_EQ(dialed_.size(), 2u);
  connected_.insert(PeerOf(0));
  c.Pump();
  EXPECT_EQ(dialed_.size(), 3u);
  EXPECT_EQ(dialed_.back(), AddrOf(2));
  clock_.Advance(std::chrono::seconds(29));
  c.Pump();
  EXPECT_EQ(dialed_.size(), 3u) << "a dial ended before its lease";
  clock_.Advance(std::chrono::seconds(1));
  c.Pump();  // Peers 1 and 2 never connected: their leases ran out.
  EXPECT_EQ(dialed_.size(), 5u);
  EXPECT_EQ(c.pending(), 0u);
  EXPECT_EQ(c.dials_started(), 5u);
}

TEST_F(PxConnectorTest, APeerQueuedOrDialedOnceIsNotTakenAgainAndConnectedPeersAreSkipped) {
  PxConnector c = Make({.max_pending = 10, .max_dialing = 1});
  EXPECT_TRUE(c.Offer(AddrOf(1)));
  EXPECT_FALSE(c.Offer(AddrOf(1)));
  c.Pump();
  EXPECT_FALSE(c.Offer(AddrOf(1))) << "being dialed";
  EXPECT_TRUE(c.Offer(AddrOf(2)));
  connected_.insert(PeerOf(2));
  connected_.insert(PeerOf(1));
  c.Pump();
  EXPECT_EQ(dialed_.size(), 1u) << "dialed a connected peer";
  EXPECT_EQ(c.pending(), 0u);
  EXPECT_EQ(c.dialing(), 0u);
}

TEST_F(PxConnectorTest, AnAddressWithoutAPeerIdIsRefused) {
  PxConnector c = Make({});
  EXPECT_FALSE(c.Offer(*Multiaddr::FromString("/ip4/10.0.0.1/tcp/1")));
  EXPECT_EQ(c.pending(), 0u);
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
