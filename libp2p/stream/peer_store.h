// What the host knows about peers: keys, addresses and protocols learned from connections and identify.
#ifndef LIBP2P_STREAM_PEER_STORE_H_
#define LIBP2P_STREAM_PEER_STORE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "libp2p/base/bytes.h"
#include "libp2p/base/multiaddr.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/peer_map.h"

namespace libp2p::stream {

struct PeerStoreEntry {
  std::optional<crypto::PublicKey> public_key;
  std::vector<Multiaddr> addrs;
  std::vector<std::string> protocols;
  std::string agent_version;
  std::string protocol_version;
  bool identified = false;
  // The newest signed peer record the peer sent in identify (an encoded envelope whose signature was checked
  // when it arrived), and its seq; empty when it sent none. GossipSub offers it to others in peer exchange.
  Bytes signed_peer_record;
  uint64_t peer_record_seq = 0;
};

// A bounded map from peer id to PeerStoreEntry. Not thread-safe (one loop thread).
class PeerStore {
 public:
  explicit PeerStore(size_t max_peers = 10000) : max_peers_(max_peers) {}

  // The entry of `peer`, created if needed. When the store is full, an entry of a peer never
  // identified is dropped first.
  PeerStoreEntry& Upsert(const crypto::PeerId& peer);
  const PeerStoreEntry* Find(const crypto::PeerId& peer) const;
  void Erase(const crypto::PeerId& peer) { peers_.erase(peer); }
  size_t size() const { return peers_.size(); }

  // Adds `addr` to the peer's addresses unless present; at most 32 are kept.
  static void AddAddress(PeerStoreEntry* info, const Multiaddr& addr);

 private:
  const size_t max_peers_;
  crypto::PeerMap<PeerStoreEntry> peers_;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_PEER_STORE_H_
