// Batch publishing (PubSub::AddToBatch, PubSub::PublishBatch) through the gossipsub router, on the in-memory
// network and virtual time. What goes on the wire is recorded by an RpcObserver on the publisher, whose
// OnSend sees every RPC in Send() order: the order the copies leave the publisher.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/testing/scenario.h"
#include "libp2p/pubsub/message_batch.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/pubsub/rpc_scheduler.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::PeerId;
using std::chrono::seconds;

// One copy of a message sent: to which peer, and the message's data.
struct Sent {
  PeerId peer;
  std::string data;
  bool operator==(const Sent& o) const { return peer == o.peer && data == o.data; }
};

// Records the messages of every RPC sent, in Send() order.
class SendRecorder : public RpcObserver {
 public:
  void OnSend(const PeerId& peer, pb::RPC* rpc) override {
    for (const pb::Message& m : rpc->publish()) sent.push_back(Sent{peer, m.data()});
  }
  std::vector<Sent> sent;
};

// Hands the sends out in the reverse of the order they were added, and remembers that order.
class ReverseScheduler : public RpcScheduler {
 public:
  void Add(const PeerId& peer, const std::string& id, std::shared_ptr<const pb::RPC> rpc) override {
    added.push_back(Sent{peer, rpc->publish(0).data()});
    pending.push_back(ScheduledRpc{peer, id, std::move(rpc)});
  }
  std::vector<ScheduledRpc> Take() override {
    ++takes;
    std::vector<ScheduledRpc> out(pending.rbegin(), pending.rend());
    pending.clear();
    return out;
  }
  std::vector<Sent> added;
  std::vector<ScheduledRpc> pending;
  int takes = 0;
};

std::string Data(int i) { return "m" + std::to_string(i); }

class BatchPublishTest : public ::testing::Test {
 protected:
  // Node 0 publishes (its sends recorded), nodes 1..`subscribers` subscribe to "t" and dial it. The
  // publisher joins "t" too when `publisher_joins`.
  void Build(int subscribers, bool publisher_joins, GossipSubOptions go = {},
             const std::function<void(PubSubOptions&)>& tune = {}) {
    PubSubOptions po;
    if (tune) tune(po);
    PubSubOptions publisher_po = po;
    publisher_po.rpc_observers = {&recorder_};
    nodes_.push_back(std::make_unique<Node>(&loop_, &net_, 0, go, publisher_po));
    if (publisher_joins) nodes_[0]->Join("t");
    for (int i = 1; i <= subscribers; ++i) {
      nodes_.push_back(std::make_unique<Node>(&loop_, &net_, i, go, po));
      nodes_.back()->Join("t");
      nodes_.back()->host->Dial(publisher().host->listen_addrs()[0], [](auto) {});
    }
    loop_.RunUntilIdle();
    loop_.AdvanceTime(seconds(2));  // Heartbeats: the meshes form.
    recorder_.sent.clear();
  }
  Node& publisher() { return *nodes_[0]; }

  // A batch of `n` messages m0..m<n-1> on "t".
  MessageBatch BatchOf(int n) {
    MessageBatch batch;
    for (int i = 0; i < n; ++i) {
      BatchAddResult r = publisher().pubsub->AddToBatch(&batch, "t", AsBytes(Data(i)));
      EXPECT_TRUE(r.status.ok()) << r.status.ToString();
      EXPECT_FALSE(r.duplicate);
    }
    return batch;
  }

