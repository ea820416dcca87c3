#include "libp2p/pubsub/gossipsub/promise_tracker.h"

namespace libp2p::pubsub::gossipsub {

PromiseTracker::PromiseTracker(const Clock* clock, Duration followup, size_t max_per_peer)
    : clock_(clock), followup_(followup), max_per_peer_(max_per_peer) {}

bool PromiseTracker::Add(const crypto::PeerId& peer, const std::string& id) {
  if (open_for(peer) >= max_per_peer_) return false;
  if (!by_id_[id].emplace(peer, clock_->Now() + followup_).second) return false;
  ++per_peer_[peer];
  ++size_;
  return true;
}

void PromiseTracker::Keep(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  for (const auto& [peer, deadline] : it->second) Forget(peer);
  by_id_.erase(it);
}

void PromiseTracker::KeepBy(const crypto::PeerId& peer, const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end() || it->second.erase(peer) == 0) return;
  Forget(peer);
  if (it->second.empty()) by_id_.erase(it);
}

void PromiseTracker::RemovePeer(const crypto::PeerId& peer) {
  if (per_peer_.count(peer) == 0) return;
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    if (it->second.erase(peer) > 0) Forget(peer);
    it = it->second.empty() ? by_id_.erase(it) : std::next(it);
  }
}

size_t PromiseTracker::open_for(const crypto::PeerId& peer) const {
  auto it = per_peer_.find(peer);
  return it == per_peer_.end() ? 0 : it->second;
}

void PromiseTracker::Forget(const crypto::PeerId& peer) {
  --size_;
  auto it = per_peer_.find(peer);
  if (--it->second == 0) per_peer_.erase(it);
}

}  // namespace libp2p::pubsub::gossipsub
