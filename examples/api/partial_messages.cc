// docs/api.md, "Partial messages": Alice has every cell of a column, Bob half of them; Bob tells Alice what
// he has, and she sends him only the cells he lacks.
#include <cstdio>
#include <future>
#include <string>

#include "libp2p/pubsub/gossipsub/parts_bitmap.h"
#include "libp2p/pubsub/node.h"

using namespace libp2p;
using pubsub::gossipsub::PartialPeerView;
using pubsub::gossipsub::PartsBitmap;

constexpr size_t kCells = 4;

// The application's side: cells of a column, metadata the bitmap of the cells held, parts [bitmap][cells].
// Runs on its node's loop thread.
class Column : public pubsub::gossipsub::PartialMessagesHandler {
 public:
  Column(const PartsBitmap& have, std::promise<void>* complete) : have_(have), complete_(complete) {}

  // Sends each peer of the group what it lacks (once we know what it has), and our bitmap when it changed.
  void Publish(const std::string& topic, const std::string& group) {
    (void)router->PublishPartial(topic, group, [this](const crypto::PeerId&, PartialPeerView& view, bool requests) {
      pubsub::gossipsub::PartialSend send;
      if (requests && view.peer_has) {
        const PartsBitmap missing = have_.Minus(*PartsBitmap::Parse(*view.peer_has, kCells));
        if (!missing.Empty()) {
          send.parts = missing.bytes();
          for (size_t i = 0; i < kCells; ++i) {
            if (missing.Get(i)) send.parts += "cell-" + std::to_string(i);
          }
        }
      }
      if (view.told_peer != have_.bytes()) {
        view.told_peer = have_.bytes();
        send.metadata = have_.bytes();
      }
      return send;
    });
  }

  void OnPartialRpc(const crypto::PeerId&, const pubsub::pb::PartialMessagesExtension& rpc,
                    PartialPeerView& view) override {
    // A peer's bytes: checked before use.
    if (auto theirs = PartsBitmap::Parse(rpc.partsmetadata(), kCells)) view.peer_has = theirs->bytes();
    if (auto cells = PartsBitmap::Parse(rpc.partialmessage().substr(0, 1), kCells); cells && !cells->Empty()) {
      std::printf("received %zu cells\n", cells->Count());
      have_ |= *cells;
      if (have_.Complete()) complete_->set_value();
    }
    Publish(rpc.topicid(), rpc.groupid());
  }
  void OnGossip(const std::string& topic, const std::string& group, const std::vector<crypto::PeerId>&) override {
    Publish(topic, group);
  }

  pubsub::gossipsub::GossipSubRouter* router = nullptr;

 private:
  PartsBitmap have_;
  std::promise<void>* complete_;
};

int main() {
  std::promise<void> bob_complete, unused, bob_grafted;
  PartsBitmap half(kCells);
  half.Set(0);
  half.Set(2);
  Column alice_column(PartsBitmap::All(kCells), &unused), bob_column(half, &bob_complete);

  auto make = [](Column* column, std::promise<void>* grafted) {
    pubsub::NodeOptions options;
    options.listen_addrs = {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")};
    options.gossipsub.partial_messages = pubsub::gossipsub::PartialMessagesOptions{};
    options.gossipsub.partial_messages->handler = column;
    options.gossipsub.partial_topics["columns"] = {.requests = true, .supports = true};
    if (grafted) options.events.on_graft = [grafted](const crypto::PeerId&, const std::string&) { grafted->set_value(); };
    return *pubsub::Node::Create(options);
  };
  auto alice = make(&alice_column, nullptr);
  auto bob = make(&bob_column, &bob_grafted);
  if (!alice->Start().ok() || !bob->Start().ok()) return 1;
  // The router exists once the node started; the handlers read it on the loop thread.
  alice->Post([&] { alice_column.router = dynamic_cast<pubsub::gossipsub::GossipSubRouter*>(alice->pubsub().router()); });
  bob->Post([&] { bob_column.router = dynamic_cast<pubsub::gossipsub::GossipSubRouter*>(bob->pubsub().router()); });

  auto alice_in = (*alice->Join("columns"))->Subscribe();
  auto bob_in = (*bob->Join("columns"))->Subscribe();
  if (!bob->Connect(alice->listen_addrs()[0]).get().ok()) return 1;
  if (bob_grafted.get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) return 1;

  bob->Post([&] { bob_column.Publish("columns", "block-1"); });  // Bob's bitmap goes to his mesh.
  if (bob_complete.get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) return 1;
  std::printf("bob has the whole column\n");
  return 0;
}
