// The subscription filter (PubSubOptions::subscription_filter) and the per-RPC subscription cap
// (PubSubOptions::max_subscriptions_per_rpc): our own calls on refused topics, peers' subscriptions to them,
// floods of refused topics against the core's and gossipsub's state, and RPCs over the cap. In-memory
// hosts on virtual time; hostile peers are bare hosts writing RPCs by hand.
#include "libp2p/pubsub/subscription_filter.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/varint.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/floodsub.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using gossipsub::GossipSubRouter;
using std::chrono::seconds;

Ed25519PrivateKey KeyOf(const std::string& seed) {
  return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("filter-" + seed)));
}

// A host with a PubSub: floodsub, or gossipsub when `gossip` (then `router` is set).
struct Node {
  Node(ManualEventLoop* loop, stream::MemoryNetwork* net, const std::string& seed, bool gossip = false,
       const std::function<void(PubSubOptions&)>& tune = {})
      : key(KeyOf(seed)), transport(net->CreateTransport()) {
    stream::HostOptions ho;
    ho.identity = &key;
    host = std::make_unique<stream::Host>(loop, transport.get(), ho);
    EXPECT_TRUE(host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
    PubSubOptions po;
    po.identity = &key;
    po.first_seqno = 1;
    if (tune) tune(po);
    std::unique_ptr<Router> r;
    if (gossip) {
      std::unique_ptr<GossipSubRouter> g = std::move(GossipSubRouter::Create(gossipsub::GossipSubOptions{})).value();
      router = g.get();
      r = std::move(g);
    } else {
      r = std::make_unique<FloodSubRouter>();
    }
    pubsub = std::make_unique<PubSub>(loop, host.get(), std::move(r), po);
    pubsub->SetEvents(PubSub::Events{[this](const PeerId&, const std::string& t, bool s) {
      subscription_events.push_back((s ? "+" : "-") + t);
    }});
  }
  void Join(const std::string& topic) {
    ASSERT_TRUE(pubsub->Subscribe(topic, [this](const pb::Message& m, const std::string&, const PeerId&) {
      received.push_back(m.data());
    }).ok());
  }
  void Connect(Node& other, ManualEventLoop* loop) {
    host->Dial(other.host->listen_addrs()[0], [](auto) {});
    loop->RunUntilIdle();
  }
  const PeerId& id() const { return host->peer_id(); }

  Ed25519PrivateKey key;
  std::unique_ptr<stream::Transport> transport;
  std::unique_ptr<stream::Host> host;
  GossipSubRouter* router = nullptr;
  std::unique_ptr<PubSub> pubsub;
  std::vector<std::string> received;
  std::vector<std::string> subscription_events;
};

// `rpc` encoded with its length prefix, as a pubsub stream carries it.
std::string Framed(const pb::RPC& rpc) {
  const std::string encoded = rpc.SerializeAsString();
  std::string frame;
  AppendUvarint(encoded.size(), &frame);
  return frame + encoded;
}

// A bare host that speaks `protocol` by hand: it opens a stream to a node and writes framed RPCs on it, and
// counts the RPCs the node sends it.
struct RawPeer {
  RawPeer(ManualEventLoop* loop, stream::MemoryNetwork* net, const std::string& seed, std::string protocol)
      : loop(loop), key(KeyOf(seed)), transport(net->CreateTransport()), protocol(std::move(protocol)) {
    stream::HostOptions ho;
    ho.identity = &key;
    host = std::make_unique<stream::Host>(loop, transport.get(), ho);
    host->SetStreamHandler(this->protocol, [this](std::unique_ptr<stream::Stream> s, auto&, auto&) {
      s->SetHandlers(stream::Stream::Handlers{[this](ByteSpan d) { received_bytes += d.size(); }, {}, {}, {}});
      inbound.push_back(std::move(s));
    });
  }
  void ConnectTo(Node& node) {
    host->Dial(node.host->listen_addrs()[0], [](auto) {});
    loop->RunUntilIdle();
    host->NewStream(node.id(), {protocol}, [this](StatusOr<std::unique_ptr<stream::Stream>> s, const std::string&) {
      ASSERT_TRUE(s.ok());
      out = std::move(s).value();
    });
    loop->RunUntilIdle();
    ASSERT_NE(out, nullptr);
  }
  void Send(const pb::RPC& rpc) {
    ASSERT_TRUE(out->Write(AsBytes(Framed(rpc))).ok());
    loop->RunUntilIdle();
  }
  const PeerId& id() const { return host->peer_id(); }
  // A message on `topic` signed by us.
  pb::Message Signed(const std::string& topic, const std::string& data) {
    pb::Message m;
    m.set_topic(topic);
    m.set_data(data);
    SignMessage(key, ++seqno, SignPolicy::kStrictSign, &m);
    return m;
  }

