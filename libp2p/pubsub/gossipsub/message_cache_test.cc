#include "libp2p/pubsub/gossipsub/message_cache.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libp2p/base/bytes.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::PeerId;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A sha2-256 peer id whose digest is 32 copies of `n`.
PeerId Peer(uint8_t n) {
  Bytes multihash = {0x12, 0x20};
  multihash.resize(34, n);
  StatusOr<PeerId> id = PeerId::FromBytes(multihash);
  EXPECT_TRUE(id.ok());
  return *id;
}

pb::Message Msg(const std::string& topic, const std::string& data) {
  pb::Message m;
  m.set_topic(topic);
  m.set_data(data);
  return m;
}

TEST(MessageCacheTest, PutThenGet) {
  MessageCache cache(5, 3);
  EXPECT_TRUE(cache.Put("id1", Msg("t", "one")));
  std::optional<pb::Message> m = cache.Get("id1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data(), "one");
  EXPECT_EQ(m->topic(), "t");
  EXPECT_FALSE(cache.Get("id2"));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(MessageCacheTest, DuplicatePutIsIgnored) {
  MessageCache cache(5, 3);
  ASSERT_TRUE(cache.Put("id", Msg("t", "first")));
  cache.Shift();
  EXPECT_FALSE(cache.Put("id", Msg("t", "second")));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Get("id")->data(), "first");
  // Listed once, and still in its first window: it expires with that window, not later.
  EXPECT_THAT(cache.GetGossipIds("t"), ElementsAre("id"));
  for (int i = 0; i < 3; ++i) cache.Shift();
  EXPECT_TRUE(cache.Get("id"));
  cache.Shift();
  EXPECT_FALSE(cache.Get("id"));
}

TEST(MessageCacheTest, MessagesLiveHistoryLengthWindows) {
  MessageCache cache(5, 3);
  ASSERT_TRUE(cache.Put("old", Msg("t", "x")));
  for (int i = 0; i < 4; ++i) {
    cache.Shift();
    EXPECT_TRUE(cache.Get("old")) << "after shift " << i + 1;
  }
  cache.Shift();  // The fifth shift drops the window "old" was put in.
  EXPECT_FALSE(cache.Get("old"));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_THAT(cache.GetGossipIds("t"), IsEmpty());
  EXPECT_FALSE(cache.HasGossipIds("t"));
  // A new life after expiry.
  EXPECT_TRUE(cache.Put("old", Msg("t", "y")));
  EXPECT_EQ(cache.Get("old")->data(), "y");
}

TEST(MessageCacheTest, GossipIdsComeFromTheNewestGossipWindowsOnly) {
  MessageCache cache(5, 3);
  for (int w = 0; w < 5; ++w) {
    if (w > 0) cache.Shift();
    ASSERT_TRUE(cache.Put("m" + std::to_string(w) + "a", Msg("t", "")));
    ASSERT_TRUE(cache.Put("m" + std::to_string(w) + "b", Msg("t", "")));
  }
  // Windows, newest first: m4, m3, m2, m1, m0. Gossip covers m4..m2; IWANT can still fetch m1 and m0.
  EXPECT_THAT(cache.GetGossipIds("t"), ElementsAre("m4a", "m4b", "m3a", "m3b", "m2a", "m2b"));
  EXPECT_TRUE(cache.Get("m0a"));
  EXPECT_TRUE(cache.Get("m1b"));
  cache.Shift();
  EXPECT_THAT(cache.GetGossipIds("t"), ElementsAre("m4a", "m4b", "m3a", "m3b"));
  EXPECT_TRUE(cache.HasGossipIds("t"));
  EXPECT_FALSE(cache.Get("m0a"));
  EXPECT_TRUE(cache.Get("m1a"));
}

TEST(MessageCacheTest, GossipIdsAreScopedToTheTopic) {
  MessageCache cache(5, 3);
  ASSERT_TRUE(cache.Put("a1", Msg("a", "")));
  ASSERT_TRUE(cache.Put("b1", Msg("b", "")));
  cache.Shift();
  ASSERT_TRUE(cache.Put("a2", Msg("a", "")));
  ASSERT_TRUE(cache.Put("notopic", pb::Message()));
  EXPECT_THAT(cache.GetGossipIds("a"), ElementsAre("a2", "a1"));
  EXPECT_THAT(cache.GetGossipIds("b"), ElementsAre("b1"));
  EXPECT_THAT(cache.GetGossipIds("c"), IsEmpty());
  EXPECT_THAT(cache.GetGossipIds("ab"), IsEmpty());
  EXPECT_TRUE(cache.HasGossipIds("a"));
  EXPECT_TRUE(cache.HasGossipIds("b"));
  EXPECT_FALSE(cache.HasGossipIds("c"));
  EXPECT_FALSE(cache.HasGossipIds("ab"));
  // A message without a topic is filed under "" (validation normally rejects it before it gets here).
  EXPECT_THAT(cache.GetGossipIds(""), ElementsAre("notopic"));
}

TEST(MessageCacheTest, RetransmissionLimitPerPeer) {
  MessageCache cache(5, 3);
  ASSERT_TRUE(cache.Put("id", Msg("t", "payload")));
  const PeerId alice = Peer(1), bob = Peer(2);
  for (int i = 0; i < 3; ++i) {
    std::optional<pb::Message> m = cache.GetForPeer("id", alice, 3);
    ASSERT_TRUE(m) << "request " << i + 1;
    EXPECT_EQ(m->data(), "payload");
  }
  EXPECT_FALSE(cache.GetForPeer("id", alice, 3));
  // Many more requests stay refused (the count does not grow or wrap).
  for (int i = 0; i < 10000; ++i) ASSERT_FALSE(cache.GetForPeer("id", alice, 3));
  // Another peer has its own count.
  EXPECT_TRUE(cache.GetForPeer("id", bob, 3));
  // A higher limit lets alice have more: the limit is the caller's, the count is the cache's.
  EXPECT_TRUE(cache.GetForPeer("id", alice, 4));
  EXPECT_FALSE(cache.GetForPeer("id", alice, 4));
  // Get() neither counts nor is limited.
  EXPECT_TRUE(cache.Get("id"));
}

TEST(MessageCacheTest, GetForPeerFailsForUnknownIdsAndZeroLimit) {
  MessageCache cache(5, 3);
  ASSERT_TRUE(cache.Put("id", Msg("t", "")));
  EXPECT_FALSE(cache.GetForPeer("other", Peer(1), 3));
  EXPECT_FALSE(cache.GetForPeer("id", Peer(1), 0));
  EXPECT_FALSE(cache.GetForPeer("id", Peer(1), -1));
  EXPECT_TRUE(cache.GetForPeer("id", Peer(1), 1));
}

TEST(MessageCacheTest, RetransmissionCountsExpireWithTheMessage) {
  MessageCache cache(1, 1);
  ASSERT_TRUE(cache.Put("id", Msg("t", "")));
  ASSERT_TRUE(cache.GetForPeer("id", Peer(1), 1));
  ASSERT_FALSE(cache.GetForPeer("id", Peer(1), 1));
  cache.Shift();
  EXPECT_FALSE(cache.GetForPeer("id", Peer(1), 1));
  ASSERT_TRUE(cache.Put("id", Msg("t", "")));
  EXPECT_TRUE(cache.GetForPeer("id", Peer(1), 1));
}

TEST(MessageCacheTest, BinaryIdsAreDistinct) {
  MessageCache cache(5, 3);
  const std::string with_nul("a\0b", 3);
  const std::string high("\xff\xfe\x00", 3);
  ASSERT_TRUE(cache.Put(with_nul, Msg("t", "1")));
  ASSERT_TRUE(cache.Put(high, Msg("t", "2")));
  ASSERT_TRUE(cache.Put("a", Msg("t", "3")));
  EXPECT_EQ(cache.Get(with_nul)->data(), "1");
  EXPECT_EQ(cache.Get(high)->data(), "2");
  EXPECT_FALSE(cache.Get(std::string("a\0c", 3)));
  EXPECT_THAT(cache.GetGossipIds("t"), ElementsAre(with_nul, high, "a"));
}

// Many messages in one window fill several chunks (and grow the index); every one reads back intact.
TEST(MessageCacheTest, ManyMessagesAcrossChunksReadBackIntact) {
  MessageCache cache(5, 3);
  ASSERT_TRUE(cache.Put("first", Msg("t", "kept")));
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(cache.Put("id" + std::to_string(i), Msg("t", std::string(100 + i % 300, static_cast<char>(i)))));
  }
  ASSERT_TRUE(cache.Put("big", Msg("t", std::string(600 * 1024, 'b'))));  // Larger than a chunk.
  EXPECT_EQ(cache.Get("first")->data(), "kept");
  for (int i = 0; i < 5000; i += 7) {
    ASSERT_EQ(cache.Get("id" + std::to_string(i))->data(), std::string(100 + i % 300, static_cast<char>(i))) << i;
  }
  EXPECT_EQ(cache.Get("big")->data().size(), 600u * 1024);
  // Windows come and go, reusing their chunks; later messages read back intact too.
  for (int w = 0; w < 12; ++w) {
    cache.Shift();
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(cache.Put("w" + std::to_string(w) + "-" + std::to_string(i), Msg("u", std::string(500, 'a' + w))));
    }
  }
  EXPECT_FALSE(cache.Get("first"));
  EXPECT_EQ(cache.Get("w11-999")->data(), std::string(500, 'a' + 11));
  EXPECT_EQ(cache.Get("w7-0")->data(), std::string(500, 'a' + 7));
  EXPECT_EQ(cache.size(), 5000u);
}

