// One test per known attack on a GossipSub node, and one per 2025-2026 security advisory against a gossipsub
// implementation (named after it). Each test asserts two things: the state the attack grows stays within its
// bound (the entries of every collection, counted by GossipSubRouter::StateCounts() and
// PubSub::StateCounts()), and an honest message published during or after the attack still reaches the
// victim. Where an advisory speaks of time, the test counts work instead (elements decoded or left out,
// copies served). Everything runs on the in-memory network and virtual time: time is advanced between
// steps, never waited for. Hostile peers are bare hosts writing RPCs by hand, large floods as raw protobuf
// bytes (built without a message object per element, so that the test itself stays fast).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/varint.h"
#include "libp2p/pubsub/gossipsub/backoff.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/peer_score.h"
#include "libp2p/pubsub/gossipsub/testing/scenario.h"
#include "libp2p/pubsub/floodsub.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/pubsub/rpc/rpc_codec.h"
#include "libp2p/pubsub/testing/blacklist_on_send.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::PeerId;
using std::chrono::seconds;

const std::string kV10(kMeshSubV10);
const std::string kV11(kMeshSubV11);
const std::string kV12(kMeshSubV12);

// A length-delimited protobuf field: its tag, the length, the bytes.
std::string Field(int number, const std::string& bytes) {
  std::string out;
  AppendUvarint(static_cast<uint64_t>(number) << 3 | 2, &out);
  AppendUvarint(bytes.size(), &out);
  out += bytes;
  return out;
}

// RPC.subscriptions: a SubOpts subscribing to `topic`.
std::string SubscribeField(const std::string& topic) { return Field(1, "\x08\x01" + Field(2, topic)); }

// An RPC whose control holds one IHAVE (for `topic`), IWANT or IDONTWANT entry with `count` ids made by
// `id_of(i)`.
enum class IdsKind { kIHave, kIWant, kIDontWant };
template <typename F>
std::string ControlIdsRpc(IdsKind kind, const std::string& topic, size_t count, F id_of) {
  std::string entry = kind == IdsKind::kIHave ? Field(1, topic) : "";
  const int id_field = kind == IdsKind::kIHave ? 2 : 1;
  for (size_t i = 0; i < count; ++i) entry += Field(id_field, id_of(i));
  const int entry_field = kind == IdsKind::kIHave ? 1 : kind == IdsKind::kIWant ? 2 : 5;
  return Field(3, Field(entry_field, entry));
}

// The state a peer adds to the router and the core, which must return to its value when the peer goes.
struct PerPeerState {
  size_t peers, mesh_members, topic_peers_topics, topic_peers_members, promises, dont_send_entries,
      idontwant_batch_ids, score_peers, score_ips, core_peers, core_peer_topics;
  bool operator==(const PerPeerState&) const = default;
};

std::ostream& operator<<(std::ostream& os, const PerPeerState& s) {
  return os << "{peers " << s.peers << ", mesh_members " << s.mesh_members << ", topic_peers " << s.topic_peers_topics
            << "/" << s.topic_peers_members << ", promises " << s.promises << ", dont_send " << s.dont_send_entries
            << ", idontwant_batch " << s.idontwant_batch_ids << ", score " << s.score_peers << "/" << s.score_ips
            << ", core " << s.core_peers << "/" << s.core_peer_topics << "}";
}

class AdversarialTest : public ::testing::Test {
 protected:
  // The victim (node 0) and an honest publisher (node 1), each at its own IP, both in "t" and meshed.
  void SetUpNodes(GossipSubOptions go = {}, PubSubOptions po = {}) {
    go_ = go;
    po_ = po;
    victim_ = std::make_unique<Node>(&loop_, &net_, 0, go, po, "127.0.0.1");
    GossipSubOptions honest_go;  // The victim's params, without scoring.
    honest_go.params = go.params;
    honest_ = std::make_unique<Node>(&loop_, &net_, 1, honest_go, PubSubOptions{}, "127.0.0.2");
    victim_->Join("t");
    honest_->Join("t");
    honest_->host->Dial(victim_->host->listen_addrs()[0], [](auto) {});
    loop_.RunUntilIdle();
    loop_.AdvanceTime(seconds(2));
    ASSERT_EQ(victim_->router->Mesh("t").count(honest_->id()), 1u);
    baseline_ = Snapshot();
    router_baseline_ = victim_->router->StateCounts();
    core_baseline_ = victim_->pubsub->StateCounts();
  }

  PerPeerState Snapshot() const {
    const GossipSubStateCounts r = victim_->router->StateCounts();
    const PubSubStateCounts c = victim_->pubsub->StateCounts();
    return {r.peers,           r.mesh_members,        r.topic_peers_topics, r.topic_peers_members,
            r.promises,        r.dont_send_entries,   r.idontwant_batch_ids, r.score_peers,
            r.score_ips,       c.peers,               c.peer_topics};
  }

  // The honest node publishes a fresh message on "t": whether the victim delivered it, once.
  bool HonestDelivered() {
    const std::string data = "honest-" + std::to_string(++honest_seq_);
    EXPECT_TRUE(honest_->pubsub->Publish("t", AsBytes(data)).status.ok());
    loop_.RunUntilIdle();
    return std::count(victim_->received.begin(), victim_->received.end(), data) == 1;
  }

  // A raw peer connected to the victim, subscribed to `topics`.
  std::unique_ptr<RawPeer> Attacker(const std::string& seed, const std::string& proto,
                                    const std::vector<std::string>& topics = {}, const std::string& ip = "127.0.0.3") {
    auto a = std::make_unique<RawPeer>(&loop_, &net_, seed, proto, ip);
    a->ConnectTo(*victim_);
    if (!topics.empty()) a->Send(SubscriptionRpc(topics));
    return a;
  }

  // An RPC of GRAFTs for `topics`.
  static pb::RPC Grafts(const std::vector<std::string>& topics) {
    pb::RPC rpc;
    for (const std::string& t : topics) rpc.mutable_control()->add_graft()->set_topicid(t);
    return rpc;
  }

  void Heartbeats(int n) { loop_.AdvanceTime(go_.params.heartbeat_interval * n); }

  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
  GossipSubOptions go_;
  PubSubOptions po_;
  std::unique_ptr<Node> victim_;
  std::unique_ptr<Node> honest_;
  PerPeerState baseline_{};
  GossipSubStateCounts router_baseline_;
  PubSubStateCounts core_baseline_;
  int honest_seq_ = 0;
};

// Subscription flood: 1,000,000 distinct topics over 1,000 RPCs, each within max_subscriptions_per_rpc (an
// RPC over it is dropped whole: see the next test). The core keeps max_subscriptions_per_peer (1024) of the
// peer and refuses the rest. Every map the flood could grow (the core's peer topics, the router's
// topic_peers_) holds 1024 entries, and all of them go when the peer does.
TEST_F(AdversarialTest, SubscriptionFloodOfAMillionTopics) {
  SetUpNodes();
  auto attacker = Attacker("subscriber", kV11);
  constexpr size_t kTopics = 1000000, kPerRpc = 1000;
  ASSERT_LE(kPerRpc, po_.max_subscriptions_per_rpc);
  for (size_t start = 0; start < kTopics; start += kPerRpc) {
    std::string rpc;
    for (size_t i = start; i < start + kPerRpc; ++i) rpc += SubscribeField("flood-" + std::to_string(i));
    attacker->SendEncoded(rpc);
    if (start % (50 * kPerRpc) == 0) Heartbeats(1);
  }
  const size_t cap = po_.max_subscriptions_per_peer;
  EXPECT_EQ(cap, 1024u);
  EXPECT_EQ(victim_->pubsub->PeerTopics(attacker->id()).size(), cap);
  EXPECT_EQ(victim_->pubsub->FindPeer(attacker->id())->stats().elements_left_out, 0u);
  EXPECT_EQ(victim_->pubsub->stats().subscriptions_refused, kTopics - cap);
  EXPECT_EQ(victim_->pubsub->stats().rpcs_too_many_subscriptions, 0u);
  PerPeerState now = Snapshot();
  EXPECT_EQ(now.topic_peers_topics, baseline_.topic_peers_topics + cap);
  EXPECT_EQ(now.topic_peers_members, baseline_.topic_peers_members + cap);
  EXPECT_EQ(now.core_peer_topics, baseline_.core_peer_topics + cap);
  EXPECT_EQ(victim_->router->StateCounts().mesh_topics, router_baseline_.mesh_topics);
  EXPECT_TRUE(HonestDelivered());

  attacker->DisconnectFrom(*victim_);
  EXPECT_EQ(Snapshot(), baseline_);
  EXPECT_TRUE(HonestDelivered());
}

