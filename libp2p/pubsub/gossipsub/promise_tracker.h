// IWANT promises (gossipsub v1.1): a peer that advertised a message with IHAVE and was asked for it with
// IWANT must deliver it within iwant_followup_time, or it broke its promise and pays P7. As in go, one
// promise is tracked per IWANT (for one of its ids, chosen by the caller), any delivery of the message keeps
// every promise for it as soon as its validation starts, and a copy that fails its signature check keeps
// none.
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_PROMISE_TRACKER_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_PROMISE_TRACKER_H_

#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>

#include "libp2p/base/clock.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/peer_map.h"

namespace libp2p::pubsub::gossipsub {

// Bounded per peer: a peer with max_per_peer open promises gets no more tracked (so that Sybils sending
// bogus IHAVEs cannot crowd out the promises of other peers). Loop thread only; the clock is an observer
// that must outlive the tracker.
class PromiseTracker {
 public:
  PromiseTracker(const Clock* clock, Duration followup, size_t max_per_peer);

  // `peer` is to deliver `id` within the follow-up time. False when the peer has max_per_peer promises open
  // (or this one already): nothing is tracked then.
  bool Add(const crypto::PeerId& peer, const std::string& id);
  // The message arrived and its validation starts (or it arrived unvalidated: no room, or rejected by a
  // validator, whose penalty is P4's): every promise for it is kept.
  void Keep(const std::string& id);
  // `peer` delivered `id` again (a duplicate): its own promise for it is kept.
  void KeepBy(const crypto::PeerId& peer, const std::string& id);
  // Whether anyone has an open promise for `id` (so that it is not asked for again).
  bool Has(const std::string& id) const { return by_id_.count(id) > 0; }
  // Drops the peer's promises.
  void RemovePeer(const crypto::PeerId& peer);
  // Removes the promises whose time ran out, calling on_broken(peer) for each.
  template <typename F>
  void ExpireBroken(F&& on_broken);

  // Open promises, all peers together, and of one peer.
  size_t size() const { return size_; }
  size_t open_for(const crypto::PeerId& peer) const;

 private:
  void Forget(const crypto::PeerId& peer);

  const Clock* const clock_;
  const Duration followup_;
  const size_t max_per_peer_;
  std::map<std::string, std::map<crypto::PeerId, MonoTime>> by_id_;  // Id -> promiser -> deadline.
  crypto::PeerMap<size_t> per_peer_;
  size_t size_ = 0;
};

template <typename F>
void PromiseTracker::ExpireBroken(F&& on_broken) {
  const MonoTime now = clock_->Now();
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    for (auto p = it->second.begin(); p != it->second.end();) {
      if (p->second > now) {
        ++p;
        continue;
      }
      const crypto::PeerId peer = p->first;
      p = it->second.erase(p);
      Forget(peer);
      on_broken(peer);
    }
    it = it->second.empty() ? by_id_.erase(it) : std::next(it);
  }
}

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_PROMISE_TRACKER_H_
