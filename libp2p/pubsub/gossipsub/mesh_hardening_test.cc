// The v1.1 hardening of the gossipsub router, one behaviour per test, on the in-memory network and the
// manual clock: mesh maintenance by score and direction (D_score, D_out, opportunistic grafting), each
// score threshold, IWANT promises against slow validation, multi-topic IHAVE, asynchronous validators on our
// own messages, what a disconnect leaves behind, and IDONTWANT against replies already queued. The node under
// test is a full PubSub with a GossipSubRouter; the peers around it are bare hosts that write RPCs by hand,
// so that each test controls every score, direction and message. Time is advanced, never waited for.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/peer_record.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/peer_score.h"
#include "libp2p/pubsub/gossipsub/testing/scenario.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The seeds of the raw peers in `ids` (for readable comparisons of meshes and fanouts); "?" for others.
template <typename Peers>
std::set<std::string> Names(const PeerSet& ids, const Peers& peers) {
  std::set<std::string> names;
  for (const PeerId& id : ids) {
    auto it = std::find_if(peers.begin(), peers.end(), [&](const auto& p) { return p->id() == id; });
    names.insert(it == peers.end() ? "?" : (*it)->seed);
  }
  return names;
}

// The node under test (its key and router seed).
constexpr int kNode = 7;

// Scores the test sets per peer: the application-specific score (P5, weight 1) is the only term, so a peer's
// score is exactly what the test put in the map (P6 is off: every peer here dials from 127.0.0.1). Broken
// promises and GRAFTs during backoff still cost P7 (weight -10).
using ScoreMap = std::map<PeerId, double>;

GossipSubOptions ScoredBy(const std::shared_ptr<ScoreMap>& scores) {
  GossipSubOptions go;
  PeerScoreParams sp;
  sp.app_specific_weight = 1;
  sp.app_specific_score = [scores](const PeerId& p) {
    auto it = scores->find(p);
    return it == scores->end() ? 0.0 : it->second;
  };
  sp.ip_colocation_factor_weight = 0;
  EXPECT_TRUE(sp.Validate().ok());
  go.score_params = sp;
  return go;
}

class MeshHardeningTest : public ::testing::Test {
 protected:
  // Runs the node's first heartbeat (heartbeat_initial_delay after it was created, when no time has passed
  // since).
  void FirstHeartbeat(const Node& node, const GossipSubOptions& go) {
    loop_.AdvanceTime(go.params.heartbeat_initial_delay);
    ASSERT_EQ(node.router->stats().heartbeats, 1u);
  }
  // A raw peer that listens, so that the node can dial it (AcceptFrom) as well as be dialed by it.
  std::unique_ptr<RawPeer> Peer(const std::string& seed, std::string proto = std::string(kMeshSubV11)) {
    auto peer = std::make_unique<RawPeer>(&loop_, &net_, seed, std::move(proto));
    peer->Listen();
    return peer;
  }

  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
};

// --- 1. D_hi pruning. ---

// A mesh above D_hi is pruned to D at the heartbeat: the D_score best-scoring peers stay whatever their
// direction, and the rest of the room goes to outbound peers first until D_out of the kept ones are
// outbound, even though every outbound peer scores below every inbound one.
TEST_F(MeshHardeningTest, PruningAboveDHiKeepsTheDScoreBestAndDOutOutboundPeers) {
  auto scores = std::make_shared<ScoreMap>();
  GossipSubOptions go = ScoredBy(scores);
  go.params.d = 6;
  go.params.d_lo = 4;
  go.params.d_hi = 8;
  go.params.d_score = 3;
  go.params.d_out = 3;
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  // Eight inbound peers scoring 10..17 fill the mesh to D_hi with their GRAFTs; three outbound ones scoring
  // 1..3 are accepted beyond it (GRAFTs from peers we dialed are).
  std::vector<std::unique_ptr<RawPeer>> in, out;
  for (int i = 0; i < 8; ++i) {
    in.push_back(Peer("in-" + std::to_string(i)));
    (*scores)[in.back()->id()] = 10 + i;
    in.back()->ConnectTo(node);
    in.back()->Send(JoinRpc("t"));
  }
  for (int i = 0; i < 3; ++i) {
    out.push_back(Peer("out-" + std::to_string(i)));
    (*scores)[out.back()->id()] = 1 + i;
    out.back()->AcceptFrom(node);
    out.back()->Send(JoinRpc("t"));
  }
  ASSERT_EQ(node.router->Mesh("t").size(), 11u);
  for (const auto& p : in) ASSERT_FALSE(node.router->IsOutbound(p->id()));
  for (const auto& p : out) ASSERT_TRUE(node.router->IsOutbound(p->id()));
  ASSERT_DOUBLE_EQ(node.router->Score(in[7]->id()), 17.0);

  std::vector<const RawPeer*> all;
  for (const auto& p : in) all.push_back(p.get());
  for (const auto& p : out) all.push_back(p.get());

  FirstHeartbeat(node, go);
  EXPECT_EQ(Names(node.router->Mesh("t"), all),
            (std::set<std::string>{"in-5", "in-6", "in-7", "out-0", "out-1", "out-2"}));
  EXPECT_EQ(node.OutboundInMesh("t"), 3u);
  // The five others were pruned, told so, and are in backoff.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(in[i]->Prunes("t").size(), 1u) << i;
    EXPECT_TRUE(node.router->backoff().InBackoff(in[i]->id(), "t")) << i;
  }
  for (int i = 5; i < 8; ++i) EXPECT_TRUE(in[i]->Prunes("t").empty()) << i;
}

