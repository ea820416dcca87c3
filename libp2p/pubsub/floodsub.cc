#include "libp2p/pubsub/floodsub.h"

#include "libp2p/pubsub/pubsub.h"

namespace libp2p::pubsub {

std::vector<PubSubPeer*> FloodSubRouter::Route(const SharedMessage& shared, const std::string&,
                                               const std::optional<crypto::PeerId>& source) {
  const pb::Message& msg = *shared;
  std::vector<PubSubPeer*> targets;
  for (const crypto::PeerId& peer : peers_) {
    if (source.has_value() && peer == *source) continue;
    if (AsStringView(peer.bytes()) == msg.from()) continue;
    if (core_->PeerTopics(peer).count(msg.topic()) == 0) continue;
    if (PubSubPeer* p = core_->FindPeer(peer)) targets.push_back(p);
  }
  return targets;
}

}  // namespace libp2p::pubsub
