// GossipSub scenarios on the in-memory network and virtual time, after go's gossipsub tests: sparse and
// dense meshes, fanout and its expiry, gossip, prune and graft with backoff, peer exchange, score
// penalties, IDONTWANT. Each runs in milliseconds: time is advanced, never waited for.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/testing/scenario.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

class GossipSubTest : public ::testing::Test {
 protected:
  void MakeNodes(int n, GossipSubOptions go = {}) {
    for (int i = 0; i < n; ++i) nodes_.push_back(std::make_unique<Node>(&loop_, &net_, i, go));
  }
  void Connect(int a, int b) { nodes_[a]->host->Dial(nodes_[b]->host->listen_addrs()[0], [](auto) {}); }
  // Each node dials `degree` random others (deterministically).
  void ConnectSome(int degree) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      for (int k = 1; k <= degree; ++k) Connect(i, (i + k * 7 + 1) % nodes_.size());
    }
    loop_.RunUntilIdle();
  }
  void ConnectAll() {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      for (size_t j = i + 1; j < nodes_.size(); ++j) Connect(i, j);
    }
    loop_.RunUntilIdle();
  }
  void Settle(Duration d = seconds(2)) { loop_.AdvanceTime(d); }
  size_t Delivered(const std::string& data) const { return gossipsub::Delivered(nodes_, data); }

  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
  std::vector<std::unique_ptr<Node>> nodes_;
};

// D_out counts the direction of the connections a peer has now: a second connection the other side dialed
// makes it count for that side too, and when our dialed connection dies only the inbound one is left.
TEST(GossipSubConnectionsTest, OutboundFollowsTheLiveConnections) {
  ManualEventLoop loop;
  stream::MemoryNetwork net(&loop, stream::WriteLimits{}, milliseconds(5));
  Node a(&loop, &net, 1), b(&loop, &net, 2);
  a.Join("t");
  b.Join("t");
  a.host->Dial(b.host->listen_addrs()[0], [](auto) {});
  loop.AdvanceTime(seconds(1));
  EXPECT_TRUE(a.router->IsOutbound(b.id()));
  EXPECT_FALSE(b.router->IsOutbound(a.id()));
  net.BreakConnections();
  b.host->Dial(a.host->listen_addrs()[0], [](auto) {});
  loop.AdvanceTime(seconds(1));
  EXPECT_TRUE(b.router->IsOutbound(a.id()));
  EXPECT_TRUE(a.router->IsOutbound(b.id()));  // The dead connection a dialed is not known dead yet.
  loop.AdvanceTime(seconds(120));             // Keep-alive finds it.
  EXPECT_FALSE(a.router->IsOutbound(b.id()));
  EXPECT_TRUE(b.router->IsOutbound(a.id()));
  EXPECT_EQ(a.pubsub->Peers().size(), 1u);
}

TEST_F(GossipSubTest, SparseMeshDeliversEverything) {
  MakeNodes(20);
  for (auto& n : nodes_) n->Join("t");
  ConnectSome(3);
  Settle();
  for (int m = 0; m < 100; ++m) {
    ASSERT_TRUE(nodes_[m % 20]->pubsub->Publish("t", AsBytes("m" + std::to_string(m))).status.ok());
    loop_.AdvanceTime(milliseconds(10));
  }
  Settle();
  for (int m = 0; m < 100; ++m) EXPECT_EQ(Delivered("m" + std::to_string(m)), 19u) << m;
}

TEST_F(GossipSubTest, DenseMeshStaysWithinBounds) {
  MakeNodes(20);
  for (auto& n : nodes_) n->Join("t");
  ConnectAll();
  Settle(seconds(5));
  const GossipSubParams p;
  for (auto& n : nodes_) {
    const size_t size = n->router->Mesh("t").size();
    EXPECT_GE(size, static_cast<size_t>(p.d_lo));
    EXPECT_LE(size, static_cast<size_t>(p.d_hi));
  }
  for (int m = 0; m < 100; ++m) ASSERT_TRUE(nodes_[m % 20]->pubsub->Publish("t", AsBytes("d" + std::to_string(m))).status.ok());
  Settle();
  for (int m = 0; m < 100; ++m) EXPECT_EQ(Delivered("d" + std::to_string(m)), 19u) << m;
}