// GHSA-4f8r-922h-2vgv (js): (a) one RPC with 500,000 unique SUBSCRIBEs (a 5 MB frame, accepted here by a
// node whose max_rpc_size allows it) is cut at decode time, max_subscriptions_per_rpc + 1 (1025) decoded and
// the rest left out unread, and then dropped whole for being over max_subscriptions_per_rpc: the peer keeps
// none of it; (b) peers that subscribe to 100 topics each and disconnect leave
// the topic maps as they were. 100 peers stand for the advisory's 10,000: each departure is checked to
// restore the state exactly, which does not depend on how many came before.
TEST_F(AdversarialTest, GHSA_4f8r_922h_2vgv_HalfAMillionSubscribesInOneRpcThenSubscribeAndDisconnect) {
  PubSubOptions po;
  po.peer.limits.max_rpc_size = 8 * 1024 * 1024;
  SetUpNodes({}, po);
  auto attacker = Attacker("subscriber", kV11);
  constexpr size_t kSubscribes = 500000;
  std::string rpc;
  for (size_t i = 0; i < kSubscribes; ++i) rpc += SubscribeField(std::to_string(i));
  ASSERT_GT(rpc.size(), 4u * 1024 * 1024);
  StatusOr<RpcCounts> counts = CheckRpcLimits(AsBytes(rpc), po.peer.limits);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->subscriptions, 1024u);
  EXPECT_EQ(counts->left_out, kSubscribes - 1024);
  attacker->SendEncoded(rpc);
  EXPECT_EQ(victim_->pubsub->FindPeer(attacker->id())->stats().elements_left_out, kSubscribes - 1025);
  EXPECT_EQ(victim_->pubsub->stats().rpcs_too_many_subscriptions, 1u);
  EXPECT_TRUE(victim_->pubsub->PeerTopics(attacker->id()).empty());
  EXPECT_EQ(Snapshot().topic_peers_topics, baseline_.topic_peers_topics);
  EXPECT_TRUE(HonestDelivered());
  attacker->DisconnectFrom(*victim_);
  EXPECT_EQ(Snapshot(), baseline_);

  std::vector<std::string> topics;
  for (int i = 0; i < 100; ++i) topics.push_back("churn-" + std::to_string(i));
  for (int p = 0; p < 100; ++p) {
    auto peer = Attacker("churn-" + std::to_string(p), kV11, topics);
    ASSERT_EQ(Snapshot().topic_peers_topics, baseline_.topic_peers_topics + 100) << p;
    peer->DisconnectFrom(*victim_);
    ASSERT_EQ(Snapshot(), baseline_) << p;
  }
  EXPECT_TRUE(HonestDelivered());
}

// GHSA-cvfg-hcf3-ggwv (js floodsub): 1 MiB of empty SubOpts on the /floodsub/1.0.0 path, to our gossipsub
// node (which speaks floodsub to floodsub peers) and to a node running the FloodSub router. The work is
// counted, not timed: the codec decodes 1025 of the 500,000 elements (max_subscriptions_per_rpc + 1) and
// leaves the rest out unread (one pass over the frame), the RPC is dropped whole for being over
// max_subscriptions_per_rpc, and an empty topic creates no entry anywhere. The advisory's other half,
// unique topics leaking per-topic sets, is checked on the FloodSub node: 5,000 unique SUBSCRIBEs (in RPCs
// within the per-RPC cap) keep 1024, and the peer's leaving takes them all.
TEST_F(AdversarialTest, GHSA_cvfg_hcf3_ggwv_FloodsubMebibyteOfEmptySubOpts) {
  SetUpNodes();
  constexpr size_t kEmpty = 500000;
  std::string rpc;
  for (size_t i = 0; i < kEmpty; ++i) rpc += Field(1, "");
  ASSERT_EQ(rpc.size(), 2 * kEmpty);
  StatusOr<RpcCounts> counts = CheckRpcLimits(AsBytes(rpc), RpcLimits{});
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->subscriptions, 1024u);
  EXPECT_EQ(counts->left_out, kEmpty - 1024);

  auto attacker = Attacker("flooder", std::string(kFloodSubProtocolId));
  for (int i = 0; i < 4; ++i) attacker->SendEncoded(rpc);
  const PubSubPeer* peer = victim_->pubsub->FindPeer(attacker->id());
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->stats().elements_left_out, 4 * (kEmpty - 1025));
  EXPECT_EQ(victim_->pubsub->stats().rpcs_too_many_subscriptions, 4u);
  EXPECT_EQ(peer->stats().bad_frames, 0u);
  EXPECT_TRUE(victim_->pubsub->PeerTopics(attacker->id()).empty());
  PerPeerState now = Snapshot();
  EXPECT_EQ(now.topic_peers_topics, baseline_.topic_peers_topics);
  EXPECT_EQ(now.core_peer_topics, baseline_.core_peer_topics);
  EXPECT_TRUE(HonestDelivered());

  // A FloodSub node.
  const crypto::Ed25519PrivateKey key = KeyOf("floodsub-node");
  std::unique_ptr<stream::Transport> transport = net_.CreateTransport("127.0.0.8");
  stream::HostOptions ho;
  ho.identity = &key;
  stream::Host host(&loop_, transport.get(), ho);
  ASSERT_TRUE(host.Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
  PubSubOptions fpo;
  fpo.identity = &key;
  PubSub floodsub(&loop_, &host, std::make_unique<FloodSubRouter>(), fpo);
  std::vector<std::string> received;
  ASSERT_TRUE(floodsub.Subscribe("t", [&](const pb::Message& m, const std::string&, const PeerId&) {
    received.push_back(m.data());
  }).ok());
  RawPeer flooder(&loop_, &net_, "flooder-2", std::string(kFloodSubProtocolId), "127.0.0.9");
  flooder.ConnectTo(host);
  for (int i = 0; i < 4; ++i) flooder.SendEncoded(rpc);
  EXPECT_EQ(floodsub.FindPeer(flooder.id())->stats().elements_left_out, 4 * (kEmpty - 1025));
  EXPECT_EQ(floodsub.stats().rpcs_too_many_subscriptions, 4u);
  EXPECT_EQ(floodsub.StateCounts().peer_topics, 0u);
  for (int rpc_index = 0; rpc_index < 5; ++rpc_index) {
    std::string unique;
    for (int i = 0; i < 1000; ++i) unique += SubscribeField("u" + std::to_string(rpc_index * 1000 + i));
    flooder.SendEncoded(unique);
  }
  EXPECT_EQ(floodsub.StateCounts().peer_topics, fpo.max_subscriptions_per_peer);
  pb::RPC genuine;
  *genuine.add_publish() = SignedMessage(flooder.key, "t", "still heard", 1);
  flooder.Send(genuine);
  EXPECT_EQ(received, std::vector<std::string>{"still heard"});
  flooder.DisconnectFrom(host);
  EXPECT_EQ(floodsub.StateCounts().peers, 0u);
  EXPECT_EQ(floodsub.StateCounts().peer_topics, 0u);
}

