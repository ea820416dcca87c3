// The pubsub core with the floodsub router, over in-memory hosts on virtual time.
#include <algorithm>
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
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/pubsub/testing/blacklist_on_send.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::seconds;

struct Node {
  Node(ManualEventLoop* loop, stream::MemoryNetwork* net, const std::string& seed,
       SignPolicy policy = SignPolicy::kStrictSign, const std::function<void(PubSubOptions&)>& tune = {})
      : key(*Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)))), transport(net->CreateTransport()) {
    stream::HostOptions ho;
    ho.identity = &key;
    host = std::make_unique<stream::Host>(loop, transport.get(), ho);
    EXPECT_TRUE(host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
    PubSubOptions po;
    po.identity = &key;
    po.sign_policy = policy;
    if (tune) tune(po);
    pubsub = std::make_unique<PubSub>(loop, host.get(), std::make_unique<FloodSubRouter>(), po);
    pubsub->SetEvents(PubSub::Events{[this](const PeerId& p, const std::string& t, bool s) {
      subscription_events.push_back(p.ToBase58() + (s ? " +" : " -") + t);
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

  Ed25519PrivateKey key;
  std::unique_ptr<stream::Transport> transport;
  std::unique_ptr<stream::Host> host;
  std::unique_ptr<PubSub> pubsub;
  std::vector<std::string> received;
  std::vector<std::string> subscription_events;
};

class FloodSubTest : public ::testing::Test {
 protected:
  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
};

TEST_F(FloodSubTest, PublishReachesASubscribedPeer) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b");
  a.Join("t");
  b.Join("t");
  a.Connect(b, &loop_);
  ASSERT_EQ(b.subscription_events.size(), 1u);
  EXPECT_EQ(b.subscription_events[0], a.host->peer_id().ToBase58() + " +t");
  PublishResult r = a.pubsub->Publish("t", AsBytes("hello"));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.peers, 1u);
  loop_.RunUntilIdle();
  EXPECT_EQ(b.received, std::vector<std::string>{"hello"});
  EXPECT_TRUE(a.received.empty());  // Our own messages are not delivered to us.
}

TEST_F(FloodSubTest, SeqnosStartAtTheConfiguredFirstOneAndIncrease) {
  Node a(&loop_, &net_, "a", SignPolicy::kStrictSign, [](PubSubOptions& o) { o.first_seqno = 0xfffffffffffffffeu; });
  Node b(&loop_, &net_, "b");
  a.Join("t");
  b.Join("t");
  a.Connect(b, &loop_);
  const PublishResult first = a.pubsub->Publish("t", AsBytes("1"));
  const PublishResult second = a.pubsub->Publish("t", AsBytes("2"));
  ASSERT_TRUE(first.status.ok());
  ASSERT_TRUE(second.status.ok());
  EXPECT_EQ(first.seqno, 0xfffffffffffffffeu);
  EXPECT_EQ(second.seqno, 0xffffffffffffffffu);
  loop_.RunUntilIdle();
  EXPECT_EQ(b.received, (std::vector<std::string>{"1", "2"}));
}

TEST_F(FloodSubTest, SeqnosStartAtTheWallClockByDefault) {
  const uint64_t before = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  Node a(&loop_, &net_, "a");
  a.Join("t");
  const PublishResult r = a.pubsub->Publish("t", AsBytes("x"));
  ASSERT_TRUE(r.status.ok());
  EXPECT_GE(r.seqno, before);
}

// The connection between two subscribers dies silently (nobody knows yet) and one of them reconnects: the
// pubsub streams move to the new connection at once, so messages flow without waiting for keep-alive to
// find the dead one; when it does, the peers stay (they still have the new connection).
TEST(FloodSubReconnectTest, StreamsFollowTheNewConnection) {
  ManualEventLoop loop;
  stream::MemoryNetwork net(&loop, stream::WriteLimits{}, std::chrono::milliseconds(5));
  Node a(&loop, &net, "a"), b(&loop, &net, "b");
  a.Join("t");
  b.Join("t");
  a.host->Dial(b.host->listen_addrs()[0], [](auto) {});
  loop.AdvanceTime(seconds(1));
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("before")).status.ok());
  loop.AdvanceTime(seconds(1));
  ASSERT_EQ(b.received, std::vector<std::string>{"before"});
  net.BreakConnections();
  b.host->Dial(a.host->listen_addrs()[0], [](auto) {});
  loop.AdvanceTime(seconds(1));
  ASSERT_EQ(a.host->connections_of(b.host->peer_id()).size(), 2u);
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("a after")).status.ok());
  ASSERT_TRUE(b.pubsub->Publish("t", AsBytes("b after")).status.ok());
  loop.AdvanceTime(seconds(1));
  EXPECT_EQ(b.received, (std::vector<std::string>{"before", "a after"}));
  EXPECT_EQ(a.received, std::vector<std::string>{"b after"});
  // Keep-alive closes the dead connection; the pubsub peers stay.
  loop.AdvanceTime(seconds(120));
  EXPECT_EQ(a.host->connections_of(b.host->peer_id()).size(), 1u);
  EXPECT_EQ(a.pubsub->Peers().size(), 1u);
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("later")).status.ok());
  loop.AdvanceTime(seconds(1));
  EXPECT_EQ(b.received, (std::vector<std::string>{"before", "a after", "later"}));
}