TEST_F(GossipSubTest, FanoutPublishingAndExpiry) {
  // Node 0 publishes without subscribing, and without flood publishing: through its fanout.
  GossipSubOptions no_flood;
  no_flood.params.flood_publish = false;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, no_flood));
  for (int i = 1; i < 10; ++i) nodes_.push_back(std::make_unique<Node>(&loop_, &net_, i));
  for (int i = 1; i < 10; ++i) nodes_[i]->Join("t");
  ConnectAll();
  Settle();
  ASSERT_TRUE(nodes_[0]->pubsub->Publish("t", AsBytes("f1")).status.ok());
  EXPECT_EQ(nodes_[0]->router->Fanout("t").size(), static_cast<size_t>(GossipSubParams{}.d));
  Settle();
  EXPECT_EQ(Delivered("f1"), 9u);
  loop_.AdvanceTime(seconds(30));
  EXPECT_FALSE(nodes_[0]->router->Fanout("t").empty());
  loop_.AdvanceTime(seconds(31));
  EXPECT_TRUE(nodes_[0]->router->Fanout("t").empty());  // fanout_ttl passed without publishing.
}

// A fanout-only topic (go's FanoutOnly): node 0 subscribes to it, but only locally. It never announces the
// subscription or joins the mesh; its messages go out through the fanout, and its local subscription gets
// them (and only them: messages of the others are neither delivered to it nor sent to it).
TEST_F(GossipSubTest, AFanoutOnlyTopicIsPublishedThroughTheFanoutAndNeverJoined) {
  GossipSubOptions no_flood;
  no_flood.params.flood_publish = false;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, no_flood));
  for (int i = 1; i < 10; ++i) nodes_.push_back(std::make_unique<Node>(&loop_, &net_, i));
  Node& publisher = *nodes_[0];
  TopicOptions fanout_only;
  fanout_only.fanout_only = true;
  ASSERT_TRUE(publisher.pubsub->SetTopicOptions("t", fanout_only).ok());
  for (auto& n : nodes_) n->Join("t");
  ConnectAll();
  Settle(seconds(5));
  EXPECT_FALSE(publisher.pubsub->subscribed("t"));
  EXPECT_TRUE(publisher.pubsub->topics().empty());
  EXPECT_TRUE(publisher.router->Mesh("t").empty());
  for (int i = 1; i < 10; ++i) {
    EXPECT_EQ(nodes_[i]->pubsub->PeerTopics(publisher.id()).count("t"), 0u) << i;
    EXPECT_EQ(nodes_[i]->router->Mesh("t").count(publisher.id()), 0u) << i;
  }

  ASSERT_TRUE(publisher.pubsub->Publish("t", AsBytes("f1")).status.ok());
  EXPECT_EQ(publisher.router->Fanout("t").size(), static_cast<size_t>(GossipSubParams{}.d));
  Settle();
  EXPECT_EQ(Delivered("f1"), 10u);  // The nine others, and the publisher's own local subscription.
  EXPECT_EQ(publisher.received, std::vector<std::string>{"f1"});

  ASSERT_TRUE(nodes_[1]->pubsub->Publish("t", AsBytes("g1")).status.ok());
  Settle();
  EXPECT_EQ(Delivered("g1"), 8u);  // Nodes 2 to 9.
  EXPECT_EQ(publisher.received, std::vector<std::string>{"f1"});
  EXPECT_TRUE(publisher.router->Mesh("t").empty());

  // Its options change only while it is not subscribed; then it can join the topic for real.
  EXPECT_EQ(publisher.pubsub->SetTopicOptions("t", TopicOptions{}).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(publisher.pubsub->Unsubscribe("t").ok());
  ASSERT_TRUE(publisher.pubsub->SetTopicOptions("t", TopicOptions{}).ok());
  publisher.Join("t");
  Settle();
  EXPECT_TRUE(publisher.pubsub->subscribed("t"));
  EXPECT_FALSE(publisher.router->Mesh("t").empty());
}