  // The index of the first send that repeats a message before every message of `n` was sent once; -1 if
  // none.
  static int FirstEarlyRepeat(const std::vector<Sent>& sent, size_t n) {
    std::set<std::string> once;
    for (size_t i = 0; i < sent.size(); ++i) {
      if (once.count(sent[i].data) && once.size() < n) return static_cast<int>(i);
      once.insert(sent[i].data);
    }
    return -1;
  }

  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
  SendRecorder recorder_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

// Done when: a batch of 64 messages published to 8 peers: on the wire, no message id is sent a second time
// before every id of the batch has been sent once.
TEST_F(BatchPublishTest, ABatchOf64To8PeersSendsEveryMessageOnceBeforeAnyTwice) {
  Build(8, /*publisher_joins=*/true);
  const uint64_t published_before = publisher().pubsub->stats().published;

  const BatchPublishResult r = publisher().pubsub->PublishBatch(BatchOf(64));
  EXPECT_EQ(r.messages, 64u);
  EXPECT_EQ(r.sent, 64u * 8);
  EXPECT_EQ(r.dropped, 0u);
  EXPECT_EQ(publisher().pubsub->stats().published, published_before + 64);

  const std::vector<Sent>& sent = recorder_.sent;
  ASSERT_EQ(sent.size(), 64u * 8);
  EXPECT_EQ(FirstEarlyRepeat(sent, 64), -1);
  // Round by round: the k-th copy of every message, in batch order, then the (k+1)-th.
  for (size_t i = 0; i < sent.size(); ++i) ASSERT_EQ(sent[i].data, Data(static_cast<int>(i % 64))) << i;
  // Each (peer, message) once: every message to every subscriber.
  std::set<std::pair<std::string, std::string>> pairs;
  for (const Sent& s : sent) pairs.emplace(s.peer.ToBase58(), s.data);
  EXPECT_EQ(pairs.size(), 64u * 8);

  loop_.RunUntilIdle();
  for (int i = 1; i <= 8; ++i) EXPECT_EQ(nodes_[i]->received.size(), 64u) << i;
}

// The contrast that makes the test above meaningful: publishing one by one sends every copy of a message
// before the first copy of the next.
TEST_F(BatchPublishTest, PublishingOneByOneRepeatsAMessageFirst) {
  Build(8, /*publisher_joins=*/true);
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(publisher().pubsub->Publish("t", AsBytes(Data(i))).status.ok());
  ASSERT_EQ(recorder_.sent.size(), 64u * 8);
  EXPECT_EQ(FirstEarlyRepeat(recorder_.sent, 64), 1);
}

TEST_F(BatchPublishTest, ACustomSchedulerDecidesTheOrder) {
  Build(4, /*publisher_joins=*/true);
  ReverseScheduler reverse;
  const BatchPublishResult r = publisher().pubsub->PublishBatch(BatchOf(5), &reverse);
  EXPECT_EQ(reverse.takes, 1);
  // The core added the copies in batch order, each message's peers together.
  ASSERT_EQ(reverse.added.size(), 5u * 4);
  for (size_t i = 0; i < reverse.added.size(); ++i) EXPECT_EQ(reverse.added[i].data, Data(static_cast<int>(i / 4)));
  // And sent them in the scheduler's order.
  const std::vector<Sent> expected(reverse.added.rbegin(), reverse.added.rend());
  EXPECT_EQ(recorder_.sent, expected);
  EXPECT_EQ(r.sent, 5u * 4);
  loop_.RunUntilIdle();
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(nodes_[i]->received.size(), 5u) << i;
}

// With message ids over the data (anonymous messages), equal payloads are one message: the batch keeps the
// first.
TEST_F(BatchPublishTest, ADuplicateInABatchIsSkipped) {
  Build(3, /*publisher_joins=*/true, {}, [](PubSubOptions& po) {
    po.sign_policy = SignPolicy::kStrictNoSign;
    po.message_id = Sha256MessageId;
  });
  MessageBatch batch;
  const BatchAddResult first = publisher().pubsub->AddToBatch(&batch, "t", AsBytes("same"));
  ASSERT_TRUE(first.status.ok());
  EXPECT_FALSE(first.duplicate);
  const BatchAddResult again = publisher().pubsub->AddToBatch(&batch, "t", AsBytes("same"));
  EXPECT_TRUE(again.status.ok());
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.id, first.id);
  ASSERT_TRUE(publisher().pubsub->AddToBatch(&batch, "t", AsBytes("other")).status.ok());
  EXPECT_EQ(batch.size(), 2u);

  const BatchPublishResult r = publisher().pubsub->PublishBatch(std::move(batch));
  EXPECT_EQ(r.messages, 2u);
  EXPECT_EQ(r.sent, 2u * 3);
  loop_.RunUntilIdle();
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(nodes_[i]->received, (std::vector<std::string>{"same", "other"})) << i;
}

// Not in the topic and without flood publishing: the batch goes through the fanout (chosen by the first
// message, d peers), every message to the same peers, first copies first.
TEST_F(BatchPublishTest, ABatchToATopicWeAreNotInGoesThroughTheFanout) {
  GossipSubOptions go;
  go.params.flood_publish = false;
  Build(8, /*publisher_joins=*/false, go);
  ASSERT_TRUE(publisher().router->Fanout("t").empty());

  const BatchPublishResult r = publisher().pubsub->PublishBatch(BatchOf(4));
  const PeerSet& fanout = publisher().router->Fanout("t");
  ASSERT_EQ(fanout.size(), static_cast<size_t>(go.params.d));
  EXPECT_EQ(r.sent, 4u * fanout.size());
  EXPECT_EQ(FirstEarlyRepeat(recorder_.sent, 4), -1);
  for (const Sent& s : recorder_.sent) EXPECT_EQ(fanout.count(s.peer), 1u);
}

// In the topic without flood publishing: to the mesh peers only (more subscribers than d_hi, so that some
// are left out of it).
TEST_F(BatchPublishTest, ABatchWithoutFloodPublishingGoesToTheMesh) {
  GossipSubOptions go;
  go.params.flood_publish = false;
  const int subscribers = go.params.d_hi + 1;
  Build(subscribers, /*publisher_joins=*/true, go);
  const PeerSet mesh = publisher().router->Mesh("t");
  ASSERT_LT(mesh.size(), static_cast<size_t>(subscribers));
  ASSERT_FALSE(mesh.empty());

  const BatchPublishResult r = publisher().pubsub->PublishBatch(BatchOf(10));
  EXPECT_EQ(r.sent, 10u * mesh.size());
  EXPECT_EQ(recorder_.sent.size(), 10u * mesh.size());
  EXPECT_EQ(FirstEarlyRepeat(recorder_.sent, 10), -1);
  for (const Sent& s : recorder_.sent) EXPECT_EQ(mesh.count(s.peer), 1u);
}

