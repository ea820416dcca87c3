// FloodSub (/floodsub/1.0.0): every message goes to every peer subscribed to its topic.
#ifndef LIBP2P_PUBSUB_FLOODSUB_H_
#define LIBP2P_PUBSUB_FLOODSUB_H_

#include <set>
#include <string>
#include <vector>

#include "libp2p/pubsub/router.h"

namespace libp2p::pubsub {

inline constexpr std::string_view kFloodSubProtocolId = "/floodsub/1.0.0";

class FloodSubRouter final : public Router {
 public:
  std::vector<std::string> Protocols() const override { return {std::string(kFloodSubProtocolId)}; }
  void Attach(PubSub* core) override { core_ = core; }
  void AddPeer(const crypto::PeerId& peer, const std::string&) override { peers_.insert(peer); }
  void RemovePeer(const crypto::PeerId& peer) override { peers_.erase(peer); }
  void Join(const std::string&) override {}
  void Leave(const std::string&) override {}
  void HandleControl(const crypto::PeerId&, const pb::ControlMessage&) override {}
  // Every peer subscribed to the topic, except the one it came from and its author, in peer id order.
  std::vector<PubSubPeer*> Route(const SharedMessage& msg, const std::string& id,
                                 const std::optional<crypto::PeerId>& source) override;

 private:
  PubSub* core_ = nullptr;
  std::set<crypto::PeerId> peers_;
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_FLOODSUB_H_