// cpp-libp2p #349: the per-RPC cap (max_subscriptions_per_rpc: an RPC over it is dropped whole) and the
// per-peer cap (max_subscriptions_per_peer) both hold, an unsubscribe gives the peer its room back, and the
// state is reclaimed when the peer goes.
TEST_F(AdversarialTest, CppLibp2p349_PerRpcAndPerPeerSubscriptionCapsAndReclaimedState) {
  PubSubOptions po;
  po.max_subscriptions_per_peer = 100;
  SetUpNodes({}, po);
  auto attacker = Attacker("subscriber", kV11);
  std::vector<std::string> many;
  for (int i = 0; i < 5000; ++i) many.push_back("s" + std::to_string(i));
  attacker->Send(SubscriptionRpc(many));
  EXPECT_EQ(victim_->pubsub->FindPeer(attacker->id())->stats().elements_left_out, 5000u - 1025u);
  EXPECT_EQ(victim_->pubsub->stats().rpcs_too_many_subscriptions, 1u);
  EXPECT_TRUE(victim_->pubsub->PeerTopics(attacker->id()).empty());
  for (size_t start = 0; start < many.size(); start += 1000) {
    attacker->Send(SubscriptionRpc(std::vector<std::string>(many.begin() + start, many.begin() + start + 1000)));
  }
  EXPECT_EQ(victim_->pubsub->PeerTopics(attacker->id()).size(), 100u);
  for (int round = 0; round < 10; ++round) {
    std::vector<std::string> more;
    for (int i = 0; i < 100; ++i) more.push_back("r" + std::to_string(round) + "-" + std::to_string(i));
    attacker->Send(SubscriptionRpc(more));
  }
  EXPECT_EQ(victim_->pubsub->PeerTopics(attacker->id()).size(), 100u);
  EXPECT_EQ(Snapshot().topic_peers_members, baseline_.topic_peers_members + 100);
  // The 100 held are s0..s99; unsubscribing 60 of them leaves room for 60 new ones, and no more.
  std::vector<std::string> leave(many.begin(), many.begin() + 60);
  attacker->Send(SubscriptionRpc(leave, /*subscribe=*/false));
  EXPECT_EQ(victim_->pubsub->PeerTopics(attacker->id()).size(), 40u);
  EXPECT_EQ(Snapshot().topic_peers_topics, baseline_.topic_peers_topics + 40);
  std::vector<std::string> refill;
  for (int i = 0; i < 200; ++i) refill.push_back("n" + std::to_string(i));
  attacker->Send(SubscriptionRpc(refill));
  EXPECT_EQ(victim_->pubsub->PeerTopics(attacker->id()).size(), 100u);
  EXPECT_EQ(victim_->pubsub->PeerTopics(attacker->id()).count("n59"), 1u);
  EXPECT_EQ(victim_->pubsub->PeerTopics(attacker->id()).count("n60"), 0u);
  EXPECT_TRUE(HonestDelivered());
  attacker->DisconnectFrom(*victim_);
  EXPECT_EQ(Snapshot(), baseline_);
}

// GHSA-g3g5-x568-qvqx (rust): GRAFTs for 1,000,000 unique topics the victim is not in (200 RPCs of 5,000;
// the codec keeps max_control_entries, 1024, of each). None creates a mesh, a per-peer topic, a backoff
// entry or a reply (no PRUNE, no PX).
TEST_F(AdversarialTest, GHSA_g3g5_x568_qvqx_GraftsForAMillionUnsubscribedTopics) {
  SetUpNodes();
  auto attacker = Attacker("grafter", kV11);
  const size_t rpcs_before = attacker->received.size();
  // The honest node's own GRAFT, if its heartbeat sent one before the victim's reached it.
  const uint64_t grafts_before = victim_->router->stats().graft_received;
  constexpr size_t kGrafts = 1000000, kPerRpc = 5000;
  for (size_t start = 0; start < kGrafts; start += kPerRpc) {
    std::string control;
    for (size_t i = start; i < start + kPerRpc; ++i) control += Field(3, Field(1, "g" + std::to_string(i)));
    attacker->SendEncoded(Field(3, control));
    if (start % (50 * kPerRpc) == 0) Heartbeats(1);
  }
  EXPECT_EQ(victim_->router->stats().graft_received - grafts_before, (kGrafts / kPerRpc) * 1024);
  const GossipSubStateCounts c = victim_->router->StateCounts();
  EXPECT_EQ(c.mesh_topics, router_baseline_.mesh_topics);
  EXPECT_EQ(c.backoff_entries, 0u);
  EXPECT_TRUE(victim_->pubsub->PeerTopics(attacker->id()).empty());
  EXPECT_EQ(Snapshot().topic_peers_topics, baseline_.topic_peers_topics);
  EXPECT_EQ(attacker->PrunesReceived(), 0u);
  EXPECT_EQ(attacker->received.size(), rpcs_before);
  EXPECT_TRUE(HonestDelivered());
}

// GHSA-gc42-3jg7-rxr2 (rust): a PRUNE with backoff 2^64-1 (and 2^63, and the nanosecond overflow boundary
// 2^63/10^9 + 1) from a mesh peer. No crash and no UB (UBSan runs this test), the stored backoff is the
// clamp kMaxBackoff, and the victim does not graft the peer back during it.
TEST_F(AdversarialTest, GHSA_gc42_3jg7_rxr2_PruneBackoffU64Max) {
  SetUpNodes();
  const std::vector<uint64_t> backoffs = {std::numeric_limits<uint64_t>::max(), uint64_t{1} << 63,
                                          (uint64_t{1} << 63) / 1000000000 + 1};
  std::vector<std::string> topics;
  for (size_t i = 0; i < backoffs.size(); ++i) {
    topics.push_back("p" + std::to_string(i));
    victim_->Join(topics.back());
  }
  auto attacker = Attacker("pruner", kV11, topics);
  attacker->Send(Grafts(topics));
  for (const std::string& t : topics) ASSERT_EQ(victim_->router->Mesh(t).count(attacker->id()), 1u) << t;
  const size_t grafts_before = attacker->GraftsReceived();
  for (size_t i = 0; i < backoffs.size(); ++i) {
    attacker->Send(PruneRpc(topics[i], backoffs[i]));
    EXPECT_EQ(victim_->router->Mesh(topics[i]).count(attacker->id()), 0u) << i;
    EXPECT_EQ(victim_->router->backoff().Remaining(attacker->id(), topics[i]), kMaxBackoff) << i;
  }
  EXPECT_EQ(victim_->router->StateCounts().backoff_entries, router_baseline_.backoff_entries + backoffs.size());
  Heartbeats(5);
  for (const std::string& t : topics) {
    EXPECT_EQ(victim_->router->Mesh(t).count(attacker->id()), 0u) << t;
    EXPECT_EQ(victim_->router->backoff().Remaining(attacker->id(), t), kMaxBackoff - go_.params.heartbeat_interval * 5);
  }
  EXPECT_EQ(attacker->GraftsReceived(), grafts_before);
  EXPECT_TRUE(HonestDelivered());
}

