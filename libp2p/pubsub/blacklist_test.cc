// PubSub::BlacklistPeer and UnblacklistPeer, alone and with an AccessList at the host's gater
// (PubSubOptions::access_list), and the per-topic publish permission pattern: a validator over the author.
// In-memory hosts on virtual time.
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/floodsub.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/access_list.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using gossipsub::GossipSubRouter;
using std::chrono::seconds;

// Records the reasons of the rejections a node traces.
class Rejections : public PubSubTracer {
 public:
  void RejectMessage(const TracedMessage& m, std::string_view reason) override {
    reasons.push_back(m.msg.data() + ": " + std::string(reason));
  }
  void RecvRpc(const PeerId&, const pb::RPC&) override { ++rpcs_received; }
  std::vector<std::string> reasons;
  int rpcs_received = 0;
};

struct NodeOptions {
  bool gossip = false;
  stream::AccessList* access_list = nullptr;  // Given to the host as its gater and to the core.
  std::function<void(PubSubOptions&)> tune;
};

// A host with a PubSub: floodsub, or gossipsub when `gossip` (then `router` is set).
struct Node {
  Node(ManualEventLoop* loop, stream::MemoryNetwork* net, const std::string& seed, NodeOptions o = {})
      : key(*Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("blacklist-" + seed)))),
        transport(net->CreateTransport()) {
    stream::HostOptions ho;
    ho.identity = &key;
    ho.gater = o.access_list;
    host = std::make_unique<stream::Host>(loop, transport.get(), ho);
    EXPECT_TRUE(host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
    PubSubOptions po;
    po.identity = &key;
    po.access_list = o.access_list;
    po.tracers = {&rejections};
    if (o.tune) o.tune(po);
    std::unique_ptr<Router> r;
    if (o.gossip) {
      std::unique_ptr<GossipSubRouter> g = std::move(GossipSubRouter::Create(gossipsub::GossipSubOptions{})).value();
      router = g.get();
      r = std::move(g);
    } else {
      r = std::make_unique<FloodSubRouter>();
    }
    pubsub = std::make_unique<PubSub>(loop, host.get(), std::move(r), po);
  }
  void Join(const std::string& topic) {
    ASSERT_TRUE(pubsub->Subscribe(topic, [this](const pb::Message& m, const std::string&, const PeerId&) {
      received.push_back(m.data());
    }).ok());
  }
  void Dial(Node& other, ManualEventLoop* loop) {
    host->Dial(other.host->listen_addrs()[0], [this](StatusOr<PeerId> p) { last_dial = p.status(); });
    loop->RunUntilIdle();
  }
  const PeerId& id() const { return host->peer_id(); }

  Rejections rejections;
  Ed25519PrivateKey key;
  std::unique_ptr<stream::Transport> transport;
  std::unique_ptr<stream::Host> host;
  GossipSubRouter* router = nullptr;
  std::unique_ptr<PubSub> pubsub;
  std::vector<std::string> received;
  Status last_dial;
};

class BlacklistTest : public ::testing::Test {
 protected:
  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
};

TEST_F(BlacklistTest, OurOwnIdCannotBeBlacklistedNorAnUnknownPeerUnblacklisted) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b");
  EXPECT_EQ(a.pubsub->BlacklistPeer(a.id()).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(a.pubsub->IsBlacklisted(a.id()));
  EXPECT_EQ(a.pubsub->UnblacklistPeer(b.id()).code(), StatusCode::kNotFound);
  EXPECT_TRUE(a.pubsub->BlacklistPeer(b.id()).ok());  // Not even connected: fine.
  EXPECT_TRUE(a.pubsub->BlacklistPeer(b.id()).ok());  // Twice: nothing changes.
  EXPECT_TRUE(a.pubsub->IsBlacklisted(b.id()));
  EXPECT_TRUE(a.pubsub->UnblacklistPeer(b.id()).ok());
  EXPECT_FALSE(a.pubsub->IsBlacklisted(b.id()));
}