  ManualEventLoop* loop;
  Ed25519PrivateKey key;
  std::unique_ptr<stream::Transport> transport;
  std::string protocol;
  std::unique_ptr<stream::Host> host;
  std::unique_ptr<stream::Stream> out;
  std::vector<std::unique_ptr<stream::Stream>> inbound;
  size_t received_bytes = 0;
  uint64_t seqno = 0;
};

pb::RPC SubscriptionRpc(const std::vector<std::string>& topics, bool subscribe = true) {
  pb::RPC rpc;
  for (const std::string& t : topics) {
    auto* s = rpc.add_subscriptions();
    s->set_subscribe(subscribe);
    s->set_topicid(t);
  }
  return rpc;
}

class SubscriptionFilterTest : public ::testing::Test {
 protected:
  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
};

TEST(SubscriptionFilters, AllowlistAndPredicate) {
  const AllowlistSubscriptionFilter allow({"blocks", "txs"});
  EXPECT_TRUE(allow.CanSubscribe("blocks"));
  EXPECT_TRUE(allow.CanSubscribe("txs"));
  EXPECT_FALSE(allow.CanSubscribe("block"));
  EXPECT_FALSE(allow.CanSubscribe("blocks2"));
  const PredicateSubscriptionFilter prefix([](std::string_view t) { return t.substr(0, 5) == "/eth/"; });
  EXPECT_TRUE(prefix.CanSubscribe("/eth/blocks"));
  EXPECT_FALSE(prefix.CanSubscribe("/btc/blocks"));
  EXPECT_FALSE(PredicateSubscriptionFilter(nullptr).CanSubscribe("anything"));
}

// Subscribe, SetTopicOptions, Publish and AddToBatch on a topic the filter refuses fail with
// kPermissionDenied, before a seqno is used; allowed topics work as ever.
TEST_F(SubscriptionFilterTest, OurOwnCallsOnARefusedTopicAreDenied) {
  const AllowlistSubscriptionFilter filter({"allowed"});
  Node a(&loop_, &net_, "a", false, [&](PubSubOptions& o) { o.subscription_filter = &filter; });
  Node b(&loop_, &net_, "b");
  b.Join("allowed");
  b.Join("refused");
  a.Connect(b, &loop_);

  const auto noop = [](const pb::Message&, const std::string&, const PeerId&) {};
  EXPECT_EQ(a.pubsub->Subscribe("refused", noop).code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(a.pubsub->subscribed("refused"));
  EXPECT_EQ(a.pubsub->SetTopicOptions("refused", TopicOptions{.fanout_only = true}).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(a.pubsub->SetTopicOptions("refused", TopicOptions{}).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(a.pubsub->Publish("refused", AsBytes("x")).status.code(), StatusCode::kPermissionDenied);
  MessageBatch batch;
  EXPECT_EQ(a.pubsub->AddToBatch(&batch, "refused", AsBytes("x")).status.code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(batch.empty());
  // The validity of the topic is checked first.
  EXPECT_EQ(a.pubsub->Subscribe("", noop).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a.pubsub->stats().published, 0u);

  ASSERT_TRUE(a.pubsub->Subscribe("allowed", noop).ok());
  const PublishResult r = a.pubsub->Publish("allowed", AsBytes("hello"));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.seqno, 1u) << "the refused publishes used no seqno";
  EXPECT_EQ(r.peers, 1u);
  loop_.RunUntilIdle();
  EXPECT_EQ(b.received, std::vector<std::string>{"hello"});
  EXPECT_EQ(a.pubsub->topics(), std::vector<std::string>{"allowed"});
}

// A peer's subscriptions to refused topics are neither recorded nor reported; its allowed ones are.
TEST_F(SubscriptionFilterTest, APeersSubscriptionsToRefusedTopicsAreNotRecorded) {
  const AllowlistSubscriptionFilter filter({"allowed"});
  Node a(&loop_, &net_, "a");
  Node b(&loop_, &net_, "b", false, [&](PubSubOptions& o) { o.subscription_filter = &filter; });
  a.Join("allowed");
  a.Join("refused");
  a.Join("refused-too");
  a.Connect(b, &loop_);
  EXPECT_EQ(b.pubsub->PeerTopics(a.id()), std::set<std::string>{"allowed"});
  EXPECT_EQ(b.subscription_events, std::vector<std::string>{"+allowed"});
  EXPECT_EQ(b.pubsub->stats().subscriptions_filtered, 2u);
  EXPECT_EQ(b.pubsub->StateCounts().peer_topics, 1u);
  // Unsubscribing from a refused topic is dropped too (nothing to undo), and reported nowhere.
  ASSERT_TRUE(a.pubsub->Unsubscribe("refused").ok());
  ASSERT_TRUE(a.pubsub->Unsubscribe("allowed").ok());
  loop_.RunUntilIdle();
  EXPECT_TRUE(b.pubsub->PeerTopics(a.id()).empty());
  EXPECT_EQ(b.subscription_events, (std::vector<std::string>{"+allowed", "-allowed"}));
  EXPECT_EQ(b.pubsub->stats().subscriptions_filtered, 3u);
}

// A subscription's event handler that disconnects another peer drops that peer from the core while the
// sender's RPC is being read: the core finds the sender again, and the RPC's later subscriptions land.
TEST_F(SubscriptionFilterTest, SubscriptionsAfterOneWhoseHandlerDroppedAnotherPeerLand) {
  Node b(&loop_, &net_, "b");
  RawPeer sender(&loop_, &net_, "sender", std::string(kFloodSubProtocolId));
  RawPeer other(&loop_, &net_, "other", std::string(kFloodSubProtocolId));
  sender.ConnectTo(b);
  other.ConnectTo(b);
  ASSERT_NE(b.pubsub->FindPeer(other.id()), nullptr);
  std::vector<std::string> events;
  bool other_gone_at_last = false;
  b.pubsub->SetEvents(PubSub::Events{[&](const PeerId& peer, const std::string& topic, bool) {
    if (peer != sender.id()) return;
    events.push_back(topic);
    if (topic == "drop-other") b.host->Disconnect(other.id());
    if (topic == "last") other_gone_at_last = b.pubsub->FindPeer(other.id()) == nullptr;
  }});
  sender.Send(SubscriptionRpc({"first", "drop-other", "last"}));
  EXPECT_EQ(events, (std::vector<std::string>{"first", "drop-other", "last"}));
  EXPECT_TRUE(other_gone_at_last);  // Dropped within the RPC, which went on.
  EXPECT_EQ(b.pubsub->PeerTopics(sender.id()), (std::set<std::string>{"drop-other", "first", "last"}));
  EXPECT_EQ(b.pubsub->StateCounts().peers, 1u);
}

// A subscription's event handler that disconnects the sender itself: the rest of its RPC is not handled (the
// core finds it gone, rather than writing to the entry it had), and it leaves no state behind.
TEST_F(SubscriptionFilterTest, SubscriptionsAfterOneWhoseHandlerDroppedTheSenderAreNotHandled) {
  Node b(&loop_, &net_, "b");
  RawPeer sender(&loop_, &net_, "sender", std::string(kFloodSubProtocolId));
  sender.ConnectTo(b);
  std::vector<std::string> events;
  b.pubsub->SetEvents(PubSub::Events{[&](const PeerId&, const std::string& topic, bool) {
    events.push_back(topic);
    if (topic == "drop-me") b.host->Disconnect(sender.id());
  }});
  sender.Send(SubscriptionRpc({"first", "drop-me", "last"}));
  EXPECT_EQ(events, (std::vector<std::string>{"first", "drop-me"}));
  EXPECT_EQ(b.pubsub->FindPeer(sender.id()), nullptr);
  EXPECT_EQ(b.pubsub->StateCounts().peers, 0u);
  EXPECT_EQ(b.pubsub->StateCounts().peer_topics, 0u);
}

// An RPC observer that lets the sender go (here by disconnecting it) ends the sender's reading there: the
// RPC it observed is not handled (its entry in the core is gone), nor is anything after it.
TEST_F(SubscriptionFilterTest, AnRpcWhoseObserverDroppedTheSenderIsNotHandled) {
  struct Dropper : RpcObserver {
    void OnReceive(const PeerId& peer, pb::RPC* rpc) override {
      ++seen;
      if (rpc->subscriptions_size() > 0 && rpc->subscriptions(0).topicid() == "drop-me") host->Disconnect(peer);
    }
    bool ObservesSends() const override { return false; }
    stream::Host* host = nullptr;
    int seen = 0;
  } dropper;
  Node b(&loop_, &net_, "b", false, [&](PubSubOptions& o) { o.rpc_observers.push_back(&dropper); });
  dropper.host = b.host.get();
  RawPeer sender(&loop_, &net_, "sender", std::string(kFloodSubProtocolId));
  sender.ConnectTo(b);
  sender.Send(SubscriptionRpc({"kept"}));
  ASSERT_EQ(b.pubsub->PeerTopics(sender.id()), std::set<std::string>{"kept"});
  const int seen_before = dropper.seen;
  // Both RPCs in one write, so that they arrive in one read.
  const std::string frames = Framed(SubscriptionRpc({"drop-me"})) + Framed(SubscriptionRpc({"after"}));
  ASSERT_TRUE(sender.out->Write(AsBytes(frames)).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(dropper.seen, seen_before + 1);
  EXPECT_EQ(b.pubsub->FindPeer(sender.id()), nullptr);
  EXPECT_EQ(b.pubsub->StateCounts().peers, 0u);
  EXPECT_EQ(b.pubsub->StateCounts().peer_topics, 0u);
}

// A filter whose answer changes: a topic recorded while allowed is still given up by its unsubscribe, and
// is not asked about again until then; new subscriptions get the new answer.
TEST_F(SubscriptionFilterTest, AnUnsubscribeFromATopicRecordedBeforeTheFilterTightenedLands) {
  bool open = true;
  const PredicateSubscriptionFilter filter([&](std::string_view) { return open; });
  Node b(&loop_, &net_, "b", false, [&](PubSubOptions& o) { o.subscription_filter = &filter; });
  RawPeer peer(&loop_, &net_, "raw", std::string(kFloodSubProtocolId));
  peer.ConnectTo(b);
  peer.Send(SubscriptionRpc({"x"}));
  ASSERT_EQ(b.pubsub->PeerTopics(peer.id()).count("x"), 1u);
  open = false;
  peer.Send(SubscriptionRpc({"y"}));
  EXPECT_EQ(b.pubsub->PeerTopics(peer.id()).count("y"), 0u);
  peer.Send(SubscriptionRpc({"x"}, /*subscribe=*/false));
  EXPECT_TRUE(b.pubsub->PeerTopics(peer.id()).empty());
  EXPECT_EQ(b.subscription_events, (std::vector<std::string>{"+x", "-x"}));
  EXPECT_EQ(b.pubsub->stats().subscriptions_filtered, 1u);
}

// A flood of 20,000 distinct refused topics, in 40 RPCs of subscriptions, GRAFTs, PRUNEs, IHAVEs and
// messages, against a gossipsub node: nothing of it is kept, in the core or in the router (every count of
// both StateCounts is where it was), no PRUNE or IWANT answers it, and an honest message still arrives.
TEST_F(SubscriptionFilterTest, AFloodOfRefusedTopicsLeavesNoStateBehind) {
  const PredicateSubscriptionFilter filter([](std::string_view t) { return t == "t"; });
  Node victim(&loop_, &net_, "victim", true, [&](PubSubOptions& o) { o.subscription_filter = &filter; });
  Node honest(&loop_, &net_, "honest", true);
  victim.Join("t");
  honest.Join("t");
  honest.Connect(victim, &loop_);
  RawPeer attacker(&loop_, &net_, "attacker", std::string(gossipsub::kMeshSubV11));
  attacker.ConnectTo(victim);
  loop_.AdvanceTime(seconds(3));
  ASSERT_EQ(victim.router->Mesh("t").count(honest.id()), 1u);
  const PubSubStateCounts core_before = victim.pubsub->StateCounts();
  const gossipsub::GossipSubStateCounts router_before = victim.router->StateCounts();
  const size_t bytes_before = attacker.received_bytes;

  constexpr int kRpcs = 40, kPerRpc = 500;
  for (int r = 0; r < kRpcs; ++r) {
    pb::RPC rpc;
    for (int i = 0; i < kPerRpc; ++i) {
      const std::string topic = "flood-" + std::to_string(r * kPerRpc + i);
      auto* s = rpc.add_subscriptions();
      s->set_subscribe(true);
      s->set_topicid(topic);
      if (i % 10 == 0) {
        rpc.mutable_control()->add_graft()->set_topicid(topic);
        auto* prune = rpc.mutable_control()->add_prune();
        prune->set_topicid(topic);
        prune->set_backoff(60);
        auto* ihave = rpc.mutable_control()->add_ihave();
        ihave->set_topicid(topic);
        ihave->add_messageids("id-" + topic);
        *rpc.add_publish() = attacker.Signed(topic, "m");
      }
    }
    attacker.Send(rpc);
    if (r % 10 == 0) loop_.AdvanceTime(seconds(1));  // Heartbeats run in between.
  }
  loop_.AdvanceTime(seconds(2));

  EXPECT_EQ(victim.pubsub->stats().subscriptions_filtered, static_cast<uint64_t>(kRpcs * kPerRpc));
  EXPECT_TRUE(victim.pubsub->PeerTopics(attacker.id()).empty());
  const PubSubStateCounts core = victim.pubsub->StateCounts();
  EXPECT_EQ(core.peers, core_before.peers);
  EXPECT_EQ(core.peer_topics, core_before.peer_topics);
  EXPECT_EQ(core.peer_topic_bytes, core_before.peer_topic_bytes);
  EXPECT_EQ(core.pending_validations, 0u);
  EXPECT_EQ(core.pending_validation_topics, 0u);
  EXPECT_LE(core.seen_entries, core_before.seen_entries + 2) << "only the honest messages' ids";
  const gossipsub::GossipSubStateCounts router = victim.router->StateCounts();
  EXPECT_EQ(router.peers, router_before.peers);
  EXPECT_EQ(router.mesh_topics, router_before.mesh_topics);
  EXPECT_EQ(router.mesh_members, router_before.mesh_members);
  EXPECT_EQ(router.topic_peers_topics, router_before.topic_peers_topics);
  EXPECT_EQ(router.topic_peers_members, router_before.topic_peers_members);
  EXPECT_EQ(router.fanout_topics, 0u);
  EXPECT_EQ(router.backoff_entries, router_before.backoff_entries);
  EXPECT_EQ(router.promises, 0u);
  EXPECT_EQ(router.partial_peer_topics, 0u);
  EXPECT_EQ(attacker.received_bytes, bytes_before) << "nothing answered the flood";
  EXPECT_EQ(victim.router->stats().iwant_sent, 0u);

  ASSERT_TRUE(honest.pubsub->Publish("t", AsBytes("honest")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(victim.received, std::vector<std::string>{"honest"});
}

// An RPC with more subscription entries than max_subscriptions_per_rpc is dropped whole: its subscriptions
// and its message go unhandled, it is counted, and the peer stays; one at the cap is handled in full.
TEST_F(SubscriptionFilterTest, AnRpcOverThePerRpcCapIsDroppedWhole) {
  Node victim(&loop_, &net_, "victim", false, [](PubSubOptions& o) { o.max_subscriptions_per_rpc = 10; });
  victim.Join("t");
  RawPeer peer(&loop_, &net_, "raw", std::string(kFloodSubProtocolId));
  peer.ConnectTo(victim);
  std::vector<std::string> topics;
  for (int i = 0; i < 50; ++i) topics.push_back("s" + std::to_string(i));

  pb::RPC over = SubscriptionRpc({topics.begin(), topics.begin() + 11});
  *over.add_publish() = peer.Signed("t", "in an RPC over the cap");
  peer.Send(over);
  EXPECT_TRUE(victim.received.empty());
  EXPECT_TRUE(victim.pubsub->PeerTopics(peer.id()).empty());
  EXPECT_TRUE(victim.subscription_events.empty());
  EXPECT_EQ(victim.pubsub->stats().rpcs_too_many_subscriptions, 1u);
  EXPECT_EQ(victim.pubsub->stats().duplicates + victim.pubsub->stats().rejected, 0u) << "never looked at";

  // Far over: the decoder keeps one entry over the cap and skips the rest unread.
  peer.Send(SubscriptionRpc(topics));
  EXPECT_EQ(victim.pubsub->stats().rpcs_too_many_subscriptions, 2u);
  EXPECT_EQ(victim.pubsub->FindPeer(peer.id())->stats().elements_left_out, 50u - 11u);
  EXPECT_TRUE(victim.pubsub->PeerTopics(peer.id()).empty());

  pb::RPC at = SubscriptionRpc({topics.begin(), topics.begin() + 10});
  *at.add_publish() = peer.Signed("t", "in an RPC at the cap");
  peer.Send(at);
  EXPECT_EQ(victim.received, std::vector<std::string>{"in an RPC at the cap"});
  EXPECT_EQ(victim.pubsub->PeerTopics(peer.id()).size(), 10u);
  EXPECT_EQ(victim.pubsub->stats().rpcs_too_many_subscriptions, 2u);
  EXPECT_NE(victim.pubsub->FindPeer(peer.id()), nullptr) << "the peer stays";
  // The default.
  EXPECT_EQ(PubSubOptions{}.max_subscriptions_per_rpc, 1024u);
}

// What we send fits what we accept: a node in 250 topics announces them in RPCs of at most 100 entries
// (rust's default cap), so a peer capped at 100 a request takes all of them.
TEST_F(SubscriptionFilterTest, OurSubscriptionsGoInRpcsWithinPeersCaps) {
  Node a(&loop_, &net_, "a");
  Node b(&loop_, &net_, "b", false, [](PubSubOptions& o) { o.max_subscriptions_per_rpc = 100; });
  for (int i = 0; i < 250; ++i) a.Join("topic-" + std::to_string(i));
  a.Connect(b, &loop_);
  EXPECT_EQ(b.pubsub->PeerTopics(a.id()).size(), 250u);
  EXPECT_EQ(b.pubsub->stats().rpcs_too_many_subscriptions, 0u);
}

}  // namespace
}  // namespace libp2p::pubsub
