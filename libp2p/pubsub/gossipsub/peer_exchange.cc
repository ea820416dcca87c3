#include "libp2p/pubsub/gossipsub/peer_exchange.h"

#include "libp2p/stream/advertised_addresses.h"

#include <optional>
#include <string>

#include "libp2p/crypto/peer_record.h"

namespace libp2p::pubsub::gossipsub {

void AddPxOffers(const std::vector<crypto::PeerId>& offers, const stream::PeerStore& store, pb::ControlPrune* prune) {
  for (const crypto::PeerId& peer : offers) {
    pb::PeerInfo* info = prune->add_peers();
    info->set_peerid(std::string(AsStringView(peer.bytes())));
    const stream::PeerStoreEntry* known = store.Find(peer);
    if (known != nullptr && !known->signed_peer_record.empty()) {
      info->set_signedpeerrecord(std::string(AsStringView(known->signed_peer_record)));
    }
  }
}

StatusOr<Multiaddr> DialAddressOf(const Multiaddr& addr, const crypto::PeerId& peer) {
  if (std::optional<Bytes> id = addr.PeerIdMultihash()) {
    if (AsStringView(*id) != AsStringView(peer.bytes())) return InvalidArgumentError("the address names another peer");
    return addr;
  }
  return Multiaddr::FromString(addr.ToString() + "/p2p/" + peer.ToBase58());
}

std::vector<Multiaddr> PxDialTargets(const pb::ControlPrune& prune, const crypto::PeerId& self,
                                     const std::function<bool(const crypto::PeerId&)>& skip,
                                     const std::function<bool(const Multiaddr&)>& dialable, size_t max_offers) {
  std::vector<Multiaddr> targets;
  size_t examined = 0;
  for (const pb::PeerInfo& offer : prune.peers()) {
    if (examined >= max_offers) break;
    if (offer.signedpeerrecord().empty()) continue;
    ++examined;
    StatusOr<crypto::PeerRecord> record = crypto::OpenSignedPeerRecord(AsBytes(offer.signedpeerrecord()));
    if (!record.ok() || AsStringView(record->peer_id.bytes()) != offer.peerid()) continue;
    if (record->peer_id == self || skip(record->peer_id)) continue;
    // The most useful address we can dial: public before private before loopback (go records list them all).
    const Multiaddr* best = nullptr;
    for (const Multiaddr& a : record->addresses) {
      if (dialable(a) && (best == nullptr || stream::ScopeOf(a) < stream::ScopeOf(*best))) best = &a;
    }
    if (best == nullptr) continue;
    // An address naming another peer: the record contradicts itself.
    StatusOr<Multiaddr> target = DialAddressOf(*best, record->peer_id);
    if (target.ok()) targets.push_back(std::move(target).value());
  }
  return targets;
}

}  // namespace libp2p::pubsub::gossipsub