TEST_F(FloodSubTest, MessageIsDeliveredOnceWhenItArrivesFromSeveralPeers) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b"), c(&loop_, &net_, "c");
  for (Node* n : {&a, &b, &c}) n->Join("t");
  a.Connect(b, &loop_);
  a.Connect(c, &loop_);
  b.Connect(c, &loop_);
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("m1")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(b.received, std::vector<std::string>{"m1"});
  EXPECT_EQ(c.received, std::vector<std::string>{"m1"});
  // b got it from a and from c (c relays to b, b relays to c): the second copy is a duplicate.
  EXPECT_GE(b.pubsub->stats().duplicates + c.pubsub->stats().duplicates, 1u);
}

// PubSubOptions::rpc_observers see every copy as it arrives, duplicates included, and every RPC sent.
class CopyCounter : public RpcObserver {
 public:
  void OnReceive(const PeerId&, pb::RPC* rpc) override { received += rpc->publish_size(); }
  void OnSend(const PeerId&, pb::RPC* rpc) override { sent += rpc->publish_size(); }
  int received = 0, sent = 0;
};

TEST_F(FloodSubTest, RpcObserversSeeEveryCopyInAndOut) {
  CopyCounter counter;
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b"), c(&loop_, &net_, "c");
  Node watched(&loop_, &net_, "w", SignPolicy::kStrictSign, [&](PubSubOptions& o) { o.rpc_observers = {&counter}; });
  for (Node* n : {&a, &b, &c, &watched}) n->Join("t");
  a.Connect(watched, &loop_);
  b.Connect(watched, &loop_);
  a.Connect(b, &loop_);
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("m")).status.ok());
  loop_.RunUntilIdle();
  // From a, and again from b which relays it: two copies in, one delivery.
  EXPECT_EQ(counter.received, 2);
  EXPECT_EQ(watched.received, std::vector<std::string>{"m"});
  EXPECT_EQ(watched.pubsub->stats().duplicates, 1u);
  const int relayed = counter.sent;  // Floodsub relayed the first copy to whichever peer it did not come from.
  EXPECT_EQ(relayed, 1);
  ASSERT_TRUE(watched.pubsub->Publish("t", AsBytes("w")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(counter.sent - relayed, 2);  // To a and to b.
}

// An observer of received RPCs alone sees every copy in and is never asked about sends, which keep the
// shared encoding (the peers' sends are not observed).
class ReceiveCounter : public CopyCounter {
 public:
  bool ObservesSends() const override { return false; }
};

TEST_F(FloodSubTest, AnObserverOfReceivesAloneLeavesSendsAlone) {
  ReceiveCounter counter;
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b");
  Node watched(&loop_, &net_, "w", SignPolicy::kStrictSign, [&](PubSubOptions& o) { o.rpc_observers = {&counter}; });
  for (Node* n : {&a, &b, &watched}) n->Join("t");
  a.Connect(watched, &loop_);
  b.Connect(watched, &loop_);
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("m")).status.ok());
  ASSERT_TRUE(watched.pubsub->Publish("t", AsBytes("w")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(counter.received, 1);
  EXPECT_EQ(counter.sent, 0);
  for (const PeerId& p : watched.pubsub->Peers()) EXPECT_FALSE(watched.pubsub->FindPeer(p)->sends_observed());
  // What the watched node sent arrived all the same: its relay of m, and its own w.
  std::sort(b.received.begin(), b.received.end());
  EXPECT_EQ(b.received, (std::vector<std::string>{"m", "w"}));
  EXPECT_EQ(a.received, std::vector<std::string>{"w"});
}

// Batch publishing works with any router: floodsub's targets, first copies first.
class SendOrder : public RpcObserver {
 public:
  void OnSend(const PeerId&, pb::RPC* rpc) override {
    for (const pb::Message& m : rpc->publish()) sent.push_back(m.data());
  }
  std::vector<std::string> sent;
};

// Without observers (nor tracers) each message's RPC is encoded once for all its copies: every subscriber
// still gets every message, and a message on its own (Publish) reaches every subscriber the same way.
TEST_F(FloodSubTest, MessagesEncodedOnceReachEverySubscriber) {
  Node a(&loop_, &net_, "a", SignPolicy::kStrictNoSign);
  Node b(&loop_, &net_, "b", SignPolicy::kStrictNoSign), c(&loop_, &net_, "c", SignPolicy::kStrictNoSign);
  for (Node* n : {&b, &c}) {
    n->Join("t");
    a.Connect(*n, &loop_);
  }
  MessageBatch batch;
  for (const char* data : {"1", "2", "3"}) ASSERT_TRUE(a.pubsub->AddToBatch(&batch, "t", AsBytes(data)).status.ok());
  const BatchPublishResult r = a.pubsub->PublishBatch(std::move(batch));
  EXPECT_EQ(r.sent, 6u);
  const PublishResult one = a.pubsub->Publish("t", AsBytes(std::string(2000, 'x')));
  EXPECT_EQ(one.peers, 2u);
  loop_.RunUntilIdle();
  const std::vector<std::string> want = {"1", "2", "3", std::string(2000, 'x')};
  EXPECT_EQ(b.received, want);
  EXPECT_EQ(c.received, want);
}

TEST_F(FloodSubTest, ABatchGoesToEverySubscriberFirstCopiesFirst) {
  SendOrder order;
  Node a(&loop_, &net_, "a", SignPolicy::kStrictSign, [&](PubSubOptions& o) { o.rpc_observers = {&order}; });
  Node b(&loop_, &net_, "b"), c(&loop_, &net_, "c");
  for (Node* n : {&b, &c}) {
    n->Join("t");
    a.Connect(*n, &loop_);
  }
  MessageBatch batch;
  for (const char* data : {"1", "2", "3"}) ASSERT_TRUE(a.pubsub->AddToBatch(&batch, "t", AsBytes(data)).status.ok());
  const BatchPublishResult r = a.pubsub->PublishBatch(std::move(batch));
  EXPECT_EQ(r.messages, 3u);
  EXPECT_EQ(r.sent, 6u);
  EXPECT_EQ(order.sent, (std::vector<std::string>{"1", "2", "3", "1", "2", "3"}));
  loop_.RunUntilIdle();
  EXPECT_EQ(b.received, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(c.received, (std::vector<std::string>{"1", "2", "3"}));
}

// The core sends a message to the peers the router chose one after the other; a send that drops a peer
// still to come (here an observer blacklists it) leaves that peer out, though the router chose it.
TEST_F(FloodSubTest, APeerDroppedWhileAMessageIsBeingSentIsNotSentIt) {
  BlacklistOnSend dropper(CarriesMessages);  // Outlives the peers it observes.
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b"), c(&loop_, &net_, "c");
  for (Node* n : {&b, &c}) {
    n->Join("t");
    a.Connect(*n, &loop_);
  }
  // Floodsub sends in peer id order: the observer watches the first peer and drops the second.
  Node& first = b.host->peer_id() < c.host->peer_id() ? b : c;
  Node& second = &first == &b ? c : b;
  dropper.pubsub = a.pubsub.get();
  dropper.victim = second.host->peer_id();
  a.pubsub->FindPeer(first.host->peer_id())->AddObserver(&dropper);
  const PublishResult r = a.pubsub->Publish("t", AsBytes("m"));
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(dropper.fired);
  EXPECT_EQ(r.peers, 1u);
  loop_.RunUntilIdle();
  EXPECT_EQ(first.received, std::vector<std::string>{"m"});
  EXPECT_TRUE(second.received.empty());
}

// Announcing a subscription goes to every peer in turn; a send that drops another peer (an observer
// blacklists it) leaves the others' announcements as they were.
TEST_F(FloodSubTest, APeerDroppedWhileASubscriptionIsAnnouncedLeavesTheOthersAnnouncedTo) {
  BlacklistOnSend dropper(CarriesSubscriptions);  // Outlives the peers it observes.
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b"), c(&loop_, &net_, "c"), d(&loop_, &net_, "d");
  for (Node* n : {&b, &c, &d}) a.Connect(*n, &loop_);
  // The observer watches the peer announced to first and drops the second.
  const std::vector<PeerId> order = a.pubsub->Peers();
  ASSERT_EQ(order.size(), 3u);
  dropper.pubsub = a.pubsub.get();
  dropper.victim = order[1];
  a.pubsub->FindPeer(order[0])->AddObserver(&dropper);
  a.Join("u");
  EXPECT_TRUE(dropper.fired);
  loop_.RunUntilIdle();
  for (Node* n : {&b, &c, &d}) {
    const bool dropped = n->host->peer_id() == order[1];
    EXPECT_EQ(n->pubsub->PeerTopics(a.host->peer_id()).count("u"), dropped ? 0u : 1u) << n->host->peer_id().ToBase58();
  }
}

TEST_F(FloodSubTest, MessagesRelayThroughTheMiddleOfALine) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b"), c(&loop_, &net_, "c");
  for (Node* n : {&a, &b, &c}) n->Join("t");
  a.Connect(b, &loop_);
  b.Connect(c, &loop_);
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("from a")).status.ok());
  ASSERT_TRUE(c.pubsub->Publish("t", AsBytes("from c")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(c.received, std::vector<std::string>{"from a"});
  EXPECT_EQ(a.received, std::vector<std::string>{"from c"});
  EXPECT_EQ(b.received.size(), 2u);
}

// Rewrites outgoing messages: a send observer, used here as an attacker.
class Corrupter : public RpcObserver {
 public:
  void OnSend(const PeerId&, pb::RPC* rpc) override {
    for (auto& m : *rpc->mutable_publish()) m.mutable_data()->append("!");  // Signature no longer matches.
  }
};

TEST_F(FloodSubTest, InvalidSignaturesAreRejected) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b");
  a.Join("t");
  b.Join("t");
  a.Connect(b, &loop_);
  Corrupter corrupter;
  a.pubsub->FindPeer(b.host->peer_id())->AddObserver(&corrupter);
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("tampered")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_TRUE(b.received.empty());
  EXPECT_EQ(b.pubsub->stats().rejected, 1u);
}

