#include "libp2p/pubsub/gossipsub/partial_messages.h"

#include <string>

#include "gtest/gtest.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/sha256.h"

namespace libp2p::pubsub::gossipsub {
namespace {

crypto::PeerId PeerOf(int n) {
  auto key = crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("partial-" + std::to_string(n))));
  return crypto::PeerId::FromPublicKey(key->public_key());
}

PartialMessagesOptions Caps(size_t per_topic, size_t per_peer) {
  PartialMessagesOptions o;
  o.peer_initiated_groups_per_topic = per_topic;
  o.peer_initiated_groups_per_topic_per_peer = per_peer;
  return o;
}

// go-libp2p-pubsub's defaults: 255 groups per topic from peers, 8 per peer.
TEST(PartialGroupsTest, DefaultCapsAreGos) {
  PartialMessagesOptions o;
  EXPECT_EQ(o.peer_initiated_groups_per_topic, 255u);
  EXPECT_EQ(o.peer_initiated_groups_per_topic_per_peer, 8u);
}

// A flood of new group ids from one peer creates at most its cap, and from many peers at most the topic's;
// refusals are counted; other topics have caps of their own.
TEST(PartialGroupsTest, PeerInitiatedGroupsAreCapped) {
  PartialGroups groups(Caps(5, 2));
  const crypto::PeerId a = PeerOf(1);
  for (int i = 0; i < 1000; ++i) {
    PartialGroups::Group* g = groups.ForPeer("t", "group-" + std::to_string(i), a);
    if (g != nullptr) g->peers[a];
  }
  EXPECT_EQ(groups.groups(), 2u);
  EXPECT_EQ(groups.refused(), 998u);
  for (int p = 2; p < 10; ++p) {
    for (int i = 0; i < 3; ++i) {
      if (auto* g = groups.ForPeer("t", std::to_string(p) + "-" + std::to_string(i), PeerOf(p))) g->peers[PeerOf(p)];
    }
  }
  EXPECT_EQ(groups.peer_initiated("t"), 5u);
  EXPECT_EQ(groups.groups(), 5u);
  EXPECT_NE(groups.ForPeer("u", "x", a), nullptr);
  // An existing group is found whoever names it, at no cost.
  EXPECT_NE(groups.ForPeer("t", "group-0", PeerOf(50)), nullptr);
}

// Publishing to a group a peer created makes it ours (gossiped), but it counts against the peer until it
// goes: an application that answers every RPC with a publish cannot be made to hold more than the caps.
TEST(PartialGroupsTest, PublishingAdoptsAPeersGroupWhichStillCounts) {
  PartialGroups groups(Caps(5, 1));
  const crypto::PeerId a = PeerOf(1);
  ASSERT_NE(groups.ForPeer("t", "g", a), nullptr);
  EXPECT_EQ(groups.ForPeer("t", "h", a), nullptr);
  EXPECT_TRUE(groups.OurGroups("t").empty());
  groups.Ours("t", "g");
  ASSERT_EQ(groups.OurGroups("t").size(), 1u);
  EXPECT_EQ(*groups.OurGroups("t")[0].first, "g");
  EXPECT_EQ(groups.peer_initiated("t"), 1u);
  EXPECT_EQ(groups.ForPeer("t", "h", a), nullptr);
  for (int i = 0; i < 4; ++i) groups.Heartbeat();  // No view: it goes, and the cap is free.
  EXPECT_NE(groups.ForPeer("t", "h", a), nullptr);
}

// Groups live group_ttl_heartbeats (at least 3) heartbeats after creation or our last publish, and go at
// once when no peer is involved; a peer's views go with it, and its groups stop counting against it.
TEST(PartialGroupsTest, GroupsAgeOutAndPeersLeave) {
  PartialMessagesOptions o = Caps(5, 1);
  o.group_ttl_heartbeats = 1;  // Raised to 3.
  PartialGroups groups(o);
  const crypto::PeerId a = PeerOf(1), b = PeerOf(2);
  groups.Ours("t", "g").peers[a];
  groups.Ours("t", "g").peers[b];
  for (int i = 0; i < 3; ++i) {
    groups.Heartbeat();
    EXPECT_EQ(groups.groups(), 1u) << i;
  }
  groups.Ours("t", "g");  // Published again: three more heartbeats.
  groups.Heartbeat();
  groups.Heartbeat();
  EXPECT_EQ(groups.views(), 2u);
  groups.RemovePeer(a);
  EXPECT_EQ(groups.views(), 1u);
  groups.RemovePeer(b);
  groups.Heartbeat();  // No peer left: gone.
  EXPECT_EQ(groups.groups(), 0u);
  EXPECT_EQ(groups.topics(), 0u);

  ASSERT_NE(groups.ForPeer("t", "p", a), nullptr);
  groups.Find("t", "p")->peers[a];
  groups.RemovePeer(a);
  EXPECT_EQ(groups.peer_initiated("t"), 0u);
  EXPECT_NE(groups.ForPeer("t", "q", a), nullptr);  // Its cap is free again.
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
