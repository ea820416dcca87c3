// chat: a tiny floodsub chat on libp2p_pubsub's public API, built from a workspace of its own.
//
//   chat --listen /ip4/127.0.0.1/tcp/0 --topic T [--dial /ip4/127.0.0.1/tcp/PORT/p2p/PEER_ID]
//
// Publishes each line of stdin to topic T and prints each message received on T as "<author>: <text>" on
// stdout. Status goes to stderr: "listening on ADDR" (with /p2p/PEER_ID, ready to --dial), "connected to
// PEER", "peer PEER joined T", "published to N peers". Exits at the end of stdin.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "libp2p/base/bytes.h"
#include "libp2p/base/libevent_loop.h"
#include "libp2p/base/multiaddr.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/floodsub.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/tcp_transport.h"

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
  StatusOr<Multiaddr> listen_addr = Multiaddr::FromString(listen);
  if (!listen_addr.ok()) return Fail("--listen: " + listen_addr.status().ToString());

  ::signal(SIGPIPE, SIG_IGN);                 // A peer that hangs up is an error status, not a signal.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);   // One line at a time, also into a pipe or file.

  // Everything runs on one event loop, on this thread; objects made through it must die before it.
  StatusOr<std::unique_ptr<LibeventLoop>> created = LibeventLoop::Create();
  if (!created.ok()) return Fail(created.status().ToString());
  std::unique_ptr<LibeventLoop> loop = std::move(*created);

  // Our identity: a fresh Ed25519 key, hence a new peer id each run.
  const crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
  // The connection stack: TCP, upgraded by the host (multistream-select, Noise, yamux or mplex, identify).
  stream::TcpTransport tcp(loop.get());
  stream::HostOptions host_options;
  host_options.identity = &key;
  stream::Host host(loop.get(), &tcp, host_options);
  // Pubsub over the host, routed by floodsub; messages are signed with our key (StrictSign, the default).
  pubsub::PubSubOptions pubsub_options;
  pubsub_options.identity = &key;
  pubsub::PubSub pubsub(loop.get(), &host, std::make_unique<pubsub::FloodSubRouter>(), pubsub_options);

  pubsub.SetEvents({[](const crypto::PeerId& peer, const std::string& t, bool subscribed) {
    std::fprintf(stderr, "peer %s %s %s\n", peer.ToBase58().c_str(), subscribed ? "joined" : "left", t.c_str());
  }});
  Status subscribed = pubsub.Subscribe(
      topic, [](const pubsub::pb::Message& msg, const std::string& /*id*/, const crypto::PeerId& /*via*/) {
        // `from` is the author's peer id (the signature was checked against it); `via` the peer that relayed it.
        StatusOr<crypto::PeerId> author = crypto::PeerId::FromBytes(AsBytes(msg.from()));
        std::printf("%s: %.*s\n", author.ok() ? author->ToBase58().c_str() : "?", static_cast<int>(msg.data().size()),
                    msg.data().data());
      });
  if (!subscribed.ok()) return Fail("subscribe: " + subscribed.ToString());

  if (Status s = host.Listen(*listen_addr); !s.ok()) return Fail("listen: " + s.ToString());
  for (const Multiaddr& a : host.listen_addrs()) {
    std::fprintf(stderr, "listening on %s/p2p/%s\n", a.ToString().c_str(), host.peer_id().ToBase58().c_str());
  }
  if (!dial.empty()) {
    StatusOr<Multiaddr> dial_addr = Multiaddr::FromString(dial);
    if (!dial_addr.ok()) return Fail("--dial: " + dial_addr.status().ToString());
    host.Dial(*dial_addr, [dial](StatusOr<crypto::PeerId> peer) {
      if (peer.ok()) std::fprintf(stderr, "connected to %s\n", peer->ToBase58().c_str());
      else std::fprintf(stderr, "chat: dial %s: %s\n", dial.c_str(), peer.status().ToString().c_str());
    });
  }

  // Each stdin line is one message; peers == 0 means nobody had subscribed to the topic yet.
  auto publish = [&](const std::string& line) {
    pubsub::PublishResult r = pubsub.Publish(topic, AsBytes(line));
    if (!r.status.ok()) std::fprintf(stderr, "chat: publish: %s\n", r.status.ToString().c_str());
    else std::fprintf(stderr, "published to %zu peers\n", r.peers);
  };
  // stdin is read on a thread of its own (any kind of stdin works), which hands each line to the loop with
  // Post(), the one EventLoop call that is safe from other threads. At the end of input, the loop gives the
  // last writes a moment, then stops.
  std::unique_ptr<Timer> quit = loop->CreateTimer([&] { loop->Stop(); });
  std::thread reader([&] {
    for (std::string line; std::getline(std::cin, line);) loop->Post([&publish, line] { publish(line); });
    loop->Post([&] { quit->Schedule(std::chrono::milliseconds(200)); });
  });
  loop->Run();
  reader.join();
  return 0;
}
