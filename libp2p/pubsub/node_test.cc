// The Node front door over real TCP on loopback: nodes on loop threads of their own, called from the test's
// threads. Waits end on events (a peer joining, a message arriving) and have deadlines only as failures.
#include "libp2p/pubsub/node.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/libevent_loop.h"

namespace libp2p::pubsub {
namespace {

using std::chrono::seconds;

constexpr auto kDeadline = seconds(20);

NodeOptions LocalOptions() {
  NodeOptions o;
  o.listen_addrs = {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")};
  o.gossipsub.params.heartbeat_initial_delay = std::chrono::milliseconds(10);
  return o;
}

std::unique_ptr<Node> StartedNode(NodeOptions options = LocalOptions()) {
  StatusOr<std::unique_ptr<Node>> node = Node::Create(std::move(options));
  EXPECT_TRUE(node.ok()) << node.status().ToString();
  EXPECT_TRUE((*node)->Start().ok());
  return std::move(*node);
}

// Counts events from any thread; WaitFor(n) returns once n have happened (false at the deadline).
class Counter {
 public:
  void Add(int n = 1) {
    std::lock_guard<std::mutex> lock(mu_);
    count_ += n;
    cv_.notify_all();
  }
  bool WaitFor(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kDeadline, [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

// `a` connects to `b`, and both join `topic`: returns their handles once each sees the other in the topic.
std::pair<std::shared_ptr<Topic>, std::shared_ptr<Topic>> Link(Node& a, Node& b, const std::string& topic,
                                                               std::unique_ptr<Subscription>* a_sub,
                                                               std::unique_ptr<Subscription>* b_sub,
                                                               SubscriptionOptions b_options = {}) {
  auto ta = *a.Join(topic);
  auto tb = *b.Join(topic);
  auto joined = std::make_shared<Counter>();  // Shared: a handler may still run as Link returns.
  ta->SetPeerHandler([joined](const PeerEvent& e) { joined->Add(e.joined ? 1 : 0); });
  tb->SetPeerHandler([joined](const PeerEvent& e) { joined->Add(e.joined ? 1 : 0); });
  *a_sub = ta->Subscribe();
  *b_sub = tb->Subscribe(std::move(b_options));
  StatusOr<crypto::PeerId> connected = a.Connect(b.listen_addrs()[0]).get();
  EXPECT_TRUE(connected.ok()) << connected.status().ToString();
  EXPECT_EQ(*connected, b.id());
  EXPECT_TRUE(joined->WaitFor(2));
  ta->SetPeerHandler(nullptr);
  tb->SetPeerHandler(nullptr);
  return {ta, tb};
}

TEST(NodeTest, APublishedMessageReachesASubscriberOfAnotherNode) {
  auto a = StartedNode(), b = StartedNode();
  ASSERT_EQ(a->listen_addrs().size(), 1u);
  std::unique_ptr<Subscription> sa, sb;
  auto [ta, tb] = Link(*a, *b, "chat", &sa, &sb);
  PublishResult r = ta->Publish(AsBytes("hello")).get();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.peers, 1u);
  std::optional<Message> m = sb->Next(kDeadline);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->data, "hello");
  EXPECT_EQ(m->topic, "chat");
  EXPECT_EQ(m->from, a->id());
  EXPECT_EQ(m->received_from, a->id());
  EXPECT_EQ(m->id, r.id);
  // Our own message is not delivered to our own subscription.
  EXPECT_FALSE(sa->Next(std::chrono::milliseconds(1)).has_value());
  EXPECT_EQ(a->GetTopics().get(), std::vector<std::string>{"chat"});
  EXPECT_TRUE(a->Ping(b->id()).get().ok());  // The connection is to b.
  EXPECT_EQ(ta->ListPeers().get(), std::vector<crypto::PeerId>{b->id()});
  EXPECT_TRUE(a->ListPeers("other").get().empty());
}

// Four threads publish on one node while two threads read from the other: one subscription by callback on
// an executor of the test's, one pulled with Next(). Every message arrives once in each.
TEST(NodeTest, SeveralThreadsPublishAndSubscribeAtOnce) {
  auto a = StartedNode(), b = StartedNode();
  std::mutex seen_mu;
  std::set<std::string> by_callback;
  Counter callbacks;
  // The executor: a worker thread of the test's that runs each handler it is given.
  std::mutex work_mu;
  std::condition_variable work_cv;
  std::deque<std::function<void()>> work;
  bool work_done = false;
  std::thread worker([&] {
    std::unique_lock<std::mutex> lock(work_mu);
    while (true) {
      work_cv.wait(lock, [&] { return work_done || !work.empty(); });
      if (work.empty()) return;
      auto fn = std::move(work.front());
      work.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
  });
  SubscriptionOptions by_executor;
  by_executor.on_message = [&](const Message& m) {
    {
      std::lock_guard<std::mutex> lock(seen_mu);
      by_callback.insert(m.data);
    }
    callbacks.Add();
  };
  by_executor.executor = [&](std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(work_mu);
    work.push_back(std::move(fn));
    work_cv.notify_one();
  };
  std::unique_ptr<Subscription> sa, sb;
  auto [ta, tb] = Link(*a, *b, "t", &sa, &sb, std::move(by_executor));
  std::unique_ptr<Subscription> pulled = tb->Subscribe();
  (void)b->GetTopics().get();  // A round trip through b's loop: the subscription posted before is in place.

  constexpr int kThreads = 4, kEach = 50;
  std::set<std::string> by_pull;
  std::thread reader([&] {
    for (int i = 0; i < kThreads * kEach; ++i) {
      std::optional<Message> m = pulled->Next(kDeadline);
      if (!m) return;
      by_pull.insert(m->data);
    }
  });
  std::vector<std::thread> publishers;
  std::atomic<int> published{0};
  for (int t = 0; t < kThreads; ++t) {
    publishers.emplace_back([&, t, topic = ta] {
      for (int i = 0; i < kEach; ++i) {
        const std::string data = "m-" + std::to_string(t) + "-" + std::to_string(i);
        if (topic->Publish(AsBytes(data)).get().status.ok()) published.fetch_add(1);
      }
    });
  }
  for (auto& p : publishers) p.join();
  EXPECT_EQ(published.load(), kThreads * kEach);
  reader.join();
  EXPECT_TRUE(callbacks.WaitFor(kThreads * kEach));
  {
    std::lock_guard<std::mutex> lock(work_mu);
    work_done = true;
    work_cv.notify_one();
  }
  worker.join();
  EXPECT_EQ(by_pull.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(by_callback.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(callbacks.count(), kThreads * kEach) << "each message once";
  EXPECT_EQ(pulled->dropped(), 0u);
}

// Counts the messages a subscription's full queue left undelivered (PubSubTracer::UndeliverableMessage).
class UndeliverableCounter : public PubSubTracer {
 public:
  void UndeliverableMessage(const TracedMessage&) override { count.fetch_add(1); }
  std::atomic<int> count{0};
};

TEST(NodeTest, AFullPullQueueDropsAndCounts) {
  UndeliverableCounter undeliverable;
  NodeOptions traced = LocalOptions();
  traced.pubsub.tracers = {&undeliverable};
  auto a = StartedNode(), b = StartedNode(traced);
  std::unique_ptr<Subscription> sa, sb;
  SubscriptionOptions small;
  small.queue_size = 3;
  auto [ta, tb] = Link(*a, *b, "t", &sa, &sb, small);
  Counter arrived;
  SubscriptionOptions counting;
  counting.on_message = [&](const Message&) { arrived.Add(); };
  auto counter = tb->Subscribe(counting);
  (void)b->GetTopics().get();  // A round trip through b's loop: the subscription posted before is in place.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ta->Publish(AsBytes("m" + std::to_string(i))).get().status.ok());
  ASSERT_TRUE(arrived.WaitFor(10));
  EXPECT_EQ(sb->dropped(), 7u);
  EXPECT_EQ(undeliverable.count.load(), 7);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(sb->Next(kDeadline)->data, "m" + std::to_string(i));
}

// With a metrics registry, the node counts what happens in it; the registry renders from the test's thread
// while the loop thread writes. One node per registry.
TEST(NodeTest, MetricsCountIntoTheRegistryGiven) {
  metrics::Registry registry;
  NodeOptions counted = LocalOptions();
  counted.metrics = &registry;
  auto a = StartedNode(), b = StartedNode(counted);
  std::unique_ptr<Subscription> sa, sb;
  auto [ta, tb] = Link(*a, *b, "t", &sa, &sb);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ta->Publish(AsBytes("m" + std::to_string(i))).get().status.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sb->Next(kDeadline).has_value());
  const std::string text = registry.Render();
  EXPECT_NE(text.find("gossipsub_msg_delivered_total{topic=\"t\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE gossipsub_mesh_peers gauge"), std::string::npos) << text;

  NodeOptions again = LocalOptions();
  again.metrics = &registry;
  StatusOr<std::unique_ptr<Node>> c = Node::Create(again);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->Start().code(), StatusCode::kAlreadyExists);
}

// A relay forwards the topic without delivering: a - relay - b, with a and b not connected. (Floodsub, so
// that the relay forwards at once rather than once its mesh has formed.)
TEST(NodeTest, ARelayForwardsWithoutDelivering) {
  NodeOptions flood = LocalOptions();
  flood.router = RouterKind::kFloodSub;
  auto a = StartedNode(flood), relay = StartedNode(flood), b = StartedNode(flood);
  auto ta = *a->Join("t");
  auto tr = *relay->Join("t");
  auto tb = *b->Join("t");
  // Each end must know the other's subscription before a publishes: the relay learns of a and b, they of it.
  auto joined = std::make_shared<Counter>();  // Shared: handlers may run until the nodes stop.
  for (auto* t : {&ta, &tr, &tb}) (*t)->SetPeerHandler([joined](const PeerEvent& e) { joined->Add(e.joined ? 1 : 0); });
  auto relaying = tr->Relay();
  auto sa = ta->Subscribe();
  auto sb = tb->Subscribe();
  ASSERT_TRUE(a->Connect(relay->listen_addrs()[0]).get().ok());
  ASSERT_TRUE(b->Connect(relay->listen_addrs()[0]).get().ok());
  ASSERT_TRUE(joined->WaitFor(4));
  ASSERT_TRUE(ta->Publish(AsBytes("through")).get().status.ok());
  std::optional<Message> m = sb->Next(kDeadline);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->data, "through");
  EXPECT_EQ(m->received_from, relay->id());
  EXPECT_EQ(relay->GetTopics().get(), std::vector<std::string>{"t"});
  relaying.reset();  // The relay leaves the topic with its last relay.
  std::vector<std::string> topics = relay->GetTopics().get();
  EXPECT_TRUE(topics.empty());
}

// A subscription's filter drops the messages it refuses before they reach its queue (so they take no room
// in it and are not counted as dropped), while the node still forwards them and its other subscriptions get
// them: a - b - c in a line (floodsub, so that b forwards at once), b filtering out all but "keep-" messages.
TEST(NodeTest, AFilterDropsBeforeTheQueueButTheMessageIsStillForwarded) {
  NodeOptions flood = LocalOptions();
  flood.router = RouterKind::kFloodSub;
  auto a = StartedNode(flood), b = StartedNode(flood), c = StartedNode(flood);
  auto ta = *a->Join("t");
  auto tb = *b->Join("t");
  auto tc = *c->Join("t");
  // Each end must know the other's subscription before a publishes: b learns of a and c, a and c of b.
  auto joined = std::make_shared<Counter>();  // Shared: handlers may run until the nodes stop.
  for (auto* t : {&ta, &tb, &tc}) (*t)->SetPeerHandler([joined](const PeerEvent& e) { joined->Add(e.joined ? 1 : 0); });
  SubscriptionOptions filtering;
  filtering.queue_size = 1;
  filtering.filter = [](const Message& m) { return m.data.rfind("keep-", 0) == 0; };
  auto filtered = tb->Subscribe(filtering);
  auto unfiltered = tb->Subscribe();
  auto sa = ta->Subscribe();
  auto sc = tc->Subscribe();
  ASSERT_TRUE(a->Connect(b->listen_addrs()[0]).get().ok());
  ASSERT_TRUE(c->Connect(b->listen_addrs()[0]).get().ok());
  ASSERT_TRUE(joined->WaitFor(4));
  for (const char* data : {"drop-1", "drop-2", "keep-1"}) ASSERT_TRUE(ta->Publish(AsBytes(data)).get().status.ok());
  for (const char* data : {"drop-1", "drop-2", "keep-1"}) {
    std::optional<Message> forwarded = sc->Next(kDeadline);
    ASSERT_TRUE(forwarded.has_value()) << data;
    EXPECT_EQ(forwarded->data, data);
    EXPECT_EQ(forwarded->received_from, b->id());
    std::optional<Message> all = unfiltered->Next(kDeadline);
    ASSERT_TRUE(all.has_value()) << data;
    EXPECT_EQ(all->data, data);
  }
  std::optional<Message> kept = filtered->Next(kDeadline);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->data, "keep-1");  // With a queue of one: the refused messages took no room.
  EXPECT_EQ(filtered->filtered(), 2u);
  EXPECT_EQ(filtered->dropped(), 0u);
  EXPECT_EQ(unfiltered->filtered(), 0u);
}

// Direct peers through the Node API, posted to the loop: an added one is dialed (direct_connect_initial_delay
// later) and a removed one is ordinary again; floodsub has no direct peers.
TEST(NodeTest, DirectPeersAreAddedAndRemovedAtRunTime) {
  NodeOptions options = LocalOptions();
  options.gossipsub.params.direct_connect_initial_delay = std::chrono::milliseconds(10);
  auto connected = std::make_shared<Counter>();  // Shared: handlers may run until the node stops.
  options.events.on_connected = [connected](const stream::ConnectionInfo&) { connected->Add(); };
  auto a = StartedNode(options), b = StartedNode();
  ASSERT_TRUE(a->AddDirectPeer(b->id(), b->listen_addrs()).get().ok());
  ASSERT_TRUE(connected->WaitFor(1));
  EXPECT_TRUE(a->Ping(b->id()).get().ok());  // The connection is to b.
  EXPECT_TRUE(a->RemoveDirectPeer(b->id()).get().ok());
  EXPECT_EQ(a->RemoveDirectPeer(b->id()).get().code(), StatusCode::kNotFound);
  EXPECT_EQ(a->AddDirectPeer(a->id(), {}).get().code(), StatusCode::kInvalidArgument);

  NodeOptions flood = LocalOptions();
  flood.router = RouterKind::kFloodSub;
  auto f = StartedNode(flood);
  EXPECT_EQ(f->AddDirectPeer(b->id(), b->listen_addrs()).get().code(), StatusCode::kFailedPrecondition);
  f->Stop();
  EXPECT_EQ(f->RemoveDirectPeer(b->id()).get().code(), StatusCode::kUnavailable);
}

// Validators run on the loop; an asynchronous one may answer from another thread. Our own messages pass
// through them too.
TEST(NodeTest, AValidatorMayAnswerFromAnotherThread) {
  auto a = StartedNode();
  std::vector<std::thread> answering;
  std::mutex mu;
  a->AddValidator("t", [&](const pb::Message& m, std::function<void(ValidationResult)> done) {
    const bool ok = m.data() != "bad";
    std::lock_guard<std::mutex> lock(mu);
    answering.emplace_back([done, ok] { done(ok ? ValidationResult::kAccept : ValidationResult::kReject); });
  });
  auto t = *a->Join("t");
  EXPECT_TRUE(t->Publish(AsBytes("good")).get().status.ok());
  EXPECT_EQ(t->Publish(AsBytes("bad")).get().status.code(), StatusCode::kPermissionDenied);
  std::lock_guard<std::mutex> lock(mu);
  for (auto& th : answering) th.join();
}

// A batch goes out as one: every message delivered, each with its own id; the node's order (the scheduler)
// is PubSub's and tested there.
TEST(NodeTest, ABatchIsPublishedWhole) {
  auto a = StartedNode();
  auto b = StartedNode();
  std::unique_ptr<Subscription> a_sub, b_sub;
  Link(*a, *b, "t", &a_sub, &b_sub);
  std::vector<BatchMessage> batch;
  for (int i = 0; i < 10; ++i) batch.push_back({"t", "batch-" + std::to_string(i)});
  const NodeBatchResult r = a->PublishBatch(batch).get();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.messages.size(), 10u);
  EXPECT_EQ(r.published.messages, 10u);
  EXPECT_EQ(r.published.sent, 10u);
  std::set<std::string> ids, received;
  for (const BatchAddResult& m : r.messages) ids.insert(m.id);
  EXPECT_EQ(ids.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    std::optional<Message> m = b_sub->Next(kDeadline);
    ASSERT_TRUE(m.has_value()) << i;
    EXPECT_EQ(ids.count(m->id), 1u);
    received.insert(m->data);
  }
  EXPECT_EQ(received.size(), 10u);
}

// All or nothing: a refused message (here a synchronous validator's reject, and an empty topic) keeps the
// whole batch back, and the result names each refusal. A validator that answers later, from another
// thread, is not waited for.
TEST(NodeTest, ABatchWithARefusedMessageIsNotPublished) {
  auto a = StartedNode();
  std::vector<std::thread> answering;
  std::mutex mu;
  a->AddValidator("t", [](const pb::Message& m, std::function<void(ValidationResult)> done) {
    done(m.data() == "bad" ? ValidationResult::kReject : ValidationResult::kAccept);
  });
  a->AddValidator("slow", [&](const pb::Message&, std::function<void(ValidationResult)> done) {
    std::lock_guard<std::mutex> lock(mu);
    answering.emplace_back([done] { done(ValidationResult::kAccept); });
  });
  NodeBatchResult r = a->PublishBatch({{"t", "good"}, {"t", "bad"}, {"", "no topic"}}).get();
  EXPECT_EQ(r.status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(r.status.message().rfind("message 1: ", 0), 0u) << r.status.message();
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_TRUE(r.messages[0].status.ok());
  EXPECT_EQ(r.messages[2].status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.published.messages, 0u);

  r = a->PublishBatch({{"slow", "x"}}).get();
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
  // Synchronous validators alone: published.
  r = a->PublishBatch({{"t", "good"}, {"t", "good too"}}).get();
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.published.messages, 2u);

  a->Stop();
  r = a->PublishBatch({{"t", "late"}}).get();
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(r.messages.empty());
  std::lock_guard<std::mutex> lock(mu);
  for (auto& th : answering) th.join();
}

TEST(NodeTest, AfterStopCallsFailAndHandlesOutliveTheNode) {
  auto a = StartedNode();
  auto t = *a->Join("t");
  auto s = t->Subscribe();
  a->Stop();
  a->Stop();  // Idempotent.
  EXPECT_EQ(t->Publish(AsBytes("x")).get().status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(a->Connect(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/1")).get().status().code(),
            StatusCode::kUnavailable);
  EXPECT_FALSE(s->Next(std::chrono::milliseconds(1)).has_value());
  a.reset();
  EXPECT_EQ(t->Publish(AsBytes("x")).get().status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(t->ListPeers().get().empty());
}

TEST(NodeTest, TheIdentityComesFromAKeyOrAKeyFile) {
  const crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
  NodeOptions with_key;
  with_key.key = std::make_shared<crypto::Ed25519PrivateKey>(key);
  EXPECT_EQ((*Node::Create(with_key))->id(), crypto::PeerId::FromPublicKey(key.public_key()));

  const std::string path = ::testing::TempDir() + "/node_test_key";
  {
    const Bytes encoded = key.ToProtobuf();
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(encoded.data()), static_cast<std::streamsize>(encoded.size()));
  }
  NodeOptions from_file;
  from_file.key_file = path;
  EXPECT_EQ((*Node::Create(from_file))->id(), crypto::PeerId::FromPublicKey(key.public_key()));
  {
    std::ofstream out(path, std::ios::binary);
    out << "not a key";
  }
  EXPECT_EQ(Node::Create(from_file).status().code(), StatusCode::kInvalidArgument);
  from_file.key_file = path + ".missing";
  EXPECT_EQ(Node::Create(from_file).status().code(), StatusCode::kNotFound);
  std::remove(path.c_str());
}

// A node may be a peer of any key type: its Noise payload, signed peer record and message signatures
// (with the key field when the peer id does not embed the key) convince another node.
TEST(NodeTest, EveryKeyTypeIsAnIdentity) {
  for (crypto::KeyType type : {crypto::KeyType::kSecp256k1, crypto::KeyType::kEcdsa, crypto::KeyType::kRsa}) {
    SCOPED_TRACE(std::string(crypto::KeyTypeName(type)));
    NodeOptions options = LocalOptions();
    options.key = std::move(crypto::PrivateKey::Generate(type)).value();
    auto a = StartedNode(options), b = StartedNode();
    EXPECT_EQ(a->id(), crypto::PeerId::FromPublicKey(options.key->public_key()));
    std::unique_ptr<Subscription> sa, sb;
    auto [ta, tb] = Link(*a, *b, "keys", &sa, &sb);
    ASSERT_TRUE(ta->Publish(AsBytes("signed")).get().status.ok());
    std::optional<Message> m = sb->Next(kDeadline);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->from, a->id());
    // And the other way: a verifies b's Ed25519 messages as before.
    ASSERT_TRUE(tb->Publish(AsBytes("back")).get().status.ok());
    ASSERT_TRUE(sa->Next(kDeadline).has_value());
  }
}

TEST(NodeTest, BadOptionsAndTopicsAreRefused) {
  NodeOptions bad;
  bad.gossipsub.params.d = 100;  // Above d_hi.
  EXPECT_EQ(Node::Create(bad).status().code(), StatusCode::kInvalidArgument);
  auto a = *Node::Create(NodeOptions{});
  EXPECT_EQ(a->Join("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a->Join(std::string(2000, 't')).status().code(), StatusCode::kInvalidArgument);
  NodeOptions busy = LocalOptions();
  auto first = StartedNode();
  const std::string taken = first->listen_addrs()[0].ToString();
  busy.listen_addrs = {*Multiaddr::FromString(taken.substr(0, taken.find("/p2p/")))};
  auto second = *Node::Create(busy);
  EXPECT_EQ(second->Start().code(), StatusCode::kUnavailable);
}

// On the caller's loop: the node is started, used and stopped from the loop's own thread.
TEST(NodeTest, ANodeRunsOnTheCallersLoop) {
  auto loop = *LibeventLoop::Create();
  auto a = *Node::Create(LocalOptions(), loop.get());
  ASSERT_TRUE(a->Start().ok());
  auto t = *a->Join("t");
  std::future<PublishResult> f = t->Publish(AsBytes("x"));
  ASSERT_TRUE(loop->RunUntil([&] { return f.wait_for(seconds(0)) == std::future_status::ready; }, kDeadline));
  EXPECT_TRUE(f.get().status.ok());
  a->Stop();
  a.reset();
  EXPECT_EQ(t->Publish(AsBytes("x")).get().status.code(), StatusCode::kUnavailable);
}

// The node's events, here through an executor of the test's (a queue another thread drains): connections,
// identify, subscriptions of any topic and the mesh, each once per peer; a ping answers with a round trip.
TEST(NodeTest, EventsReportConnectionsSubscriptionsAndTheMesh) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  bool done = false;
  std::thread worker([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      cv.wait(lock, [&] { return done || !queue.empty(); });
      if (queue.empty()) return;
      std::function<void()> fn = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
  });
  Counter connected, identified, subscribed, grafted, disconnected;
  std::mutex seen_mu;
  std::set<std::string> seen;  // "event peer topic", guarded by seen_mu.
  auto record = [&](const std::string& what, Counter& c) {
    std::lock_guard<std::mutex> lock(seen_mu);
    seen.insert(what);
    c.Add();
  };
  NodeOptions options = LocalOptions();
  options.events.executor = [&](std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(mu);
    queue.push_back(std::move(fn));
    cv.notify_one();
  };
  options.events.on_connected = [&](const stream::ConnectionInfo& c) {
    EXPECT_FALSE(c.inbound);
    EXPECT_EQ(c.security, "/noise");
    record("connected " + c.peer.ToBase58(), connected);
  };
  options.events.on_identified = [&](const crypto::PeerId& p, const stream::IdentifyInfo& info) {
    EXPECT_FALSE(info.protocols.empty());
    record("identified " + p.ToBase58(), identified);
  };
  options.events.on_peer_subscribed = [&](const crypto::PeerId& p, const std::string& topic, bool on) {
    record(std::string(on ? "subscribed " : "unsubscribed ") + p.ToBase58() + " " + topic, subscribed);
  };
  options.events.on_graft = [&](const crypto::PeerId& p, const std::string& topic) {
    record("graft " + p.ToBase58() + " " + topic, grafted);
  };
  options.events.on_disconnected = [&](const stream::ConnectionInfo& c, const Status&) {
    record("disconnected " + c.peer.ToBase58(), disconnected);
  };
  auto a = StartedNode(std::move(options));
  auto b = StartedNode();
  std::unique_ptr<Subscription> sa, sb;
  auto [ta, tb] = Link(*a, *b, "events", &sa, &sb);
  StatusOr<Duration> rtt = a->Ping(b->id()).get();
  ASSERT_TRUE(rtt.ok()) << rtt.status().ToString();
  EXPECT_GT(rtt->count(), 0);
  EXPECT_TRUE(identified.WaitFor(1));
  EXPECT_TRUE(grafted.WaitFor(1));  // Link waited for the subscriptions; the graft comes with a heartbeat.
  EXPECT_TRUE(subscribed.WaitFor(1));
  b->Stop();
  EXPECT_TRUE(disconnected.WaitFor(1));
  EXPECT_EQ(a->Ping(b->id()).get().status().code(), StatusCode::kNotFound);
  a->Stop();
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_one();
  }
  worker.join();
  const std::string peer = b->id().ToBase58();
  EXPECT_EQ(seen, (std::set<std::string>{"connected " + peer, "identified " + peer, "subscribed " + peer + " events",
                                         "graft " + peer + " events", "disconnected " + peer}));
  EXPECT_EQ(connected.count(), 1);
  EXPECT_EQ(disconnected.count(), 1);
}

}  // namespace
}  // namespace libp2p::pubsub
