// RoundRobinScheduler alone: the order it gives a batch's sends.
#include "libp2p/pubsub/round_robin_scheduler.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/sha256.h"

namespace libp2p::pubsub {
namespace {

using crypto::PeerId;

PeerId TestPeer(int n) {
  return PeerId::FromPublicKey(
      crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("peer-" + std::to_string(n))))->public_key());
}

std::shared_ptr<const pb::RPC> DataRpc(const std::string& data) {
  auto rpc = std::make_shared<pb::RPC>();
  rpc->add_publish()->set_data(data);
  return rpc;
}

// "id@peer" for each send, in order.
std::vector<std::string> Order(const std::vector<ScheduledRpc>& sends, const std::vector<PeerId>& peers) {
  std::vector<std::string> out;
  for (const ScheduledRpc& s : sends) {
    size_t p = 0;
    while (p < peers.size() && !(peers[p] == s.peer)) ++p;
    out.push_back(s.id + "@" + std::to_string(p));
  }
  return out;
}

TEST(RoundRobinSchedulerTest, SendsEveryFirstCopyBeforeAnySecondCopy) {
  const std::vector<PeerId> peers = {TestPeer(0), TestPeer(1), TestPeer(2)};
  RoundRobinScheduler s;
  // Added as the core adds them: every copy of a, then of b, then of c; b has one copy fewer, c only one.
  for (int p : {0, 1, 2}) s.Add(peers[p], "a", DataRpc("a"));
  for (int p : {2, 0}) s.Add(peers[p], "b", DataRpc("b"));
  s.Add(peers[1], "c", DataRpc("c"));
  const std::vector<ScheduledRpc> sends = s.Take();
  EXPECT_EQ(Order(sends, peers), (std::vector<std::string>{"a@0", "b@2", "c@1", "a@1", "b@0", "a@2"}));
  for (const ScheduledRpc& send : sends) {
    ASSERT_NE(send.rpc, nullptr);
    EXPECT_EQ(send.rpc->publish(0).data(), send.id);
  }
}

TEST(RoundRobinSchedulerTest, IsEmptyAfterTakeAndServesTheNextBatch) {
  const std::vector<PeerId> peers = {TestPeer(0), TestPeer(1)};
  RoundRobinScheduler s;
  EXPECT_TRUE(s.Take().empty());
  s.Add(peers[0], "x", DataRpc("x"));
  s.Add(peers[1], "x", DataRpc("x"));
  EXPECT_EQ(s.Take().size(), 2u);
  EXPECT_TRUE(s.Take().empty());
  // A new batch starts from nothing: "x" is not remembered ahead of "y".
  s.Add(peers[1], "y", DataRpc("y"));
  s.Add(peers[0], "x", DataRpc("x"));
  EXPECT_EQ(Order(s.Take(), peers), (std::vector<std::string>{"y@1", "x@0"}));
}

// The order depends only on the adds: two schedulers given the same adds agree (go's map order does not).
TEST(RoundRobinSchedulerTest, IsDeterministic) {
  std::vector<PeerId> peers;
  for (int p = 0; p < 8; ++p) peers.push_back(TestPeer(p));
  auto fill = [&](RoundRobinScheduler& s) {
    for (int m = 0; m < 64; ++m) {
      for (int p = 0; p < 8; ++p) {
        if ((m + p) % 3 != 0) s.Add(peers[p], "m" + std::to_string(m), DataRpc("m"));
      }
    }
  };
  RoundRobinScheduler one, two;
  fill(one);
  fill(two);
  const std::vector<std::string> first = Order(one.Take(), peers);
  EXPECT_EQ(first, Order(two.Take(), peers));
  // Round one is the 64 messages in batch order.
  ASSERT_GE(first.size(), 64u);
  for (int m = 0; m < 64; ++m) EXPECT_EQ(first[m].substr(0, first[m].find('@')), "m" + std::to_string(m));
}

}  // namespace
}  // namespace libp2p::pubsub
