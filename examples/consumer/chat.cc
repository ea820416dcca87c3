// chat: a tiny floodsub chat on libp2p_pubsub's Node API, built from a workspace of its own.
//
//   chat --listen /ip4/127.0.0.1/tcp/0 --topic T [--dial /ip4/127.0.0.1/tcp/PORT/p2p/PEER_ID]
//
// Publishes each line of stdin to topic T and prints each message received on T as "<author>: <text>" on
// stdout. Status goes to stderr: "listening on ADDR" (with /p2p/PEER_ID, ready to --dial), "connected to
// PEER", "peer PEER joined T", "published to N peers". Exits at the end of stdin.
#include <cstdio>
#include <iostream>
#include <string>

#include "libp2p/pubsub/node.h"

using namespace libp2p;

static int Fail(const std::string& message) {
  std::fprintf(stderr, "chat: %s\n", message.c_str());
  return 1;
}

int main(int argc, char** argv) {
  std::string listen, dial, topic;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--listen") listen = value;
    else if (flag == "--dial") dial = value;
    else if (flag == "--topic") topic = value;
    else return Fail("unknown flag " + flag);
  }
  if (argc % 2 == 0 || listen.empty() || topic.empty()) return Fail("usage: chat --listen ADDR [--dial ADDR] --topic T");
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // One line at a time, also into a pipe or file.

  // A node with a fresh key, on a loop thread of its own; floodsub sends every message to every subscriber.
  pubsub::NodeOptions options;
  StatusOr<Multiaddr> listen_addr = Multiaddr::FromString(listen);
  if (!listen_addr.ok()) return Fail("--listen: " + listen_addr.status().ToString());
  options.listen_addrs = {*listen_addr};
  options.router = pubsub::RouterKind::kFloodSub;
  StatusOr<std::unique_ptr<pubsub::Node>> node = pubsub::Node::Create(options);
  if (!node.ok()) return Fail(node.status().ToString());
  if (Status s = (*node)->Start(); !s.ok()) return Fail(s.ToString());
  for (const Multiaddr& a : (*node)->listen_addrs()) std::fprintf(stderr, "listening on %s\n", a.ToString().c_str());

  // Handlers run on the node's loop thread; this thread reads stdin.
  std::shared_ptr<pubsub::Topic> chat = *(*node)->Join(topic);
  chat->SetPeerHandler([topic](const pubsub::PeerEvent& e) {
    std::fprintf(stderr, "peer %s %s %s\n", e.peer.ToBase58().c_str(), e.joined ? "joined" : "left", topic.c_str());
  });
  pubsub::SubscriptionOptions print;
  print.on_message = [](const pubsub::Message& m) {
    std::printf("%s: %s\n", m.from ? m.from->ToBase58().c_str() : "?", m.data.c_str());
  };
  std::unique_ptr<pubsub::Subscription> subscription = chat->Subscribe(print);

  if (!dial.empty()) {
    StatusOr<Multiaddr> dial_addr = Multiaddr::FromString(dial);
    if (!dial_addr.ok()) return Fail("--dial: " + dial_addr.status().ToString());
    StatusOr<crypto::PeerId> peer = (*node)->Connect(*dial_addr).get();
    if (!peer.ok()) return Fail("dial " + dial + ": " + peer.status().ToString());
    std::fprintf(stderr, "connected to %s\n", peer->ToBase58().c_str());
  }

  // Each stdin line is one message; peers == 0 means nobody had subscribed to the topic yet.
  for (std::string line; std::getline(std::cin, line);) {
    pubsub::PublishResult r = chat->Publish(AsBytes(line)).get();
    if (!r.status.ok()) std::fprintf(stderr, "chat: publish: %s\n", r.status.ToString().c_str());
    else std::fprintf(stderr, "published to %zu peers\n", r.peers);
  }
  (*node)->Stop();  // Closes the connections, whose queued bytes go out first.
  return 0;
}
