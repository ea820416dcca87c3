// Test helpers for GossipSub scenarios on the in-memory network and virtual time: a Node (host, PubSub and
// GossipSubRouter), a RawPeer (a bare host that writes varint-framed RPCs by hand and records what it is
// sent), and builders of subscription RPCs, signed messages and scored options. Test-only.
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_TESTING_SCENARIO_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_TESTING_SCENARIO_H_

#include <memory>
#include <string>
#include <vector>

#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {

// A key derived from `seed` (the same seed gives the same key).
crypto::Ed25519PrivateKey KeyOf(const std::string& seed);

// The peer id's bytes, as in a message's `from`.
std::string IdBytes(const crypto::PeerId& id);

// An RPC that subscribes to `topics` (or unsubscribes from them).
pb::RPC SubscriptionRpc(const std::vector<std::string>& topics, bool subscribe = true);

// A message on `topic` signed by `author` (StrictSign).
pb::Message SignedMessage(const crypto::Ed25519PrivateKey& author, const std::string& topic, const std::string& data,
                          uint64_t seqno);

// Scoring on `topic` with P₄ (invalid messages) and P₇ (behaviour) penalties, P₃ and P₃b off.
GossipSubOptions ScoredOptions(const std::string& topic);

// A host with PubSub and a GossipSubRouter, node number `n` (its key and router seed), dialing from `ip`.
struct Node {
  Node(ManualEventLoop* loop, stream::MemoryNetwork* net, int n, GossipSubOptions go = {}, PubSubOptions po = {},
       const std::string& ip = "127.0.0.1");
  ~Node();
  // Subscribes to `topic`, recording the data of each message delivered in `received`.
  void Join(const std::string& topic);
  const crypto::PeerId& id() const { return host->peer_id(); }

  crypto::Ed25519PrivateKey key;
  std::unique_ptr<stream::Transport> transport;
  std::unique_ptr<stream::Host> host;
  GossipSubRouter* router;
  std::unique_ptr<PubSub> pubsub;
  std::vector<std::string> received;
};

// A bare host speaking `protocol` by hand: it writes framed RPCs on a stream it opens, and records the RPCs
// it is sent on the streams the node opens to it (unless it does not read: see never_read).
struct RawPeer {
  RawPeer(ManualEventLoop* loop, stream::MemoryNetwork* net, const std::string& seed, std::string proto,
          const std::string& ip = "127.0.0.1");
  ~RawPeer();
  // Connects to `node` (or any listening host) and opens our outbound stream to it.
  void ConnectTo(Node& node) { ConnectTo(*node.host); }
  void ConnectTo(stream::Host& node);
  // Closes every connection to `node` (or any host) and lets the loop run.
  void DisconnectFrom(Node& node) { DisconnectFrom(*node.host); }
  void DisconnectFrom(stream::Host& node);
  // Writes `rpc` as one frame, then lets the loop run.
  void Send(const pb::RPC& rpc);
  // Writes `encoded` (an RPC's bytes, or anything) as one frame, then lets the loop run.
  void SendEncoded(const std::string& encoded);
  // Writes raw bytes on the stream, then lets the loop run.
  void SendRaw(const std::string& bytes);
  // Message ids asked for in the IWANTs received, and messages received.
  size_t IWantIdsReceived() const;
  size_t MessagesReceived() const;
  // Control entries of each kind received.
  size_t GraftsReceived() const;
  size_t PrunesReceived() const;
  const crypto::PeerId& id() const { return host->peer_id(); }

  ManualEventLoop* loop;
  crypto::Ed25519PrivateKey key;
  std::unique_ptr<stream::Transport> transport;
  std::string protocol;
  std::unique_ptr<stream::Host> host;
  std::unique_ptr<stream::Stream> out;
  // Set when our outbound stream failed (the node reset it, or the connection went).
  bool out_failed = false;
  // Set before the node opens its stream to us: we never read from it (PauseReading), as a peer that
  // leaves what it is sent in the network's buffers.
  bool never_read = false;
  std::vector<std::unique_ptr<stream::Stream>> inbound;
  std::vector<pb::RPC> received;

 private:
  void Drain(Bytes* buffer);
};

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_TESTING_SCENARIO_H_