TEST_F(FloodSubTest, StrictNoSignRefusesSignedMessagesAndAcceptsBareOnes) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b", SignPolicy::kStrictNoSign);
  Node c(&loop_, &net_, "c", SignPolicy::kStrictNoSign);
  for (Node* n : {&a, &b, &c}) n->Join("t");
  a.Connect(b, &loop_);
  c.Connect(b, &loop_);
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("signed")).status.ok());
  ASSERT_TRUE(c.pubsub->Publish("t", AsBytes("bare")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(b.received, std::vector<std::string>{"bare"});
  EXPECT_EQ(b.pubsub->stats().rejected, 1u);
}

TEST_F(FloodSubTest, ValidatorsDecideSynchronouslyAndAsynchronously) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b");
  a.Join("t");
  b.Join("t");
  a.Connect(b, &loop_);
  std::vector<std::function<void(ValidationResult)>> waiting;
  b.pubsub->AddValidator("t", [&](const pb::Message& m, std::function<void(ValidationResult)> done) {
    if (m.data() == "bad") return done(ValidationResult::kReject);
    if (m.data() == "meh") return done(ValidationResult::kIgnore);
    if (m.data().rfind("async", 0) == 0) return waiting.push_back(std::move(done));
    done(ValidationResult::kAccept);
  });
  for (const char* d : {"good", "bad", "meh", "async-1", "async-2"}) {
    ASSERT_TRUE(a.pubsub->Publish("t", AsBytes(d)).status.ok());
  }
  loop_.RunUntilIdle();
  EXPECT_EQ(b.received, std::vector<std::string>{"good"});
  ASSERT_EQ(waiting.size(), 2u);
  waiting[0](ValidationResult::kAccept);
  loop_.RunUntilIdle();
  EXPECT_EQ(b.received, (std::vector<std::string>{"good", "async-1"}));
  // The second times out (10 s) and is ignored; answering afterwards changes nothing.
  loop_.AdvanceTime(seconds(11));
  waiting[1](ValidationResult::kAccept);
  loop_.RunUntilIdle();
  EXPECT_EQ(b.received.size(), 2u);
  EXPECT_EQ(b.pubsub->stats().rejected, 1u);
  EXPECT_EQ(b.pubsub->stats().ignored, 2u);
}

