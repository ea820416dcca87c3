// GossipSub scenarios on the in-memory network and virtual time that need more than honest nodes: gossip
// across a pruned link, score penalties for invalid messages, broken IWANT promises, peer exchange with
// signed records, and a flood of hostile control traffic. Hostile peers are bare hosts that write
// varint-framed RPCs by hand. Time is advanced, never waited for.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/varint.h"
#include "libp2p/crypto/peer_record.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/peer_score.h"
#include "libp2p/pubsub/gossipsub/testing/scenario.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/pubsub/rpc/rpc_codec.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

class GossipSubScenariosTest : public ::testing::Test {
 protected:
  void Connect(Node& a, Node& b) { a.host->Dial(b.host->listen_addrs()[0], [](auto) {}); }
  size_t Delivered(const std::string& data) const { return gossipsub::Delivered(nodes_, data); }

  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
  std::vector<std::unique_ptr<Node>> nodes_;
};

// (a) A line of 20 nodes whose mesh is cut between nodes 9 and 10 (both sides PRUNEd with a long backoff):
// the mesh carries a message from node 0 only to node 9; node 9 gossips it (IHAVE) to node 10, which is
// subscribed but not in its mesh, asks for it (IWANT) and relays it through its own half of the mesh.
TEST_F(GossipSubScenariosTest, GossipCarriesAMessageAcrossACutMesh) {
  GossipSubOptions go;
  go.params.flood_publish = false;
  for (int i = 0; i < 20; ++i) nodes_.push_back(std::make_unique<Node>(&loop_, &net_, i, go));
  for (auto& n : nodes_) n->Join("t");
  for (int i = 0; i + 1 < 20; ++i) Connect(*nodes_[i], *nodes_[i + 1]);
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(2));
  for (int i = 0; i + 1 < 20; ++i) ASSERT_EQ(nodes_[i]->router->Mesh("t").count(nodes_[i + 1]->id()), 1u) << i;

  // Each side hears a PRUNE from the other (with a backoff longer than the test).
  pb::ControlMessage prune;
  prune.add_prune()->set_topicid("t");
  prune.mutable_prune(0)->set_backoff(600);
  nodes_[9]->router->HandleControl(nodes_[10]->id(), prune);
  nodes_[10]->router->HandleControl(nodes_[9]->id(), prune);
  ASSERT_EQ(nodes_[9]->router->Mesh("t").count(nodes_[10]->id()), 0u);
  ASSERT_EQ(nodes_[10]->router->Mesh("t").count(nodes_[9]->id()), 0u);

  ASSERT_TRUE(nodes_[0]->pubsub->Publish("t", AsBytes("across")).status.ok());
  loop_.RunUntilIdle();
  // The mesh alone: nodes 1..9.
  EXPECT_EQ(Delivered("across"), 9u);
  for (int i = 10; i < 20; ++i) EXPECT_TRUE(nodes_[i]->received.empty()) << i;

  // Within mcache_gossip heartbeats, gossip bridges the cut.
  loop_.AdvanceTime(go.params.heartbeat_interval * go.params.mcache_gossip);
  EXPECT_EQ(Delivered("across"), 19u);
  EXPECT_GT(nodes_[9]->router->stats().ihave_sent, 0u);
  EXPECT_GT(nodes_[10]->router->stats().iwant_sent, 0u);
  EXPECT_GT(nodes_[9]->router->stats().iwant_served, 0u);
  // The cut held: the backoff kept the link out of both meshes.
  EXPECT_EQ(nodes_[9]->router->Mesh("t").count(nodes_[10]->id()), 0u);
  EXPECT_EQ(nodes_[10]->router->Mesh("t").count(nodes_[9]->id()), 0u);
}

// (b) A receiver's validator rejects a sender's messages: P₄ makes the sender's score negative and the next
// heartbeat prunes it from the receiver's mesh.
TEST_F(GossipSubScenariosTest, InvalidMessagesMakeTheScoreNegativeAndPruneTheSender) {
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, ScoredOptions("t")));  // Receiver.
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 1, ScoredOptions("t")));  // Sender.
  Node& receiver = *nodes_[0];
  Node& sender = *nodes_[1];
  receiver.Join("t");
  sender.Join("t");
  receiver.pubsub->AddValidator("t", [](const pb::Message& m, std::function<void(ValidationResult)> done) {
    done(m.data().rfind("bad", 0) == 0 ? ValidationResult::kReject : ValidationResult::kAccept);
  });
  Connect(sender, receiver);
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(2));
  ASSERT_EQ(receiver.router->Mesh("t").count(sender.id()), 1u);
  EXPECT_GE(receiver.router->Score(sender.id()), 0);

  ASSERT_TRUE(sender.pubsub->Publish("t", AsBytes("bad-1")).status.ok());
  ASSERT_TRUE(sender.pubsub->Publish("t", AsBytes("bad-2")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(receiver.pubsub->stats().rejected, 2u);
  EXPECT_TRUE(receiver.received.empty());
  const double score = receiver.router->Score(sender.id());
  EXPECT_LT(score, 0);
  // Not graylisted yet: the PRUNE is the heartbeat's doing.
  EXPECT_GT(score, ScoredOptions("t").thresholds.graylist_threshold);
  EXPECT_EQ(receiver.router->Mesh("t").count(sender.id()), 1u);

  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(receiver.router->Mesh("t").count(sender.id()), 0u);
  EXPECT_TRUE(receiver.router->backoff().InBackoff(sender.id(), "t"));
  EXPECT_GT(sender.router->stats().prune_received, 0u);
  EXPECT_EQ(sender.router->Mesh("t").count(receiver.id()), 0u);
}

// (c) A raw peer advertises ids it never delivers: after iwant_followup_time the promise is broken, counted
// and penalised (P₇). A promise kept (the advertised message delivered in time) costs nothing.
TEST_F(GossipSubScenariosTest, BrokenIWantPromisesArePenalised) {
  GossipSubOptions go = ScoredOptions("t");
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go));
  Node& node = *nodes_[0];
  node.Join("t");
  RawPeer liar(&loop_, &net_, "liar", std::string(kMeshSubV11));
  liar.ConnectTo(node);
  RawPeer honest(&loop_, &net_, "honest-raw", std::string(kMeshSubV11));
  honest.ConnectTo(node);

  // The honest raw peer advertises a message it signed, and delivers it when asked.
  pb::Message msg;
  msg.set_topic("t");
  msg.set_data("kept");
  SignMessage(honest.key, 7, SignPolicy::kStrictSign, &msg);
  const std::string kept_id = JsDefaultMessageId(msg);
  pb::RPC ihave;
  ihave.mutable_control()->add_ihave()->set_topicid("t");
  ihave.mutable_control()->mutable_ihave(0)->add_messageids(kept_id);
  honest.Send(ihave);
  ASSERT_EQ(honest.IWantIdsReceived(), 1u);
  EXPECT_EQ(node.router->promise_count(), 1u);

  pb::RPC lie;
  lie.mutable_control()->add_ihave()->set_topicid("t");
  lie.mutable_control()->mutable_ihave(0)->add_messageids("never-1");
  lie.mutable_control()->mutable_ihave(0)->add_messageids("never-2");
  liar.Send(lie);
  EXPECT_EQ(liar.IWantIdsReceived(), 2u);
  EXPECT_EQ(node.router->promise_count(), 2u);
  EXPECT_EQ(node.router->stats().iwant_sent, 2u);

  loop_.AdvanceTime(milliseconds(500));
  pb::RPC delivery;
  *delivery.add_publish() = msg;
  honest.Send(delivery);
  ASSERT_EQ(node.received, std::vector<std::string>{"kept"});
  EXPECT_EQ(node.router->promise_count(), 1u);

  loop_.AdvanceTime(go.params.iwant_followup_time + go.params.heartbeat_interval);
  EXPECT_EQ(node.router->stats().broken_promises, 1u);
  EXPECT_EQ(node.router->promise_count(), 0u);
  EXPECT_LT(node.router->Score(liar.id()), 0);
  EXPECT_GE(node.router->Score(honest.id()), 0);
}

// (c2) A message asked for with IWANT keeps the promise as soon as it arrives and its validation starts, as
// in go: a slow validator costs the peer that delivered in time nothing.
TEST_F(GossipSubScenariosTest, APromiseIsKeptWhenValidationStarts) {
  GossipSubOptions go = ScoredOptions("t");
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go));
  Node& node = *nodes_[0];
  node.Join("t");
  std::vector<std::function<void(ValidationResult)>> waiting;
  node.pubsub->AddValidator("t", [&](const pb::Message&, std::function<void(ValidationResult)> done) {
    waiting.push_back(std::move(done));
  });
  RawPeer honest(&loop_, &net_, "honest-raw", std::string(kMeshSubV11));
  honest.ConnectTo(node);
  const pb::Message msg = SignedMessage(honest.key, "t", "slow to validate", 1);
  pb::RPC ihave;
  ihave.mutable_control()->add_ihave()->set_topicid("t");
  ihave.mutable_control()->mutable_ihave(0)->add_messageids(JsDefaultMessageId(msg));
  honest.Send(ihave);
  ASSERT_EQ(honest.IWantIdsReceived(), 1u);
  pb::RPC delivery;
  *delivery.add_publish() = msg;
  honest.Send(delivery);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(node.router->promise_count(), 0u);

  // The validator takes longer than iwant_followup_time (but less than validation_timeout).
  loop_.AdvanceTime(go.params.iwant_followup_time + go.params.heartbeat_interval);
  EXPECT_EQ(node.router->stats().broken_promises, 0u);
  EXPECT_GE(node.router->Score(honest.id()), 0);
  waiting[0](ValidationResult::kAccept);
  EXPECT_EQ(node.received, std::vector<std::string>{"slow to validate"});
}