// --- 2. Outbound quota. ---

// A mesh at or above D_lo whose members are all inbound is not left that way: the heartbeat grafts outbound
// peers until D_out members are outbound, and no more.
TEST_F(MeshHardeningTest, AMeshShortOfOutboundPeersGraftsThemUpToDOut) {
  GossipSubOptions go;
  go.params.d = 6;
  go.params.d_lo = 4;
  go.params.d_hi = 8;
  go.params.d_score = 3;
  go.params.d_out = 2;
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  std::vector<std::unique_ptr<RawPeer>> in, out;
  for (int i = 0; i < 5; ++i) {
    in.push_back(Peer("in-" + std::to_string(i)));
    in.back()->ConnectTo(node);
    in.back()->Send(JoinRpc("t"));
  }
  for (int i = 0; i < 3; ++i) {
    out.push_back(Peer("out-" + std::to_string(i)));
    out.back()->AcceptFrom(node);
    out.back()->Send(SubscriptionRpc({"t"}));  // Subscribed, not grafting.
  }
  ASSERT_EQ(node.router->Mesh("t").size(), 5u);  // >= D_lo: nothing to fill for the size's sake.
  ASSERT_EQ(node.OutboundInMesh("t"), 0u);

  FirstHeartbeat(node, go);
  EXPECT_EQ(node.router->Mesh("t").size(), 7u);
  EXPECT_EQ(node.OutboundInMesh("t"), 2u);
  size_t grafted = 0;
  for (const auto& p : out) grafted += p->Grafts("t");
  EXPECT_EQ(grafted, 2u) << "each grafted outbound peer is told with one GRAFT";
  for (const auto& p : in) EXPECT_EQ(node.router->Mesh("t").count(p->id()), 1u);

  loop_.AdvanceTime(go.params.heartbeat_interval);
  EXPECT_EQ(node.router->Mesh("t").size(), 7u) << "the quota is met: no further grafts";
}

// --- 3. Opportunistic grafting. ---

GossipSubOptions OpportunisticOptions(const std::shared_ptr<ScoreMap>& scores) {
  GossipSubOptions go = ScoredBy(scores);
  go.params.d = 3;
  go.params.d_lo = 2;
  go.params.d_hi = 6;
  go.params.d_score = 1;
  go.params.d_out = 0;
  go.params.opportunistic_graft_ticks = 3;
  go.params.opportunistic_graft_peers = 2;
  go.thresholds.opportunistic_graft_threshold = 5;
  return go;
}

// Every opportunistic_graft_ticks heartbeats, with the mesh's median score below the threshold, up to
// opportunistic_graft_peers peers scoring above the median are grafted; peers at or below it are not, and
// nothing happens on the heartbeats in between.
TEST_F(MeshHardeningTest, OpportunisticGraftingBringsInPeersAboveALowMedian) {
  auto scores = std::make_shared<ScoreMap>();
  const GossipSubOptions go = OpportunisticOptions(scores);
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  std::vector<std::unique_ptr<RawPeer>> peers;
  auto add = [&](const std::string& seed, double score, bool graft) -> RawPeer& {
    peers.push_back(Peer(seed));
    (*scores)[peers.back()->id()] = score;
    peers.back()->ConnectTo(node);
    peers.back()->Send(graft ? JoinRpc("t") : SubscriptionRpc({"t"}));
    return *peers.back();
  };
  for (int i = 1; i <= 3; ++i) add("mesh-" + std::to_string(i), i, /*graft=*/true);  // Median 2.
  const PeerId high = add("high", 10, false).id();
  const PeerId low1 = add("low-1", 0.5, false).id();
  const PeerId at_median = add("at-median", 2, false).id();
  ASSERT_EQ(node.router->Mesh("t").size(), 3u);

  FirstHeartbeat(node, go);
  loop_.AdvanceTime(go.params.heartbeat_interval);  // Tick 2.
  EXPECT_EQ(node.router->Mesh("t").size(), 3u) << "grafted before opportunistic_graft_ticks";
  loop_.AdvanceTime(go.params.heartbeat_interval);  // Tick 3.
  EXPECT_EQ(node.router->Mesh("t").size(), 4u);
  EXPECT_EQ(node.router->Mesh("t").count(high), 1u);
  EXPECT_EQ(node.router->Mesh("t").count(low1), 0u);
  EXPECT_EQ(node.router->Mesh("t").count(at_median), 0u);

  // Three more good peers; the median of {1, 2, 3, 10} is 3, still low. The next round takes two of them.
  std::vector<PeerId> good;
  for (int i = 0; i < 3; ++i) good.push_back(add("good-" + std::to_string(i), 11 + i, false).id());
  loop_.AdvanceTime(2 * go.params.heartbeat_interval);  // Ticks 4 and 5.
  EXPECT_EQ(node.router->Mesh("t").size(), 4u);
  loop_.AdvanceTime(go.params.heartbeat_interval);  // Tick 6.
  EXPECT_EQ(node.router->Mesh("t").size(), 6u);
  size_t good_grafted = 0;
  for (const PeerId& p : good) good_grafted += node.router->Mesh("t").count(p);
  EXPECT_EQ(good_grafted, 2u);
  EXPECT_EQ(node.router->Mesh("t").count(low1), 0u);
  EXPECT_EQ(node.router->Mesh("t").count(at_median), 0u);
}

