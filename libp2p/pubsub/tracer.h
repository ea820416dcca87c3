// What happens inside pubsub, event by event, for traces and metrics: go-libp2p-pubsub's RawTracer, with its
// events and reason strings, so that tools written for go's traces read ours.
#ifndef LIBP2P_PUBSUB_TRACER_H_
#define LIBP2P_PUBSUB_TRACER_H_

#include <string>
#include <string_view>
#include <vector>

#include "libp2p/base/clock.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/rpc/rpc.pb.h"

namespace libp2p::pubsub {

// Why a message was rejected, in go's words (tracer.go), as RejectMessage reports it.
namespace reject_reason {
inline constexpr std::string_view kBlacklistedPeer = "blacklisted peer";
inline constexpr std::string_view kBlacklistedSource = "blacklisted source";
inline constexpr std::string_view kMissingSignature = "missing signature";
inline constexpr std::string_view kUnexpectedSignature = "unexpected signature";
inline constexpr std::string_view kUnexpectedAuthInfo = "unexpected auth info";
inline constexpr std::string_view kInvalidSignature = "invalid signature";
inline constexpr std::string_view kValidationQueueFull = "validation queue full";
inline constexpr std::string_view kValidationThrottled = "validation throttled";
inline constexpr std::string_view kValidationFailed = "validation failed";
inline constexpr std::string_view kValidationIgnored = "validation ignored";
inline constexpr std::string_view kSelfOrigin = "self originated message";
}  // namespace reject_reason

// A message as the events below see it: the message, its id, and the peer it came from (ourselves for our
// own). Valid for the call only.
struct TracedMessage {
  const pb::Message& msg;
  const std::string& id;
  const crypto::PeerId& from;
};

// Receives the events of one pubsub core (and its router). Every call comes from the loop thread, synchronously
// as the event happens, so an implementation must be quick: it may record, count or queue, but it must not
// call back into the core. The default of each is to ignore the event. A tracer is an observer given in
// PubSubOptions::tracers and must outlive the core.
class PubSubTracer {
 public:
  virtual ~PubSubTracer() = default;

  // We opened a stream to `peer` speaking `protocol` (go's AddPeer before v0.16), or it closed.
  virtual void OnNewOutboundStream(const crypto::PeerId& peer, const std::string& protocol) {}
  virtual void OnClosedOutboundStream(const crypto::PeerId& peer) {}

  // We joined or left `topic`.
  virtual void Join(const std::string& topic) {}
  virtual void Leave(const std::string& topic) {}
  // The router added `peer` to our mesh of `topic`, or removed it (gossipsub).
  virtual void Graft(const crypto::PeerId& peer, const std::string& topic) {}
  virtual void Prune(const crypto::PeerId& peer, const std::string& topic) {}

  // We published a message (after our validators accepted it), before it is routed.
  virtual void PublishMessage(const TracedMessage& m) {}
  // A peer's message, seen for the first time and signed as the policy wants, goes to validation.
  virtual void ValidateMessage(const TracedMessage& m) {}
  // A peer's message passed validation: it is handed to our subscription (if any) and forwarded.
  virtual void DeliverMessage(const TracedMessage& m) {}
  // A peer's message was not accepted; `reason` is one of reject_reason.
  virtual void RejectMessage(const TracedMessage& m, std::string_view reason) {}
  // A peer sent a message we had seen already.
  virtual void DuplicateMessage(const TracedMessage& m) {}
  // A delivered message could not be handed to a subscriber (its queue was full).
  virtual void UndeliverableMessage(const TracedMessage& m) {}
  // The peer gater throttled `peer`: its messages are dropped unread for now.
  virtual void ThrottlePeer(const crypto::PeerId& peer) {}