// GHSA-xqmp-fxgv-xvq5 (rust): backoffs across the whole range, among them INT64_MAX/10^9 - k (which survived
// rust's insertion check and overflowed in a heartbeat). Over 3 heartbeats and more, no crash or UB, every
// deadline at most now + kMaxBackoff, and every entry still dropped in the end (ExpireOld), after which the
// peer is grafted again. The heartbeat is 1 minute here so that a day of virtual time is 1,440 heartbeats.
TEST_F(AdversarialTest, GHSA_xqmp_fxgv_xvq5_BackoffTableOverTheWholeRange) {
  GossipSubOptions go;
  go.params.heartbeat_interval = std::chrono::minutes(1);
  go.params.fanout_ttl = std::chrono::minutes(2);
  SetUpNodes(go);
  const uint64_t k = 100000;
  const std::vector<uint64_t> backoffs = {0,
                                          1,
                                          3600,
                                          3601,
                                          uint64_t{1} << 32,
                                          uint64_t{1} << 53,
                                          static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / 1000000000 - k,
                                          std::numeric_limits<uint64_t>::max()};
  std::vector<std::string> topics;
  for (size_t i = 0; i < backoffs.size(); ++i) {
    topics.push_back("b" + std::to_string(i));
    victim_->Join(topics.back());
  }
  auto attacker = Attacker("pruner", kV11, topics);
  attacker->Send(Grafts(topics));
  pb::RPC prunes;
  for (size_t i = 0; i < backoffs.size(); ++i) {
    pb::ControlPrune* p = prunes.mutable_control()->add_prune();
    p->set_topicid(topics[i]);
    p->set_backoff(backoffs[i]);
  }
  attacker->Send(prunes);
  auto expected = [&](size_t i) -> Duration {
    if (backoffs[i] == 0) return go.params.prune_backoff;  // 0 means the default, as go reads it.
    return backoffs[i] >= 86400 ? kMaxBackoff : Duration(seconds(backoffs[i]));
  };
  for (size_t i = 0; i < backoffs.size(); ++i) {
    EXPECT_EQ(victim_->router->backoff().Remaining(attacker->id(), topics[i]), expected(i)) << backoffs[i];
  }
  for (int h = 1; h <= 3; ++h) {
    Heartbeats(1);
    const Duration elapsed = go.params.heartbeat_interval * h;
    for (size_t i = 0; i < backoffs.size(); ++i) {
      const std::optional<Duration> left = victim_->router->backoff().Remaining(attacker->id(), topics[i]);
      if (expected(i) > elapsed) {
        EXPECT_EQ(left, expected(i) - elapsed) << backoffs[i];
      } else {
        EXPECT_EQ(left, std::nullopt) << backoffs[i];
      }
      EXPECT_LE(left.value_or(Duration::zero()), kMaxBackoff);
    }
  }
  EXPECT_LE(victim_->router->StateCounts().backoff_entries, backoffs.size());
  // A day and two heartbeats of slack later, every entry is gone and the peer is back in every mesh.
  loop_.AdvanceTime(kMaxBackoff + go.params.heartbeat_interval * 2);
  EXPECT_EQ(victim_->router->StateCounts().backoff_entries, 0u);
  for (const std::string& t : topics) EXPECT_EQ(victim_->router->Mesh(t).count(attacker->id()), 1u) << t;
  EXPECT_TRUE(HonestDelivered());
}

// IHAVE flood: 1,000,000 fresh ids in 40 RPCs of 25,000 (the codec keeps max_ihave_ids, 5,000, of each),
// ten RPCs per heartbeat. Per heartbeat the victim asks for max_ihave_length ids in one IWANT with one
// promise; the promises stay within the per-peer cap and all break in the end.
TEST_F(AdversarialTest, IHaveFloodOfAMillionIds) {
  SetUpNodes();
  auto attacker = Attacker("gossiper", kV11, {"t"});
  constexpr size_t kRpcs = 40, kPerRpc = 25000;
  for (size_t r = 0; r < kRpcs; ++r) {
    attacker->SendEncoded(ControlIdsRpc(IdsKind::kIHave, "t", kPerRpc, [r](size_t i) {
      return "ihave-" + std::to_string(r) + "-" + std::to_string(i);
    }));
    const GossipSubStateCounts c = victim_->router->StateCounts();
    ASSERT_LE(c.promises, router_baseline_.promises + c.promises_per_peer_cap);
    if (r % 10 == 9) Heartbeats(1);
  }
  EXPECT_EQ(victim_->pubsub->FindPeer(attacker->id())->stats().elements_left_out, kRpcs * (kPerRpc - 5000));
  EXPECT_EQ(victim_->router->stats().iwant_sent, 4u);
  EXPECT_EQ(attacker->IWantIdsReceived(), 4u * static_cast<size_t>(go_.params.max_ihave_length));
  EXPECT_TRUE(HonestDelivered());
  loop_.AdvanceTime(go_.params.iwant_followup_time + go_.params.heartbeat_interval);
  EXPECT_EQ(victim_->router->StateCounts().promises, 0u);
  EXPECT_EQ(victim_->router->stats().broken_promises, 4u);
  EXPECT_EQ(Snapshot().promises, baseline_.promises);
}

// Serving an IWANT sends one message after another; a send that drops another peer (here an observer
// blacklists it, which takes it out of the router's table) leaves the asker's entry and its count intact.
TEST_F(AdversarialTest, APeerDroppedWhileAnIWantIsServedLeavesTheAskerServed) {
  BlacklistOnSend dropper(CarriesMessages);  // Outlives the peers it observes.
  SetUpNodes();
  std::vector<std::string> ids;
  for (const char* data : {"first", "second"}) {
    const PublishResult r = honest_->pubsub->Publish("t", AsBytes(data));
    ASSERT_TRUE(r.status.ok());
    ids.push_back(r.id);
  }
  loop_.RunUntilIdle();
  // The asker joins last, so that the dropped peer's place in the router's table is taken by its entry.
  auto dropped = Attacker("dropped", kV11, {}, "127.0.0.3");
  auto asker = Attacker("asker", kV11, {}, "127.0.0.4");
  dropper.pubsub = victim_->pubsub.get();
  dropper.victim = dropped->id();
  victim_->pubsub->FindPeer(asker->id())->AddObserver(&dropper);
  const uint64_t served = victim_->router->stats().iwant_served;
  asker->SendEncoded(ControlIdsRpc(IdsKind::kIWant, "", ids.size(), [&](size_t i) { return ids[i]; }));
  loop_.RunUntilIdle();
  EXPECT_TRUE(dropper.fired);
  EXPECT_EQ(victim_->pubsub->FindPeer(dropped->id()), nullptr);
  EXPECT_EQ(victim_->router->stats().iwant_served, served + ids.size());
  EXPECT_EQ(asker->MessagesReceived(), ids.size());
}

// Blacklists `victim` on `pubsub` when `trigger` leaves a mesh.
class BlacklistOnPrune : public PubSubTracer {
 public:
  void Prune(const PeerId& peer, const std::string&) override {
    if (pubsub == nullptr || peer != *trigger || fired) return;
    fired = true;
    EXPECT_TRUE(pubsub->BlacklistPeer(*victim).ok());
  }
  PubSub* pubsub = nullptr;
  std::optional<PeerId> trigger, victim;
  bool fired = false;
};

