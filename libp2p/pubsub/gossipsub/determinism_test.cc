// A network of gossipsub nodes whose keys, router seeds and hash keys all come from RandomBytes: under a
// ScopedDeterministicRandom with the same seed, two runs send the same RPCs, byte for byte.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/random.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Appends every RPC a node sends to a shared transcript, as "node>peer:" and the RPC's bytes.
class TranscriptWriter : public RpcObserver {
 public:
  TranscriptWriter(size_t node, std::vector<std::string>* transcript) : node_(node), transcript_(transcript) {}
  void OnSend(const crypto::PeerId& peer, pb::RPC* rpc) override {
    transcript_->push_back(std::to_string(node_) + ">" + peer.ToBase58() + ":" + rpc->SerializeAsString());
  }

 private:
  const size_t node_;
  std::vector<std::string>* const transcript_;
};

struct SeededNode {
  SeededNode(ManualEventLoop* loop, stream::MemoryNetwork* net, size_t n, std::vector<std::string>* transcript)
      : key(crypto::Ed25519PrivateKey::Generate()), writer(n, transcript), transport(net->CreateTransport()) {
    stream::HostOptions ho;
    ho.identity = &key;
    host = std::make_unique<stream::Host>(loop, transport.get(), ho);
    EXPECT_TRUE(host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
    PubSubOptions po;
    po.identity = &key;
    po.first_seqno = 1;
    po.rpc_observers = {&writer};
    GossipSubOptions go;  // The seed from RandomU64.
    go.params.flood_publish = false;
    pubsub = std::make_unique<PubSub>(loop, host.get(), *GossipSubRouter::Create(go), po);
    EXPECT_TRUE(pubsub->Subscribe("t", [](const pb::Message&, const std::string&, const crypto::PeerId&) {}).ok());
  }
  ~SeededNode() { pubsub.reset(); }

  crypto::Ed25519PrivateKey key;
  TranscriptWriter writer;
  std::unique_ptr<stream::Transport> transport;
  std::unique_ptr<stream::Host> host;
  std::unique_ptr<PubSub> pubsub;
};

// The RPCs twelve nodes send while they connect (each to the next four), form their meshes, publish and
// gossip, on virtual time.
std::vector<std::string> RpcsUnder(uint64_t seed) {
  ScopedDeterministicRandom scope(seed);
  std::vector<std::string> transcript;
  ManualEventLoop loop;
  stream::MemoryNetwork net(&loop, stream::WriteLimits{}, milliseconds(3));
  std::vector<std::unique_ptr<SeededNode>> nodes;
  constexpr size_t kNodes = 12;
  for (size_t i = 0; i < kNodes; ++i) nodes.push_back(std::make_unique<SeededNode>(&loop, &net, i, &transcript));
  for (size_t i = 0; i < kNodes; ++i) {
    for (size_t k = 1; k <= 4; ++k) {
      nodes[i]->host->Dial(nodes[(i + k) % kNodes]->host->listen_addrs()[0], [](auto) {});
    }
  }
  loop.AdvanceTime(seconds(3));
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_TRUE(nodes[i]->pubsub->Publish("t", AsBytes("message " + std::to_string(i))).status.ok());
    loop.AdvanceTime(milliseconds(300));
  }
  loop.AdvanceTime(seconds(5));
  return transcript;
}

TEST(GossipSubDeterminismTest, SameSeedSameRpcs) {
  const std::vector<std::string> first = RpcsUnder(1);
  EXPECT_GT(first.size(), 100u);
  const std::vector<std::string> again = RpcsUnder(1);
  ASSERT_EQ(first.size(), again.size());
  for (size_t i = 0; i < first.size(); ++i) ASSERT_EQ(first[i], again[i]) << "RPC " << i;
  EXPECT_NE(RpcsUnder(2), first);
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
