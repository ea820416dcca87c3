// The interface between the pubsub core and a routing algorithm (floodsub, gossipsub).
#ifndef LIBP2P_PUBSUB_ROUTER_H_
#define LIBP2P_PUBSUB_ROUTER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/rpc/rpc.pb.h"

namespace libp2p::pubsub {

class PubSubPeer;

class PubSub;

// A validated message, immutable and shared: the core hands it to the router without a copy (gossipsub's
// message cache keeps its encoding).
using SharedMessage = std::shared_ptr<const pb::Message>;

// Why a message from a peer was not accepted, and so what it costs the peer (gossipsub's P₄, the peer gater).
enum class RejectReason {
  // A validator rejected it: the sender and every peer that delivered (or delivers) a copy are at fault.
  kInvalid,
  // Missing, unexpected or bad signature or author fields: the sender is at fault, but not the message id,
  // which a forger could otherwise pin on honest forwarders of the genuine message.
  kInvalidSignature,
  // It claims to be ours, but we did not publish it here (a replay, or our key is stolen): as
  // kInvalidSignature.
  kSelfOrigin,
  // A validator ignored it, or validation timed out: no one's fault, but no one's credit either.
  kIgnored,
  // Dropped unvalidated and left unseen, the validation queue being full: not the peer's fault.
  kThrottled,
};

// What the core does with an RPC from a peer (go's AcceptFrom).
enum class RpcAcceptance {
  kAll,
  // Its messages are dropped unread (the peer gater's early drop); its control is handled.
  kControlOnly,
  // Only its subscription changes are applied (a graylisted peer).
  kNone,
};

// A router decides which peers a message goes to and runs its own control protocol. All calls come from the
// core on the loop thread; the core outlives the router's use of it.
class Router {
 public:
  virtual ~Router() = default;

  // Protocol ids this router speaks, preferred first; streams are negotiated with this list.
  virtual std::vector<std::string> Protocols() const = 0;
  // Called once, before anything else.
  virtual void Attach(PubSub* core) = 0;

  // A pubsub peer appeared (its stream negotiated `protocol`) or went away.
  virtual void AddPeer(const crypto::PeerId& peer, const std::string& protocol) = 0;
  virtual void RemovePeer(const crypto::PeerId& peer) = 0;
  // A connection to a peer that stays connected opened or closed: which side dialed it may have changed.
  virtual void OnConnectionsChanged(const crypto::PeerId& peer) {}

  // We joined or left a topic.
  virtual void Join(const std::string& topic) = 0;
  virtual void Leave(const std::string& topic) = 0;

  // An RPC from `peer`, after the core applied its subscriptions and before its messages and control:
  // for what the router reads beyond them (gossipsub v1.3's extensions, partial messages, the flags of
  // subscriptions). `first_on_stream`: the first RPC read from the peer's current inbound stream.
  // `acceptance`: what AcceptRpcFrom decided for it.
  virtual void OnRpc(const crypto::PeerId& peer, const pb::RPC& rpc, bool first_on_stream, RpcAcceptance acceptance) {}
  // Adds the router's part to the first RPC of every new outbound stream to `peer` (gossipsub v1.3: the
  // extensions we support), which goes out ahead of anything queued.
  virtual void AddHello(const crypto::PeerId& peer, pb::RPC* first) {}
  // Sets the router's flags on our SUBSCRIBE to `sub.topicid()` (partial messages), each time we send one.
  virtual void DescribeSubscription(pb::RPC::SubOpts* sub) {}
  // Field numbers of experimental extensions the router reads, kept by the RPC decoder
  // (RpcLimits::experimental_fields). Asked once, as the core is created.
  virtual std::vector<uint32_t> ExperimentalFields() const { return {}; }

  // The control part of an RPC from `peer` (routers without control messages ignore it).
  virtual void HandleControl(const crypto::PeerId& peer, const pb::ControlMessage& control) = 0;

  // The peers a validated message goes to: received from `source`, or published by us when `source` is
  // empty. The router does its bookkeeping for the message here (gossipsub: the message cache, promises,
  // scores, the fanout choice) but sends nothing: the core sends one data RPC to each peer returned, in
  // that order, tagged with `id` (PubSub::Publish, PubSub::PublishBatch, and forwarding). The peers are
  // distinct and never include `source` nor the message's author. Called once per message. `msg` is never
  // null; the router may keep it. Each peer is given as the core's PubSubPeer for it (PubSub::FindPeer,
  // the one the router was told of in AddPeer): peers the core does not have are left out. The pointers
  // are the core's, valid until the core drops the peer (after RemovePeer()).
  virtual std::vector<PubSubPeer*> Route(const SharedMessage& msg, const std::string& id,
                                         const std::optional<crypto::PeerId>& source) = 0;

  // Whether `peer` still wants message `id`, asked just before a queued copy of it is written to the peer
  // (gossipsub v1.2: not once the peer said IDONTWANT). False drops that copy unsent.
  virtual bool StillWanted(const crypto::PeerId& peer, std::string_view id) { return true; }

  // `peer` subscribed to `topic` or unsubscribed from it.
  virtual void OnSubscriptionChange(const crypto::PeerId& peer, const std::string& topic, bool subscribed) {}
  // How much of an RPC from `peer` is processed, asked once per RPC after its subscriptions were applied.
  virtual RpcAcceptance AcceptRpcFrom(const crypto::PeerId& peer) { return RpcAcceptance::kAll; }
  // A message seen for the first time, as its validation starts (gossipsub v1.2 sends IDONTWANT here).
  virtual void OnFirstSeen(const crypto::PeerId& from, const pb::Message& msg, const std::string& id) {}
  // A message already seen arrived again from `from`.
  virtual void OnDuplicate(const crypto::PeerId& from, const std::string& id, const std::string& topic) {}
  // A message from `from` was not accepted, for `reason`.
  virtual void OnRejected(const crypto::PeerId& from, const std::string& id, const std::string& topic,
                          RejectReason reason) {}
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_ROUTER_H_