TEST_F(FloodSubTest, PublishResults) {
  Node a(&loop_, &net_, "a");
  PublishResult none = a.pubsub->Publish("t", AsBytes("x"));
  EXPECT_TRUE(none.status.ok());
  EXPECT_EQ(none.peers, 0u);
  EXPECT_FALSE(none.id.empty());
  EXPECT_EQ(a.pubsub->Publish("t", Bytes(2 << 20, 'x')).status.code(), StatusCode::kOutOfRange);
  // Topics our peers would leave out of the RPC.
  EXPECT_EQ(a.pubsub->Publish("", AsBytes("x")).status.code(), StatusCode::kInvalidArgument);
  const size_t max_topic = PubSubPeerOptions{}.limits.max_topic_length;
  EXPECT_EQ(a.pubsub->Publish(std::string(max_topic + 1, 't'), AsBytes("x")).status.code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(a.pubsub->Publish(std::string(max_topic, 't'), AsBytes("x")).status.ok());
  a.pubsub->AddValidator("t", [](const pb::Message&, auto done) { done(ValidationResult::kReject); });
  EXPECT_EQ(a.pubsub->Publish("t", AsBytes("x")).status.code(), StatusCode::kPermissionDenied);
}

TEST_F(FloodSubTest, OurOwnMessagesWaitForAsynchronousValidators) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b");
  a.Join("t");
  b.Join("t");
  a.Connect(b, &loop_);
  std::vector<std::function<void(ValidationResult)>> waiting;
  a.pubsub->AddValidator("t", [&](const pb::Message&, std::function<void(ValidationResult)> done) {
    waiting.push_back(std::move(done));
  });
  std::vector<PublishResult> outcomes;
  const auto record = [&](const PublishResult& r) { outcomes.push_back(r); };
  PublishResult first = a.pubsub->Publish("t", AsBytes("accepted"), record);
  EXPECT_TRUE(first.pending);
  EXPECT_FALSE(first.id.empty());
  PublishResult second = a.pubsub->Publish("t", AsBytes("rejected"), record);
  PublishResult third = a.pubsub->Publish("t", AsBytes("unanswered"), record);
  loop_.RunUntilIdle();
  EXPECT_TRUE(b.received.empty()) << "sent before the validator decided";
  EXPECT_TRUE(outcomes.empty());
  ASSERT_EQ(waiting.size(), 3u);

  waiting[0](ValidationResult::kAccept);
  loop_.RunUntilIdle();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].status.ok());
  EXPECT_FALSE(outcomes[0].pending);
  EXPECT_EQ(outcomes[0].id, first.id);
  EXPECT_EQ(outcomes[0].seqno, first.seqno);
  EXPECT_EQ(outcomes[0].peers, 1u);
  EXPECT_EQ(b.received, std::vector<std::string>{"accepted"});

  waiting[1](ValidationResult::kReject);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[1].status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(outcomes[1].id, second.id);

  // The third times out; its late answer changes nothing.
  loop_.AdvanceTime(seconds(11));
  loop_.RunUntilIdle();
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[2].status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(outcomes[2].id, third.id);
  waiting[2](ValidationResult::kAccept);
  loop_.RunUntilIdle();
  EXPECT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(b.received, std::vector<std::string>{"accepted"});
  EXPECT_EQ(a.pubsub->stats().published, 1u);
}

