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

// Subscribes to `topic` and asks to join the mesh for it (GRAFT), in one RPC.
pb::RPC JoinRpc(const std::string& topic);

// One control entry of each kind: IHAVE `ids` on `topic`; IWANT and IDONTWANT `ids`; PRUNE of `topic` with
// `backoff_seconds`.
pb::RPC IHaveRpc(const std::string& topic, const std::vector<std::string>& ids);
pb::RPC IWantRpc(const std::vector<std::string>& ids);
pb::RPC IDontWantRpc(const std::vector<std::string>& ids);
pb::RPC PruneRpc(const std::string& topic, uint64_t backoff_seconds);

// An RPC that carries `m`.
pb::RPC PublishRpc(const pb::Message& m);

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
  // The mesh members of `topic` the router counts as outbound.
  size_t OutboundInMesh(const std::string& topic) const;

  crypto::Ed25519PrivateKey key;
  std::unique_ptr<stream::Transport> transport;
  std::unique_ptr<stream::Host> host;
  GossipSubRouter* router;
  std::unique_ptr<PubSub> pubsub;
  std::vector<std::string> received;
};

// How many of `nodes` were delivered a message with `data`, each copy counted.
size_t Delivered(const std::vector<std::unique_ptr<Node>>& nodes, const std::string& data);

// A bare host speaking `protocol` by hand: it writes framed RPCs on a stream it opens, and records the RPCs
// it is sent on the streams the node opens to it (unless it does not read: see never_read).
struct RawPeer {
  RawPeer(ManualEventLoop* loop, stream::MemoryNetwork* net, const std::string& seed,
          std::string proto = std::string(kMeshSubV11), const std::string& ip = "127.0.0.1");
  ~RawPeer();
  // Listens (on 127.0.0.1), so that a node can dial us. Idempotent.
  void Listen();
  // Connects to `node` (or any listening host) and opens our outbound stream to it: an inbound peer for it.
  void ConnectTo(Node& node) { ConnectTo(*node.host); }
  void ConnectTo(stream::Host& node);
  // Has `node` dial us (listening first if we do not yet), then opens our stream to it: an outbound peer for
  // it.
  void AcceptFrom(Node& node);
  // Opens our outbound stream to `node`, already connected, in place of any earlier one.
  void OpenStream(stream::Host& node);
  // Closes every connection to `node` (or any host) and lets the loop run.
  void DisconnectFrom(Node& node) { DisconnectFrom(*node.host); }
  void DisconnectFrom(stream::Host& node);
  // Writes `rpc` as one frame, then lets the loop run.
  void Send(const pb::RPC& rpc);
  // Writes `encoded` (an RPC's bytes, or anything) as one frame, then lets the loop run.
  void SendEncoded(const std::string& encoded);
  // Writes raw bytes on the stream, then lets the loop run.
  void SendRaw(const std::string& bytes);
  // Stops (or resumes) reading what the node sends, as a slow reader would; streams the node opens later
  // start that way too (never_read).
  void PauseReading(bool pause);
  // Message ids asked for in the IWANTs received, and messages received.
  size_t IWantIdsReceived() const { return IWantIds().size(); }
  size_t MessagesReceived() const { return Messages().size(); }
  // Control entries of each kind received.
  size_t GraftsReceived() const;
  size_t PrunesReceived() const;
  // The data of the messages received, in order.
  std::vector<std::string> Messages() const;
  // The ids advertised to us for `topic`, and those asked of us; sorted.
  std::vector<std::string> IHaveIds(const std::string& topic) const;
  std::vector<std::string> IWantIds() const;
  // RPCs received that carry an IWANT.
  size_t IWantRpcs() const;
  // GRAFTs and PRUNEs received for `topic`.
  size_t Grafts(const std::string& topic) const;
  std::vector<pb::ControlPrune> Prunes(const std::string& topic) const;
  const crypto::PeerId& id() const { return host->peer_id(); }

  ManualEventLoop* loop;
  const std::string seed;
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
