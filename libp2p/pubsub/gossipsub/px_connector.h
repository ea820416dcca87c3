// Dials the peers that PRUNEs offer (peer exchange), bounded as go-libp2p-pubsub bounds it: offers wait in a
// queue of limited length (beyond it they are dropped) and only a few dials run at once, so a stream of
// PRUNEs can neither make us dial without end nor fill our connection slots.
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_PX_CONNECTOR_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_PX_CONNECTOR_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <map>

#include "libp2p/base/clock.h"
#include "libp2p/base/multiaddr.h"
#include "libp2p/crypto/peer_id.h"

namespace libp2p::pubsub::gossipsub {

struct PxConnectorOptions {
  // Offers waiting to be dialed (go: 128).
  size_t max_pending = 128;
  // Dials under way at once (go: 8 connectors).
  size_t max_dialing = 8;
  // A dial holds its place until its peer connects or this long has passed (the host's dial and upgrade
  // timeouts together, with a margin): the connector does not wait for the dial's result.
  Duration dial_lease = std::chrono::seconds(30);
};

// Loop thread only. The clock is an observer that must outlive the connector.
class PxConnector {
 public:
  // Starts a dial of `addr` (which ends in /p2p/<peer>); its outcome is not reported back.
  using DialFn = std::function<void(const Multiaddr& addr)>;
  // Whether we are connected to `peer` (a dial for it is then over).
  using ConnectedFn = std::function<bool(const crypto::PeerId& peer)>;

  PxConnector(const Clock* clock, PxConnectorOptions options, DialFn dial, ConnectedFn connected);

  // Queues a dial of `addr`, which must end in /p2p/<peer id>. False (and nothing queued) when the address
  // names no peer, the peer is queued or being dialed already, or the queue is full.
  bool Offer(const Multiaddr& addr);
  // Ends the dials whose peer connected or whose lease ran out, then starts queued dials while fewer than
  // max_dialing run. Call it after offers, when a peer connects, and periodically (the heartbeat).
  void Pump();

  size_t pending() const { return pending_.size(); }
  size_t dialing() const { return dialing_.size(); }
  uint64_t dials_started() const { return dials_started_; }
  uint64_t offers_dropped() const { return offers_dropped_; }

 private:
  struct Pending {
    crypto::PeerId peer;
    Multiaddr addr;
  };

  const Clock* const clock_;
  const PxConnectorOptions options_;
  DialFn dial_;
  ConnectedFn connected_;
  std::deque<Pending> pending_;
  std::map<crypto::PeerId, MonoTime> dialing_;  // Peer -> the end of its dial's lease.
  uint64_t dials_started_ = 0;
  uint64_t offers_dropped_ = 0;
};

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_PX_CONNECTOR_H_