TEST_F(FloodSubTest, SynchronousValidatorsDecideOurMessagesBeforePublishReturns) {
  Node a(&loop_, &net_, "a");
  a.pubsub->AddValidator("t", [](const pb::Message& m, auto done) {
    done(m.data() == "meh" ? ValidationResult::kIgnore : ValidationResult::kAccept);
  });
  bool called = false;
  PublishResult ok = a.pubsub->Publish("t", AsBytes("fine"), [&](const PublishResult&) { called = true; });
  EXPECT_TRUE(ok.status.ok());
  EXPECT_FALSE(ok.pending);
  EXPECT_EQ(a.pubsub->Publish("t", AsBytes("meh")).status.code(), StatusCode::kCancelled);
  loop_.RunUntilIdle();
  EXPECT_FALSE(called) << "an outcome returned is not also called back";
}

TEST_F(FloodSubTest, OwnMessagesBeyondTheValidationQueueAreRefused) {
  Node a(&loop_, &net_, "a", SignPolicy::kStrictSign, [](PubSubOptions& o) {
    o.max_pending_validations = 6;
    o.max_pending_validations_per_topic = 4;
  });
  for (const char* topic : {"t", "u", "v"}) a.pubsub->AddValidator(topic, [](const pb::Message&, auto) {});  // Never answer.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("x")).pending);
  EXPECT_EQ(a.pubsub->Publish("t", AsBytes("x")).status.code(), StatusCode::kResourceExhausted) << "per topic";
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(a.pubsub->Publish("u", AsBytes("x")).pending);
  EXPECT_EQ(a.pubsub->Publish("v", AsBytes("x")).status.code(), StatusCode::kResourceExhausted) << "in all";
  // The defaults are go's: 8192 in all, 1024 per topic.
  EXPECT_EQ(PubSubOptions().max_pending_validations, 8192u);
  EXPECT_EQ(PubSubOptions().max_pending_validations_per_topic, 1024u);
}

