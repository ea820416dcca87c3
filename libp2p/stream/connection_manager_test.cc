#include "libp2p/stream/connection_manager.h"

#include <algorithm>

#include "gtest/gtest.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/sha256.h"

namespace libp2p::stream {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

crypto::PeerId PeerOf(int n) {
  auto key = *crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(std::to_string(n))));
  return crypto::PeerId::FromPublicKey(key.public_key());
}

class ConnectionManagerTest : public ::testing::Test {
 protected:
  ConnectionManagerTest() {
    options_.low_water = 3;
    options_.high_water = 5;
  }
  // `n` peers with one connection each, opened at `opened`; ids are the peer numbers.
  std::vector<ConnectionSummary> Connections(int n, MonoTime opened) {
    std::vector<ConnectionSummary> out;
    for (int i = 0; i < n; ++i) out.push_back(ConnectionSummary{static_cast<uint64_t>(i), PeerOf(i), opened});
    return out;
  }
  static bool Has(const std::vector<uint64_t>& ids, uint64_t id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }

  ConnectionManagerOptions options_;
  const MonoTime t0_ = MonoTime() + minutes(10);
};

TEST_F(ConnectionManagerTest, TrimsOnlyAboveHighWaterAndDownToLowWater) {
  ConnectionManager cm(options_);
  EXPECT_FALSE(cm.ShouldTrim(5, t0_));
  EXPECT_TRUE(cm.ShouldTrim(6, t0_));
  const auto chosen = cm.SelectForTrim(Connections(6, t0_ - minutes(2)), t0_);
  EXPECT_EQ(chosen.size(), 3u);
  // Within the silence period no further trim is due.
  EXPECT_FALSE(cm.ShouldTrim(6, t0_ + seconds(5)));
  EXPECT_TRUE(cm.ShouldTrim(6, t0_ + seconds(10)));
}

TEST_F(ConnectionManagerTest, ProtectedPeersAndNewConnectionsAreKept) {
  ConnectionManager cm(options_);
  auto open = Connections(6, t0_ - minutes(2));
  cm.Protect(PeerOf(0), "gossipsub:mesh:a");
  cm.Protect(PeerOf(1), "gossipsub:direct");
  open[2].opened = t0_ - seconds(30);  // Within the grace period.
  const auto chosen = cm.SelectForTrim(open, t0_);
  EXPECT_EQ(chosen.size(), 3u);
  EXPECT_FALSE(Has(chosen, 0));
  EXPECT_FALSE(Has(chosen, 1));
  EXPECT_FALSE(Has(chosen, 2));
  // Unprotecting one tag of two keeps the protection.
  cm.Protect(PeerOf(0), "gossipsub:mesh:b");
  EXPECT_TRUE(cm.Unprotect(PeerOf(0), "gossipsub:mesh:a"));
  EXPECT_FALSE(cm.Unprotect(PeerOf(0), "gossipsub:mesh:b"));
  EXPECT_FALSE(cm.IsProtected(PeerOf(0)));
}

TEST_F(ConnectionManagerTest, LeastValuableGoFirstAndRecentlyUsefulLast) {
  ConnectionManager cm(options_);
  auto open = Connections(6, t0_ - minutes(5));
  cm.SetTag(PeerOf(0), "x", 10);
  cm.SetTag(PeerOf(1), "x", 5);
  cm.SetTag(PeerOf(1), "x", 20);  // Replaced, not added.
  EXPECT_EQ(cm.Value(PeerOf(1)), 20);
  cm.SetTag(PeerOf(2), "y", 7);
  cm.MarkUseful(PeerOf(3), t0_ - seconds(30));
  cm.MarkUseful(PeerOf(4), t0_ - minutes(4));  // Outside the useful window: ranks by value only.
  const auto chosen = cm.SelectForTrim(open, t0_);
  ASSERT_EQ(chosen.size(), 3u);
  // Value 0 peers 4 and 5 first, then peer 2 (7); kept: 3 (recently useful), 1 (20), 0 (10).
  EXPECT_TRUE(Has(chosen, 4));
  EXPECT_TRUE(Has(chosen, 5));
  EXPECT_TRUE(Has(chosen, 2));
}

TEST_F(ConnectionManagerTest, PeersAreClosedWhole) {
  ConnectionManager cm(options_);
  std::vector<ConnectionSummary> open = Connections(4, t0_ - minutes(2));
  // Peer 0 has three connections; one of them is new, so the peer is not a candidate at all.
  open.push_back(ConnectionSummary{10, PeerOf(0), t0_ - minutes(2)});
  open.push_back(ConnectionSummary{11, PeerOf(0), t0_ - seconds(1)});
  const auto chosen = cm.SelectForTrim(open, t0_);
  EXPECT_FALSE(Has(chosen, 0));
  EXPECT_FALSE(Has(chosen, 10));
  EXPECT_FALSE(Has(chosen, 11));
  EXPECT_EQ(chosen.size(), 3u);  // Peers 1, 2, 3.
}

TEST_F(ConnectionManagerTest, EntriesDoNotPileUp) {
  ConnectionManager cm(options_);
  for (int i = 0; i < 100; ++i) {
    cm.Protect(PeerOf(i), "mesh");
    cm.SetTag(PeerOf(i), "x", 1);
    cm.Unprotect(PeerOf(i), "mesh");
    cm.RemoveTag(PeerOf(i), "x");
  }
  EXPECT_EQ(cm.tracked_peers(), 0u);
}

TEST_F(ConnectionManagerTest, ForgetPeerKeepsProtections) {
  ConnectionManager cm(options_);
  cm.Protect(PeerOf(0), "direct");
  cm.SetTag(PeerOf(0), "x", 3);
  cm.ForgetPeer(PeerOf(0));
  EXPECT_TRUE(cm.IsProtected(PeerOf(0)));
  EXPECT_EQ(cm.Value(PeerOf(0)), 0);
}

}  // namespace
}  // namespace libp2p::stream
