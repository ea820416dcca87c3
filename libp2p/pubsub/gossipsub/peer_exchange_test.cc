#include "libp2p/pubsub/gossipsub/peer_exchange.h"

#include <string>

#include "gtest/gtest.h"
#include "libp2p/crypto/peer_record.h"
#include "libp2p/crypto/sha256.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;

Ed25519PrivateKey KeyOf(std::string_view seed) { return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed))); }
PeerId IdOf(const Ed25519PrivateKey& key) { return PeerId::FromPublicKey(key.public_key()); }

Bytes RecordOf(const Ed25519PrivateKey& key, const std::string& addr, uint64_t seq = 1) {
  crypto::PeerRecord record{IdOf(key), seq, {*Multiaddr::FromString(addr)}};
  return *crypto::SignPeerRecord(key, record);
}

void AddOffer(pb::ControlPrune* prune, const PeerId& id, const Bytes& record) {
  pb::PeerInfo* info = prune->add_peers();
  info->set_peerid(std::string(AsStringView(id.bytes())));
  info->set_signedpeerrecord(std::string(AsStringView(record)));
}

const auto kSkipNone = [](const PeerId&) { return false; };
// TCP addresses, as our transport dials.
const auto kTcp = [](const Multiaddr& a) { return a.ToString().find("/tcp/") != std::string::npos; };

TEST(PeerExchangeTest, OffersCarryTheRecordsTheStoreHolds) {
  const Ed25519PrivateKey a = KeyOf("a"), b = KeyOf("b");
  stream::PeerStore store;
  store.Upsert(IdOf(a)).signed_peer_record = RecordOf(a, "/ip4/10.0.0.1/tcp/4001");
  pb::ControlPrune prune;
  AddPxOffers({IdOf(a), IdOf(b)}, store, &prune);
  ASSERT_EQ(prune.peers_size(), 2);
  EXPECT_EQ(prune.peers(0).peerid(), AsStringView(IdOf(a).bytes()));
  EXPECT_EQ(prune.peers(0).signedpeerrecord(), AsStringView(store.Find(IdOf(a))->signed_peer_record));
  EXPECT_EQ(prune.peers(1).peerid(), AsStringView(IdOf(b).bytes()));
  EXPECT_FALSE(prune.peers(1).has_signedpeerrecord());
}

TEST(PeerExchangeTest, ValidOfferIsDialedWithItsPeerId) {
  const Ed25519PrivateKey a = KeyOf("a");
  pb::ControlPrune prune;
  AddOffer(&prune, IdOf(a), RecordOf(a, "/ip4/10.0.0.1/tcp/4001"));
  const auto targets = PxDialTargets(prune, IdOf(KeyOf("self")), kSkipNone, kTcp, 16);
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].ToString(), "/ip4/10.0.0.1/tcp/4001/p2p/" + IdOf(a).ToBase58());
}

// A go peer's record lists QUIC, WebTransport and WebRTC addresses before (or instead of) TCP, and loopback
// and private addresses beside public ones: the most useful address we can dial is chosen, and an offer
// without one is skipped.
TEST(PeerExchangeTest, TheFirstDialableAddressIsChosen) {
  const Ed25519PrivateKey a = KeyOf("a"), b = KeyOf("b");
  crypto::PeerRecord ra{IdOf(a), 1,
                        {*Multiaddr::FromString("/ip4/10.0.0.1/udp/4001/quic-v1"),
                         *Multiaddr::FromString("/ip4/10.0.0.1/udp/4001/webrtc-direct"),
                         *Multiaddr::FromString("/ip4/10.0.0.1/tcp/4001")}};
  crypto::PeerRecord rb{IdOf(b), 1, {*Multiaddr::FromString("/ip4/10.0.0.2/udp/4001/quic-v1")}};
  const Ed25519PrivateKey c = KeyOf("c");
  // Loopback and private addresses first, as go lists them; the public one is the useful one.
  crypto::PeerRecord rc{IdOf(c), 1,
                        {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/4001"), *Multiaddr::FromString("/ip4/10.0.0.3/tcp/4001"),
                         *Multiaddr::FromString("/ip4/203.0.113.3/tcp/4001")}};
  pb::ControlPrune prune;
  AddOffer(&prune, IdOf(a), *crypto::SignPeerRecord(a, ra));
  AddOffer(&prune, IdOf(b), *crypto::SignPeerRecord(b, rb));
  AddOffer(&prune, IdOf(c), *crypto::SignPeerRecord(c, rc));
  const auto targets = PxDialTargets(prune, IdOf(KeyOf("self")), kSkipNone, kTcp, 16);
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].ToString(), "/ip4/10.0.0.1/tcp/4001/p2p/" + IdOf(a).ToBase58());
  EXPECT_EQ(targets[1].ToString(), "/ip4/203.0.113.3/tcp/4001/p2p/" + IdOf(c).ToBase58());
}

TEST(PeerExchangeTest, InvalidOffersAreSkipped) {
  const Ed25519PrivateKey a = KeyOf("a"), b = KeyOf("b"), self = KeyOf("self");
  pb::ControlPrune prune;
  prune.add_peers()->set_peerid(std::string(AsStringView(IdOf(a).bytes())));  // No record.
  AddOffer(&prune, IdOf(b), RecordOf(a, "/ip4/10.0.0.1/tcp/1"));              // A's record offered as b.
  Bytes forged = RecordOf(b, "/ip4/10.0.0.2/tcp/2");
  forged[forged.size() - 1] ^= 1;                                              // Signature broken.
  AddOffer(&prune, IdOf(b), forged);
  AddOffer(&prune, IdOf(self), RecordOf(self, "/ip4/10.0.0.3/tcp/3"));        // Ourselves.
  AddOffer(&prune, IdOf(b), RecordOf(b, "/ip4/10.0.0.4/tcp/4/p2p/" + IdOf(a).ToBase58()));  // Names another.
  pb::PeerInfo* garbage = prune.add_peers();
  garbage->set_peerid("not a peer id");
  garbage->set_signedpeerrecord("not an envelope");
  EXPECT_TRUE(PxDialTargets(prune, IdOf(self), kSkipNone, kTcp, 16).empty());
}

TEST(PeerExchangeTest, SkipAndLimit) {
  pb::ControlPrune prune;
  std::vector<PeerId> ids;
  for (int i = 0; i < 10; ++i) {
    const Ed25519PrivateKey k = KeyOf("peer" + std::to_string(i));
    ids.push_back(IdOf(k));
    AddOffer(&prune, ids.back(), RecordOf(k, "/ip4/10.0.0.1/tcp/" + std::to_string(1000 + i)));
  }
  const PeerId self = IdOf(KeyOf("self"));
  EXPECT_EQ(PxDialTargets(prune, self, kSkipNone, kTcp, 4).size(), 4u);
  // Already-connected peers are skipped, but still count as examined.
  const auto targets = PxDialTargets(prune, self, [&](const PeerId& p) { return p == ids[0]; }, kTcp, 3);
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].ToString(), "/ip4/10.0.0.1/tcp/1001/p2p/" + ids[1].ToBase58());
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