TEST_F(FloodSubTest, TheValidationQueueIsBoundedInBytesToo) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b", SignPolicy::kStrictSign, [](PubSubOptions& o) {
    o.max_pending_validation_bytes = 3000;
  });
  a.Join("t");
  b.Join("t");
  a.Connect(b, &loop_);
  std::vector<std::function<void(ValidationResult)>> waiting;
  b.pubsub->AddValidator("t", [&](const pb::Message&, std::function<void(ValidationResult)> done) {
    waiting.push_back(std::move(done));
  });
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(a.pubsub->Publish("t", Bytes(1000, static_cast<uint8_t>(i))).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(waiting.size(), 2u) << "two messages of about 1.1 KB fit in 3000 bytes";
  EXPECT_EQ(b.pubsub->stats().ignored, 2u);
  EXPECT_EQ(b.pubsub->stats().throttled, 2u);
  for (auto& done : waiting) done(ValidationResult::kAccept);
  EXPECT_EQ(b.received.size(), 2u);
  // Room again.
  ASSERT_TRUE(a.pubsub->Publish("t", Bytes(1000, 9)).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(waiting.size(), 3u);
}

TEST_F(FloodSubTest, ARejectWinsOverAnIgnore) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b");
  a.Join("t");
  b.Join("t");
  a.Connect(b, &loop_);
  std::function<void(ValidationResult)> second;
  b.pubsub->AddValidator("t", [](const pb::Message&, auto done) { done(ValidationResult::kIgnore); });
  b.pubsub->AddValidator("t", [&](const pb::Message&, auto done) { second = std::move(done); });
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("x")).status.ok());
  loop_.RunUntilIdle();
  ASSERT_TRUE(second);
  EXPECT_EQ(b.pubsub->stats().ignored, 0u) << "an ignore decided before every validator answered";
  second(ValidationResult::kReject);
  EXPECT_EQ(b.pubsub->stats().rejected, 1u);
  EXPECT_EQ(b.pubsub->stats().ignored, 0u);
}

