// docs/api.md, "Publish and subscribe": two nodes on loopback; one publishes, the other prints.
#include <cstdio>

#include "libp2p/pubsub/node.h"

using namespace libp2p;

int main() {
  pubsub::NodeOptions options;
  options.listen_addrs = {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")};
  auto alice = *pubsub::Node::Create(options);
  auto bob = *pubsub::Node::Create(options);
  if (!alice->Start().ok() || !bob->Start().ok()) return 1;

  // Bob pulls the messages of "news" from a queue; Alice only publishes to it.
  std::shared_ptr<pubsub::Topic> bob_news = *bob->Join("news");
  std::unique_ptr<pubsub::Subscription> inbox = bob_news->Subscribe();
  std::shared_ptr<pubsub::Topic> alice_news = *alice->Join("news");
  std::unique_ptr<pubsub::Subscription> alice_in = alice_news->Subscribe();  // Alice is in the topic too.
  // Publishing before Alice has heard of Bob's subscription would reach nobody: she waits for it.
  std::promise<void> bob_joined;
  std::future<void> bob_is_in = bob_joined.get_future();
  alice_news->SetPeerHandler([&bob_joined](const pubsub::PeerEvent& e) {
    if (e.joined) bob_joined.set_value();  // Bob is the only peer: one event.
  });

  if (!alice->Connect(bob->listen_addrs()[0]).get().ok()) return 1;
  if (bob_is_in.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return 1;
  alice_news->SetPeerHandler(nullptr);
  pubsub::PublishResult sent = alice_news->Publish(AsBytes("hello, bob")).get();
  if (!sent.status.ok()) return 1;

  std::optional<pubsub::Message> m = inbox->Next(std::chrono::seconds(10));
  if (!m) return 1;
  std::printf("%s from %s\n", m->data.c_str(), m->from->ToBase58().c_str());
  return 0;  // The nodes stop as they are destroyed.
}