// A node whose windows see a few small messages each (an attestation subnet, a quiet topic) holds little for
// them, however many windows come and go; a large message's memory goes with its window.
TEST(MessageCacheTest, SmallTrafficHoldsLittleMemory) {
  MessageCache cache(5, 3);
  for (int heartbeat = 0; heartbeat < 20; ++heartbeat) {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(cache.Put(std::to_string(heartbeat * 3 + i), Msg("t", std::string(300, 'a'))));
    cache.Shift();
  }
  EXPECT_LE(cache.held_bytes(), 5u * 2 * 1024) << "five windows, each of one small chunk";
  ASSERT_TRUE(cache.Put("block", Msg("t", std::string(128 * 1024, 'b'))));
  EXPECT_GE(cache.held_bytes(), 128u * 1024);
  for (int heartbeat = 0; heartbeat < 5; ++heartbeat) cache.Shift();
  EXPECT_FALSE(cache.Get("block"));
  EXPECT_LE(cache.held_bytes(), 5u * 2 * 1024);
}

TEST(MessageCacheTest, HoldsAtMostHistoryLengthWindows) {
  MessageCache cache(5, 3);
  int n = 0;
  for (int heartbeat = 0; heartbeat < 100; ++heartbeat) {
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(cache.Put(std::to_string(n++), Msg(i % 2 ? "odd" : "even", "")));
    EXPECT_LE(cache.size(), 5u * 50u);
    EXPECT_EQ(cache.GetGossipIds("odd").size() + cache.GetGossipIds("even").size(),
              std::min(heartbeat + 1, 3) * 50u);
    cache.Shift();
  }
  EXPECT_EQ(cache.size(), 4u * 50u);  // The new current window is empty.
}