// A blacklisted gossipsub peer goes at once, from the core and from the router; its messages stop arriving,
// its new streams are refused and it is not added again; the connection stays (no access list).
// Unblacklisted, it is a peer again at once; its subscriptions come with the next stream it opens to us.
TEST_F(BlacklistTest, ABlacklistedPeerIsDroppedAndRefusedUntilUnblacklisted) {
  Node a(&loop_, &net_, "a", {.gossip = true}), b(&loop_, &net_, "b", {.gossip = true});
  a.Join("t");
  b.Join("t");
  a.Dial(b, &loop_);
  loop_.AdvanceTime(seconds(2));
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("before")).status.ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(b.received, std::vector<std::string>{"before"});
  ASSERT_EQ(b.router->Mesh("t").count(a.id()), 1u);
  const gossipsub::GossipSubStateCounts router_with_a = b.router->StateCounts();

  ASSERT_TRUE(b.pubsub->BlacklistPeer(a.id()).ok());
  // At once: nothing of a is left in b's core or router.
  EXPECT_EQ(b.pubsub->FindPeer(a.id()), nullptr);
  EXPECT_TRUE(b.pubsub->PeerTopics(a.id()).empty());
  EXPECT_TRUE(b.pubsub->Peers().empty());
  EXPECT_EQ(b.pubsub->StateCounts().peers, 0u);
  EXPECT_EQ(b.pubsub->StateCounts().peer_topics, 0u);
  const gossipsub::GossipSubStateCounts router = b.router->StateCounts();
  EXPECT_EQ(router.peers, router_with_a.peers - 1);
  EXPECT_EQ(router.mesh_members, 0u);
  EXPECT_EQ(router.topic_peers_members, 0u);
  EXPECT_EQ(b.router->Mesh("t").count(a.id()), 0u);

  // a notices its stream failed and opens another (at once, then with its backoff): each is refused, and
  // a is never added back, while the connection stays up for the host's other protocols.
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("during " + std::to_string(i))).status.ok());
    loop_.AdvanceTime(seconds(1));
  }
  EXPECT_EQ(b.received, std::vector<std::string>{"before"});
  EXPECT_GE(b.pubsub->stats().blacklisted_streams_refused, 1u);
  EXPECT_EQ(b.pubsub->FindPeer(a.id()), nullptr);
  EXPECT_EQ(b.router->StateCounts().peers, router_with_a.peers - 1);
  EXPECT_TRUE(b.host->IsConnected(a.id()));

  // Off the blacklist: b takes a back at once (it is connected, and its identify listed our protocols).
  ASSERT_TRUE(b.pubsub->UnblacklistPeer(a.id()).ok());
  EXPECT_NE(b.pubsub->FindPeer(a.id()), nullptr);
  loop_.AdvanceTime(seconds(31));  // a's wait after its refused streams (at most open_retry_max, 30 s).
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("after")).status.ok());
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(b.received, (std::vector<std::string>{"before", "after"}));
  EXPECT_EQ(b.pubsub->PeerTopics(a.id()).count("t"), 1u) << "a's hello came first on its new stream";
  loop_.AdvanceTime(seconds(3));
  EXPECT_EQ(b.router->Mesh("t").count(a.id()), 1u) << "grafted again";
}

