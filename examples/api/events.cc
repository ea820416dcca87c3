// docs/api.md, "Events, ping and the parts below": a node reports its connections and its mesh, pings a
// peer, and reads the router's statistics on the loop thread.
#include <cstdio>
#include <future>

#include "libp2p/pubsub/node.h"

using namespace libp2p;

int main() {
  pubsub::NodeOptions options;
  options.listen_addrs = {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")};
  auto bob = *pubsub::Node::Create(options);

  // Alice's events run on her loop thread: they print and must not block.
  std::promise<void> grafted;
  std::future<void> in_mesh = grafted.get_future();
  options.events.on_connected = [](const stream::ConnectionInfo& c) {
    std::printf("connected to %s over %s and %s\n", c.peer.ToBase58().c_str(), c.security.c_str(), c.muxer.c_str());
  };
  options.events.on_graft = [&grafted](const crypto::PeerId& peer, const std::string& topic) {
    std::printf("%s joined our mesh of %s\n", peer.ToBase58().c_str(), topic.c_str());
    grafted.set_value();  // Bob is the only peer: one graft.
  };
  auto alice = *pubsub::Node::Create(options);
  if (!alice->Start().ok() || !bob->Start().ok()) return 1;

  auto bob_in = (*bob->Join("blocks"))->Subscribe();
  auto alice_in = (*alice->Join("blocks"))->Subscribe();
  if (!alice->Connect(bob->listen_addrs()[0]).get().ok()) return 1;
  StatusOr<Duration> rtt = alice->Ping(bob->id()).get();
  if (!rtt.ok()) return 1;
  std::printf("round trip: %.3f ms\n", std::chrono::duration<double, std::milli>(*rtt).count());
  if (in_mesh.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return 1;

  // What the handles do not offer, read on the loop thread.
  std::promise<uint64_t> heartbeats;
  alice->Post([&alice, &heartbeats] {
    auto* router = dynamic_cast<pubsub::gossipsub::GossipSubRouter*>(alice->pubsub().router());
    heartbeats.set_value(router->stats().heartbeats);
  });
  std::printf("heartbeats so far: %llu\n", static_cast<unsigned long long>(heartbeats.get_future().get()));
  return 0;
}
