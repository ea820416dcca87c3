#include "tools/node/paced_publisher.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/floodsub.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::node {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr size_t kMessageSize = 10'000;
constexpr int kCount = 2'000;  // 20 MB: more than a peer's data lane holds (16 MiB).

struct TestNode {
  TestNode(ManualEventLoop* loop, stream::MemoryNetwork* net, const std::string& seed)
      : key(*Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)))), transport(net->CreateTransport()) {
    stream::HostOptions ho;
    ho.identity = &key;
    host = std::make_unique<stream::Host>(loop, transport.get(), ho);
    EXPECT_TRUE(host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
    pubsub::PubSubOptions po;
    po.identity = &key;
    pubsub = std::make_unique<pubsub::PubSub>(loop, host.get(), std::make_unique<pubsub::FloodSubRouter>(), po);
    EXPECT_TRUE(pubsub->Subscribe("t", [this](const pubsub::pb::Message& m, const std::string&, const PeerId&) {
      received.push_back(m.data().substr(0, m.data().find('-')));
    }).ok());
  }
  Ed25519PrivateKey key;
  std::unique_ptr<stream::Transport> transport;
  std::unique_ptr<stream::Host> host;
  std::unique_ptr<pubsub::PubSub> pubsub;
  std::vector<std::string> received;
};

class PacedPublisherTest : public ::testing::Test {
 protected:
  void Connect(TestNode& from, TestNode& to) {
    from.host->Dial(to.host->listen_addrs()[0], [](auto) {});
    loop_.AdvanceTime(seconds(1));
  }
  // Publishes message `next_` of kCount; false once all are out.
  bool PublishNext() {
    if (next_ == kCount) return false;
    std::string data = std::to_string(next_++) + "-";
    data.resize(kMessageSize, 'x');
    const pubsub::PublishResult r = publisher_.pubsub->Publish("t", AsBytes(data));
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    return true;
  }
  uint64_t DroppedFull(TestNode& from, TestNode& to) {
    return from.pubsub->FindPeer(to.host->peer_id())->stats().dropped_full;
  }
  static std::vector<std::string> AllInOrder() {
    std::vector<std::string> out;
    for (int i = 0; i < kCount; ++i) out.push_back(std::to_string(i));
    return out;
  }

  ManualEventLoop loop_;
  // Every delivery takes 2 ms: the peers' lanes fill while the publisher runs ahead.
  stream::MemoryNetwork network_{&loop_, stream::WriteLimits{}, milliseconds(2)};
  TestNode publisher_{&loop_, &network_, "publisher"};
  TestNode a_{&loop_, &network_, "a"};
  TestNode b_{&loop_, &network_, "b"};
  int next_ = 0;
};

// Without pacing, publishing everything at once overflows the peers' lanes: messages are dropped. This is
// what the paced publisher prevents.
TEST_F(PacedPublisherTest, UnpacedBurstDropsForFullLanes) {
  Connect(publisher_, a_);
  while (PublishNext()) {
  }
  loop_.AdvanceTime(seconds(30));
  EXPECT_GT(DroppedFull(publisher_, a_), 0u);
  EXPECT_LT(a_.received.size(), static_cast<size_t>(kCount));
}

TEST_F(PacedPublisherTest, EveryMessageArrivesInOrderNoneDropped) {
  Connect(publisher_, a_);
  Connect(publisher_, b_);
  PacedPublisher paced(&loop_, publisher_.pubsub.get(), "t", {}, [this] { return PublishNext(); });
  paced.Start();
  EXPECT_EQ(next_, 0);  // Starts from the loop.
  loop_.AdvanceTime(seconds(30));
  EXPECT_TRUE(paced.done());
  EXPECT_GT(paced.pauses(), 0u);  // The peers set the pace.
  EXPECT_EQ(a_.received, AllInOrder());
  EXPECT_EQ(b_.received, AllInOrder());
  EXPECT_EQ(DroppedFull(publisher_, a_), 0u);
  EXPECT_EQ(DroppedFull(publisher_, b_), 0u);
}

// A peer that goes while publishing waits on it is no longer waited for.
TEST_F(PacedPublisherTest, PeerThatGoesIsNoLongerWaitedFor) {
  Connect(publisher_, a_);
  Connect(publisher_, b_);
  PacedPublisher paced(&loop_, publisher_.pubsub.get(), "t", {}, [this] { return PublishNext(); });
  paced.Start();
  loop_.RunUntilIdle();  // No time passes: nothing leaves, and publishing pauses.
  ASSERT_GT(paced.pauses(), 0u);
  ASSERT_FALSE(paced.done());
  b_.pubsub.reset();
  b_.host.reset();
  loop_.AdvanceTime(seconds(30));
  EXPECT_TRUE(paced.done());
  EXPECT_EQ(a_.received, AllInOrder());
  EXPECT_EQ(DroppedFull(publisher_, a_), 0u);
}

// With no peer in the topic there is nothing to wait for: all go, a bounded number per loop turn.
TEST_F(PacedPublisherTest, NoPeersPublishesEverythingInBoundedTurns) {
  PacedPublisher paced(&loop_, publisher_.pubsub.get(), "t", {.per_turn = 100}, [this] { return PublishNext(); });
  paced.Start();
  const size_t turns = loop_.RunUntilIdle();
  EXPECT_TRUE(paced.done());
  EXPECT_EQ(next_, kCount);
  EXPECT_GE(turns, static_cast<size_t>(kCount / 100));
  EXPECT_EQ(paced.pauses(), 0u);
}

}  // namespace
}  // namespace libp2p::node
