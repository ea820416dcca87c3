// The library's log lines (issue 16), as an operator sees them: connections up and down (host), streams
// reset for bad frames and messages not accepted (pubsub), mesh changes and penalties (gossipsub). Each line
// names the peer (and the topic where there is one); lines a peer causes are limited per peer; nothing at
// all happens while the level is off. On the in-memory network and virtual time.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/log.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/testing/capturing_log_sink.h"
#include "libp2p/pubsub/gossipsub/extensions.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/testing/scenario.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using libp2p::testing::CapturedLogRecord;
using libp2p::testing::CapturingLogSink;
using std::chrono::seconds;

class LoggingTest : public ::testing::Test {
 protected:
  // The records of `component` with `message` that name `peer`.
  static std::vector<CapturedLogRecord> About(const CapturingLogSink& sink, const std::string& component,
                                              const std::string& message, const crypto::PeerId& peer) {
    std::vector<CapturedLogRecord> out;
    for (CapturedLogRecord& r : sink.WithMessage(message)) {
      if (r.component == component && r.Field("peer") == peer.ToBase58()) out.push_back(std::move(r));
    }
    return out;
  }

  // A frame that does not decode as an RPC (field 1 with wire type 7, which does not exist).
  static std::string BadFrame() { return "\x0f"; }

  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
};

TEST_F(LoggingTest, ConnectionsAndMessagesNotAcceptedAtDebug) {
  CapturingLogSink sink(LogLevel::kDebug);
  Node node(&loop_, &net_, 0);
  node.Join("t");
  RawPeer peer(&loop_, &net_, "sender");
  peer.ConnectTo(node);
  loop_.RunUntilIdle();

  const auto up = About(sink, "host", "connection up", peer.id());
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].level, LogLevel::kDebug);
  EXPECT_EQ(up[0].Field("direction"), "inbound");
  EXPECT_TRUE(up[0].Field("remote_addr").has_value());
  // The peer's own host logged its side too.
  const auto other_side = About(sink, "host", "connection up", node.id());
  ASSERT_EQ(other_side.size(), 1u);
  EXPECT_EQ(other_side[0].Field("direction"), "outbound");

  peer.Send(SubscriptionRpc({"t"}));
  pb::Message forged = SignedMessage(peer.key, "t", "data", 1);
  forged.set_data("other data");
  peer.Send(PublishRpc(forged));
  const auto rejected = About(sink, "pubsub", "message not accepted", peer.id());
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].level, LogLevel::kDebug);
  EXPECT_EQ(rejected[0].Field("topic"), "t");
  EXPECT_EQ(rejected[0].Field("reason"), "invalid signature");
  EXPECT_TRUE(rejected[0].Field("id").has_value());

  peer.DisconnectFrom(node);
  const auto down = About(sink, "host", "connection down", peer.id());
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].Field("direction"), "inbound");
  EXPECT_EQ(down[0].Field("closed_locally"), "false");
  EXPECT_TRUE(down[0].Field("reason").has_value());
}

// A peer that sends one bad frame after another (reopening its stream each time) gets 10 lines, then one a
// second, the first of which counts what was suppressed; another peer's lines are not held back by it.
TEST_F(LoggingTest, BadFramesAreLimitedPerPeer) {
  CapturingLogSink sink(LogLevel::kWarn);
  Node node(&loop_, &net_, 0);
  node.Join("t");
  RawPeer hostile(&loop_, &net_, "hostile");
  hostile.ConnectTo(node);
  for (int i = 0; i < 25; ++i) {
    hostile.SendEncoded(BadFrame());
    ASSERT_TRUE(hostile.out_failed) << i;
    hostile.OpenStream(*node.host);
  }
  EXPECT_EQ(node.pubsub->FindPeer(hostile.id())->stats().bad_frames, 25u);
  const auto lines = About(sink, "pubsub", "inbound stream reset: bad frame", hostile.id());
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_EQ(lines[0].level, LogLevel::kWarn);
  EXPECT_TRUE(lines[0].Field("error").has_value());
  EXPECT_FALSE(lines[9].Field("suppressed").has_value());

  RawPeer other(&loop_, &net_, "other");
  other.ConnectTo(node);
  other.SendEncoded(BadFrame());
  EXPECT_EQ(About(sink, "pubsub", "inbound stream reset: bad frame", other.id()).size(), 1u);

  loop_.AdvanceTime(seconds(1));
  hostile.SendEncoded(BadFrame());
  const auto after = About(sink, "pubsub", "inbound stream reset: bad frame", hostile.id());
  ASSERT_EQ(after.size(), 11u);
  EXPECT_EQ(after[10].Field("suppressed"), "15");
  // Nothing else was logged at warn.
  EXPECT_EQ(sink.size(), 12u);
}