// With the median at or above the threshold, nobody is grafted opportunistically, however good.
TEST_F(MeshHardeningTest, OpportunisticGraftingLeavesAGoodMeshAlone) {
  auto scores = std::make_shared<ScoreMap>();
  const GossipSubOptions go = OpportunisticOptions(scores);
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  std::vector<std::unique_ptr<RawPeer>> peers;
  for (int i = 0; i < 5; ++i) {
    peers.push_back(Peer("p-" + std::to_string(i)));
    // Mesh members 5, 6, 7 (median 6 >= 5); candidates 20 and 30.
    (*scores)[peers.back()->id()] = i < 3 ? 5 + i : 10 * (i - 1);
    peers.back()->ConnectTo(node);
    peers.back()->Send(i < 3 ? JoinRpc("t") : SubscriptionRpc({"t"}));
  }
  ASSERT_EQ(node.router->Mesh("t").size(), 3u);
  FirstHeartbeat(node, go);
  loop_.AdvanceTime(5 * go.params.heartbeat_interval);  // Ticks 2..6: two opportunistic rounds.
  EXPECT_EQ(node.router->Mesh("t").size(), 3u);
  EXPECT_EQ(node.router->Mesh("t").count(peers[3]->id()), 0u);
  EXPECT_EQ(node.router->Mesh("t").count(peers[4]->id()), 0u);
}

// --- 4. Score thresholds (js defaults: gossip -10, publish -50, graylist -80, accept PX 10). ---

// Below gossip_threshold a peer gets no IHAVE from us, and its IHAVEs and IWANTs are ignored; a peer at the
// threshold (negative, so outside the mesh) gets IHAVEs and is answered.
TEST_F(MeshHardeningTest, GossipThreshold) {
  auto scores = std::make_shared<ScoreMap>();
  GossipSubOptions go = ScoredBy(scores);
  go.params.flood_publish = false;
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  auto below = Peer("below");
  auto above = Peer("above");
  (*scores)[below->id()] = go.thresholds.gossip_threshold - 0.5;  // -10.5
  (*scores)[above->id()] = go.thresholds.gossip_threshold;        // -10
  for (RawPeer* p : {below.get(), above.get()}) {
    p->ConnectTo(node);
    p->Send(SubscriptionRpc({"t"}));
  }
  const PublishResult published = node.pubsub->Publish("t", AsBytes("gossiped"));
  ASSERT_TRUE(published.status.ok());
  EXPECT_EQ(published.peers, 0u);  // No mesh: both peers score below 0.

  FirstHeartbeat(node, go);
  EXPECT_EQ(above->IHaveIds("t"), std::vector<std::string>{published.id});
  EXPECT_TRUE(below->IHaveIds("t").empty());

  // Their IWANTs for it: only the peer above the threshold is served.
  below->Send(IWantRpc({published.id}));
  EXPECT_TRUE(below->Messages().empty());
  above->Send(IWantRpc({published.id}));
  EXPECT_EQ(above->Messages(), std::vector<std::string>{"gossiped"});
  EXPECT_EQ(node.router->stats().iwant_served, 1u);

  // Their IHAVEs: only the one above the threshold is asked.
  below->Send(IHaveRpc("t", {"from-below"}));
  above->Send(IHaveRpc("t", {"from-above"}));
  EXPECT_TRUE(below->IWantIds().empty());
  EXPECT_EQ(above->IWantIds(), std::vector<std::string>{"from-above"});
  EXPECT_EQ(node.router->stats().iwant_sent, 1u);
  EXPECT_EQ(node.router->promise_count(), 1u);
}