// (c3) A message that finds the validation queue full is dropped unvalidated and left unseen: a later copy
// is validated and delivered, and the peer that delivered it in time for a promise is not penalised.
TEST_F(GossipSubScenariosTest, AFullValidationQueueLeavesTheMessageUnseenAndThePromiseKept) {
  GossipSubOptions go = ScoredOptions("t");
  PubSubOptions po;
  po.max_pending_validations = 1;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go, po));
  Node& node = *nodes_[0];
  node.Join("t");
  std::function<void(ValidationResult)> held;
  node.pubsub->AddValidator("t", [&](const pb::Message& m, std::function<void(ValidationResult)> done) {
    if (m.data() == "slow") {
      held = std::move(done);
    } else {
      done(ValidationResult::kAccept);
    }
  });
  RawPeer honest(&loop_, &net_, "honest-raw", std::string(kMeshSubV11));
  honest.ConnectTo(node);
  pb::RPC slow;
  *slow.add_publish() = SignedMessage(honest.key, "t", "slow", 1);
  honest.Send(slow);  // Fills the queue.
  ASSERT_TRUE(held);

  const pb::Message later = SignedMessage(honest.key, "t", "later", 2);
  const std::string later_id = JsDefaultMessageId(later);
  pb::RPC ihave;
  ihave.mutable_control()->add_ihave()->set_topicid("t");
  ihave.mutable_control()->mutable_ihave(0)->add_messageids(later_id);
  honest.Send(ihave);
  ASSERT_EQ(honest.IWantIdsReceived(), 1u);
  pb::RPC delivery;
  *delivery.add_publish() = later;
  honest.Send(delivery);
  EXPECT_EQ(node.pubsub->stats().ignored, 1u);
  EXPECT_FALSE(node.pubsub->HasSeen(later_id)) << "a message never validated was marked seen";
  EXPECT_EQ(node.router->promise_count(), 0u);

  loop_.AdvanceTime(go.params.iwant_followup_time + go.params.heartbeat_interval);
  EXPECT_EQ(node.router->stats().broken_promises, 0u);
  EXPECT_GE(node.router->Score(honest.id()), 0);

  held(ValidationResult::kAccept);
  honest.Send(delivery);  // Another copy, now that the queue has room.
  EXPECT_EQ(node.received, (std::vector<std::string>{"slow", "later"}));
  EXPECT_EQ(node.pubsub->stats().duplicates, 0u);
}

// (c4) A peer that sends us a message of our own (a replay: honest routers never send a message back to its
// author) has it refused and pays P₄; our handler never sees it.
TEST_F(GossipSubScenariosTest, OurOwnMessageFromAPeerIsRefusedAndPenalised) {
  GossipSubOptions go = ScoredOptions("t");
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go));
  Node& node = *nodes_[0];
  node.Join("t");
  RawPeer replayer(&loop_, &net_, "replayer", std::string(kMeshSubV11));
  replayer.ConnectTo(node);
  const pb::Message ours = SignedMessage(node.key, "t", "said by the node", 99);
  pb::RPC rpc;
  *rpc.add_publish() = ours;
  replayer.Send(rpc);
  EXPECT_TRUE(node.received.empty());
  EXPECT_EQ(node.pubsub->stats().rejected, 1u);
  EXPECT_FALSE(node.pubsub->HasSeen(JsDefaultMessageId(ours)));
  EXPECT_LT(node.router->Score(replayer.id()), 0);
}

// (d) Peer exchange: a PRUNE's offered peers are dialed only with a valid signed peer record whose peer id is
// the offered one; not ourselves, not a peer we already have.
TEST_F(GossipSubScenariosTest, PeerExchangeDialsOnlyValidSignedRecords) {
  GossipSubOptions trusting;  // Takes PX from anyone: no scoring, and a threshold of 0.
  trusting.thresholds.accept_px_threshold = 0;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, trusting));
  for (int i = 1; i < 3; ++i) nodes_.push_back(std::make_unique<Node>(&loop_, &net_, i));
  Node& b = *nodes_[0];  // Receives the PRUNEs.
  Node& c = *nodes_[1];  // The peer offered with a good record.
  Node& x = *nodes_[2];  // The peer offered with bad ones.
  b.Join("t");
  RawPeer pruner(&loop_, &net_, "pruner", std::string(kMeshSubV11));
  pruner.ConnectTo(b);

  auto record_of = [](Node& n) {
    const crypto::PeerRecord r{n.id(), 1, n.host->listen_addrs()};
    StatusOr<Bytes> signed_record = crypto::SignPeerRecord(n.key, r);
    EXPECT_TRUE(signed_record.ok());
    return ToString(*signed_record);
  };
  const std::string c_record = record_of(c);
  const std::string x_record = record_of(x);
  std::string x_tampered = x_record;
  x_tampered.back() ^= 1;  // The signature no longer verifies.

  pb::RPC bad;
  pb::ControlPrune* prune = bad.mutable_control()->add_prune();
  prune->set_topicid("t");
  prune->set_backoff(1);
  auto offer = [](pb::ControlPrune* p, const PeerId& id, const std::string& record) {
    pb::PeerInfo* info = p->add_peers();
    info->set_peerid(IdBytes(id));
    if (!record.empty()) info->set_signedpeerrecord(record);
  };
  offer(prune, x.id(), c_record);     // Mismatched: the record is c's.
  offer(prune, x.id(), x_tampered);   // Bad signature.
  offer(prune, x.id(), "garbage");    // Not an envelope.
  offer(prune, x.id(), "");           // No record.
  offer(prune, b.id(), record_of(b)); // Ourselves.
  pruner.Send(bad);
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(b.router->stats().prune_received, 1u);
  EXPECT_EQ(b.router->stats().px_dials, 0u);
  EXPECT_FALSE(b.host->IsConnected(x.id()));
  EXPECT_FALSE(b.host->IsConnected(c.id()));

  pb::RPC good;
  prune = good.mutable_control()->add_prune();
  prune->set_topicid("t");
  prune->set_backoff(1);
  offer(prune, c.id(), c_record);
  pruner.Send(good);
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(b.router->stats().px_dials, 1u);
  EXPECT_TRUE(b.host->IsConnected(c.id()));
  EXPECT_FALSE(b.host->IsConnected(x.id()));

  // The same offer again: c is a peer already, nothing is dialed.
  pruner.Send(good);
  EXPECT_EQ(b.router->stats().px_dials, 1u);
}

// Peer exchange end to end between our routers: identify delivers each peer's signed record, a leaving
// node's PRUNEs offer the topic's other peers with those records, and the pruned peers dial each other.
TEST_F(GossipSubScenariosTest, PeerExchangeBetweenOurRoutersDials) {
  GossipSubOptions offering;  // Node 0 offers peers, as a bootstrapper would.
  offering.do_px = true;
  GossipSubOptions trusting;  // Nodes 1 and 2 take the offers.
  trusting.thresholds.accept_px_threshold = 0;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, offering));
  for (int i = 1; i < 3; ++i) nodes_.push_back(std::make_unique<Node>(&loop_, &net_, i, trusting));
  for (auto& n : nodes_) n->Join("t");
  Connect(*nodes_[0], *nodes_[1]);
  Connect(*nodes_[0], *nodes_[2]);
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(2));
  ASSERT_EQ(nodes_[0]->router->Mesh("t").size(), 2u);
  ASSERT_FALSE(nodes_[1]->host->IsConnected(nodes_[2]->id()));
  // Node 0 leaves: its PRUNEs carry PX, offering each of nodes 1 and 2 the other.
  ASSERT_TRUE(nodes_[0]->pubsub->Unsubscribe("t").ok());
  loop_.AdvanceTime(seconds(1));
  EXPECT_GT(nodes_[1]->router->stats().prune_received, 0u);
  EXPECT_GT(nodes_[1]->router->stats().px_dials + nodes_[2]->router->stats().px_dials, 0u);
  EXPECT_TRUE(nodes_[1]->host->IsConnected(nodes_[2]->id()));
  // And they form a mesh of their own at the next heartbeat.
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(nodes_[1]->router->Mesh("t").count(nodes_[2]->id()), 1u);
  EXPECT_EQ(nodes_[2]->router->Mesh("t").count(nodes_[1]->id()), 1u);
}