// Penalties: a GRAFT during backoff (info), the RPCs of a graylisted peer ignored (warn), and Extensions
// misplaced (warn); each with the peer, the topic where there is one, and whether scoring charged it.
TEST_F(LoggingTest, PenaltiesAndGraylisting) {
  CapturingLogSink sink(LogLevel::kInfo);
  GossipSubOptions go = ScoredOptions("t");
  go.thresholds.gossip_threshold = -10;
  go.thresholds.publish_threshold = -20;
  go.thresholds.graylist_threshold = -30;
  Node node(&loop_, &net_, 0, go);
  node.Join("t");
  RawPeer peer(&loop_, &net_, "eager", std::string(kMeshSubV13));
  peer.ConnectTo(node);
  peer.Send(SubscriptionRpc({"t"}));
  peer.Send(PruneRpc("t", 60));
  pb::RPC graft;
  graft.mutable_control()->add_graft()->set_topicid("t");
  peer.Send(graft);
  const auto in_backoff = About(sink, "gossipsub", "graft during backoff: pruned", peer.id());
  ASSERT_EQ(in_backoff.size(), 1u);
  EXPECT_EQ(in_backoff[0].level, LogLevel::kInfo);
  EXPECT_EQ(in_backoff[0].Field("topic"), "t");
  EXPECT_EQ(in_backoff[0].Field("penalized"), "true");

  // Two P7 counts (-10 * 2^2) put it below the graylist threshold: its next RPC is ignored, and said so; that
  // RPC's Extensions, not first on the stream, are a penalty too.
  ASSERT_LT(node.router->Score(peer.id()), go.thresholds.graylist_threshold);
  EXPECT_TRUE(About(sink, "gossipsub", "rpc ignored: peer graylisted", peer.id()).empty());
  pb::RPC late_extensions;
  WriteExtensions(PeerExtensions{true, false}, ExtensionOptions{}, &late_extensions);
  peer.Send(late_extensions);
  const auto graylisted = About(sink, "gossipsub", "rpc ignored: peer graylisted", peer.id());
  ASSERT_EQ(graylisted.size(), 1u);
  EXPECT_EQ(graylisted[0].level, LogLevel::kWarn);
  EXPECT_TRUE(graylisted[0].Field("score").has_value());
  const auto misplaced = About(sink, "gossipsub", "misplaced extensions: not first on the stream", peer.id());
  ASSERT_EQ(misplaced.size(), 1u);
  EXPECT_EQ(misplaced[0].level, LogLevel::kWarn);
  EXPECT_EQ(misplaced[0].Field("penalized"), "true");
  // Debug lines (mesh changes) stayed off.
  for (const auto& r : sink.records()) EXPECT_GE(r.level, LogLevel::kInfo) << r.message;
}

// Mesh changes at debug: our GRAFT of a peer that joins, and its PRUNE.
TEST_F(LoggingTest, MeshChangesAtDebug) {
  CapturingLogSink sink(LogLevel::kDebug);
  Node node(&loop_, &net_, 0);
  node.Join("t");
  RawPeer peer(&loop_, &net_, "joiner");
  peer.ConnectTo(node);
  peer.Send(JoinRpc("t"));
  const auto grafted = About(sink, "gossipsub", "mesh: grafted", peer.id());
  ASSERT_EQ(grafted.size(), 1u);
  EXPECT_EQ(grafted[0].Field("topic"), "t");
  peer.Send(PruneRpc("t", 60));
  const auto pruned = About(sink, "gossipsub", "mesh: pruned", peer.id());
  ASSERT_EQ(pruned.size(), 1u);
  EXPECT_EQ(pruned[0].Field("topic"), "t");
}