TEST_F(GossipSubTest, GossipRecoversMessagesMissedByTheMesh) {
  // A line a - b - c where b's mesh link to c is pruned: c learns the message through IHAVE/IWANT.
  GossipSubOptions go;
  go.params.flood_publish = false;
  MakeNodes(3, go);
  for (auto& n : nodes_) n->Join("t");
  Connect(0, 1);
  Connect(1, 2);
  loop_.RunUntilIdle();
  Settle();
  // b and c prune each other with a backoff longer than the test: the mesh cannot carry the message to c.
  pb::ControlMessage prune;
  prune.add_prune()->set_topicid("t");
  prune.mutable_prune(0)->set_backoff(600);
  nodes_[1]->router->HandleControl(nodes_[2]->id(), prune);
  nodes_[2]->router->HandleControl(nodes_[1]->id(), prune);
  ASSERT_EQ(nodes_[1]->router->Mesh("t").count(nodes_[2]->id()), 0u);
  ASSERT_EQ(nodes_[2]->router->Mesh("t").count(nodes_[1]->id()), 0u);
  ASSERT_TRUE(nodes_[0]->pubsub->Publish("t", AsBytes("g1")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(Delivered("g1"), 1u) << "only b, through the mesh";
  Settle(seconds(3));
  EXPECT_EQ(Delivered("g1"), 2u);
  EXPECT_GT(nodes_[2]->router->stats().iwant_sent, 0u);
  EXPECT_GT(nodes_[1]->router->stats().iwant_served, 0u);
  EXPECT_EQ(nodes_[2]->router->Mesh("t").count(nodes_[1]->id()), 0u) << "the cut held";
}

TEST_F(GossipSubTest, PruneBackoffStopsImmediateRegraft) {
  MakeNodes(2);
  for (auto& n : nodes_) n->Join("t");
  Connect(0, 1);
  loop_.RunUntilIdle();
  Settle();
  ASSERT_EQ(nodes_[0]->router->Mesh("t").count(nodes_[1]->id()), 1u);
  // Node 1 leaves and comes back at once: it is in node 0's backoff, so the mesh waits.
  ASSERT_TRUE(nodes_[1]->pubsub->Unsubscribe("t").ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(nodes_[0]->router->Mesh("t").count(nodes_[1]->id()), 0u);
  EXPECT_TRUE(nodes_[0]->router->backoff().InBackoff(nodes_[1]->id(), "t"));
  nodes_[1]->Join("t");
  Settle(seconds(3));
  EXPECT_EQ(nodes_[1]->router->Mesh("t").count(nodes_[0]->id()), 0u);  // Unsubscribe backoff: 10 s.
  Settle(seconds(12));
  EXPECT_EQ(nodes_[1]->router->Mesh("t").count(nodes_[0]->id()), 1u);
}

TEST_F(GossipSubTest, IDontWantIsSentForLargeMessagesAndHonoured) {
  MakeNodes(6);
  for (auto& n : nodes_) n->Join("t");
  ConnectAll();
  Settle();
  const std::string big(4096, 'b');
  ASSERT_TRUE(nodes_[0]->pubsub->Publish("t", AsBytes(big)).status.ok());
  Settle();
  EXPECT_EQ(Delivered(big), 5u);
  uint64_t sent = 0, received = 0;
  for (auto& n : nodes_) {
    sent += n->router->stats().idontwant_sent;
    received += n->router->stats().idontwant_received;
  }
  EXPECT_GT(sent, 0u);
  EXPECT_GT(received, 0u);
  // (That they are honoured is gossipsub_scenarios_test's AnIDontWantIsHonoured: with one latency for every
  // link, each node forwards before any IDONTWANT can reach it.)
  // Small messages do not trigger IDONTWANT.
  ASSERT_TRUE(nodes_[0]->pubsub->Publish("t", AsBytes("small")).status.ok());
  Settle();
  uint64_t sent_after = 0;
  for (auto& n : nodes_) sent_after += n->router->stats().idontwant_sent;
  EXPECT_EQ(sent_after, sent);
}

TEST_F(GossipSubTest, HugeRemoteBackoffIsClamped) {
  MakeNodes(2);
  for (auto& n : nodes_) n->Join("t");
  Connect(0, 1);
  loop_.RunUntilIdle();
  Settle();
  // Node 1 receives a PRUNE with the largest backoff a peer can send.
  pb::ControlMessage control;
  auto* prune = control.add_prune();
  prune->set_topicid("t");
  prune->set_backoff(UINT64_MAX);
  nodes_[1]->router->HandleControl(nodes_[0]->id(), control);
  EXPECT_TRUE(nodes_[1]->router->backoff().InBackoff(nodes_[0]->id(), "t"));
  const std::optional<Duration> left = nodes_[1]->router->backoff().Remaining(nodes_[0]->id(), "t");
  ASSERT_TRUE(left.has_value());
  EXPECT_LE(*left, std::chrono::hours(24)) << "not clamped";
  Settle(seconds(5));  // Heartbeats run: no overflow, no crash (UBSan checks).
}

TEST(GossipSubRouterCreateTest, InvalidOptionsAreRefusedInEveryBuild) {
  GossipSubOptions bad_params;
  bad_params.params.d_score = bad_params.params.d + 1;  // Would read past the sorted peers.
  EXPECT_EQ(GossipSubRouter::Create(bad_params).status().code(), StatusCode::kInvalidArgument);
  GossipSubOptions bad_thresholds;
  bad_thresholds.thresholds.gossip_threshold = 1;  // Must be <= 0.
  EXPECT_EQ(GossipSubRouter::Create(bad_thresholds).status().code(), StatusCode::kInvalidArgument);
  GossipSubOptions bad_score;
  bad_score.score_params = PeerScoreParams();
  bad_score.score_params->decay_to_zero = 2;  // Must be in (0, 1).
  EXPECT_EQ(GossipSubRouter::Create(bad_score).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(GossipSubRouter::Create(GossipSubOptions{}).ok());
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