// Below publish_threshold a peer is not sent our own messages, neither by flood publishing nor through the
// fanout (a peer at the threshold is); a peer in the fanout that falls below it is dropped from the fanout
// at the next heartbeat.
TEST_F(MeshHardeningTest, PublishThreshold) {
  for (const bool flood : {true, false}) {
    SCOPED_TRACE(flood ? "flood publishing" : "fanout");
    ManualEventLoop loop;
    stream::MemoryNetwork net(&loop);
    auto scores = std::make_shared<ScoreMap>();
    GossipSubOptions go = ScoredBy(scores);
    go.params.flood_publish = flood;
    Node node(&loop, &net, kNode, go);
    node.Join("t");
    RawPeer below(&loop, &net, "below"), above(&loop, &net, "above");
    below.Listen();
    above.Listen();
    (*scores)[below.id()] = go.thresholds.publish_threshold - 0.5;  // -50.5
    (*scores)[above.id()] = go.thresholds.publish_threshold;        // -50
    for (RawPeer* p : {&below, &above}) {
      p->ConnectTo(node);
      p->Send(SubscriptionRpc({"t", "f"}));
    }
    // Flood publishing in a topic we are in; the fanout for one we are not in.
    const std::string topic = flood ? "t" : "f";
    const PublishResult r = node.pubsub->Publish(topic, AsBytes("ours"));
    ASSERT_TRUE(r.status.ok());
    loop.RunUntilIdle();
    EXPECT_EQ(r.peers, 1u);
    EXPECT_EQ(above.Messages(), std::vector<std::string>{"ours"});
    EXPECT_TRUE(below.Messages().empty());
    if (flood) continue;
    EXPECT_EQ(Names(node.router->Fanout("f"), std::vector<const RawPeer*>{&above, &below}),
              std::set<std::string>{"above"});
    (*scores)[above.id()] = go.thresholds.publish_threshold - 0.5;
    loop.AdvanceTime(go.params.heartbeat_initial_delay);
    EXPECT_TRUE(node.router->Fanout("f").empty());
    ASSERT_TRUE(node.pubsub->Publish("f", AsBytes("later")).status.ok());
    loop.RunUntilIdle();
    EXPECT_EQ(above.Messages(), std::vector<std::string>{"ours"});
  }
}

// Below graylist_threshold every part of a peer's RPCs is ignored (its messages, IHAVEs and GRAFTs) except
// its subscriptions; the same RPC from a peer at the threshold is processed.
TEST_F(MeshHardeningTest, GraylistThreshold) {
  auto scores = std::make_shared<ScoreMap>();
  GossipSubOptions go = ScoredBy(scores);
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  auto grey = Peer("grey");
  auto dim = Peer("dim");
  (*scores)[grey->id()] = go.thresholds.graylist_threshold - 0.5;  // -80.5
  (*scores)[dim->id()] = go.thresholds.graylist_threshold;         // -80
  auto everything = [](RawPeer& p, const std::string& tag) {
    pb::RPC rpc = JoinRpc("t");
    rpc.add_subscriptions()->set_subscribe(true);
    rpc.mutable_subscriptions(1)->set_topicid("other-" + tag);
    *rpc.add_publish() = SignedMessage(p.key, "t", "from " + tag, 1);
    auto* ihave = rpc.mutable_control()->add_ihave();
    ihave->set_topicid("t");
    ihave->add_messageids("advertised-by-" + tag);
    return rpc;
  };
  grey->ConnectTo(node);
  grey->Send(everything(*grey, "grey"));
  EXPECT_EQ(node.pubsub->PeerTopics(grey->id()), (std::set<std::string>{"other-grey", "t"}));
  EXPECT_TRUE(node.received.empty());
  EXPECT_EQ(node.pubsub->stats().rejected + node.pubsub->stats().ignored + node.pubsub->stats().duplicates, 0u);
  EXPECT_EQ(node.router->stats().graft_received, 0u);
  EXPECT_EQ(node.router->stats().iwant_sent, 0u);
  EXPECT_TRUE(grey->Prunes("t").empty());
  EXPECT_TRUE(grey->IWantIds().empty());

  dim->ConnectTo(node);
  dim->Send(everything(*dim, "dim"));
  EXPECT_EQ(node.pubsub->PeerTopics(dim->id()), (std::set<std::string>{"other-dim", "t"}));
  EXPECT_EQ(node.received, std::vector<std::string>{"from dim"});
  EXPECT_EQ(node.router->stats().graft_received, 1u);
  EXPECT_EQ(dim->Prunes("t").size(), 1u);  // A negative score's GRAFT is refused.
  EXPECT_TRUE(dim->IWantIds().empty());    // Below the gossip threshold too.
}

// PX offers are followed only from a peer scoring at least accept_px_threshold: not from one with a positive
// score short of it.
TEST_F(MeshHardeningTest, AcceptPxThreshold) {
  auto scores = std::make_shared<ScoreMap>();
  GossipSubOptions go = ScoredBy(scores);
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  Node offered(&loop_, &net_, kNode + 1);
  const crypto::PeerRecord record{offered.id(), 1, offered.host->listen_addrs()};
  StatusOr<Bytes> signed_record = crypto::SignPeerRecord(offered.key, record);
  ASSERT_TRUE(signed_record.ok());
  pb::RPC prune = PruneRpc("t", 60);
  pb::PeerInfo* info = prune.mutable_control()->mutable_prune(0)->add_peers();
  info->set_peerid(std::string(AsStringView(offered.id().bytes())));
  info->set_signedpeerrecord(ToString(*signed_record));

  auto short_of = Peer("short-of");
  auto trusted = Peer("trusted");
  (*scores)[short_of->id()] = go.thresholds.accept_px_threshold - 0.5;  // 9.5: positive, not enough.
  (*scores)[trusted->id()] = go.thresholds.accept_px_threshold;       // 10: enough.
  short_of->ConnectTo(node);
  short_of->Send(prune);
  loop_.RunUntilIdle();
  EXPECT_EQ(node.router->stats().prune_received, 1u);
  EXPECT_EQ(node.router->stats().px_dials, 0u);
  EXPECT_FALSE(node.host->IsConnected(offered.id()));

  trusted->ConnectTo(node);
  trusted->Send(prune);
  loop_.RunUntilIdle();
  EXPECT_EQ(node.router->stats().px_dials, 1u);
  EXPECT_TRUE(node.host->IsConnected(offered.id()));
}

