// A test helper: an RpcObserver whose send drops another peer, for tests of what the pubsub core and its
// routers do when a peer goes while they are sending to the others.
#ifndef LIBP2P_PUBSUB_TESTING_BLACKLIST_ON_SEND_H_
#define LIBP2P_PUBSUB_TESTING_BLACKLIST_ON_SEND_H_

#include <optional>

#include "gtest/gtest.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/pubsub/pubsub_peer.h"
#include "libp2p/pubsub/rpc/rpc.pb.h"

namespace libp2p::pubsub {

// Blacklists `victim` on `pubsub` the first time an RPC that `fires_on` accepts goes out through a peer it
// observes (the test sets both before that; the blacklisting must succeed). It must outlive those peers.
class BlacklistOnSend : public RpcObserver {
 public:
  explicit BlacklistOnSend(bool (*fires_on)(const pb::RPC&)) : fires_on_(fires_on) {}

  void OnSend(const crypto::PeerId&, pb::RPC* rpc) override {
    if (fired || !fires_on_(*rpc)) return;
    fired = true;
    EXPECT_TRUE(pubsub->BlacklistPeer(*victim).ok());
  }

  PubSub* pubsub = nullptr;
  std::optional<crypto::PeerId> victim;
  bool fired = false;

 private:
  bool (*const fires_on_)(const pb::RPC&);
};

inline bool CarriesMessages(const pb::RPC& rpc) { return rpc.publish_size() > 0; }
inline bool CarriesSubscriptions(const pb::RPC& rpc) { return rpc.subscriptions_size() > 0; }

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_TESTING_BLACKLIST_ON_SEND_H_