// Messages authored by a blacklisted peer are rejected even when an honest peer relays them ("blacklisted
// source"), and are not relayed further; the relaying peer's own messages still arrive.
TEST_F(BlacklistTest, MessagesAuthoredByABlacklistedPeerAreRejectedWhenRelayed) {
  Node a(&loop_, &net_, "a"), relay(&loop_, &net_, "relay"), c(&loop_, &net_, "c"), d(&loop_, &net_, "d");
  for (Node* n : {&a, &relay, &c, &d}) n->Join("t");
  a.Dial(relay, &loop_);  // a - relay - c - d: c never meets a.
  relay.Dial(c, &loop_);
  c.Dial(d, &loop_);
  ASSERT_TRUE(c.pubsub->BlacklistPeer(a.id()).ok());
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("by a")).status.ok());
  ASSERT_TRUE(relay.pubsub->Publish("t", AsBytes("by relay")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(relay.received, std::vector<std::string>{"by a"});
  EXPECT_EQ(c.received, std::vector<std::string>{"by relay"});
  EXPECT_EQ(d.received, std::vector<std::string>{"by relay"}) << "c relayed what it rejected";
  EXPECT_EQ(c.pubsub->stats().rejected, 1u);
  EXPECT_EQ(c.rejections.reasons, std::vector<std::string>{"by a: blacklisted source"});
  EXPECT_NE(c.pubsub->FindPeer(relay.id()), nullptr) << "the relay is not blamed";
  // Unblacklisted, a's next message goes through.
  ASSERT_TRUE(c.pubsub->UnblacklistPeer(a.id()).ok());
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("by a, later")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(c.received, (std::vector<std::string>{"by relay", "by a, later"}));
}

// A peer blacklisted while its RPCs are being read is heard no more: the RPCs after it in the same read are
// not handled (the core lets go of the peer's reading at once).
TEST_F(BlacklistTest, RpcsReadTogetherWithTheOneThatGotThePeerBlacklistedAreNotHandled) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b");
  a.Join("t");
  ASSERT_TRUE(b.pubsub->Subscribe("t", [&](const pb::Message& m, const std::string&, const PeerId& from) {
    b.received.push_back(m.data());
    if (m.data() == "2") EXPECT_TRUE(b.pubsub->BlacklistPeer(from).ok());
  }).ok());
  a.Dial(b, &loop_);
  loop_.AdvanceTime(seconds(2));
  const int before = b.rejections.rpcs_received;
  // Published in one loop turn: the first goes at once, the other three are written together.
  for (const char* data : {"1", "2", "3", "4"}) ASSERT_TRUE(a.pubsub->Publish("t", AsBytes(data)).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(b.received, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(b.rejections.rpcs_received - before, 2);
  EXPECT_EQ(b.pubsub->FindPeer(a.id()), nullptr);
}

// A message of a peer still waiting for its validator when the peer is blacklisted is rejected when the
// verdict comes, not delivered.
TEST_F(BlacklistTest, AMessageInValidationIsRejectedOnceItsSenderIsBlacklisted) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b");
  a.Join("t");
  b.Join("t");
  a.Dial(b, &loop_);
  std::vector<std::function<void(ValidationResult)>> waiting;
  b.pubsub->AddValidator("t", [&](const pb::Message&, std::function<void(ValidationResult)> done) {
    waiting.push_back(std::move(done));
  });
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("pending")).status.ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(waiting.size(), 1u);
  ASSERT_TRUE(b.pubsub->BlacklistPeer(a.id()).ok());
  waiting[0](ValidationResult::kAccept);
  loop_.RunUntilIdle();
  EXPECT_TRUE(b.received.empty());
  EXPECT_EQ(b.rejections.reasons, std::vector<std::string>{"pending: blacklisted peer"});
}

// With an access list at the gater: the peer is denied there and disconnected, and its redials (and ours to
// it) are refused; unblacklisted, it may connect again and its messages flow.
TEST_F(BlacklistTest, WithAnAccessListThePeerIsDisconnectedAndItsRedialsRefused) {
  stream::AccessList access;
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b", {.access_list = &access});
  a.Join("t");
  b.Join("t");
  a.Dial(b, &loop_);
  ASSERT_TRUE(a.last_dial.ok());
  ASSERT_NE(b.pubsub->FindPeer(a.id()), nullptr);

  ASSERT_TRUE(b.pubsub->BlacklistPeer(a.id()).ok());
  EXPECT_FALSE(access.CheckPeer(a.id()).ok());
  loop_.RunUntilIdle();
  EXPECT_FALSE(b.host->IsConnected(a.id()));
  EXPECT_FALSE(a.host->IsConnected(b.id()));
  EXPECT_EQ(b.pubsub->FindPeer(a.id()), nullptr);

  // b refuses a's connection after the secure handshake; with Noise's early muxer negotiation a's dial may
  // see it succeed before the reset arrives, so what counts is that no connection stays.
  a.Dial(b, &loop_);
  loop_.AdvanceTime(seconds(1));
  EXPECT_FALSE(b.host->IsConnected(a.id()));
  EXPECT_FALSE(a.host->IsConnected(b.id()));
  EXPECT_GE(b.host->stats().gater_refused_secured, 1u);
  EXPECT_EQ(b.pubsub->FindPeer(a.id()), nullptr);
  b.Dial(a, &loop_);
  EXPECT_EQ(b.last_dial.code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("while blacklisted")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_TRUE(b.received.empty());

  ASSERT_TRUE(b.pubsub->UnblacklistPeer(a.id()).ok());
  EXPECT_TRUE(access.CheckPeer(a.id()).ok());
  a.Dial(b, &loop_);
  loop_.AdvanceTime(seconds(1));
  ASSERT_TRUE(a.last_dial.ok()) << a.last_dial.ToString();
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("after")).status.ok());
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(b.received, std::vector<std::string>{"after"});
}