// --- 5. Slow validation and IWANT promises. ---

// A promise is kept as soon as anyone delivers the message and its validation starts: a validator slower
// than iwant_followup_time breaks no promise, neither the deliverer's nor that of the peer that advertised
// the message and was asked for it.
TEST_F(MeshHardeningTest, ASlowValidationBreaksNoPromise) {
  auto scores = std::make_shared<ScoreMap>();
  const GossipSubOptions go = ScoredBy(scores);
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  std::vector<std::function<void(ValidationResult)>> held;
  node.pubsub->AddValidator("t", [&](const pb::Message&, std::function<void(ValidationResult)> done) {
    held.push_back(std::move(done));
  });
  auto advertiser = Peer("advertiser");
  auto deliverer = Peer("deliverer");
  advertiser->ConnectTo(node);
  deliverer->ConnectTo(node);
  const pb::Message msg = SignedMessage(KeyOf("author"), "t", "slow", 1);
  const std::string id = JsDefaultMessageId(msg);
  advertiser->Send(IHaveRpc("t", {id}));
  ASSERT_EQ(advertiser->IWantIds(), std::vector<std::string>{id});
  ASSERT_EQ(node.router->promise_count(), 1u);
  deliverer->Send(PublishRpc(msg));
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(node.router->promise_count(), 0u);

  loop_.AdvanceTime(go.params.iwant_followup_time + 2 * go.params.heartbeat_interval);
  EXPECT_EQ(node.router->stats().broken_promises, 0u);
  EXPECT_DOUBLE_EQ(node.router->Score(advertiser->id()), 0.0);
  EXPECT_DOUBLE_EQ(node.router->Score(deliverer->id()), 0.0);
  held[0](ValidationResult::kAccept);
  EXPECT_EQ(node.received, std::vector<std::string>{"slow"});
}

// A validation that times out (after the follow-up time) ends as an ignore: the peer that delivered in time
// for its promise pays nothing, neither P7 for a broken promise nor P4.
TEST_F(MeshHardeningTest, AValidationTimeoutDoesNotPenaliseTheDelivererThroughItsPromise) {
  auto scores = std::make_shared<ScoreMap>();
  const GossipSubOptions go = ScoredBy(scores);
  PubSubOptions po;
  po.validation_timeout = go.params.iwant_followup_time + seconds(3);
  Node node(&loop_, &net_, kNode, go, po);
  node.Join("t");
  size_t asked = 0;
  node.pubsub->AddValidator("t", [&](const pb::Message&, std::function<void(ValidationResult)>) { ++asked; });
  auto peer = Peer("peer");
  peer->ConnectTo(node);
  const pb::Message msg = SignedMessage(peer->key, "t", "never validated", 1);
  const std::string id = JsDefaultMessageId(msg);
  peer->Send(IHaveRpc("t", {id}));
  ASSERT_EQ(peer->IWantIds(), std::vector<std::string>{id});
  peer->Send(PublishRpc(msg));
  ASSERT_EQ(asked, 1u);

  loop_.AdvanceTime(go.params.iwant_followup_time + go.params.heartbeat_interval);
  EXPECT_EQ(node.pubsub->stats().ignored, 0u) << "timed out too early for this test";
  EXPECT_EQ(node.router->stats().broken_promises, 0u);
  loop_.AdvanceTime(po.validation_timeout);
  EXPECT_EQ(node.pubsub->stats().ignored, 1u);
  EXPECT_TRUE(node.received.empty());
  EXPECT_EQ(node.router->stats().broken_promises, 0u);
  EXPECT_EQ(node.router->promise_count(), 0u);
  EXPECT_DOUBLE_EQ(node.router->Score(peer->id()), 0.0);
}

// --- 6. Multi-topic IHAVE. ---

