#include "libp2p/pubsub/gossipsub/px_connector.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace libp2p::pubsub::gossipsub {

PxConnector::PxConnector(const Clock* clock, PxConnectorOptions options, DialFn dial, ConnectedFn connected)
    : clock_(clock), options_(options), dial_(std::move(dial)), connected_(std::move(connected)) {}

bool PxConnector::Offer(const Multiaddr& addr) {
  const std::optional<Bytes> mh = addr.PeerIdMultihash();
  if (!mh) return false;
  StatusOr<crypto::PeerId> peer = crypto::PeerId::FromBytes(*mh);
  if (!peer.ok()) return false;
  const bool known = dialing_.count(*peer) > 0 ||
                     std::any_of(pending_.begin(), pending_.end(), [&](const Pending& p) { return p.peer == *peer; });
  if (known) return false;
  if (pending_.size() >= options_.max_pending) {
    ++offers_dropped_;
    return false;
  }
  pending_.push_back(Pending{*peer, addr});
  return true;
}

void PxConnector::Pump() {
  const MonoTime now = clock_->Now();
  for (auto it = dialing_.begin(); it != dialing_.end();) {
    it = (it->second <= now || connected_(it->first)) ? dialing_.erase(it) : std::next(it);
  }
  while (dialing_.size() < options_.max_dialing && !pending_.empty()) {
    Pending next = std::move(pending_.front());
    pending_.pop_front();
    if (connected_(next.peer)) continue;  // Connected meanwhile (it dialed us, or another offer).
    dialing_[next.peer] = now + options_.dial_lease;
    ++dials_started_;
    dial_(next.addr);
  }
}

}  // namespace libp2p::pubsub::gossipsub