// UnblacklistPeer undoes only what BlacklistPeer did at the access list: a denial the application made
// stays, and a peer on the access list's allowlist is on it again afterwards.
TEST_F(BlacklistTest, UnblacklistingLeavesTheApplicationsAccessListEntriesAsTheyWere) {
  Node a(&loop_, &net_, "a"), c(&loop_, &net_, "c");
  {
    stream::AccessList access;
    Node b(&loop_, &net_, "b", {.access_list = &access});
    access.DenyPeer(c.id());
    ASSERT_TRUE(b.pubsub->BlacklistPeer(c.id()).ok());
    ASSERT_TRUE(b.pubsub->UnblacklistPeer(c.id()).ok());
    EXPECT_FALSE(access.CheckPeer(c.id()).ok()) << "denied by the application, before the blacklist";
  }
  {
    stream::AccessList access;
    Node b(&loop_, &net_, "b2", {.access_list = &access});
    access.AllowPeer(a.id());  // An allowlist: only a may connect.
    ASSERT_TRUE(b.pubsub->BlacklistPeer(a.id()).ok());
    EXPECT_FALSE(access.CheckPeer(a.id()).ok());
    ASSERT_TRUE(b.pubsub->UnblacklistPeer(a.id()).ok());
    EXPECT_TRUE(access.CheckPeer(a.id()).ok()) << "back on the allowlist";
    EXPECT_FALSE(access.CheckPeer(c.id()).ok()) << "the allowlist still holds";
  }
  {
    stream::AccessList access;
    Node b(&loop_, &net_, "b3", {.access_list = &access});
    ASSERT_TRUE(b.pubsub->BlacklistPeer(a.id()).ok());
    ASSERT_TRUE(b.pubsub->UnblacklistPeer(a.id()).ok());
    EXPECT_TRUE(access.CheckPeer(a.id()).ok());
    access.AllowPeer(c.id());
    EXPECT_FALSE(access.CheckPeer(a.id()).ok()) << "a was never put on the allowlist";
  }
}

// Per-topic publish permissions: a validator accepts messages on "announcements" only from the authors
// on a list. A message by another author is rejected and not relayed; our own Publish under an identity
// not on the list fails with kPermissionDenied; anyone may read.
TEST_F(BlacklistTest, PerTopicPublishPermissionsAreAValidatorOverTheAuthor) {
  Node publisher(&loop_, &net_, "publisher"), intruder(&loop_, &net_, "intruder"), rogue(&loop_, &net_, "rogue");
  Node relay(&loop_, &net_, "relay"), reader(&loop_, &net_, "reader");
  const std::set<PeerId> permitted = {publisher.id()};
  const auto only_permitted = [&permitted](const pb::Message& m, std::function<void(ValidationResult)> done) {
    StatusOr<PeerId> author = PeerId::FromBytes(AsBytes(m.from()));
    done(author.ok() && permitted.count(*author) > 0 ? ValidationResult::kAccept : ValidationResult::kReject);
  };
  // Every node runs the validator but the rogue (a patched build) and the reader (which shows what the relay
  // lets through: it delivers whatever reaches it).
  for (Node* n : {&publisher, &intruder, &relay}) n->pubsub->AddValidator("announcements", only_permitted);
  for (Node* n : {&publisher, &intruder, &rogue, &relay, &reader}) n->Join("announcements");
  publisher.Dial(relay, &loop_);
  intruder.Dial(relay, &loop_);
  rogue.Dial(relay, &loop_);
  relay.Dial(reader, &loop_);

  EXPECT_EQ(intruder.pubsub->Publish("announcements", AsBytes("from the intruder")).status.code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(rogue.pubsub->Publish("announcements", AsBytes("rogue")).status.ok());
  ASSERT_TRUE(publisher.pubsub->Publish("announcements", AsBytes("official")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(relay.received, std::vector<std::string>{"official"});
  EXPECT_EQ(reader.received, std::vector<std::string>{"official"}) << "the rogue message was not relayed";
  EXPECT_EQ(intruder.received, std::vector<std::string>{"official"}) << "anyone may read";
  EXPECT_EQ(relay.pubsub->stats().rejected, 1u);
  EXPECT_EQ(relay.rejections.reasons, std::vector<std::string>{"rogue: validation failed"});
}

}  // namespace
}  // namespace libp2p::pubsub