// One RPC with IHAVEs for several topics: ids of topics we are not in are not asked for, each id of our
// topics is asked for once (in one IWANT, one promise), and the RPC counts once against max_ihave_messages.
TEST_F(MeshHardeningTest, OneRpcOfIHavesForSeveralTopics) {
  GossipSubOptions go;
  go.params.max_ihave_messages = 2;
  Node node(&loop_, &net_, kNode, go);
  node.Join("a");
  node.Join("b");
  auto gossiper = Peer("gossiper");
  gossiper->ConnectTo(node);
  pb::RPC rpc = IHaveRpc("a", {"a1", "shared", "a1"});
  auto* other = rpc.mutable_control()->add_ihave();
  other->set_topicid("not-ours");
  other->add_messageids("n1");
  other->add_messageids("shared-with-not-ours");
  auto* b = rpc.mutable_control()->add_ihave();
  b->set_topicid("b");
  b->add_messageids("b1");
  b->add_messageids("shared");
  gossiper->Send(rpc);
  EXPECT_EQ(gossiper->IWantIds(), (std::vector<std::string>{"a1", "b1", "shared"}));
  EXPECT_EQ(gossiper->IWantRpcs(), 1u);
  EXPECT_EQ(node.router->stats().iwant_sent, 1u);
  EXPECT_EQ(node.router->promise_count(), 1u);

  // That was one of the two IHAVE messages allowed this heartbeat: one more is heard, a third is not.
  gossiper->Send(IHaveRpc("a", {"a2"}));
  gossiper->Send(IHaveRpc("b", {"b2"}));
  EXPECT_EQ(gossiper->IWantIds(), (std::vector<std::string>{"a1", "a2", "b1", "shared"}));
  EXPECT_EQ(node.router->stats().iwant_sent, 2u);
  // The heartbeat restarts the count.
  FirstHeartbeat(node, go);
  gossiper->Send(IHaveRpc("b", {"b3"}));
  EXPECT_EQ(gossiper->IWantIds(), (std::vector<std::string>{"a1", "a2", "b1", "b3", "shared"}));
}

// --- 7. Asynchronous validators on our own messages. ---

// Publishing on a topic with an asynchronous validator returns `pending`; the message reaches the mesh only
// once the validator accepts, and the outcome goes to `done`. A rejected message is never sent, cached for
// IWANT or marked seen.
TEST_F(MeshHardeningTest, AsyncValidatorsDecideOnOurOwnMessages) {
  GossipSubOptions go;
  go.params.flood_publish = false;  // The mesh alone carries our messages.
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  std::vector<std::unique_ptr<RawPeer>> mesh;
  for (int i = 0; i < 3; ++i) {
    mesh.push_back(Peer("mesh-" + std::to_string(i)));
    mesh.back()->ConnectTo(node);
    mesh.back()->Send(JoinRpc("t"));
  }
  ASSERT_EQ(node.router->Mesh("t").size(), 3u);
  std::vector<std::function<void(ValidationResult)>> held;
  node.pubsub->AddValidator("t", [&](const pb::Message&, std::function<void(ValidationResult)> done) {
    held.push_back(std::move(done));
  });
  std::vector<PublishResult> outcomes;
  const auto record = [&](const PublishResult& r) { outcomes.push_back(r); };

  const PublishResult accepted = node.pubsub->Publish("t", AsBytes("accepted"), record);
  EXPECT_TRUE(accepted.pending);
  EXPECT_EQ(accepted.peers, 0u);
  loop_.RunUntilIdle();
  for (const auto& p : mesh) EXPECT_TRUE(p->Messages().empty());
  EXPECT_TRUE(outcomes.empty());
  EXPECT_FALSE(node.pubsub->HasSeen(accepted.id));
  ASSERT_EQ(held.size(), 1u);
  held[0](ValidationResult::kAccept);
  loop_.RunUntilIdle();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].status.ok()) << outcomes[0].status.ToString();
  EXPECT_EQ(outcomes[0].id, accepted.id);
  EXPECT_EQ(outcomes[0].peers, 3u);
  for (const auto& p : mesh) EXPECT_EQ(p->Messages(), std::vector<std::string>{"accepted"});
  EXPECT_EQ(node.pubsub->stats().published, 1u);

  const PublishResult rejected = node.pubsub->Publish("t", AsBytes("rejected"), record);
  EXPECT_TRUE(rejected.pending);
  ASSERT_EQ(held.size(), 2u);
  held[1](ValidationResult::kReject);
  loop_.RunUntilIdle();
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[1].status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(outcomes[1].id, rejected.id);
  EXPECT_EQ(outcomes[1].peers, 0u);
  for (const auto& p : mesh) EXPECT_EQ(p->Messages(), std::vector<std::string>{"accepted"});
  EXPECT_FALSE(node.pubsub->HasSeen(rejected.id));
  EXPECT_EQ(node.pubsub->stats().published, 1u);
  // Asked for both with IWANT: only the accepted one is in the cache.
  mesh[0]->Send(IWantRpc({accepted.id, rejected.id}));
  EXPECT_EQ(mesh[0]->Messages(), (std::vector<std::string>{"accepted", "accepted"}));
  EXPECT_EQ(node.router->stats().iwant_served, 1u);

  // A validator that never answers: validation_timeout later, kDeadlineExceeded, still nothing sent.
  const PublishResult unanswered = node.pubsub->Publish("t", AsBytes("unanswered"), record);
  EXPECT_TRUE(unanswered.pending);
  loop_.AdvanceTime(PubSubOptions{}.validation_timeout);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[2].status.code(), StatusCode::kDeadlineExceeded);
  for (const auto& p : mesh) {
    const std::vector<std::string> got = p->Messages();
    EXPECT_EQ(std::count(got.begin(), got.end(), "unanswered"), 0);
  }
}