TEST_F(FloodSubTest, AValidatorMayReadTheMessageUntilItAnswers) {
  // The message is destroyed from the loop, not inside `done`: a validator that answers and then returns
  // through code that still holds the reference does not touch freed memory (ASan checks this).
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b");
  a.Join("t");
  b.Join("t");
  a.Connect(b, &loop_);
  size_t topic_size_after = 0;
  b.pubsub->AddValidator("t", [&](const pb::Message& m, auto done) {
    const pb::Message* held = &m;
    done(ValidationResult::kReject);
    topic_size_after = held->topic().size();
  });
  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("x")).status.ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(b.pubsub->stats().rejected, 1u);
  EXPECT_EQ(topic_size_after, 1u);
}

TEST_F(FloodSubTest, IdenticalSubscriptionRpcsAreAllProcessed) {
  // Deduplicating whole RPCs by digest would drop a re-subscription; every one counts here.
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b");
  a.Connect(b, &loop_);
  a.Join("t");
  loop_.RunUntilIdle();
  ASSERT_TRUE(a.pubsub->Unsubscribe("t").ok());
  loop_.RunUntilIdle();
  a.Join("t");  // The same RPC as the first.
  loop_.RunUntilIdle();
  const std::string id = a.host->peer_id().ToBase58();
  EXPECT_EQ(b.subscription_events, (std::vector<std::string>{id + " +t", id + " -t", id + " +t"}));
  EXPECT_EQ(b.pubsub->PeerTopics(a.host->peer_id()).count("t"), 1u);
}