// A PRUNE with a backoff of 0 (or none) means the default prune_backoff, as go reads it, not "no backoff".
TEST_F(GossipSubScenariosTest, APruneWithBackoffZeroGetsTheDefaultBackoff) {
  GossipSubOptions go;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go));
  Node& node = *nodes_[0];
  node.Join("t");
  RawPeer pruner(&loop_, &net_, "pruner", std::string(kMeshSubV11));
  pruner.ConnectTo(node);
  pb::RPC rpc;
  rpc.mutable_control()->add_prune()->set_topicid("t");
  rpc.mutable_control()->mutable_prune(0)->set_backoff(0);
  pruner.Send(rpc);
  loop_.AdvanceTime(go.params.prune_backoff / 2);
  EXPECT_TRUE(node.router->backoff().InBackoff(pruner.id(), "t"));
}

// P6: peers connecting from one IP beyond ip_colocation_factor_threshold lose score, a peer alone at its IP
// does not, and a whitelisted IP is exempt. The addresses are the connections' own (the memory network dials
// from each transport's address).
TEST_F(GossipSubScenariosTest, PeersCrowdedOnOneIpArePenalisedUnlessWhitelisted) {
  GossipSubOptions go = ScoredOptions("t");
  go.score_params->ip_colocation_factor_weight = -5;
  go.score_params->ip_colocation_factor_threshold = 2;
  go.score_params->ip_colocation_factor_whitelist = {"10.0.0.3"};
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go));
  Node& node = *nodes_[0];
  node.Join("t");
  const std::vector<std::string> ips = {"10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.2",
                                        "10.0.0.3", "10.0.0.3", "10.0.0.3"};
  for (size_t i = 0; i < ips.size(); ++i) {
    nodes_.push_back(std::make_unique<Node>(&loop_, &net_, static_cast<int>(i) + 1, GossipSubOptions{},
                                            PubSubOptions{}, ips[i]));
    nodes_.back()->Join("t");
    Connect(*nodes_.back(), node);
  }
  loop_.RunUntilIdle();
  for (size_t i = 0; i < ips.size(); ++i) {
    const double score = node.router->Score(nodes_[i + 1]->id());
    if (ips[i] == "10.0.0.1") {
      EXPECT_DOUBLE_EQ(score, -5.0) << i;  // (3 - 2)^2 * -5
    } else {
      EXPECT_DOUBLE_EQ(score, 0.0) << i;
    }
  }
}

// A graylisted peer's messages and control are ignored, but its subscription changes still land (as in go):
// otherwise we would keep sending to a peer that left the topic.
TEST_F(GossipSubScenariosTest, AGraylistedPeersUnsubscribeStillLands) {
  GossipSubOptions go = ScoredOptions("t");
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go));
  Node& node = *nodes_[0];
  node.Join("t");
  node.pubsub->AddValidator("t", [](const pb::Message&, auto done) { done(ValidationResult::kReject); });
  RawPeer bad(&loop_, &net_, "bad", std::string(kMeshSubV11));
  bad.ConnectTo(node);
  bad.Send(SubscriptionRpc({"t"}));
  ASSERT_EQ(node.pubsub->PeerTopics(bad.id()).count("t"), 1u);
  pb::RPC invalid;
  for (uint64_t seqno = 1; seqno <= 3; ++seqno) {
    *invalid.add_publish() = SignedMessage(bad.key, "t", "rejected " + std::to_string(seqno), seqno);
  }
  bad.Send(invalid);
  ASSERT_LT(node.router->Score(bad.id()), go.thresholds.graylist_threshold);
  ASSERT_EQ(node.router->AcceptRpcFrom(bad.id()), RpcAcceptance::kNone);
  bad.Send(SubscriptionRpc({"t"}, /*subscribe=*/false));
  EXPECT_EQ(node.pubsub->PeerTopics(bad.id()).count("t"), 0u);
}

// A floodsub peer has no mesh, so it is sent every message, but only while its score reaches the publish
// threshold (as in go): one that sent invalid messages gets nothing more from us.
TEST_F(GossipSubScenariosTest, AFloodsubPeerBelowThePublishThresholdIsNotSentMessages) {
  GossipSubOptions go = ScoredOptions("t");
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go));
  Node& node = *nodes_[0];
  node.Join("t");
  node.pubsub->AddValidator("t", [](const pb::Message& m, auto done) {
    done(m.data().rfind("bad", 0) == 0 ? ValidationResult::kReject : ValidationResult::kAccept);
  });
  RawPeer flooder(&loop_, &net_, "flooder", "/floodsub/1.0.0");
  flooder.ConnectTo(node);
  flooder.Send(SubscriptionRpc({"t"}));
  const auto messages_received = [&] {
    size_t n = 0;
    for (const pb::RPC& r : flooder.received) n += static_cast<size_t>(r.publish_size());
    return n;
  };
  ASSERT_TRUE(node.pubsub->Publish("t", AsBytes("while in good standing")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(messages_received(), 1u);
  pb::RPC invalid;
  for (uint64_t seqno = 1; seqno <= 3; ++seqno) {
    *invalid.add_publish() = SignedMessage(flooder.key, "t", "bad " + std::to_string(seqno), seqno);
  }
  flooder.Send(invalid);
  ASSERT_LT(node.router->Score(flooder.id()), go.thresholds.publish_threshold);
  ASSERT_TRUE(node.pubsub->Publish("t", AsBytes("after")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(messages_received(), 1u);
}

// Peer exchange by default, as in go: our PRUNEs offer no peers, and offers in PRUNEs we receive are not
// followed from a peer below accept_px_threshold (every peer, without scoring).
TEST_F(GossipSubScenariosTest, PeerExchangeIsOffByDefault) {
  for (int i = 0; i < 3; ++i) nodes_.push_back(std::make_unique<Node>(&loop_, &net_, i));
  for (auto& n : nodes_) n->Join("t");
  Connect(*nodes_[0], *nodes_[1]);
  Connect(*nodes_[0], *nodes_[2]);
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(2));
  RawPeer watcher(&loop_, &net_, "watcher", std::string(kMeshSubV11));
  watcher.ConnectTo(*nodes_[0]);
  watcher.Send(SubscriptionRpc({"t"}));
  loop_.AdvanceTime(seconds(2));
  ASSERT_TRUE(nodes_[0]->router->Mesh("t").count(watcher.id()));
  ASSERT_TRUE(nodes_[0]->pubsub->Unsubscribe("t").ok());
  loop_.AdvanceTime(seconds(1));
  size_t prunes = 0;
  for (const pb::RPC& r : watcher.received) {
    for (const auto& prune : r.control().prune()) {
      ++prunes;
      EXPECT_EQ(prune.peers_size(), 0) << "a PRUNE offered peers without do_px";
    }
  }
  EXPECT_GT(prunes, 0u);
  EXPECT_FALSE(nodes_[1]->host->IsConnected(nodes_[2]->id()));

  // An offer with a valid record, from a peer without the score to be trusted: not followed.
  RawPeer pruner(&loop_, &net_, "pruner", std::string(kMeshSubV11));
  pruner.ConnectTo(*nodes_[1]);
  pb::RPC offer;
  pb::ControlPrune* prune = offer.mutable_control()->add_prune();
  prune->set_topicid("t");
  pb::PeerInfo* info = prune->add_peers();
  info->set_peerid(IdBytes(nodes_[2]->id()));
  const crypto::PeerRecord record{nodes_[2]->id(), 1, nodes_[2]->host->listen_addrs()};
  info->set_signedpeerrecord(ToString(*crypto::SignPeerRecord(nodes_[2]->key, record)));
  pruner.Send(offer);
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(nodes_[1]->router->stats().px_dials, 0u);
  EXPECT_FALSE(nodes_[1]->host->IsConnected(nodes_[2]->id()));
}

// A stream of PRUNEs offering many peers: at most max_dialing dials run at once, at most max_pending offers
// wait, the rest are dropped.
TEST_F(GossipSubScenariosTest, PeerExchangeDialsAreBounded) {
  GossipSubOptions trusting;
  trusting.thresholds.accept_px_threshold = 0;
  trusting.params.prune_peers = 16;
  trusting.px_connector = {.max_pending = 20, .max_dialing = 4};
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, trusting));
  Node& node = *nodes_[0];
  node.Join("t");
  RawPeer pruner(&loop_, &net_, "pruner", std::string(kMeshSubV11));
  pruner.ConnectTo(node);
  // 5 PRUNEs of 16 offers each, for peers that do not exist (their dials never finish here: the memory
  // network has no listener at their addresses, and their leases outlast the test).
  for (int r = 0; r < 5; ++r) {
    pb::RPC rpc;
    pb::ControlPrune* prune = rpc.mutable_control()->add_prune();
    prune->set_topicid("t");
    for (int k = 0; k < 16; ++k) {
      const Ed25519PrivateKey key = KeyOf("offered-" + std::to_string(r * 16 + k));
      const PeerId id = PeerId::FromPublicKey(key.public_key());
      const crypto::PeerRecord record{id, 1, {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/" + std::to_string(20000 + r * 16 + k))}};
      pb::PeerInfo* info = prune->add_peers();
      info->set_peerid(IdBytes(id));
      info->set_signedpeerrecord(ToString(*crypto::SignPeerRecord(key, record)));
    }
    pruner.Send(rpc);
  }
  EXPECT_EQ(node.router->stats().px_dials, 4u);
  EXPECT_EQ(node.router->stats().px_offers_dropped, 5u * 16 - 4 - 20);
}

// Direct peers: dialed after direct_connect_initial_delay, never in a mesh, sent every message (flood
// publishing is off, so only directness carries them), and redialed within direct_connect_ticks heartbeats
// of losing the connection.
TEST_F(GossipSubScenariosTest, DirectPeersAreDialedKeptOutOfTheMeshAndReconnected) {
  GossipSubOptions go_b;
  go_b.params.flood_publish = false;
  go_b.direct_peers[PeerId::FromPublicKey(KeyOf("0").public_key())] = {};  // Direct, but b never dials it.
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 1, go_b));
  Node& b = *nodes_[0];
  GossipSubOptions go_a;
  go_a.params.flood_publish = false;
  go_a.params.direct_connect_ticks = 5;
  go_a.direct_peers[b.id()] = b.host->listen_addrs();  // Without /p2p/: the router appends b's id.
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go_a));
  Node& a = *nodes_[1];
  a.Join("t");
  b.Join("t");
  loop_.RunUntilIdle();
  EXPECT_FALSE(a.host->IsConnected(b.id()));
  loop_.AdvanceTime(seconds(1));
  ASSERT_TRUE(a.host->IsConnected(b.id()));
  loop_.AdvanceTime(seconds(3));
  EXPECT_TRUE(a.router->Mesh("t").empty());
  EXPECT_TRUE(b.router->Mesh("t").empty());
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("a-to-b")).status.ok());
  ASSERT_TRUE(b.pubsub->Publish("t", AsBytes("b-to-a")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(std::count(b.received.begin(), b.received.end(), "a-to-b"), 1);
  EXPECT_EQ(std::count(a.received.begin(), a.received.end(), "b-to-a"), 1);

  b.host->Disconnect(a.id());
  loop_.RunUntilIdle();
  ASSERT_FALSE(a.host->IsConnected(b.id()));
  loop_.AdvanceTime(seconds(5));
  EXPECT_TRUE(a.host->IsConnected(b.id()));
  EXPECT_EQ(a.router->stats().direct_dials, 2u);
  EXPECT_EQ(b.router->stats().direct_dials, 0u);
}

// A mesh peer made direct at run time leaves the mesh at once (both sides, through our PRUNE), is protected,
// gets every message we publish without being in any mesh, and is never grafted while direct; made ordinary
// again, it loses the protection and a heartbeat grafts it once the backoff is over.
TEST_F(GossipSubScenariosTest, APeerMadeDirectAtRunTimeLeavesTheMeshAndRemovedBecomesOrdinary) {
  GossipSubOptions go_a;
  go_a.params.flood_publish = false;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go_a));
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 1));
  Node& a = *nodes_[0];
  Node& b = *nodes_[1];
  a.Join("t");
  b.Join("t");
  Connect(a, b);
  loop_.AdvanceTime(seconds(2));
  ASSERT_EQ(a.router->Mesh("t").count(b.id()), 1u);
  ASSERT_EQ(b.router->Mesh("t").count(a.id()), 1u);

  ASSERT_TRUE(a.router->AddDirectPeer(b.id(), b.host->listen_addrs()).ok());
  loop_.RunUntilIdle();
  EXPECT_TRUE(a.router->IsDirect(b.id()));
  EXPECT_EQ(a.router->Mesh("t").count(b.id()), 0u);
  EXPECT_EQ(b.router->Mesh("t").count(a.id()), 0u);  // Our PRUNE.
  EXPECT_TRUE(a.host->connection_manager().IsProtected(b.id()));
  loop_.AdvanceTime(seconds(5));
  EXPECT_EQ(a.router->Mesh("t").count(b.id()), 0u);
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("to-direct")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(std::count(b.received.begin(), b.received.end(), "to-direct"), 1);
  EXPECT_EQ(a.router->stats().direct_dials, 0u);  // Connected already.

  ASSERT_TRUE(a.router->RemoveDirectPeer(b.id()).ok());
  EXPECT_EQ(a.router->RemoveDirectPeer(b.id()).code(), StatusCode::kNotFound);
  EXPECT_FALSE(a.router->IsDirect(b.id()));
  EXPECT_FALSE(a.host->connection_manager().IsProtected(b.id()));
  loop_.AdvanceTime(go_a.params.prune_backoff + seconds(3));  // The backoff of our PRUNE, and its slack.
  EXPECT_EQ(a.router->Mesh("t").count(b.id()), 1u);
  EXPECT_EQ(a.router->AddDirectPeer(a.id(), {}).code(), StatusCode::kInvalidArgument);
}