// A peer that advertises a message (IHAVE) and never delivers it when asked (IWANT) breaks its promise: info.
TEST_F(LoggingTest, BrokenPromiseAtInfo) {
  CapturingLogSink sink(LogLevel::kInfo);
  Node node(&loop_, &net_, 0, ScoredOptions("t"));
  node.Join("t");
  RawPeer peer(&loop_, &net_, "promiser");
  peer.ConnectTo(node);
  peer.Send(SubscriptionRpc({"t"}));
  peer.Send(IHaveRpc("t", {"never-delivered"}));
  ASSERT_EQ(peer.IWantIdsReceived(), 1u);
  EXPECT_TRUE(About(sink, "gossipsub", "broken promise: an IWANT went unanswered", peer.id()).empty());
  loop_.AdvanceTime(seconds(5));  // Past iwant_followup_time (3 s), and a heartbeat.
  const auto broken = About(sink, "gossipsub", "broken promise: an IWANT went unanswered", peer.id());
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0].level, LogLevel::kInfo);
  EXPECT_EQ(broken[0].Field("penalized"), "true");
}

// A mesh peer that stops reading has sends dropped: a line at info at the heartbeat that finds new drops,
// limited as every line the peer causes.
TEST_F(LoggingTest, SlowPeerAtInfo) {
  CapturingLogSink sink(LogLevel::kInfo);
  PubSubOptions po;
  po.peer.max_data_bytes = 128 * 1024;
  Node node(&loop_, &net_, 0, {}, po);
  node.Join("t");
  RawPeer slow(&loop_, &net_, "slow");
  slow.ConnectTo(node);
  slow.Send(JoinRpc("t"));
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(node.router->Mesh("t").count(slow.id()), 1u);
  slow.PauseReading(true);
  for (int i = 0; i < 30; ++i) {  // 3 s of a 64 KiB message every 100 ms.
    ASSERT_TRUE(node.pubsub->Publish("t", AsBytes(std::to_string(i) + std::string(64 * 1024, 'x'))).status.ok());
    loop_.AdvanceTime(std::chrono::milliseconds(100));
  }
  const auto lines = About(sink, "gossipsub", "slow peer: sends dropped", slow.id());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].level, LogLevel::kInfo);
  EXPECT_NE(lines[0].Field("drops"), "0");
  EXPECT_EQ(lines[0].Field("penalized"), "false");  // No scoring here.
  EXPECT_EQ(lines.size(), node.router->stats().slow_peer_heartbeats);
}

// With the level off, the same doings produce no record, and the limiter is never even asked.
TEST_F(LoggingTest, NothingAtAllWhenOff) {
  CapturingLogSink sink(LogLevel::kOff);
  Node node(&loop_, &net_, 0, ScoredOptions("t"));
  node.Join("t");
  RawPeer peer(&loop_, &net_, "quiet");
  peer.ConnectTo(node);
  peer.Send(JoinRpc("t"));
  pb::Message forged = SignedMessage(peer.key, "t", "data", 1);
  forged.set_data("other data");
  peer.Send(PublishRpc(forged));
  peer.SendEncoded(BadFrame());
  peer.DisconnectFrom(node);
  EXPECT_EQ(sink.size(), 0u);
  EXPECT_EQ(node.pubsub->peer_log_limiter()->key_count(), 0u);
}

// At the default level (warn), honest peers exchanging messages log nothing.
TEST_F(LoggingTest, HonestTrafficIsQuietAtTheDefaultLevel) {
  CapturingLogSink sink(LogLevel::kWarn);
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(std::make_unique<Node>(&loop_, &net_, i));
    nodes.back()->Join("t");
  }
  for (int i = 1; i < 3; ++i) {
    bool done = false;
    nodes[i]->host->Dial(nodes[0]->host->listen_addrs()[0], [&](StatusOr<crypto::PeerId>) { done = true; });
    loop_.RunUntilIdle();
    ASSERT_TRUE(done);
  }
  loop_.AdvanceTime(seconds(2));
  for (int i = 0; i < 5; ++i) {
    (void)nodes[1]->pubsub->Publish("t", AsBytes("m" + std::to_string(i)));
    loop_.AdvanceTime(seconds(1));
  }
  EXPECT_EQ(Delivered(nodes, "m4"), 2u);
  EXPECT_EQ(sink.size(), 0u);
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