// Dropping a peer tells the router, whose tracers may drop another peer meanwhile (here one blacklists it
// when the first leaves the mesh): both go, and the rest of the core's table is intact.
TEST_F(AdversarialTest, APeerDroppedWhileAnotherIsBeingDroppedLeavesTheRestIntact) {
  BlacklistOnPrune dropper;  // Outlives the node that traces to it.
  PubSubOptions po;
  po.tracers = {&dropper};
  SetUpNodes({}, po);
  // The grafted peer joins last, so that the other's place in the core's table is taken by its entry.
  auto other = Attacker("other", kV11, {"t"}, "127.0.0.3");
  auto grafted = Attacker("grafted", kV11, {"t"}, "127.0.0.4");
  grafted->Send(Grafts({"t"}));
  loop_.RunUntilIdle();
  ASSERT_EQ(victim_->router->Mesh("t").count(grafted->id()), 1u);
  dropper.pubsub = victim_->pubsub.get();
  dropper.trigger = grafted->id();
  dropper.victim = other->id();
  ASSERT_TRUE(victim_->pubsub->BlacklistPeer(grafted->id()).ok());
  EXPECT_TRUE(dropper.fired);
  EXPECT_EQ(victim_->pubsub->FindPeer(grafted->id()), nullptr);
  EXPECT_EQ(victim_->pubsub->FindPeer(other->id()), nullptr);
  EXPECT_NE(victim_->pubsub->FindPeer(honest_->id()), nullptr);
  EXPECT_EQ(victim_->pubsub->Peers(), std::vector<PeerId>{honest_->id()});
  EXPECT_TRUE(HonestDelivered());
}

// IWANT flood: 1,000,000 ids in 100 RPCs of 10,000, every one the id of a message the victim holds. The
// message is served gossip_retransmission (3) times to the peer, no more; nothing else grows. Then a peer
// that never reads asks for 20 cached messages of 32 KiB, 250 times each: each is served 3 times, and what
// waits for that peer stays within its lanes' byte caps (the rest is dropped).
TEST_F(AdversarialTest, IWantFloodOfAMillionIds) {
  PubSubOptions po;
  po.peer.max_control_bytes = 64 * 1024;
  po.peer.max_data_bytes = 256 * 1024;
  SetUpNodes({}, po);
  const PublishResult cached = honest_->pubsub->Publish("t", AsBytes("cached"));
  ASSERT_TRUE(cached.status.ok());
  std::vector<std::string> big_ids;
  for (int i = 0; i < 20; ++i) {
    const PublishResult r = honest_->pubsub->Publish("t", AsBytes(std::to_string(i) + std::string(32 * 1024, 'b')));
    ASSERT_TRUE(r.status.ok());
    big_ids.push_back(r.id);
  }
  loop_.RunUntilIdle();
  ASSERT_EQ(victim_->received.size(), 21u);
  auto attacker = Attacker("asker", kV11);
  const GossipSubStateCounts before = victim_->router->StateCounts();
  // Ids of 44 bytes: 10,000 of them fill 460 KB, within max_control_size.
  constexpr size_t kRpcs = 100, kPerRpc = 10000;
  for (size_t r = 0; r < kRpcs; ++r) {
    attacker->SendEncoded(ControlIdsRpc(IdsKind::kIWant, "", kPerRpc, [&](size_t) { return cached.id; }));
    if (r % 25 == 24) Heartbeats(1);
  }
  const uint64_t retransmissions = static_cast<uint64_t>(go_.params.gossip_retransmission);
  EXPECT_EQ(victim_->pubsub->FindPeer(attacker->id())->stats().elements_left_out, kRpcs * (kPerRpc - 5000));
  EXPECT_EQ(victim_->router->stats().iwant_served, retransmissions);
  EXPECT_EQ(attacker->MessagesReceived(), retransmissions);
  const GossipSubStateCounts after = victim_->router->StateCounts();
  EXPECT_LE(after.mcache_messages, before.mcache_messages);
  EXPECT_EQ(after.promises, before.promises);
  EXPECT_TRUE(HonestDelivered());

  auto sink = std::make_unique<RawPeer>(&loop_, &net_, "sink", kV11, "127.0.0.7");
  sink->never_read = true;
  sink->ConnectTo(*victim_);
  sink->SendEncoded(ControlIdsRpc(IdsKind::kIWant, "", 5000, [&](size_t i) { return big_ids[i % big_ids.size()]; }));
  EXPECT_EQ(victim_->router->stats().iwant_served, retransmissions * (1 + big_ids.size()));
  const PubSubPeer* peer = victim_->pubsub->FindPeer(sink->id());
  ASSERT_NE(peer, nullptr);
  EXPECT_LE(peer->queued_bytes(), po.peer.max_data_bytes + po.peer.max_control_bytes);
  EXPECT_GT(peer->stats().dropped_full, 0u);
  EXPECT_TRUE(HonestDelivered());
  sink.reset();
  loop_.RunUntilIdle();
}

// IDONTWANT flood: 1,000,000 ids in 40 RPCs of 25,000, ten per heartbeat. The victim takes at most
// max_idontwant_entries_per_peer ids a heartbeat and holds at most that many for the peer; the peer's
// store goes with it.
TEST_F(AdversarialTest, IDontWantFloodOfAMillionIds) {
  SetUpNodes();
  auto attacker = Attacker("unwanting", kV12, {"t"});
  const size_t cap = static_cast<size_t>(go_.params.max_idontwant_entries_per_peer);
  constexpr size_t kRpcs = 40, kPerRpc = 25000;
  for (size_t r = 0; r < kRpcs; ++r) {
    attacker->SendEncoded(ControlIdsRpc(IdsKind::kIDontWant, "", kPerRpc, [r](size_t i) {
      return "idw-" + std::to_string(r) + "-" + std::to_string(i);
    }));
    ASSERT_LE(victim_->router->StateCounts().dont_send_entries, router_baseline_.dont_send_entries + cap);
    if (r % 10 == 9) Heartbeats(1);
  }
  EXPECT_EQ(victim_->router->stats().idontwant_received, 4 * cap);
  EXPECT_EQ(victim_->router->dont_send_entries(attacker->id()), cap);
  EXPECT_TRUE(HonestDelivered());
  attacker->DisconnectFrom(*victim_);
  EXPECT_EQ(Snapshot(), baseline_);
}

// Invalid signatures and forged authors: a message with a broken signature, one claiming the honest node as
// author (signed by the attacker), and one carrying the attacker's key under the honest node's id. All are
// rejected and cost the attacker P4 (with scoring on); none marks the id seen, so the genuine message with
// the same id (the honest author's seqno) is still delivered when an honest relay brings it.
TEST_F(AdversarialTest, InvalidSignaturesAndForgedAuthorsAreRejectedWithP4) {
  SetUpNodes(ScoredOptions("t"));
  auto attacker = Attacker("forger", kV11, {"t"});
  auto relay = Attacker("relay", kV11, {"t"}, "127.0.0.4");
  const uint64_t seqno = 42;
  const pb::Message genuine = SignedMessage(honest_->key, "t", "genuine", seqno);

  pb::RPC forged;
  pb::Message bad_sig = SignedMessage(attacker->key, "t", "bad signature", 1);
  bad_sig.mutable_signature()->at(0) ^= 1;
  *forged.add_publish() = bad_sig;
  pb::Message wrong_author = SignedMessage(attacker->key, "t", "forged", seqno);
  wrong_author.set_from(IdBytes(honest_->id()));
  *forged.add_publish() = wrong_author;
  pb::Message wrong_key = wrong_author;
  const Bytes attacker_key = attacker->key.public_key().ToProtobuf();
  wrong_key.set_key(std::string(AsStringView(attacker_key)));
  *forged.add_publish() = wrong_key;
  ASSERT_EQ(JsDefaultMessageId(wrong_author), JsDefaultMessageId(genuine));
  attacker->Send(forged);

  EXPECT_EQ(victim_->pubsub->stats().rejected, 3u);
  EXPECT_TRUE(victim_->received.empty());
  // P4 = 3² × -10 (topic weight 1); the attacker is not in the mesh, so P1 adds nothing.
  EXPECT_DOUBLE_EQ(victim_->router->Score(attacker->id()), -90);
  EXPECT_EQ(victim_->pubsub->StateCounts().seen_entries, core_baseline_.seen_entries);

  pb::RPC delivery;
  *delivery.add_publish() = genuine;
  relay->Send(delivery);
  EXPECT_EQ(victim_->received, std::vector<std::string>{"genuine"});
  EXPECT_GE(victim_->router->Score(relay->id()), 0);
  EXPECT_TRUE(HonestDelivered());
}