// A mesh peer is protected from the connection manager's trimming while it is in a mesh, and no longer once
// it has left every mesh (checked at each heartbeat).
TEST_F(GossipSubScenariosTest, MeshPeersAreProtectedUntilTheyLeaveTheMesh) {
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0));
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 1));
  Node& a = *nodes_[0];
  Node& b = *nodes_[1];
  a.Join("t");
  a.Join("u");
  b.Join("t");
  b.Join("u");
  Connect(a, b);
  loop_.AdvanceTime(seconds(2));
  ASSERT_EQ(a.router->Mesh("t").count(b.id()), 1u);
  EXPECT_TRUE(a.host->connection_manager().IsProtected(b.id()));
  EXPECT_EQ(a.router->StateCounts().protected_entries, 2u);

  ASSERT_TRUE(a.pubsub->Unsubscribe("t").ok());
  loop_.AdvanceTime(seconds(2));
  EXPECT_EQ(a.router->StateCounts().protected_entries, 1u);
  EXPECT_TRUE(a.host->connection_manager().IsProtected(b.id()));  // Still in the mesh of "u".
  ASSERT_TRUE(a.pubsub->Unsubscribe("u").ok());
  loop_.AdvanceTime(seconds(2));
  EXPECT_EQ(a.router->StateCounts().protected_entries, 0u);
  EXPECT_FALSE(a.host->connection_manager().IsProtected(b.id()));
}

// A direct peer added at run time that we are not connected to is dialed direct_connect_initial_delay later,
// and then again on the direct-connect schedule when the connection goes.
TEST_F(GossipSubScenariosTest, ADirectPeerAddedAtRunTimeIsDialedOnTheDirectConnectSchedule) {
  GossipSubOptions go_a;
  go_a.params.direct_connect_ticks = 5;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go_a));
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 1));
  Node& a = *nodes_[0];
  Node& b = *nodes_[1];
  a.Join("t");
  b.Join("t");
  loop_.AdvanceTime(seconds(2));
  ASSERT_FALSE(a.host->IsConnected(b.id()));
  ASSERT_TRUE(a.router->AddDirectPeer(b.id(), b.host->listen_addrs()).ok());
  loop_.AdvanceTime(go_a.params.direct_connect_initial_delay - milliseconds(1));
  EXPECT_FALSE(a.host->IsConnected(b.id()));
  loop_.AdvanceTime(milliseconds(1));
  loop_.RunUntilIdle();
  EXPECT_TRUE(a.host->IsConnected(b.id()));
  EXPECT_EQ(a.router->stats().direct_dials, 1u);
  loop_.AdvanceTime(seconds(3));
  EXPECT_TRUE(a.router->Mesh("t").empty());
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("a-to-b")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(std::count(b.received.begin(), b.received.end(), "a-to-b"), 1);

  b.host->Disconnect(a.id());
  loop_.RunUntilIdle();
  ASSERT_FALSE(a.host->IsConnected(b.id()));
  loop_.AdvanceTime(seconds(5));
  EXPECT_TRUE(a.host->IsConnected(b.id()));
  EXPECT_EQ(a.router->stats().direct_dials, 2u);
}

// IDONTWANT limits per peer and heartbeat: at most max_idontwant_messages control messages, and at most
// max_idontwant_entries_per_peer ids; both counts restart at the next heartbeat.
TEST_F(GossipSubScenariosTest, IDontWantIsCappedPerPeerAndHeartbeat) {
  GossipSubOptions go;
  go.params.max_idontwant_messages = 10;
  go.params.max_idontwant_entries_per_peer = 25;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go));
  Node& node = *nodes_[0];
  node.Join("t");
  RawPeer attacker(&loop_, &net_, "attacker", std::string(kMeshSubV12));
  attacker.ConnectTo(node);
  auto send_idontwants = [&](int messages, int ids_each, const std::string& prefix) {
    pb::RPC rpc;
    for (int m = 0; m < messages; ++m) {
      auto* d = rpc.mutable_control()->add_idontwant();
      for (int k = 0; k < ids_each; ++k) d->add_messageids(prefix + std::to_string(m) + "-" + std::to_string(k));
    }
    attacker.Send(rpc);
  };
  send_idontwants(50, 1, "a");  // 50 messages: the first 10 count.
  EXPECT_EQ(node.router->stats().idontwant_received, 10u);
  EXPECT_EQ(node.router->dont_send_entries(attacker.id()), 10u);
  loop_.AdvanceTime(seconds(1));  // A heartbeat: the message count restarts.
  send_idontwants(2, 20, "b");    // 40 ids: the first 25 count.
  EXPECT_EQ(node.router->stats().idontwant_received, 35u);
  EXPECT_LE(node.router->dont_send_entries(attacker.id()), 25u);
}