// --- 7b. Mesh members who are not subscribers. ---

// A mesh peer that unsubscribes stays in the mesh until the next heartbeat, which prunes it; one that
// unsubscribes and subscribes again before it stays.
TEST_F(MeshHardeningTest, AMeshPeerThatUnsubscribesIsPrunedAtTheNextHeartbeat) {
  GossipSubOptions go;
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  auto leaving = Peer("leaving");
  auto back = Peer("back");
  for (RawPeer* p : {leaving.get(), back.get()}) {
    p->ConnectTo(node);
    p->Send(JoinRpc("t"));
  }
  ASSERT_EQ(node.router->Mesh("t").size(), 2u);
  leaving->Send(SubscriptionRpc({"t"}, /*subscribe=*/false));
  back->Send(SubscriptionRpc({"t"}, /*subscribe=*/false));
  back->Send(SubscriptionRpc({"t"}));
  EXPECT_EQ(node.router->Mesh("t").size(), 2u);

  FirstHeartbeat(node, go);
  EXPECT_EQ(node.router->Mesh("t").count(leaving->id()), 0u);
  EXPECT_EQ(leaving->Prunes("t").size(), 1u);
  EXPECT_EQ(node.router->Mesh("t").count(back->id()), 1u);
  EXPECT_TRUE(back->Prunes("t").empty());
}

// A GRAFT from a peer that never subscribed to the topic is taken, and the next heartbeat prunes it.
TEST_F(MeshHardeningTest, APeerThatGraftsWithoutSubscribingIsPrunedAtTheNextHeartbeat) {
  GossipSubOptions go;
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  auto grafter = Peer("grafter");
  grafter->ConnectTo(node);
  pb::RPC graft;
  graft.mutable_control()->add_graft()->set_topicid("t");
  grafter->Send(graft);
  ASSERT_EQ(node.router->Mesh("t").count(grafter->id()), 1u);

  FirstHeartbeat(node, go);
  EXPECT_EQ(node.router->Mesh("t").count(grafter->id()), 0u);
  EXPECT_EQ(grafter->Prunes("t").size(), 1u);
}

// --- 8. A peer that disconnects. ---

// When a gossipsub peer goes, the router forgets it: mesh, fanout, promises, IDONTWANTs and its
// subscriptions (so that it is not chosen again if it comes back without subscribing); its backoff stays,
// on purpose, so that reconnecting does not shorten it.
TEST_F(MeshHardeningTest, ADisconnectedPeerLeavesNothingButItsBackoff) {
  GossipSubOptions go;
  go.params.flood_publish = false;
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  node.Join("b");
  auto leaving = Peer("leaving", std::string(kMeshSubV12));
  auto staying = Peer("staying", std::string(kMeshSubV12));
  for (RawPeer* p : {leaving.get(), staying.get()}) {
    p->ConnectTo(node);
    p->Send(SubscriptionRpc({"t", "b", "f"}));
    p->Send(JoinRpc("t"));
  }
  ASSERT_TRUE(node.pubsub->Publish("f", AsBytes("fanout")).status.ok());
  const std::vector<const RawPeer*> both = {leaving.get(), staying.get()};
  ASSERT_EQ(Names(node.router->Fanout("f"), both), (std::set<std::string>{"leaving", "staying"}));
  ASSERT_EQ(Names(node.router->Mesh("t"), both), (std::set<std::string>{"leaving", "staying"}));
  leaving->Send(IHaveRpc("t", {"promised"}));
  ASSERT_EQ(node.router->promise_count(), 1u);
  leaving->Send(IDontWantRpc({"unwanted"}));
  ASSERT_EQ(node.router->dont_send_entries(leaving->id()), 1u);
  leaving->Send(PruneRpc("b", 600));
  ASSERT_TRUE(node.router->backoff().InBackoff(leaving->id(), "b"));
  ASSERT_EQ(node.router->PeersWithProtocol(kMeshSubV12), 2u);

  leaving->host->Disconnect(node.id());
  loop_.RunUntilIdle();
  ASSERT_FALSE(node.host->IsConnected(leaving->id()));
  EXPECT_EQ(Names(node.router->Mesh("t"), both), std::set<std::string>{"staying"});
  EXPECT_EQ(Names(node.router->Fanout("f"), both), std::set<std::string>{"staying"});
  EXPECT_EQ(node.router->promise_count(), 0u);
  EXPECT_EQ(node.router->dont_send_entries(leaving->id()), 0u);
  EXPECT_EQ(node.router->PeersWithProtocol(kMeshSubV12), 1u);
  EXPECT_TRUE(node.pubsub->PeerTopics(leaving->id()).empty());
  EXPECT_TRUE(node.router->backoff().InBackoff(leaving->id(), "b"));

  // It comes back without subscribing to anything: no mesh, fanout or message of any topic picks it.
  leaving->received.clear();
  leaving->ConnectTo(node);
  ASSERT_EQ(node.router->PeersWithProtocol(kMeshSubV12), 2u);
  FirstHeartbeat(node, go);
  loop_.AdvanceTime(go.params.iwant_followup_time + go.params.heartbeat_interval);
  EXPECT_EQ(node.router->Mesh("t").count(leaving->id()), 0u);
  EXPECT_EQ(node.router->Mesh("b").count(leaving->id()), 0u);
  ASSERT_TRUE(node.pubsub->Publish("f", AsBytes("fanout again")).status.ok());
  ASSERT_TRUE(node.pubsub->Publish("t", AsBytes("mesh again")).status.ok());
  loop_.AdvanceTime(go.params.heartbeat_interval);  // Gossip for it goes out.
  EXPECT_EQ(node.router->Fanout("f").count(leaving->id()), 0u);
  EXPECT_TRUE(leaving->Messages().empty());
  EXPECT_TRUE(leaving->IHaveIds("t").empty());
  EXPECT_EQ(node.router->stats().broken_promises, 0u) << "a promise outlived its peer";
}