TEST(MessageCacheTest, SingleWindowCache) {
  MessageCache cache(1, 1);
  ASSERT_TRUE(cache.Put("id", Msg("t", "")));
  EXPECT_THAT(cache.GetGossipIds("t"), ElementsAre("id"));
  cache.Shift();
  EXPECT_FALSE(cache.Get("id"));
  EXPECT_THAT(cache.GetGossipIds("t"), IsEmpty());
  EXPECT_EQ(cache.history_length(), 1u);
  EXPECT_EQ(cache.gossip_windows(), 1u);
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub

namespace libp2p::pubsub::gossipsub {
namespace {

TEST(MessageCacheTest, ByteCapDropsOldWindowsFirstThenStopsCaching) {
  pb::Message m;
  m.set_topic("t");
  m.set_data(std::string(1000, 'x'));
  const size_t size = m.ByteSizeLong();
  MessageCache cache(5, 3, SeededHash(1, 2), /*max_bytes=*/3 * size);
  ASSERT_TRUE(cache.Put("a", m));
  cache.Shift();
  ASSERT_TRUE(cache.Put("b", m));
  ASSERT_TRUE(cache.Put("c", m));
  EXPECT_EQ(cache.bytes(), 3 * size);
  // A fourth message evicts the oldest window ("a") early.
  ASSERT_TRUE(cache.Put("d", m));
  EXPECT_FALSE(cache.Get("a"));
  EXPECT_TRUE(cache.Get("b"));
  EXPECT_EQ(cache.bytes(), 3 * size);
  // The current window alone is full: new messages are not cached.
  EXPECT_FALSE(cache.Put("e", m));
  EXPECT_LE(cache.bytes(), 3 * size);
  cache.Shift();
  cache.Shift();
  cache.Shift();
  cache.Shift();
  cache.Shift();
  EXPECT_EQ(cache.bytes(), 0u);
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