// js 16.0.5 / jvm #480: a malformed key (garbage bytes, or a valid key of another peer), a malformed
// signature (empty, short), a `from` that is no peer id, and a `from` that does not match the key. Each is
// rejected during validation and costs P4 (weight -1 here, so that the six stay above the graylist).
TEST_F(AdversarialTest, Js_16_0_5_MalformedKeyOrSignatureOrMismatchedFromIsRejectedWithP4) {
  GossipSubOptions go = ScoredOptions("t");
  go.score_params->topics["t"].invalid_message_deliveries_weight = -1;
  SetUpNodes(go);
  auto attacker = Attacker("malformer", kV11, {"t"});
  std::vector<pb::Message> bad;
  for (int i = 0; i < 6; ++i) bad.push_back(SignedMessage(attacker->key, "t", "bad-" + std::to_string(i), 100 + i));
  bad[0].set_key("\x08\x01\x12\x03junk");
  bad[1].set_key(std::string(AsStringView(honest_->key.public_key().ToProtobuf())));
  bad[2].set_signature("");
  bad[3].set_signature(bad[3].signature().substr(0, 63));
  bad[4].set_from(std::string("\x00\x01\x02\x03\x04", 5));
  bad[5].set_from(IdBytes(honest_->id()));
  for (const pb::Message& m : bad) {
    pb::RPC rpc;
    *rpc.add_publish() = m;
    attacker->Send(rpc);
  }
  EXPECT_EQ(victim_->pubsub->stats().rejected, 6u);
  EXPECT_TRUE(victim_->received.empty());
  EXPECT_DOUBLE_EQ(victim_->router->Score(attacker->id()), -36);  // 6² × -1.
  // The attacker's own well-formed message still goes through: the rejections were about the messages.
  pb::RPC good;
  *good.add_publish() = SignedMessage(attacker->key, "t", "well-formed", 200);
  attacker->Send(good);
  EXPECT_EQ(victim_->received, std::vector<std::string>{"well-formed"});
  EXPECT_TRUE(HonestDelivered());
}

// Oversized frame: a frame announced larger than max_rpc_size resets the attacker's stream (it is counted,
// not buffered); the peer itself stays, can open a new stream and be heard, and other peers are unaffected.
TEST_F(AdversarialTest, OversizedFrameResetsTheStreamAndContainsThePeer) {
  PubSubOptions po;
  po.peer.limits.max_rpc_size = 64 * 1024;
  SetUpNodes({}, po);
  auto attacker = Attacker("oversized", kV11);
  std::string frame;
  AppendUvarint(2 * po.peer.limits.max_rpc_size, &frame);
  frame += std::string(2 * po.peer.limits.max_rpc_size, '\x0a');
  attacker->SendRaw(frame);
  EXPECT_TRUE(attacker->out_failed);
  const PubSubPeer* peer = victim_->pubsub->FindPeer(attacker->id());
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->stats().bad_frames, 1u);
  EXPECT_EQ(victim_->pubsub->StateCounts().peers, core_baseline_.peers + 1);
  EXPECT_TRUE(HonestDelivered());

  attacker->ConnectTo(*victim_);
  attacker->Send(SubscriptionRpc({"t"}));
  EXPECT_EQ(victim_->pubsub->PeerTopics(attacker->id()).count("t"), 1u);
  EXPECT_TRUE(HonestDelivered());
}

// Promise-cap exhaustion: 20 Sybils (each at its own IP, so P6 stays out of it) advertise bogus ids in more
// IHAVE RPCs than a heartbeat takes. Each gets at most max_ihave_messages promises a heartbeat, all within
// the per-peer cap; a peer outside the Sybils that breaks its promise is still tracked and penalised.
TEST_F(AdversarialTest, PromiseCapExhaustionBySybilsStillTracksOtherPeers) {
  SetUpNodes(ScoredOptions("t"));
  std::vector<std::unique_ptr<RawPeer>> sybils;
  for (int i = 0; i < 20; ++i) {
    sybils.push_back(Attacker("sybil-" + std::to_string(i), kV11, {"t"}, "127.0.1." + std::to_string(i + 1)));
  }
  for (size_t s = 0; s < sybils.size(); ++s) {
    for (int r = 0; r < 15; ++r) {
      sybils[s]->SendEncoded(ControlIdsRpc(IdsKind::kIHave, "t", 1, [&](size_t) {
        return "bogus-" + std::to_string(s) + "-" + std::to_string(r);
      }));
    }
  }
  GossipSubStateCounts c = victim_->router->StateCounts();
  const size_t per_heartbeat = static_cast<size_t>(go_.params.max_ihave_messages);
  EXPECT_EQ(c.promises, sybils.size() * per_heartbeat);
  EXPECT_LE(per_heartbeat, c.promises_per_peer_cap);

  auto late = Attacker("late", kV11, {"t"}, "127.0.0.5");
  late->SendEncoded(ControlIdsRpc(IdsKind::kIHave, "t", 1, [](size_t) { return std::string("never-delivered"); }));
  EXPECT_EQ(late->IWantIdsReceived(), 1u);
  EXPECT_EQ(victim_->router->StateCounts().promises, sybils.size() * per_heartbeat + 1);
  EXPECT_TRUE(HonestDelivered());

  loop_.AdvanceTime(go_.params.iwant_followup_time + go_.params.heartbeat_interval);
  EXPECT_EQ(victim_->router->StateCounts().promises, 0u);
  EXPECT_EQ(victim_->router->stats().broken_promises, sybils.size() * per_heartbeat + 1);
  EXPECT_LT(victim_->router->Score(late->id()), 0);
  for (const auto& s : sybils) EXPECT_LT(victim_->router->Score(s->id()), victim_->router->Score(late->id()));
  EXPECT_GE(victim_->router->Score(honest_->id()), 0);
  EXPECT_TRUE(HonestDelivered());
}

// Duplicate flood: one valid message, then 10,000 copies of it (RPCs of 1,000). It is delivered and
// forwarded once; the copies are counted as duplicates and add nothing to the seen cache, the message
// cache or the score's delivery records.
TEST_F(AdversarialTest, DuplicateMessageFloodIsCountedNotStored) {
  SetUpNodes(ScoredOptions("t"));
  auto attacker = Attacker("duplicator", kV11, {"t"});
  const pb::Message msg = SignedMessage(attacker->key, "t", "dup", 1);
  pb::RPC once;
  *once.add_publish() = msg;
  attacker->Send(once);
  const GossipSubStateCounts after_first = victim_->router->StateCounts();
  const PubSubStateCounts core_after_first = victim_->pubsub->StateCounts();
  pb::RPC copies;
  for (int i = 0; i < 1000; ++i) *copies.add_publish() = msg;
  for (int r = 0; r < 10; ++r) attacker->Send(copies);
  EXPECT_EQ(victim_->pubsub->stats().duplicates, 10000u);
  EXPECT_EQ(std::count(victim_->received.begin(), victim_->received.end(), "dup"), 1);
  EXPECT_EQ(std::count(honest_->received.begin(), honest_->received.end(), "dup"), 1);
  const GossipSubStateCounts c = victim_->router->StateCounts();
  EXPECT_EQ(c.mcache_messages, after_first.mcache_messages);
  EXPECT_EQ(c.score_delivery_records, after_first.score_delivery_records);
  EXPECT_EQ(victim_->pubsub->StateCounts().seen_entries, core_after_first.seen_entries);
  EXPECT_EQ(core_after_first.seen_entries, core_baseline_.seen_entries + 1);
  EXPECT_TRUE(HonestDelivered());
}