// The IDONTWANTs for the large messages of one read go out together when the loop comes back, at most ten
// ids per RPC (go-libp2p reads no more from one), to every v1.2 mesh peer but the sender.
TEST_F(GossipSubScenariosTest, IDontWantsOfOneReadAreBatchedTenIdsPerRpc) {
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0));
  Node& node = *nodes_[0];
  node.Join("t");
  RawPeer sender(&loop_, &net_, "sender", std::string(kMeshSubV12));
  RawPeer watcher(&loop_, &net_, "watcher", std::string(kMeshSubV12));
  pb::RPC join;
  join.add_subscriptions()->set_subscribe(true);
  join.mutable_subscriptions(0)->set_topicid("t");
  join.mutable_control()->add_graft()->set_topicid("t");
  for (RawPeer* r : {&sender, &watcher}) {
    r->ConnectTo(node);
    r->Send(join);
  }
  ASSERT_EQ(node.router->Mesh("t").size(), 2u);

  const Ed25519PrivateKey author = KeyOf("author");
  pb::RPC batch;
  for (int i = 0; i < 25; ++i) {
    pb::Message* m = batch.add_publish();
    m->set_topic("t");
    m->set_data(std::string(2048, static_cast<char>('a' + i)));
    SignMessage(author, static_cast<uint64_t>(i + 1), SignPolicy::kStrictSign, m);
  }
  watcher.received.clear();
  sender.received.clear();
  sender.Send(batch);
  ASSERT_EQ(node.received.size(), 25u);
  std::vector<int> ids_per_rpc;
  for (const pb::RPC& r : watcher.received) {
    if (r.control().idontwant_size() == 0) continue;
    int ids = 0;
    for (const auto& idw : r.control().idontwant()) ids += idw.messageids_size();
    ids_per_rpc.push_back(ids);
  }
  EXPECT_EQ(ids_per_rpc, (std::vector<int>{10, 10, 5}));
  for (const pb::RPC& r : sender.received) EXPECT_EQ(r.control().idontwant_size(), 0);
  EXPECT_EQ(node.router->stats().idontwant_sent, 25u);
}

// (e) A flood of hostile control traffic leaves everything bounded.
TEST_F(GossipSubScenariosTest, ControlFloodStaysBounded) {
  GossipSubOptions go;
  go.params.max_idontwant_entries_per_peer = 100;
  PubSubOptions po;
  po.max_subscriptions_per_peer = 16;
  po.peer.max_control_bytes = 64 * 1024;
  po.peer.max_data_bytes = 256 * 1024;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go, po));
  Node& node = *nodes_[0];
  node.Join("t");
  RawPeer attacker(&loop_, &net_, "attacker", std::string(kMeshSubV12));
  attacker.ConnectTo(node);
  const PeerId& a = attacker.id();

  // Subscriptions beyond the per-peer limit.
  pb::RPC subs;
  for (int i = 0; i < 100; ++i) {
    auto* s = subs.add_subscriptions();
    s->set_subscribe(true);
    s->set_topicid("s" + std::to_string(i));
  }
  attacker.Send(subs);
  EXPECT_EQ(node.pubsub->PeerTopics(a).size(), po.max_subscriptions_per_peer);

  // GRAFTs for topics we are not in: no mesh, no backoff entry, no reply.
  const size_t received_before = attacker.received.size();
  pb::RPC grafts;
  for (int i = 0; i < 500; ++i) grafts.mutable_control()->add_graft()->set_topicid("g" + std::to_string(i));
  attacker.Send(grafts);
  EXPECT_EQ(node.router->stats().graft_received, 500u);
  EXPECT_TRUE(node.router->Mesh("g0").empty());
  EXPECT_EQ(node.router->backoff().size(), 0u);
  EXPECT_EQ(attacker.received.size(), received_before);

  // Two RPCs of 50 IHAVEs of 100 fresh ids each within a heartbeat: at most max_ihave_length ids asked for,
  // one IWANT and one promise per RPC taken.
  for (int round = 0; round < 2; ++round) {
    pb::RPC ihaves;
    for (int i = 0; i < 50; ++i) {
      auto* ih = ihaves.mutable_control()->add_ihave();
      ih->set_topicid("t");
      for (int k = 0; k < 100; ++k) ih->add_messageids("r" + std::to_string(round) + "-" + std::to_string(i * 100 + k));
    }
    attacker.Send(ihaves);
  }
  EXPECT_LE(node.router->stats().iwant_sent, static_cast<uint64_t>(go.params.max_ihave_messages));
  EXPECT_LE(node.router->promise_count(), static_cast<size_t>(go.params.max_ihave_messages));
  EXPECT_LE(attacker.IWantIdsReceived(), static_cast<size_t>(go.params.max_ihave_length));

  // IWANTs for ids we never had: nothing is served.
  pb::RPC iwants;
  auto* iw = iwants.mutable_control()->add_iwant();
  for (int k = 0; k < 5000; ++k) iw->add_messageids("unknown-" + std::to_string(k));
  attacker.Send(iwants);
  EXPECT_EQ(node.router->stats().iwant_served, 0u);

  // IDONTWANTs beyond the per-peer bound.
  for (int round = 0; round < 3; ++round) {
    pb::RPC idw;
    auto* d = idw.mutable_control()->add_idontwant();
    for (int k = 0; k < 1000; ++k) d->add_messageids("idw-" + std::to_string(round) + "-" + std::to_string(k));
    attacker.Send(idw);
  }
  EXPECT_LE(node.router->dont_send_entries(a), static_cast<size_t>(go.params.max_idontwant_entries_per_peer));

  // PRUNEs with the largest backoff, for many topics we are not in: no backoff entry at all; for ours, one.
  pb::RPC prunes;
  for (int i = 0; i < 1000; ++i) {
    auto* p = prunes.mutable_control()->add_prune();
    p->set_topicid(i == 999 ? "t" : "p" + std::to_string(i));
    p->set_backoff(UINT64_MAX);
  }
  attacker.Send(prunes);
  EXPECT_EQ(node.router->backoff().size(), 1u);

  PubSubPeer* peer = node.pubsub->FindPeer(a);
  ASSERT_NE(peer, nullptr);
  EXPECT_LE(peer->queued_bytes(), po.peer.max_control_bytes + po.peer.max_data_bytes);

  // Heartbeats pass: the promises expire (broken), the per-heartbeat counters reset, and still bounded.
  loop_.AdvanceTime(seconds(10));
  EXPECT_EQ(node.router->promise_count(), 0u);
  EXPECT_EQ(node.router->stats().broken_promises, node.router->stats().iwant_sent);
  EXPECT_LE(node.router->dont_send_entries(a), static_cast<size_t>(go.params.max_idontwant_entries_per_peer));
  EXPECT_LE(node.pubsub->PeerTopics(a).size(), po.max_subscriptions_per_peer);
  EXPECT_LE(peer->queued_bytes(), po.peer.max_control_bytes + po.peer.max_data_bytes);
}

// go sends the IHAVEs of all its topics in one RPC per heartbeat: that RPC counts once against
// max_ihave_messages, so a peer sharing more topics than that is still heard on every topic; an id repeated
// within the RPC is asked for once.
TEST_F(GossipSubScenariosTest, TheIHavesOfOneRpcCountOnceAndRepeatedIdsAreAskedOnce) {
  GossipSubOptions go;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go));
  Node& node = *nodes_[0];
  const int topics = go.params.max_ihave_messages + 5;
  for (int t = 0; t < topics; ++t) node.Join("t" + std::to_string(t));
  RawPeer gossiper(&loop_, &net_, "gossiper", std::string(kMeshSubV11));
  gossiper.ConnectTo(node);
  pb::RPC rpc;
  for (int t = 0; t < topics; ++t) {
    auto* ih = rpc.mutable_control()->add_ihave();
    ih->set_topicid("t" + std::to_string(t));
    ih->add_messageids("id-" + std::to_string(t));
    ih->add_messageids("id-0");
  }
  gossiper.Send(rpc);
  EXPECT_EQ(gossiper.IWantIdsReceived(), static_cast<size_t>(topics));
  EXPECT_EQ(node.router->stats().iwant_sent, 1u);
  EXPECT_EQ(node.router->promise_count(), 1u);
  // More RPCs within the heartbeat: max_ihave_messages of them in all are heard, the rest ignored.
  for (int r = 0; r < go.params.max_ihave_messages; ++r) {
    pb::RPC more;
    auto* ih = more.mutable_control()->add_ihave();
    ih->set_topicid("t0");
    ih->add_messageids("more-" + std::to_string(r));
    gossiper.Send(more);
  }
  EXPECT_EQ(node.router->stats().iwant_sent, static_cast<uint64_t>(go.params.max_ihave_messages));
  EXPECT_EQ(gossiper.IWantIdsReceived(), static_cast<size_t>(topics + go.params.max_ihave_messages - 1));
}