  // A decoded RPC from `peer`, before anything reads it.
  virtual void RecvRpc(const crypto::PeerId& peer, const pb::RPC& rpc) {}
  // An RPC queued for `peer`, or dropped: the peer's queue (or the node's send budget) had no room for it, or
  // it is larger than peers accept.
  virtual void SendRpc(const crypto::PeerId& peer, const pb::RPC& rpc) {}
  virtual void DropRpc(const crypto::PeerId& peer, const pb::RPC& rpc) {}

  // Beyond go's events, for metrics. A gossipsub heartbeat ran and took `took` of the loop's clock.
  virtual void Heartbeat(Duration took) {}
  // `peer` did not deliver, in time, a message it advertised (IHAVE) and we asked for (IWANT).
  virtual void BrokenPromise(const crypto::PeerId& peer) {}
};

// Hands every event to each of a list of tracers, in their order: what the core calls. With no tracers an
// event costs a test of an empty list; `active()` lets a caller skip building an event's arguments.
class TracerList final : public PubSubTracer {
 public:
  explicit TracerList(std::vector<PubSubTracer*> tracers) : tracers_(std::move(tracers)) {}
  bool active() const { return !tracers_.empty(); }

  void OnNewOutboundStream(const crypto::PeerId& peer, const std::string& protocol) override {
    for (PubSubTracer* t : tracers_) t->OnNewOutboundStream(peer, protocol);
  }
  void OnClosedOutboundStream(const crypto::PeerId& peer) override {
    for (PubSubTracer* t : tracers_) t->OnClosedOutboundStream(peer);
  }
  void Join(const std::string& topic) override {
    for (PubSubTracer* t : tracers_) t->Join(topic);
  }
  void Leave(const std::string& topic) override {
    for (PubSubTracer* t : tracers_) t->Leave(topic);
  }
  void Graft(const crypto::PeerId& peer, const std::string& topic) override {
    for (PubSubTracer* t : tracers_) t->Graft(peer, topic);
  }
  void Prune(const crypto::PeerId& peer, const std::string& topic) override {
    for (PubSubTracer* t : tracers_) t->Prune(peer, topic);
  }
  void PublishMessage(const TracedMessage& m) override {
    for (PubSubTracer* t : tracers_) t->PublishMessage(m);
  }
  void ValidateMessage(const TracedMessage& m) override {
    for (PubSubTracer* t : tracers_) t->ValidateMessage(m);
  }
  void DeliverMessage(const TracedMessage& m) override {
    for (PubSubTracer* t : tracers_) t->DeliverMessage(m);
  }
  void RejectMessage(const TracedMessage& m, std::string_view reason) override {
    for (PubSubTracer* t : tracers_) t->RejectMessage(m, reason);
  }
  void DuplicateMessage(const TracedMessage& m) override {
    for (PubSubTracer* t : tracers_) t->DuplicateMessage(m);
  }
  void UndeliverableMessage(const TracedMessage& m) override {
    for (PubSubTracer* t : tracers_) t->UndeliverableMessage(m);
  }
  void ThrottlePeer(const crypto::PeerId& peer) override {
    for (PubSubTracer* t : tracers_) t->ThrottlePeer(peer);
  }
  void RecvRpc(const crypto::PeerId& peer, const pb::RPC& rpc) override {
    for (PubSubTracer* t : tracers_) t->RecvRpc(peer, rpc);
  }
  void SendRpc(const crypto::PeerId& peer, const pb::RPC& rpc) override {
    for (PubSubTracer* t : tracers_) t->SendRpc(peer, rpc);
  }
  void DropRpc(const crypto::PeerId& peer, const pb::RPC& rpc) override {
    for (PubSubTracer* t : tracers_) t->DropRpc(peer, rpc);
  }
  void Heartbeat(Duration took) override {
    for (PubSubTracer* t : tracers_) t->Heartbeat(took);
  }
  void BrokenPromise(const crypto::PeerId& peer) override {
    for (PubSubTracer* t : tracers_) t->BrokenPromise(peer);
  }

 private:
  const std::vector<PubSubTracer*> tracers_;
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_TRACER_H_