// Many peers from one IP: 30 Sybils at 127.0.0.9 (a loopback address, which the host's per-IP connection
// limit exempts as go does; a routable address would be cut at max_connections_per_ip, 8, first). P6 makes
// each of them (30 - 10)² × -5 = -2000; the honest node at another IP keeps a score >= 0, stays in the mesh
// and is delivered; no Sybil is in the mesh.
TEST_F(AdversarialTest, ManyPeersFromOneIpAreMadeNegativeByP6) {
  GossipSubOptions go = ScoredOptions("t");
  go.score_params->ip_colocation_factor_weight = -5;
  go.score_params->ip_colocation_factor_threshold = 10;
  SetUpNodes(go);
  std::vector<std::unique_ptr<RawPeer>> sybils;
  for (int i = 0; i < 30; ++i) sybils.push_back(Attacker("colo-" + std::to_string(i), kV11, {"t"}, "127.0.0.9"));
  for (const auto& s : sybils) s->Send(Grafts({"t"}));
  Heartbeats(2);
  for (const auto& s : sybils) {
    EXPECT_DOUBLE_EQ(victim_->router->Score(s->id()), -2000);
    EXPECT_EQ(victim_->router->Mesh("t").count(s->id()), 0u);
  }
  EXPECT_GE(victim_->router->Score(honest_->id()), 0);
  EXPECT_EQ(victim_->router->Mesh("t").count(honest_->id()), 1u);
  const GossipSubStateCounts c = victim_->router->StateCounts();
  EXPECT_EQ(c.score_peers, router_baseline_.score_peers + sybils.size());
  EXPECT_EQ(c.score_ips, router_baseline_.score_ips + 1);
  EXPECT_TRUE(HonestDelivered());
}

// A peer that never reads: it joins the mesh and leaves everything it is sent in the network. The victim's
// lanes for it stay within their byte caps (the rest is dropped), all lanes together within
// max_send_bytes, and an honest receiver behind the victim gets every message.
TEST_F(AdversarialTest, APeerThatNeverReadsStaysWithinTheSendCaps) {
  PubSubOptions po;
  po.peer.max_control_bytes = 64 * 1024;
  po.peer.max_data_bytes = 256 * 1024;
  SetUpNodes({}, po);
  Node receiver(&loop_, &net_, 2, {}, {}, "127.0.0.6");
  receiver.Join("t");
  receiver.host->Dial(victim_->host->listen_addrs()[0], [](auto) {});
  loop_.RunUntilIdle();
  auto sink = std::make_unique<RawPeer>(&loop_, &net_, "sink", kV11, "127.0.0.7");
  sink->never_read = true;
  sink->ConnectTo(*victim_);
  sink->Send(SubscriptionRpc({"t"}));
  sink->Send(Grafts({"t"}));
  Heartbeats(1);
  ASSERT_EQ(victim_->router->Mesh("t").count(sink->id()), 1u);
  ASSERT_EQ(victim_->router->Mesh("t").count(receiver.id()), 1u);

  constexpr int kMessages = 200;
  const std::string payload(16 * 1024, 'p');
  size_t peak = 0;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(honest_->pubsub->Publish("t", AsBytes(std::to_string(i) + payload)).status.ok());
    loop_.RunUntilIdle();
    const PubSubPeer* peer = victim_->pubsub->FindPeer(sink->id());
    ASSERT_NE(peer, nullptr);
    peak = std::max(peak, peer->queued_bytes());
    ASSERT_LE(peer->queued_bytes(), po.peer.max_control_bytes + po.peer.max_data_bytes);
    ASSERT_LE(victim_->pubsub->StateCounts().send_bytes, po.max_send_bytes);
    if (i % 50 == 49) Heartbeats(1);
  }
  EXPECT_GT(peak, po.peer.max_data_bytes / 2);  // The lane did fill: the test exercised the cap.
  EXPECT_GT(victim_->pubsub->FindPeer(sink->id())->stats().dropped_full, 0u);
  EXPECT_EQ(victim_->received.size(), static_cast<size_t>(kMessages));
  EXPECT_EQ(receiver.received.size(), static_cast<size_t>(kMessages));
  EXPECT_TRUE(HonestDelivered());
  sink.reset();
  loop_.RunUntilIdle();
}

// go #698: peers that send IDONTWANTs and disconnect leave the IDONTWANT store as it was. 100 peers stand
// for the advisory's 100,000: each departure is checked to empty its entries, whatever came before.
TEST_F(AdversarialTest, Go698_IDontWantThenDisconnectLeavesTheStoreEmpty) {
  SetUpNodes();
  for (int p = 0; p < 100; ++p) {
    auto peer = Attacker("idw-" + std::to_string(p), kV12, {"t"});
    peer->SendEncoded(ControlIdsRpc(IdsKind::kIDontWant, "", 100, [p](size_t i) {
      return "unwanted-" + std::to_string(p) + "-" + std::to_string(i);
    }));
    ASSERT_EQ(victim_->router->StateCounts().dont_send_entries, router_baseline_.dont_send_entries + 100) << p;
    peer->DisconnectFrom(*victim_);
    ASSERT_EQ(Snapshot(), baseline_) << p;
  }
  EXPECT_EQ(victim_->router->StateCounts().dont_send_entries, router_baseline_.dont_send_entries);
  EXPECT_TRUE(HonestDelivered());
}

// go #699 / #691: peers that only ever connect to us (inbound-only), join the mesh, subscribe, say IDONTWANT
// and send a message, then disconnect, round after round: every per-peer table (router, score, core)
// returns to its baseline, and after a heartbeat so do the connection-manager protections.
TEST_F(AdversarialTest, Go699_691_InboundOnlyPeersChurnLeavesEveryPerPeerTableAtBaseline) {
  SetUpNodes(ScoredOptions("t"));
  uint64_t seqno = 1;
  for (int round = 0; round < 20; ++round) {
    std::vector<std::unique_ptr<RawPeer>> peers;
    for (int i = 0; i < 5; ++i) {
      peers.push_back(Attacker("inbound-" + std::to_string(round) + "-" + std::to_string(i), kV12, {"t", "other"},
                               "127.0.2." + std::to_string(i + 1)));
      RawPeer& p = *peers.back();
      p.Send(Grafts({"t"}));
      p.SendEncoded(ControlIdsRpc(IdsKind::kIDontWant, "", 10, [&](size_t k) { return "x" + std::to_string(k); }));
      pb::RPC msg;
      *msg.add_publish() = SignedMessage(p.key, "t", "from-inbound", seqno++);
      p.Send(msg);
      ASSERT_FALSE(victim_->host->IsOutbound(p.id()));
    }
    ASSERT_EQ(Snapshot().peers, baseline_.peers + 5);
    ASSERT_EQ(Snapshot().mesh_members, baseline_.mesh_members + 5);
    Heartbeats(1);
    ASSERT_EQ(victim_->router->StateCounts().protected_entries, router_baseline_.protected_entries + 5);
    for (auto& p : peers) p->DisconnectFrom(*victim_);
    ASSERT_EQ(Snapshot(), baseline_) << round;
    Heartbeats(1);
    ASSERT_EQ(victim_->router->StateCounts().protected_entries, router_baseline_.protected_entries) << round;
  }
  EXPECT_TRUE(HonestDelivered());
}

