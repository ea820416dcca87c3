// The order in which the copies of a batch of messages go out (PubSub::PublishBatch): the core adds one
// send per (peer, message) as the router routes each message, then sends in the order the scheduler gives.
#ifndef LIBP2P_PUBSUB_RPC_SCHEDULER_H_
#define LIBP2P_PUBSUB_RPC_SCHEDULER_H_

#include <memory>
#include <string>
#include <vector>

#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/rpc/rpc.pb.h"

namespace libp2p::pubsub {

// One copy of a message for one peer: the data RPC that carries it, shared by all the message's copies, and
// the message id it is tagged with (so that an IDONTWANT can still cancel it while queued).
struct ScheduledRpc {
  crypto::PeerId peer;
  std::string id;
  std::shared_ptr<const pb::RPC> rpc;
};

// Decides the order of a batch's sends. Used on the loop thread, by one batch at a time: Add for every
// send, then Take once. The core calls Add in batch order (every copy of the first message, peers in the
// router's order, then every copy of the second, ...).
class RpcScheduler {
 public:
  virtual ~RpcScheduler() = default;

  // Records that `rpc` (never null) is to go to `peer`, carrying message `id`.
  virtual void Add(const crypto::PeerId& peer, const std::string& id, std::shared_ptr<const pb::RPC> rpc) = 0;
  // Every send added since the last Take, each exactly once, in the order they are to be sent; the
  // scheduler is then empty and may serve another batch.
  virtual std::vector<ScheduledRpc> Take() = 0;
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_RPC_SCHEDULER_H_
