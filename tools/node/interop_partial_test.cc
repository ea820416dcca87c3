// test-plans' partial-messages application on the library, on the in-memory network and virtual time: its
// encoding, and a mixed network (v1.3 nodes with partial messages, v1.3 nodes without, v1.2 nodes as
// js-libp2p is) in which every node ends with the complete message.
#include "tools/node/interop_partial.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/testing/scenario.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::node {
namespace {

using crypto::PeerId;
using pubsub::gossipsub::GossipSubOptions;
using pubsub::gossipsub::kMeshSubV10;
using pubsub::gossipsub::kMeshSubV11;
using pubsub::gossipsub::kMeshSubV12;
using pubsub::gossipsub::Node;
using pubsub::gossipsub::PartialMessagesOptions;
using pubsub::gossipsub::PartialTopicMode;
using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kTopic = "a-subnet";

// The encoding of the go reference: [bitmap][parts in index order][group id], parts of counters.
TEST(InteropPartialTest, EncodingIsTheReferences) {
  const std::string part = InteropPartialApp::Part(7, 1);
  ASSERT_EQ(part.size(), 1024u);
  EXPECT_EQ(part.substr(0, 8), InteropGroupId(7 + 128));
  EXPECT_EQ(part.substr(1016, 8), InteropGroupId(7 + 255));
  const std::string encoded = InteropPartialApp::Encode(7, 0x05);
  ASSERT_EQ(encoded.size(), 1 + 2 * 1024 + 8u);
  EXPECT_EQ(encoded[0], '\x05');
  EXPECT_EQ(encoded.substr(1, 1024), InteropPartialApp::Part(7, 0));
  EXPECT_EQ(encoded.substr(1025, 1024), InteropPartialApp::Part(7, 2));
  EXPECT_EQ(encoded.substr(2049), InteropGroupId(7));
  EXPECT_EQ(InteropPartialApp::Encode(7, 0), "");
  EXPECT_EQ(InteropGroupNumber(InteropGroupId(0x0102030405060708)), 0x0102030405060708u);
  EXPECT_FALSE(InteropGroupNumber("short").has_value());
}

// The full message of group `group`: its id (the harness's message id is the first 8 bytes) and its parts.
std::string FullMessage(uint64_t group) {
  std::string out = InteropGroupId(group);
  for (size_t i = 0; i < InteropPartialApp::kParts; ++i) out += InteropPartialApp::Part(group, i);
  return out;
}

enum class Kind { kPartial, kFullV13, kV12 };

// A node of the mixed network, with the application a PeerDAS-like client would run: partial nodes turn a
// full message into parts, and publish the full message once their parts complete it, for the peers that do
// not take parts.
struct MixedNode {
  MixedNode(ManualEventLoop* loop, stream::MemoryNetwork* net, int n, Kind kind) : kind(kind) {
    app = std::make_unique<InteropPartialApp>([this](const std::string& topic, uint64_t group) {
      if (!has_full) Publish(group);
    });
    GossipSubOptions go;
    if (kind == Kind::kPartial) {
      PartialMessagesOptions pm;
      pm.handler = app.get();
      go.partial_messages = pm;
      go.partial_topics[kTopic] = PartialTopicMode{true, true};
    }
    if (kind == Kind::kV12) {
      go.protocols = {std::string(kMeshSubV12), std::string(kMeshSubV11), std::string(kMeshSubV10)};
    }
    pubsub::PubSubOptions po;
    po.sign_policy = pubsub::SignPolicy::kStrictNoSign;
    po.message_id = [](const pubsub::pb::Message& m) { return m.data().substr(0, 8); };
    node = std::make_unique<Node>(loop, net, n, go, po);
    app->SetRouter(node->router);
    EXPECT_TRUE(node->pubsub
                    ->Subscribe(kTopic,
                                [this](const pubsub::pb::Message& m, const std::string&, const PeerId&) {
                                  has_full = true;
                                  if (this->kind == Kind::kPartial) {
                                    const std::optional<uint64_t> g = InteropGroupNumber(m.data().substr(0, 8));
                                    if (g) app->Add(kTopic, *g, 0xff);
                                  }
                                })
                    .ok());
  }
  void Publish(uint64_t group) {
    has_full = true;
    const std::string data = FullMessage(group);
    EXPECT_TRUE(node->pubsub->Publish(kTopic, AsBytes(data)).status.ok());
  }
  bool Complete(uint64_t group) const { return has_full || app->Held(kTopic, group) == 0xff; }