// What our router sends fits what go and rust accept: busy topics' IHAVEs for one peer are capped at
// max_ihave_length ids per heartbeat and split into RPCs of at most 16 KiB of control, no more of them than
// a go peer reads per heartbeat; and our own decoder takes each whole.
TEST_F(GossipSubScenariosTest, GossipForOnePeerFitsWhatGoAndRustAccept) {
  GossipSubOptions go;
  go.params.flood_publish = false;
  PubSubOptions po;
  po.sign_policy = SignPolicy::kStrictNoSign;  // Publishing 9000 messages quickly.
  po.peer.max_control_bytes = 4 << 20;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go, po));
  Node& node = *nodes_[0];
  const std::vector<std::string> topics = {"t0", "t1", "t2"};
  for (const std::string& t : topics) node.Join(t);
  RawPeer watcher(&loop_, &net_, "watcher", std::string(kMeshSubV11));
  watcher.ConnectTo(node);
  watcher.Send(SubscriptionRpc(topics));
  // Kept out of the mesh (a PRUNE with a long backoff), so that it gets gossip instead of messages.
  pb::RPC prune;
  for (const std::string& t : topics) {
    auto* p = prune.mutable_control()->add_prune();
    p->set_topicid(t);
    p->set_backoff(600);
  }
  watcher.Send(prune);
  loop_.AdvanceTime(seconds(2));
  for (const std::string& t : topics) ASSERT_EQ(node.router->Mesh(t).count(watcher.id()), 0u);
  for (const std::string& t : topics) {
    for (int i = 0; i < 3000; ++i) ASSERT_TRUE(node.pubsub->Publish(t, AsBytes(t + "-" + std::to_string(i))).status.ok());
  }
  loop_.RunUntilIdle();
  watcher.received.clear();
  loop_.AdvanceTime(go.params.heartbeat_interval);
  size_t ihave_rpcs = 0, ids = 0;
  for (const pb::RPC& rpc : watcher.received) {
    if (rpc.control().ihave_size() == 0) continue;
    ++ihave_rpcs;
    EXPECT_LE(rpc.control().ByteSizeLong(), kMaxControlBytesPerRpc);
    for (const auto& e : rpc.control().ihave()) ids += static_cast<size_t>(e.messageids_size());
    RpcCounts counts;
    ASSERT_TRUE(DecodeRpc(AsBytes(rpc.SerializeAsString()), RpcLimits{}, &counts).ok());
    EXPECT_EQ(counts.left_out, 0u);
  }
  EXPECT_GT(ids, 2000u) << "the cap is not meant to starve gossip";
  EXPECT_LE(ids, static_cast<size_t>(go.params.max_ihave_length));
  EXPECT_LE(ihave_rpcs, static_cast<size_t>(go.params.max_ihave_messages));
}

// A node in many topics tells a new peer in RPCs of at most 16 KiB of subscriptions each, all of them.
TEST_F(GossipSubScenariosTest, ManySubscriptionsGoOutInRpcsWithin16KiB) {
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0));
  Node& node = *nodes_[0];
  for (int i = 0; i < 1000; ++i) node.Join("a-topic-name-of-some-length-" + std::to_string(i));
  RawPeer peer(&loop_, &net_, "peer", std::string(kMeshSubV11));
  peer.ConnectTo(node);
  size_t subscriptions = 0, rpcs = 0;
  for (const pb::RPC& rpc : peer.received) {
    if (rpc.subscriptions_size() == 0) continue;
    ++rpcs;
    size_t bytes = 0;
    for (const auto& sub : rpc.subscriptions()) bytes += sub.ByteSizeLong() + 3;
    EXPECT_LE(bytes, kMaxControlBytesPerRpc);
    subscriptions += static_cast<size_t>(rpc.subscriptions_size());
  }
  EXPECT_EQ(subscriptions, 1000u);
  EXPECT_GT(rpcs, 1u);
}

// A v1.2 mesh peer that said IDONTWANT for a message is not sent it when the message arrives later.
TEST_F(GossipSubScenariosTest, AnIDontWantIsHonoured) {
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0));
  Node& node = *nodes_[0];
  node.Join("t");
  RawPeer picky(&loop_, &net_, "picky", std::string(kMeshSubV12));
  RawPeer other(&loop_, &net_, "other", std::string(kMeshSubV12));
  for (RawPeer* p : {&picky, &other}) {
    p->ConnectTo(node);
    p->Send(SubscriptionRpc({"t"}));
  }
  loop_.AdvanceTime(seconds(2));
  ASSERT_EQ(node.router->Mesh("t").count(picky.id()), 1u);
  const pb::Message msg = SignedMessage(other.key, "t", std::string(2048, 'm'), 1);
  pb::RPC idontwant;
  idontwant.mutable_control()->add_idontwant()->add_messageids(JsDefaultMessageId(msg));
  picky.Send(idontwant);
  const auto copies = [&] {
    size_t n = 0;
    for (const pb::RPC& r : picky.received) n += static_cast<size_t>(r.publish_size());
    return n;
  };
  const size_t before = copies();
  pb::RPC delivery;
  *delivery.add_publish() = msg;
  other.Send(delivery);
  ASSERT_EQ(node.received.size(), 1u);
  EXPECT_EQ(copies(), before);
  EXPECT_EQ(node.router->stats().sends_skipped_idontwant, 1u);
}

// v1.1: a GRAFT during the backoff we were given (here, right after the peer's own PRUNE) costs P7 (twice
// when it comes within graft_flood_threshold of the PRUNE), is answered with a PRUNE without PX, and
// restarts the backoff.
TEST_F(GossipSubScenariosTest, AGraftDuringBackoffIsPenalisedRefusedAndRestartsTheBackoff) {
  GossipSubOptions go = ScoredOptions("t");
  go.do_px = true;  // Even so, the answering PRUNE offers no peers.
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go));
  Node& node = *nodes_[0];
  node.Join("t");
  RawPeer eager(&loop_, &net_, "eager", std::string(kMeshSubV11));
  eager.ConnectTo(node);
  eager.Send(SubscriptionRpc({"t"}));
  pb::RPC prune;
  prune.mutable_control()->add_prune()->set_topicid("t");
  prune.mutable_control()->mutable_prune(0)->set_backoff(
      static_cast<uint64_t>(std::chrono::duration_cast<seconds>(go.params.prune_backoff).count()));
  eager.Send(prune);
  ASSERT_TRUE(node.router->backoff().InBackoff(eager.id(), "t"));
  pb::RPC graft;
  graft.mutable_control()->add_graft()->set_topicid("t");
  const size_t before = eager.received.size();
  eager.Send(graft);
  EXPECT_EQ(node.router->Mesh("t").count(eager.id()), 0u);
  // Two P7 counts: -10 * 2^2.
  EXPECT_DOUBLE_EQ(node.router->Score(eager.id()), -40.0);
  ASSERT_GT(eager.received.size(), before);
  const pb::RPC& answer = eager.received.back();
  ASSERT_EQ(answer.control().prune_size(), 1);
  EXPECT_EQ(answer.control().prune(0).topicid(), "t");
  EXPECT_EQ(answer.control().prune(0).peers_size(), 0);

  // Later, but within the backoff: one more count, and the backoff starts again from now.
  loop_.AdvanceTime(go.params.prune_backoff / 2);
  const double decayed = node.router->Score(eager.id());
  eager.Send(graft);
  EXPECT_EQ(node.router->Mesh("t").count(eager.id()), 0u);
  EXPECT_LT(node.router->Score(eager.id()), decayed) << "the second GRAFT cost nothing";
  loop_.AdvanceTime(go.params.prune_backoff * 3 / 4);  // Past the first backoff, within the restarted one.
  EXPECT_TRUE(node.router->backoff().InBackoff(eager.id(), "t"));
}

// v1.1: a GRAFT from an inbound peer when the mesh has d_hi members is refused (PRUNE and backoff); one from
// a peer we dialed is accepted beyond d_hi, so that an attacker filling our mesh from outside cannot keep
// our outbound peers out.
TEST_F(GossipSubScenariosTest, AtDHiInboundGraftsAreRefusedButOutboundOnesAccepted) {
  GossipSubOptions go;
  go.params.d = 2;
  go.params.d_lo = 1;
  go.params.d_hi = 3;
  go.params.d_score = 1;
  go.params.d_out = 0;
  go.params.d_lazy = 1;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go));
  Node& node = *nodes_[0];
  node.Join("t");
  for (int i = 1; i <= 5; ++i) nodes_.push_back(std::make_unique<Node>(&loop_, &net_, i));
  for (int i = 1; i <= 4; ++i) Connect(*nodes_[i], node);  // Inbound for node.
  Connect(node, *nodes_[5]);                               // Outbound.
  loop_.RunUntilIdle();  // No time passes: no heartbeat reshapes the mesh meanwhile.
  pb::ControlMessage graft;
  graft.add_graft()->set_topicid("t");
  for (int i = 1; i <= 3; ++i) node.router->HandleControl(nodes_[i]->id(), graft);
  ASSERT_EQ(node.router->Mesh("t").size(), 3u);
  node.router->HandleControl(nodes_[4]->id(), graft);
  EXPECT_EQ(node.router->Mesh("t").count(nodes_[4]->id()), 0u);
  EXPECT_TRUE(node.router->backoff().InBackoff(nodes_[4]->id(), "t"));
  node.router->HandleControl(nodes_[5]->id(), graft);
  EXPECT_EQ(node.router->Mesh("t").count(nodes_[5]->id()), 1u);
  EXPECT_EQ(node.router->Mesh("t").size(), 4u);
}