// --- 9. IDONTWANT against queued IWANT replies; direct peers' GRAFTs. ---

// Replies to an IWANT wait in the peer's queue while it reads slowly; an IDONTWANT for one of them that
// arrives meanwhile drops that reply unsent (StillWanted), and only that one.
TEST_F(MeshHardeningTest, AnIDontWantCancelsAQueuedIWantReply) {
  GossipSubOptions go;
  go.params.flood_publish = false;
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  auto slow = Peer("slow", std::string(kMeshSubV12));
  slow->ConnectTo(node);
  slow->Send(SubscriptionRpc({"t"}));
  slow->Send(PruneRpc("t", 600));  // Out of our mesh: it gets our messages only when it asks.
  constexpr int kMessages = 24;     // 60 KiB each: more than the stream and muxer windows hold.
  std::vector<std::string> ids, data;
  for (int i = 0; i < kMessages; ++i) {
    data.push_back(std::string(60 * 1024, static_cast<char>('a' + i)));
    const PublishResult r = node.pubsub->Publish("t", AsBytes(data.back()));
    ASSERT_TRUE(r.status.ok());
    ASSERT_EQ(r.peers, 0u);
    ids.push_back(r.id);
  }
  slow->PauseReading(true);
  slow->Send(IWantRpc(ids));
  ASSERT_EQ(node.router->stats().iwant_served, static_cast<uint64_t>(kMessages));
  PubSubPeer* peer = node.pubsub->FindPeer(slow->id());
  ASSERT_NE(peer, nullptr);
  ASSERT_GT(peer->queued_bytes(), 60u * 1024) << "the last reply is not waiting in the queue";
  slow->Send(IDontWantRpc({ids.back()}));
  slow->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_EQ(node.router->stats().sends_cancelled, 1u);
  EXPECT_EQ(peer->stats().dropped_unwanted, 1u);
  EXPECT_EQ(peer->queued_bytes(), 0u);
  const std::vector<std::string> got = slow->Messages();
  EXPECT_EQ(got, std::vector<std::string>(data.begin(), data.end() - 1));
}

// A direct peer that GRAFTs us (a configuration the two sides do not share) is answered with a PRUNE that
// offers no peers, even with peer exchange on and peers to offer, and stays out of the mesh.
TEST_F(MeshHardeningTest, ADirectPeersGraftGetsAPruneWithoutPx) {
  GossipSubOptions go;
  go.do_px = true;
  go.direct_peers[PeerId::FromPublicKey(KeyOf("direct").public_key())] = {};
  Node node(&loop_, &net_, kNode, go);
  node.Join("t");
  std::vector<std::unique_ptr<RawPeer>> others;
  for (int i = 0; i < 3; ++i) {
    others.push_back(Peer("other-" + std::to_string(i)));
    others.back()->ConnectTo(node);
    others.back()->Send(JoinRpc("t"));
  }
  auto direct = Peer("direct");
  direct->ConnectTo(node);
  direct->Send(JoinRpc("t"));
  EXPECT_EQ(node.router->stats().graft_received, 4u);
  EXPECT_EQ(node.router->Mesh("t").count(direct->id()), 0u);
  const std::vector<pb::ControlPrune> prunes = direct->Prunes("t");
  ASSERT_EQ(prunes.size(), 1u);
  EXPECT_EQ(prunes[0].peers_size(), 0);
  FirstHeartbeat(node, go);
  EXPECT_EQ(node.router->Mesh("t").count(direct->id()), 0u);
  EXPECT_EQ(node.router->Mesh("t").size(), 3u);

  // The same node does offer peers where PX is due (leaving the topic): there were peers to offer.
  ASSERT_TRUE(node.pubsub->Unsubscribe("t").ok());
  loop_.RunUntilIdle();
  const std::vector<pb::ControlPrune> leave_prunes = others[0]->Prunes("t");
  ASSERT_EQ(leave_prunes.size(), 1u);
  EXPECT_EQ(leave_prunes[0].peers_size(), 2);
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
