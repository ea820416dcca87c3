#include "libp2p/pubsub/floodsub.h"

#include "libp2p/pubsub/pubsub.h"

namespace libp2p::pubsub {

size_t FloodSubRouter::Forward(const SharedMessage& shared, const std::string&,
                               const std::optional<crypto::PeerId>& source) {
  const pb::Message& msg = *shared;
  size_t sent = 0;
  pb::RPC rpc;
  *rpc.add_publish() = msg;
  for (const crypto::PeerId& peer : peers_) {
    if (source.has_value() && peer == *source) continue;
    if (AsStringView(peer.bytes()) == msg.from()) continue;
    if (core_->PeerTopics(peer).count(msg.topic()) == 0) continue;
    if (core_->SendRpc(peer, rpc, SendLane::kData)) ++sent;
  }
  return sent;
}

}  // namespace libp2p::pubsub