// Regression: a message failing its signature check was once reported to the score as a validator
// rejection, which marks its id invalid. An attacker could send a forged copy (same from and seqno, hence
// the same id, bad signature) ahead of the genuine message; then the honest first deliverer earned no P2
// and every honest peer forwarding the genuine message later paid P4. The reject kind now reaches the score.
TEST_F(GossipSubScenariosTest, ForgedSignatureDoesNotTaintTheGenuineMessageId) {
  GossipSubOptions go = ScoredOptions("t");
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go));
  Node& node = *nodes_[0];
  node.Join("t");
  RawPeer forger(&loop_, &net_, "forger", std::string(kMeshSubV11));
  RawPeer first(&loop_, &net_, "first", std::string(kMeshSubV11));
  RawPeer second(&loop_, &net_, "second", std::string(kMeshSubV11));
  for (RawPeer* r : {&forger, &first, &second}) r->ConnectTo(node);

  const Ed25519PrivateKey author = KeyOf("author");
  pb::Message genuine;
  genuine.set_topic("t");
  genuine.set_data("genuine");
  SignMessage(author, 42, SignPolicy::kStrictSign, &genuine);
  pb::Message forged = genuine;
  forged.mutable_signature()->back() ^= 1;
  ASSERT_EQ(JsDefaultMessageId(forged), JsDefaultMessageId(genuine));

  pb::RPC rpc;
  *rpc.add_publish() = forged;
  forger.Send(rpc);
  EXPECT_EQ(node.pubsub->stats().rejected, 1u);
  EXPECT_LT(node.router->Score(forger.id()), 0);  // The forger pays, rightly.

  *rpc.mutable_publish(0) = genuine;
  first.Send(rpc);
  ASSERT_EQ(node.received, std::vector<std::string>{"genuine"});
  second.Send(rpc);
  EXPECT_EQ(node.pubsub->stats().duplicates, 1u);

  EXPECT_GT(node.router->Score(first.id()), 0);   // P₂ for the first valid delivery.
  EXPECT_GE(node.router->Score(second.id()), 0);  // A copy of a valid message costs nothing.

  // Once the id is seen, copies are not verified again: a forged one now counts as a duplicate, and is
  // neither delivered nor rejected.
  *rpc.mutable_publish(0) = forged;
  forger.Send(rpc);
  EXPECT_EQ(node.pubsub->stats().duplicates, 2u);
  EXPECT_EQ(node.pubsub->stats().rejected, 1u);
  EXPECT_EQ(node.received, std::vector<std::string>{"genuine"});
}

// Validation throttled on a topic turns the peer gater on: a peer whose messages were all rejected has the
// messages of nearly all its RPCs dropped unread (their control still handled), while a peer whose messages
// were delivered is read in full.
TEST_F(GossipSubScenariosTest, WhileValidationIsThrottledThePeerGaterDropsMessagesOfPeersWithAPoorRecord) {
  PubSubOptions po;
  po.max_pending_validations_per_topic = 2;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, GossipSubOptions{}, po));
  Node& node = *nodes_[0];
  node.Join("t");
  std::vector<std::function<void(ValidationResult)>> held;
  node.pubsub->AddValidator("t", [&](const pb::Message& m, std::function<void(ValidationResult)> done) {
    if (m.data().rfind("bad", 0) == 0) return done(ValidationResult::kReject);
    if (m.data().rfind("slow", 0) == 0) return held.push_back(std::move(done));
    done(ValidationResult::kAccept);
  });
  RawPeer honest(&loop_, &net_, "gater-honest", std::string(kMeshSubV11), "127.0.0.2");
  RawPeer bad(&loop_, &net_, "gater-bad", std::string(kMeshSubV11), "127.0.0.3");
  honest.ConnectTo(node);
  bad.ConnectTo(node);
  uint64_t seqno = 0;
  for (int i = 0; i < 10; ++i) {
    pb::RPC h, b;
    *h.add_publish() = SignedMessage(honest.key, "t", "good " + std::to_string(i), ++seqno);
    *b.add_publish() = SignedMessage(bad.key, "t", "bad " + std::to_string(i), ++seqno);
    honest.Send(h);
    bad.Send(b);
  }
  ASSERT_EQ(node.received.size(), 10u);
  ASSERT_EQ(node.pubsub->stats().rejected, 10u);
  ASSERT_FALSE(node.router->peer_gater()->Active());
  // Two slow messages fill the topic's validation; the next ten find no room.
  for (int i = 0; i < 12; ++i) {
    pb::RPC h;
    *h.add_publish() = SignedMessage(honest.key, "t", "slow " + std::to_string(i), ++seqno);
    honest.Send(h);
  }
  ASSERT_EQ(held.size(), 2u);
  ASSERT_EQ(node.pubsub->stats().throttled, 10u);
  ASSERT_TRUE(node.router->peer_gater()->Active());
  ASSERT_EQ(node.router->stats().rpcs_gated, 0u);

  // The bad peer's goodput is 1 / (1 + 16 * 10): about one RPC in 161 is read.
  const uint64_t rejected_before = node.pubsub->stats().rejected;
  for (int i = 0; i < 100; ++i) {
    pb::RPC b;
    *b.add_publish() = SignedMessage(bad.key, "t", "bad more " + std::to_string(i), ++seqno);
    b.mutable_control()->add_graft()->set_topicid("t");  // Control is still handled.
    bad.Send(b);
  }
  EXPECT_GE(node.router->stats().rpcs_gated, 95u);
  EXPECT_LE(node.pubsub->stats().rejected - rejected_before, 5u);
  EXPECT_EQ(node.router->stats().graft_received, 100u);
  // The honest peer is read in full (its slow messages are still waiting: no room for more on "t").
  for (auto& done : held) done(ValidationResult::kAccept);
  const uint64_t gated_before = node.router->stats().rpcs_gated;
  for (int i = 0; i < 20; ++i) {
    pb::RPC h;
    *h.add_publish() = SignedMessage(honest.key, "t", "good later " + std::to_string(i), ++seqno);
    honest.Send(h);
  }
  EXPECT_EQ(node.router->stats().rpcs_gated, gated_before);
  EXPECT_EQ(node.received.size(), 10u + 2u + 20u);
}

// A peer's subscriptions are bounded in bytes as well as in number: 100 topics of 1000 bytes pass the count
// (1024) but only 65 fit in 64 KiB; unsubscribing gives the bytes back.
TEST_F(GossipSubScenariosTest, APeersTopicNamesAreBoundedInBytes) {
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0));
  Node& node = *nodes_[0];
  RawPeer peer(&loop_, &net_, "topic-bytes", std::string(kMeshSubV11));
  peer.ConnectTo(node);
  auto topic = [](int i) { return std::string(996, 'x') + std::to_string(1000 + i); };  // 1000 bytes.
  for (int i = 0; i < 100; ++i) peer.Send(SubscriptionRpc({topic(i)}));
  EXPECT_EQ(node.pubsub->PeerTopics(peer.id()).size(), 65u);
  EXPECT_EQ(node.pubsub->stats().subscriptions_refused, 35u);
  peer.Send(SubscriptionRpc({topic(0)}, /*subscribe=*/false));
  peer.Send(SubscriptionRpc({topic(99)}));
  EXPECT_EQ(node.pubsub->PeerTopics(peer.id()).size(), 65u);
  EXPECT_EQ(node.pubsub->PeerTopics(peer.id()).count(topic(99)), 1u);
}

// When we join a topic, a peer hears our SUBSCRIBE before our GRAFT (as go sends them).
TEST_F(GossipSubScenariosTest, OurSubscriptionIsAnnouncedBeforeOurGraft) {
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0));
  Node& node = *nodes_[0];
  RawPeer peer(&loop_, &net_, "announce-order", std::string(kMeshSubV11));
  peer.ConnectTo(node);
  peer.Send(SubscriptionRpc({"t"}));
  node.Join("t");
  loop_.RunUntilIdle();
  int subscribed_at = -1, grafted_at = -1;
  for (size_t i = 0; i < peer.received.size(); ++i) {
    const pb::RPC& r = peer.received[i];
    for (const auto& sub : r.subscriptions()) {
      if (sub.topicid() == "t" && sub.subscribe() && subscribed_at < 0) subscribed_at = static_cast<int>(i);
    }
    if (r.control().graft_size() > 0 && grafted_at < 0) grafted_at = static_cast<int>(i);
  }
  ASSERT_GE(subscribed_at, 0);
  ASSERT_GE(grafted_at, 0);
  EXPECT_LT(subscribed_at, grafted_at);
}

