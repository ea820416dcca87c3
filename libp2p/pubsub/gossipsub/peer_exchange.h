// Peer exchange (gossipsub-v1.1.md, "Peer Exchange"): the peers a PRUNE offers, each with its signed peer
// record when we hold one, and the checks an offer must pass before we dial it.
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_PEER_EXCHANGE_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_PEER_EXCHANGE_H_

#include <cstddef>
#include <functional>
#include <vector>

#include "libp2p/base/multiaddr.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/rpc/rpc.pb.h"
#include "libp2p/stream/peer_store.h"

namespace libp2p::pubsub::gossipsub {

// Appends `offers` to `prune`'s peer list, each with the signed peer record `store` holds for it (a peer
// without one is offered by id alone: spec-conformant, though our own routers dial only signed offers).
void AddPxOffers(const std::vector<crypto::PeerId>& offers, const stream::PeerStore& store, pb::ControlPrune* prune);

// `addr` as a dial address of `peer`: with /p2p/<peer> appended when it has no /p2p/ part, as is when that
// part names `peer`; kInvalidArgument when it names another peer.
StatusOr<Multiaddr> DialAddressOf(const Multiaddr& addr, const crypto::PeerId& peer);

// The addresses to dial for `prune`'s offers: only offers whose signed record opens (signature by the
// offered peer's key) and names the offered peer id, that are neither `self` nor `skip(peer)` (e.g. already
// connected), one address each: of the record's addresses that `dialable` accepts (a go peer lists QUIC,
// WebTransport and WebRTC addresses too), the first of the most useful scope (public, then private, then
// loopback, then link-local; stream/advertised_addresses.h), with /p2p/<id> appended when it has none; an
// offer with no such address, or whose chosen address names another peer, is skipped. At most `max_offers` offers are examined,
// chosen in order, so a PRUNE with thousands of offers costs at most `max_offers` signature checks; invalid
// offers are skipped, never an error.
std::vector<Multiaddr> PxDialTargets(const pb::ControlPrune& prune, const crypto::PeerId& self,
                                     const std::function<bool(const crypto::PeerId&)>& skip,
                                     const std::function<bool(const Multiaddr&)>& dialable, size_t max_offers);

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_PEER_EXCHANGE_H_
