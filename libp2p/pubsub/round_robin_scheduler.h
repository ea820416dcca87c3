// The default order of a batch's sends: first copies first.
#ifndef LIBP2P_PUBSUB_ROUND_ROBIN_SCHEDULER_H_
#define LIBP2P_PUBSUB_ROUND_ROBIN_SCHEDULER_H_

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "libp2p/pubsub/rpc_scheduler.h"

namespace libp2p::pubsub {

// Round-robin by message id: round k sends the k-th copy of every message that has one (one peer each),
// before any (k+1)-th copy; within a round, messages in the order their first copy was added (batch order),
// and each message's copies go to its peers in the order they were added. Deterministic: the same adds
// give the same order.
//
// Why: when the publisher's uplink is the bottleneck, each first copy is amplified by the peer that gets
// it, so every message should be out once before any is out twice.
class RoundRobinScheduler final : public RpcScheduler {
 public:
  void Add(const crypto::PeerId& peer, const std::string& id, std::shared_ptr<const pb::RPC> rpc) override;
  std::vector<ScheduledRpc> Take() override;

 private:
  struct Copy {
    crypto::PeerId peer;
    std::shared_ptr<const pb::RPC> rpc;
  };
  struct Message {
    std::string id;
    std::vector<Copy> copies;  // In Add order.
  };
  std::vector<Message> messages_;                     // In order of their first Add.
  std::unordered_map<std::string, size_t> index_;     // Id to its place in messages_.
  size_t copies_ = 0;                                 // In all messages together.
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_ROUND_ROBIN_SCHEDULER_H_