// Churn of peers that leave with a negative score: each is retained (its counters kept, so that
// reconnecting does not wipe a penalty), but a Sybil mints a new identity per connection, so the number
// retained must be bounded, not only their time. With max_retained_peers = 50, 200 such peers leave 50
// retained: the newest keep their penalty when they come back, the oldest were forgotten.
TEST_F(AdversarialTest, ChurnOfNegativePeersRetainsABoundedNumber) {
  GossipSubOptions go = ScoredOptions("t");
  constexpr size_t kRetained = 50;
  go.score_params->max_retained_peers = kRetained;
  SetUpNodes(go);
  constexpr int kPeers = 200;
  auto churn = [&](int i) {
    auto peer = Attacker("negative-" + std::to_string(i), kV11, {"t"}, "127.0.3." + std::to_string(i % 250 + 1));
    return peer;
  };
  for (int i = 0; i < kPeers; ++i) {
    auto peer = churn(i);
    pb::RPC rpc;
    pb::Message bad = SignedMessage(peer->key, "t", "bad", 1);
    bad.mutable_signature()->at(0) ^= 1;
    *rpc.add_publish() = bad;
    peer->Send(rpc);
    ASSERT_LT(victim_->router->Score(peer->id()), 0) << i;
    peer->DisconnectFrom(*victim_);
    ASSERT_LE(victim_->router->StateCounts().score_peers, router_baseline_.score_peers + kRetained) << i;
  }
  const GossipSubStateCounts c = victim_->router->StateCounts();
  EXPECT_EQ(c.score_peers, router_baseline_.score_peers + kRetained);
  EXPECT_EQ(c.score_ips, router_baseline_.score_ips + kRetained);
  EXPECT_EQ(Snapshot().peers, baseline_.peers);
  auto newest = churn(kPeers - 1);
  EXPECT_LT(victim_->router->Score(newest->id()), 0);
  auto oldest = churn(0);
  EXPECT_EQ(victim_->router->Score(oldest->id()), 0);
  EXPECT_TRUE(HonestDelivered());
}

// go #707 / rust #6468: a 1 MiB RPC made only of IHAVE (or IDONTWANT) ids. Its control part is over
// max_control_size (512 KiB), so the codec leaves it out whole before materialising any id (RpcCounts: no
// entry, no id kept, one part left out), and the victim asks for nothing.
TEST_F(AdversarialTest, Go707_MebibyteControlOnlyRpcIsLeftOutBeforeDecoding) {
  SetUpNodes();
  auto attacker = Attacker("control", kV12, {"t"});
  const std::string id_base(37, 'i');
  for (IdsKind kind : {IdsKind::kIHave, IdsKind::kIDontWant}) {
    const std::string rpc = ControlIdsRpc(kind, "t", 25000, [&](size_t i) { return id_base + std::to_string(i % 100); });
    ASSERT_GT(rpc.size(), 1000000u);
    ASSERT_LE(rpc.size(), RpcLimits{}.max_rpc_size - 8);
    RpcCounts counts;
    StatusOr<pb::RPC> decoded = DecodeRpc(AsBytes(rpc), RpcLimits{}, &counts);
    ASSERT_TRUE(decoded.ok());
    EXPECT_FALSE(decoded->has_control());
    EXPECT_EQ(counts.control_entries, 0u);
    EXPECT_EQ(counts.ihave_ids + counts.idontwant_ids, 0u);
    EXPECT_EQ(counts.left_out, 1u);
    attacker->SendEncoded(rpc);
  }
  EXPECT_EQ(victim_->pubsub->FindPeer(attacker->id())->stats().elements_left_out, 2u);
  EXPECT_EQ(victim_->pubsub->FindPeer(attacker->id())->stats().bad_frames, 0u);
  EXPECT_EQ(attacker->IWantIdsReceived(), 0u);
  EXPECT_EQ(victim_->router->stats().idontwant_received, 0u);
  EXPECT_EQ(Snapshot().promises, baseline_.promises);
  EXPECT_EQ(victim_->router->dont_send_entries(attacker->id()), 0u);
  EXPECT_TRUE(HonestDelivered());
}

// jvm #472: joining a topic right after a peer PRUNEd us in it (leaving and rejoining) sends that peer no
// GRAFT while its backoff runs (a go peer would charge P7 for it); once the backoff and its slack are over,
// the heartbeat grafts it again.
TEST_F(AdversarialTest, Jvm472_JoinRightAfterAPruneDoesNotGraftTheBackedOffPeer) {
  SetUpNodes();
  auto peer = Attacker("pruner", kV11, {"j"});
  victim_->Join("j");
  loop_.RunUntilIdle();
  ASSERT_EQ(peer->GraftsReceived(), 1u);
  ASSERT_EQ(victim_->router->Mesh("j").count(peer->id()), 1u);
  peer->Send(PruneRpc("j", 60));
  ASSERT_EQ(victim_->router->Mesh("j").count(peer->id()), 0u);
  ASSERT_TRUE(victim_->pubsub->Unsubscribe("j").ok());
  victim_->Join("j");
  loop_.RunUntilIdle();
  EXPECT_EQ(peer->GraftsReceived(), 1u);
  EXPECT_EQ(victim_->router->Mesh("j").count(peer->id()), 0u);
  loop_.AdvanceTime(seconds(55));
  EXPECT_EQ(peer->GraftsReceived(), 1u);
  EXPECT_EQ(victim_->router->StateCounts().backoff_entries, router_baseline_.backoff_entries + 1);
  loop_.AdvanceTime(seconds(5) + go_.params.heartbeat_interval * (go_.params.backoff_slack_heartbeats + 1));
  EXPECT_EQ(peer->GraftsReceived(), 2u);
  EXPECT_EQ(victim_->router->Mesh("j").count(peer->id()), 1u);
  EXPECT_TRUE(HonestDelivered());
}

// GHSA-77r2-q4c3-v635: a mesh peer that never forwards anything keeps a positive score unless P3 counts
// deliveries. With P3 on, its deficit turns its score negative once activation has passed, and the next
// heartbeat prunes it; the honest peer, which delivers, stays and is delivered.
TEST_F(AdversarialTest, GHSA_77r2_q4c3_v635_AMeshPeerThatNeverForwardsIsPrunedWithP3) {
  GossipSubOptions go = ScoredOptions("t");
  TopicScoreParams& tp = go.score_params->topics["t"];
  tp.mesh_message_deliveries_weight = -1;
  tp.mesh_message_deliveries_threshold = 2;
  tp.mesh_message_deliveries_cap = 10;
  tp.mesh_message_deliveries_decay = 0.9;
  tp.mesh_message_deliveries_activation = seconds(5);
  tp.mesh_message_deliveries_window = std::chrono::milliseconds(10);
  tp.mesh_failure_penalty_weight = -1;
  SetUpNodes(go);
  auto silent = Attacker("silent", kV11, {"t"});
  silent->Send(Grafts({"t"}));
  ASSERT_EQ(victim_->router->Mesh("t").count(silent->id()), 1u);
  EXPECT_GE(victim_->router->Score(silent->id()), 0);
  int pruned_after = -1;
  for (int s = 1; s <= 10 && pruned_after < 0; ++s) {
    EXPECT_TRUE(HonestDelivered()) << s;
    Heartbeats(1);
    if (victim_->router->Mesh("t").count(silent->id()) == 0) pruned_after = s;
  }
  EXPECT_GE(pruned_after, 5);  // Not before activation.
  EXPECT_LE(pruned_after, 7);
  EXPECT_LT(victim_->router->Score(silent->id()), 0);
  EXPECT_EQ(silent->PrunesReceived(), 1u);
  EXPECT_EQ(victim_->router->Mesh("t").count(honest_->id()), 1u);
  EXPECT_GE(victim_->router->Score(honest_->id()), 0);
  EXPECT_TRUE(HonestDelivered());
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