TEST_F(FloodSubTest, SlowPeerNeitherBlocksOthersNorGrowsMemory) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b");
  a.Join("t");
  b.Join("t");
  a.Connect(b, &loop_);
  // A raw peer that subscribes over floodsub and then never reads what it is sent.
  auto key = *Ed25519PrivateKey::FromSeed(Bytes(32, 7));
  auto transport = net_.CreateTransport();
  stream::HostOptions ho;
  ho.identity = &key;
  stream::Host slow(&loop_, transport.get(), ho);
  std::vector<std::unique_ptr<stream::Stream>> held;
  slow.SetStreamHandler(std::string(kFloodSubProtocolId), [&](std::unique_ptr<stream::Stream> s, auto&, auto&) {
    s->PauseReading(true);
    held.push_back(std::move(s));
  });
  slow.Dial(a.host->listen_addrs()[0], [](auto) {});
  loop_.RunUntilIdle();
  std::unique_ptr<stream::Stream> out;
  slow.NewStream(a.host->peer_id(), {std::string(kFloodSubProtocolId)}, [&](auto s, auto&) { out = std::move(s).value(); });
  loop_.RunUntilIdle();
  pb::RPC sub;
  sub.add_subscriptions()->set_subscribe(true);
  sub.mutable_subscriptions(0)->set_topicid("t");
  Bytes frame;
  const std::string enc = sub.SerializeAsString();
  AppendUvarint(enc.size(), &frame);
  frame.insert(frame.end(), enc.begin(), enc.end());
  ASSERT_TRUE(out->Write(frame).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(a.pubsub->PeerTopics(slow.peer_id()).count("t"), 1u);
  // 40 MiB of messages: b gets all of them; what waits for the slow peer stays under its caps.
  const Bytes payload(64 * 1024, 'p');
  for (int i = 0; i < 640; ++i) {
    ASSERT_TRUE(a.pubsub->Publish("t", payload).status.ok());
    loop_.RunUntilIdle();
  }
  EXPECT_EQ(b.received.size(), 640u);
  PubSubPeer* slow_peer = a.pubsub->FindPeer(slow.peer_id());
  ASSERT_NE(slow_peer, nullptr);
  EXPECT_LE(slow_peer->queued_bytes(), PubSubPeerOptions{}.max_data_bytes + PubSubPeerOptions{}.max_control_bytes);
  EXPECT_GT(slow_peer->stats().dropped_full, 0u);
  // Queued messages expire: after the send timeout nothing is retained for it.
  loop_.AdvanceTime(seconds(12));
  EXPECT_EQ(slow_peer->queued_bytes(), 0u);
}

TEST_F(FloodSubTest, SubscriptionsReachAPeerWhoseStreamArrivesBeforeItsIdentify) {
  // A peer that opens its floodsub stream at once, before identify has told us it speaks floodsub, must
  // still learn our subscriptions (it once never did: the peer was known by the time identify finished).
  Node a(&loop_, &net_, "a");
  a.Join("t");
  auto key = *Ed25519PrivateKey::FromSeed(Bytes(32, 9));
  auto transport = net_.CreateTransport();
  stream::HostOptions ho;
  ho.identity = &key;
  stream::Host eager(&loop_, transport.get(), ho);
  std::string received;
  std::vector<std::unique_ptr<stream::Stream>> held;
  eager.SetStreamHandler(std::string(kFloodSubProtocolId), [&](std::unique_ptr<stream::Stream> s, auto&, auto&) {
    s->SetHandlers(stream::Stream::Handlers{[&](ByteSpan d) { received += ToString(d); }, {}, {}, {}});
    held.push_back(std::move(s));
  });
  std::unique_ptr<stream::Stream> out;
  eager.Dial(a.host->listen_addrs()[0], [&](StatusOr<PeerId> p) {
    ASSERT_TRUE(p.ok());
    eager.NewStream(*p, {std::string(kFloodSubProtocolId)}, [&](auto s, auto&) { out = std::move(s).value(); });
  });
  loop_.RunUntilIdle();
  ASSERT_NE(out, nullptr);
  pb::RPC expected;
  expected.add_subscriptions()->set_subscribe(true);
  expected.mutable_subscriptions(0)->set_topicid("t");
  EXPECT_NE(received.find(expected.SerializeAsString()), std::string::npos);
}

TEST_F(FloodSubTest, NothingIsRetainedAfterAPeerDisconnects) {
  Node a(&loop_, &net_, "a"), b(&loop_, &net_, "b");
  a.Join("t");
  b.Join("t");
  a.Connect(b, &loop_);
  ASSERT_NE(a.pubsub->FindPeer(b.host->peer_id()), nullptr);
  a.host->Disconnect(b.host->peer_id());
  loop_.RunUntilIdle();
  EXPECT_EQ(a.pubsub->FindPeer(b.host->peer_id()), nullptr);
  EXPECT_TRUE(a.pubsub->PeerTopics(b.host->peer_id()).empty());
  EXPECT_TRUE(a.pubsub->Peers().empty());
}

}  // namespace
}  // namespace libp2p::pubsub
