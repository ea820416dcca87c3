// The cost of one gossipsub heartbeat on a node with 1,000 peers and 100 topics: each peer subscribes to 10
// topics (so about 100 peers per topic), the node to all 100, and every topic has recent messages to gossip
// about. Everything runs in one process on the in-memory network; only Heartbeat() itself is timed.
//
//   bazel run -c opt //libp2p/pubsub/gossipsub:heartbeat_benchmark
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {
namespace {

constexpr int kPeers = 1000;
constexpr int kTopics = 100;
constexpr int kTopicsPerPeer = 10;

struct Node {
  Node(ManualEventLoop* loop, stream::MemoryNetwork* net, int n)
      : key(*crypto::Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("hb-" + std::to_string(n))))),
        transport(net->CreateTransport()) {
    stream::HostOptions ho;
    ho.identity = &key;
    ho.max_connections = 4096;
    host = std::make_unique<stream::Host>(loop, transport.get(), ho);
    (void)host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"));
    PubSubOptions po;
    po.identity = &key;
    po.sign_policy = SignPolicy::kStrictNoSign;
    GossipSubOptions go;
    go.seed = static_cast<uint64_t>(n);
    auto r = *GossipSubRouter::Create(go);
    router = r.get();
    pubsub = std::make_unique<PubSub>(loop, host.get(), std::move(r), po);
  }
  crypto::Ed25519PrivateKey key;
  std::unique_ptr<stream::Transport> transport;
  std::unique_ptr<stream::Host> host;
  GossipSubRouter* router;
  std::unique_ptr<PubSub> pubsub;
};

void BM_Heartbeat1000Peers100Topics(benchmark::State& state) {
  ManualEventLoop loop;
  stream::MemoryNetwork net(&loop);
  auto center = std::make_unique<Node>(&loop, &net, -1);
  std::vector<std::unique_ptr<Node>> peers;
  auto ignore = [](const pb::Message&, const std::string&, const crypto::PeerId&) {};
  for (int t = 0; t < kTopics; ++t) (void)center->pubsub->Subscribe("topic-" + std::to_string(t), ignore);
  for (int i = 0; i < kPeers; ++i) {
    peers.push_back(std::make_unique<Node>(&loop, &net, i));
    for (int k = 0; k < kTopicsPerPeer; ++k) {
      (void)peers.back()->pubsub->Subscribe("topic-" + std::to_string((i + k * 13) % kTopics), ignore);
    }
    peers.back()->host->Dial(center->host->listen_addrs()[0], [](auto) {});
    if (i % 50 == 49) loop.RunUntilIdle();
  }
  loop.AdvanceTime(std::chrono::seconds(3));
  // Recent messages on every topic, so heartbeats gossip.
  for (int t = 0; t < kTopics; ++t) {
    for (int m = 0; m < 5; ++m) {
      (void)center->pubsub->Publish("topic-" + std::to_string(t), AsBytes("m" + std::to_string(m)));
    }
  }
  loop.RunUntilIdle();
  size_t mesh = 0;
  for (int t = 0; t < kTopics; ++t) mesh += center->router->Mesh("topic-" + std::to_string(t)).size();
  for (auto _ : state) {
    center->router->Heartbeat();
    state.PauseTiming();
    loop.RunUntilIdle();  // Deliver what the heartbeat sent, untimed.
    state.ResumeTiming();
  }
  state.counters["peers"] = static_cast<double>(center->pubsub->Peers().size());
  state.counters["mesh_links"] = static_cast<double>(mesh);
  state.counters["ihave_sent"] = static_cast<double>(center->router->stats().ihave_sent);
  peers.clear();
  center.reset();
  loop.RunUntilIdle();
}
BENCHMARK(BM_Heartbeat1000Peers100Topics)->Unit(benchmark::kMicrosecond)->Iterations(200);

}  // namespace
}  // namespace libp2p::pubsub::gossipsub

BENCHMARK_MAIN();