  Kind kind;
  std::unique_ptr<InteropPartialApp> app;
  std::unique_ptr<Node> node;
  bool has_full = false;
};

TEST(InteropPartialTest, MixedNetworkEveryNodeEndsWithTheCompleteMessage) {
  ManualEventLoop loop;
  stream::MemoryNetwork net(&loop, stream::WriteLimits{}, milliseconds(2));
  std::vector<std::unique_ptr<MixedNode>> nodes;
  // 0-4 take partial messages, 5-8 speak v1.3 without them, 9-11 speak v1.2 only.
  for (int i = 0; i < 12; ++i) {
    const Kind kind = i < 5 ? Kind::kPartial : i < 9 ? Kind::kFullV13 : Kind::kV12;
    nodes.push_back(std::make_unique<MixedNode>(&loop, &net, i, kind));
  }
  auto connect = [&](int a, int b) {
    nodes[a]->node->host->Dial(nodes[b]->node->host->listen_addrs()[0], [](auto) {});
  };
  for (int a = 0; a < 5; ++a) {
    for (int b = a + 1; b < 5; ++b) connect(a, b);
  }
  for (int i = 5; i < 12; ++i) {
    connect(i, i % 5);
    connect(i, (i + 2) % 5);
    connect(i, i == 11 ? 5 : i + 1);
  }
  loop.AdvanceTime(seconds(3));
  // The v1.3 nodes spoke v1.3 to each other, and advertised partial messages.
  EXPECT_EQ(nodes[0]->node->router->PeersWithProtocol(pubsub::gossipsub::kMeshSubV13), 4u + 2u);
  ASSERT_TRUE(nodes[0]->node->router->ExtensionsOf(nodes[1]->node->id()).has_value());
  EXPECT_TRUE(nodes[0]->node->router->ExtensionsOf(nodes[1]->node->id())->partial_messages);
  EXPECT_TRUE(nodes[0]->node->router->PeerRequestsPartial(nodes[1]->node->id(), kTopic));
  EXPECT_FALSE(nodes[0]->node->router->ExtensionsOf(nodes[5]->node->id())->partial_messages);

  // Half the parts at node 0, the other half at node 1; both announce them.
  const uint64_t group = 42;
  nodes[0]->app->Add(kTopic, group, 0x0f);
  nodes[1]->app->Add(kTopic, group, 0xf0);
  ASSERT_TRUE(nodes[0]->app->Publish(kTopic, group).ok());
  ASSERT_TRUE(nodes[1]->app->Publish(kTopic, group).ok());
  loop.AdvanceTime(seconds(5));

  for (size_t i = 0; i < nodes.size(); ++i) EXPECT_TRUE(nodes[i]->Complete(group)) << "node " << i;
  // Partial nodes completed from parts, and the full message reached the others through them.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(nodes[i]->app->Held(kTopic, group), 0xff) << i;
  uint64_t skipped = 0;
  for (int i = 0; i < 5; ++i) {
    const auto& stats = nodes[i]->node->router->stats();
    skipped += stats.full_sends_skipped_partial;
    EXPECT_GT(stats.partial_received, 0u) << i;
    EXPECT_EQ(nodes[i]->app->invalid_rpcs(), 0u);
  }
  EXPECT_GT(skipped, 0u);  // Partial peers were not sent the full message by partial peers.
  // No partial RPC, and no Extensions message, reached a node that did not advertise the extension.
  for (int i = 5; i < 12; ++i) {
    EXPECT_EQ(nodes[i]->node->router->stats().partial_dropped, 0u) << i;
    EXPECT_EQ(nodes[i]->node->router->stats().extensions_misplaced, 0u) << i;
  }
}

}  // namespace
}  // namespace libp2p::node