// The score decays every decay_interval, whatever the heartbeat: with 1.5 s against a 1 s heartbeat, a
// first delivery (P₂ = 1, decay 0.5) is still whole after the first heartbeat and halved after 1.5 s.
TEST_F(GossipSubScenariosTest, TheScoreDecaysOnItsOwnInterval) {
  GossipSubOptions go;
  PeerScoreParams sp;
  TopicScoreParams tp;
  tp.topic_weight = 1;
  tp.time_in_mesh_weight = 0;
  tp.first_message_deliveries_weight = 1;
  tp.first_message_deliveries_decay = 0.5;
  tp.mesh_message_deliveries_weight = 0;
  tp.mesh_failure_penalty_weight = 0;
  tp.invalid_message_deliveries_weight = 0;
  sp.topics["t"] = tp;
  sp.decay_interval = milliseconds(1500);
  sp.ip_colocation_factor_weight = 0;
  ASSERT_TRUE(sp.Validate().ok());
  go.score_params = sp;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go));
  Node& node = *nodes_[0];
  node.Join("t");
  RawPeer peer(&loop_, &net_, "decay", std::string(kMeshSubV11));
  peer.ConnectTo(node);
  peer.Send(SubscriptionRpc({"t"}));
  pb::RPC rpc;
  *rpc.add_publish() = SignedMessage(peer.key, "t", "first", 1);
  peer.Send(rpc);
  ASSERT_DOUBLE_EQ(node.router->Score(peer.id()), 1);
  loop_.AdvanceTime(milliseconds(1100));  // A heartbeat (at 100 ms) has run, and one more is near.
  ASSERT_GE(node.router->stats().heartbeats, 1u);
  EXPECT_DOUBLE_EQ(node.router->Score(peer.id()), 1);
  loop_.AdvanceTime(milliseconds(400));  // 1.5 s since the router started.
  EXPECT_DOUBLE_EQ(node.router->Score(peer.id()), 0.5);
}

// A mesh peer that stops reading: our messages pile up in its send lanes until they are dropped (full) or
// expire, so every heartbeat raises its slow-peer counter. Its score goes below 0 at the first such
// heartbeat, which prunes it, and below the gossip threshold within a few more (a weight and decay harsher
// than rust's defaults, which stop at -0.25); a mesh peer that reads is neither penalised nor pruned.
// Scoring on "t" with a slow-peer term strong enough to take a slow peer below the gossip threshold.
GossipSubOptions SlowPeerScoring() {
  GossipSubOptions go = ScoredOptions("t");
  go.score_params->slow_peer_weight = -4;
  go.score_params->slow_peer_decay = 0.8;
  EXPECT_TRUE(go.score_params->Validate().ok());
  return go;
}

TEST_F(GossipSubScenariosTest, APeerThatStopsReadingIsPenalisedAndPrunedWhileAHealthyOneIsNot) {
  const GossipSubOptions go = SlowPeerScoring();
  PubSubOptions po;
  po.peer.max_data_bytes = 128 * 1024;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go, po));
  Node& node = *nodes_[0];
  node.Join("t");
  RawPeer healthy(&loop_, &net_, "healthy", std::string(kMeshSubV11));
  RawPeer slow(&loop_, &net_, "slow", std::string(kMeshSubV11));
  for (RawPeer* p : {&healthy, &slow}) {
    p->ConnectTo(node);
    p->Send(JoinRpc("t"));
  }
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(node.router->Mesh("t").count(healthy.id()), 1u);
  ASSERT_EQ(node.router->Mesh("t").count(slow.id()), 1u);
  ASSERT_GE(node.router->Score(slow.id()), 0);

  slow.PauseReading(true);
  const uint64_t start = node.router->stats().heartbeats;
  std::optional<uint64_t> negative_at, below_gossip_at, pruned_at;
  for (int i = 0; i < 100; ++i) {  // 10 s of a 64 KiB message every 100 ms.
    ASSERT_TRUE(node.pubsub->Publish("t", AsBytes(std::to_string(i) + std::string(64 * 1024, 'x'))).status.ok());
    loop_.AdvanceTime(milliseconds(100));
    const uint64_t heartbeats = node.router->stats().heartbeats - start;
    const double score = node.router->Score(slow.id());
    if (!negative_at && score < 0) negative_at = heartbeats;
    if (!below_gossip_at && score < go.thresholds.gossip_threshold) below_gossip_at = heartbeats;
    if (!pruned_at && node.router->Mesh("t").count(slow.id()) == 0) pruned_at = heartbeats;
    EXPECT_GE(node.router->Score(healthy.id()), 0);
  }
  ASSERT_TRUE(negative_at.has_value());
  ASSERT_TRUE(below_gossip_at.has_value());
  ASSERT_TRUE(pruned_at.has_value());
  EXPECT_LE(*negative_at, 3u);
  EXPECT_EQ(*pruned_at, *negative_at);  // The heartbeat that finds it slow prunes it.
  EXPECT_LE(*below_gossip_at, *negative_at + 5);
  EXPECT_GT(node.router->stats().slow_peer_heartbeats, 0u);
  PubSubPeer* slow_peer = node.pubsub->FindPeer(slow.id());
  ASSERT_NE(slow_peer, nullptr);
  EXPECT_GT(slow_peer->stats().dropped_full + slow_peer->stats().dropped_timeout, 0u);

  // The healthy peer got every message, stays in the mesh, and nothing to it was dropped.
  EXPECT_EQ(healthy.MessagesReceived(), 100u);
  EXPECT_EQ(node.router->Mesh("t").count(healthy.id()), 1u);
  PubSubPeer* healthy_peer = node.pubsub->FindPeer(healthy.id());
  ASSERT_NE(healthy_peer, nullptr);
  EXPECT_EQ(healthy_peer->stats().dropped_full + healthy_peer->stats().dropped_timeout, 0u);
}

// Regression: a healthy peer whose copy is dropped because slow readers hold the node's send budget (it is
// within its own share) is not penalised as slow; before, every full-lane drop counted against the peer.
TEST_F(GossipSubScenariosTest, DropsForRoomOthersHoldDoNotMakeAPeerSlow) {
  const GossipSubOptions go = SlowPeerScoring();
  PubSubOptions po;
  // Shares of at least one largest frame (70 KiB) each, for three peers, out of 160 KiB: two slow readers
  // holding their shares leave less than one message of room.
  po.peer.limits.max_rpc_size = 70 * 1024;
  po.max_send_bytes = 160 * 1024;
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go, po));
  Node& node = *nodes_[0];
  node.Join("t");
  RawPeer healthy(&loop_, &net_, "room-healthy", std::string(kMeshSubV11));
  RawPeer slow1(&loop_, &net_, "room-slow-1", std::string(kMeshSubV11));
  RawPeer slow2(&loop_, &net_, "room-slow-2", std::string(kMeshSubV11));
  for (RawPeer* p : {&healthy, &slow1, &slow2}) {
    p->ConnectTo(node);
    p->Send(JoinRpc("t"));
  }
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(node.router->Mesh("t").size(), 3u);
  slow1.PauseReading(true);
  slow2.PauseReading(true);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(node.pubsub->Publish("t", AsBytes(std::to_string(i) + std::string(64 * 1024, 'x'))).status.ok());
    loop_.AdvanceTime(milliseconds(100));
  }
  PubSubPeer* healthy_peer = node.pubsub->FindPeer(healthy.id());
  ASSERT_NE(healthy_peer, nullptr);
  EXPECT_GT(healthy_peer->stats().dropped_no_room, 0u);  // The situation arose...
  EXPECT_EQ(healthy_peer->stats().dropped_full, healthy_peer->stats().dropped_no_room);
  EXPECT_GE(node.router->Score(healthy.id()), 0);  // ...and did not count against the healthy peer.
  EXPECT_EQ(node.router->Mesh("t").count(healthy.id()), 1u);
  EXPECT_LT(node.router->Score(slow1.id()), 0);
}

// Mesh events reach their handlers from the loop, after the router's own walk over its mesh: a handler that
// leaves the topic (which erases the mesh being walked) is safe (the sanitizers check it).
TEST_F(GossipSubScenariosTest, AMeshEventHandlerMayLeaveTheTopic) {
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0));
  nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 1));
  Node& a = *nodes_[0];
  Node& b = *nodes_[1];
  a.Join("t");
  b.Join("t");
  Connect(a, b);
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(2));
  ASSERT_EQ(a.router->Mesh("t").count(b.id()), 1u);
  std::vector<std::string> events;
  GossipSubEvents ev;
  ev.on_prune = [&](const PeerId& peer, const std::string& topic) {
    events.push_back("prune " + topic);
    if (a.pubsub->subscribed(topic)) ASSERT_TRUE(a.pubsub->Unsubscribe(topic).ok());
  };
  a.router->SetEvents(ev);
  // b goes away: a's router walks its meshes to drop b, and the handler leaves "t" afterwards.
  b.host->Disconnect(a.id());
  loop_.RunUntilIdle();
  EXPECT_EQ(events, std::vector<std::string>{"prune t"});
  EXPECT_FALSE(a.pubsub->subscribed("t"));
  EXPECT_TRUE(a.router->Mesh("t").empty());
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