// With flood publishing (the default), every subscriber gets every message, the mesh being smaller.
TEST_F(BatchPublishTest, ABatchWithFloodPublishingGoesToEverySubscriber) {
  GossipSubOptions go;
  const int subscribers = go.params.d_hi + 1;
  Build(subscribers, /*publisher_joins=*/true, go);
  ASSERT_LT(publisher().router->Mesh("t").size(), static_cast<size_t>(subscribers));

  const BatchPublishResult r = publisher().pubsub->PublishBatch(BatchOf(10));
  EXPECT_EQ(r.sent, 10u * subscribers);
  EXPECT_EQ(FirstEarlyRepeat(recorder_.sent, 10), -1);
  loop_.RunUntilIdle();
  for (int i = 1; i <= subscribers; ++i) EXPECT_EQ(nodes_[i]->received.size(), 10u) << i;
}

TEST_F(BatchPublishTest, AnEmptyBatchSendsNothing) {
  Build(2, /*publisher_joins=*/true);
  const uint64_t published_before = publisher().pubsub->stats().published;
  ReverseScheduler reverse;
  const BatchPublishResult r = publisher().pubsub->PublishBatch(MessageBatch{}, &reverse);
  EXPECT_EQ(r.messages, 0u);
  EXPECT_EQ(r.sent, 0u);
  EXPECT_EQ(r.dropped, 0u);
  EXPECT_TRUE(reverse.added.empty());
  EXPECT_EQ(publisher().pubsub->stats().published, published_before);
  loop_.RunUntilIdle();
  EXPECT_TRUE(recorder_.sent.empty());
}

// A batch does not wait for asynchronous validators: the message is left out, and the verdict that comes
// later publishes nothing. A validator's synchronous refusal leaves the message out as Publish's would.
TEST_F(BatchPublishTest, AddToBatchRefusesAMessageItsValidatorsDoNotDecideAtOnce) {
  Build(2, /*publisher_joins=*/true);
  std::function<void(ValidationResult)> later;
  publisher().pubsub->AddValidator("t", [&](const pb::Message& m, std::function<void(ValidationResult)> done) {
    if (m.data() == "async") {
      later = std::move(done);
    } else {
      done(m.data() == "bad" ? ValidationResult::kReject : ValidationResult::kAccept);
    }
  });
  MessageBatch batch;
  const BatchAddResult async = publisher().pubsub->AddToBatch(&batch, "t", AsBytes("async"));
  EXPECT_EQ(async.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(publisher().pubsub->AddToBatch(&batch, "t", AsBytes("bad")).status.code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(publisher().pubsub->AddToBatch(&batch, "t", AsBytes("good")).status.ok());
  EXPECT_EQ(batch.size(), 1u);
  EXPECT_FALSE(batch.Contains(async.id));

  ASSERT_TRUE(later);
  later(ValidationResult::kAccept);
  loop_.RunUntilIdle();
  EXPECT_TRUE(recorder_.sent.empty());
  EXPECT_EQ(publisher().pubsub->StateCounts().pending_validations, 0u);

  EXPECT_EQ(publisher().pubsub->PublishBatch(std::move(batch)).sent, 2u);
  loop_.RunUntilIdle();
  for (int i = 1; i <= 2; ++i) EXPECT_EQ(nodes_[i]->received, std::vector<std::string>{"good"}) << i;
}

// Every copy is queued at once: a data lane too small for the batch drops the copies beyond it, as any send
// to a full lane is dropped; the others still go.
TEST_F(BatchPublishTest, CopiesBeyondAFullDataLaneAreDropped) {
  Build(2, /*publisher_joins=*/true, {}, [](PubSubOptions& po) { po.peer.max_data_bytes = 8 * 1024; });
  MessageBatch batch;
  for (int i = 0; i < 32; ++i) {
    ASSERT_TRUE(publisher().pubsub->AddToBatch(&batch, "t", AsBytes(Data(i) + std::string(1000, 'x'))).status.ok());
  }
  const BatchPublishResult r = publisher().pubsub->PublishBatch(std::move(batch));
  EXPECT_EQ(r.sent + r.dropped, 32u * 2);
  EXPECT_GT(r.dropped, 0u);
  EXPECT_GT(r.sent, 2u);
  uint64_t dropped_full = 0;
  for (int i = 1; i <= 2; ++i) dropped_full += publisher().pubsub->FindPeer(nodes_[i]->id())->stats().dropped_full;
  EXPECT_EQ(dropped_full, r.dropped);
  // What was queued is the front of the round-robin order: the batch's first messages reached both peers.
  loop_.RunUntilIdle();
  for (int i = 1; i <= 2; ++i) {
    ASSERT_FALSE(nodes_[i]->received.empty()) << i;
    EXPECT_EQ(nodes_[i]->received[0].substr(0, 3), "m0x") << i;
  }
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
