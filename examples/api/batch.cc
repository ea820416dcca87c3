// docs/api.md, "Batch publishing": Alice publishes three messages as one batch; Bob gets them all.
#include <cstdio>
#include <set>
#include <string>

#include "libp2p/pubsub/node.h"

using namespace libp2p;

int main() {
  pubsub::NodeOptions options;
  options.listen_addrs = {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")};
  auto alice = *pubsub::Node::Create(options);
  auto bob = *pubsub::Node::Create(options);
  if (!alice->Start().ok() || !bob->Start().ok()) return 1;

  std::unique_ptr<pubsub::Subscription> inbox = (*bob->Join("columns"))->Subscribe();
  std::shared_ptr<pubsub::Topic> alice_columns = *alice->Join("columns");
  std::promise<void> bob_joined;
  std::future<void> bob_is_in = bob_joined.get_future();
  alice_columns->SetPeerHandler([&bob_joined](const pubsub::PeerEvent& e) {
    if (e.joined) bob_joined.set_value();
  });
  if (!alice->Connect(bob->listen_addrs()[0]).get().ok()) return 1;
  if (bob_is_in.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return 1;
  alice_columns->SetPeerHandler(nullptr);

  // One batch: each message goes out once before any goes out twice. All or nothing: a refused message
  // keeps the whole batch back, and `messages` says which.
  pubsub::NodeBatchResult sent =
      alice->PublishBatch({{"columns", "column 0"}, {"columns", "column 1"}, {"columns", "column 2"}}).get();
  if (!sent.status.ok()) return 1;
  std::printf("%zu messages, %zu copies sent\n", sent.published.messages, sent.published.sent);

  std::set<std::string> got;
  while (got.size() < 3) {
    std::optional<pubsub::Message> m = inbox->Next(std::chrono::seconds(10));
    if (!m) return 1;
    got.insert(m->data);
  }
  return 0;
}
