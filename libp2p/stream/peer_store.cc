#include "libp2p/stream/peer_store.h"

#include <algorithm>

namespace libp2p::stream {

PeerStoreEntry& PeerStore::Upsert(const crypto::PeerId& peer) {
  auto it = peers_.find(peer);
  if (it != peers_.end()) return it->second;
  if (peers_.size() >= max_peers_) {
    // Forget a peer never identified first, else any other.
    auto victim = std::find_if(peers_.begin(), peers_.end(), [](const auto& e) { return !e.second.identified; });
    peers_.erase(victim != peers_.end() ? victim : peers_.begin());
  }
  return peers_[peer];
}

const PeerStoreEntry* PeerStore::Find(const crypto::PeerId& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

void PeerStore::AddAddress(PeerStoreEntry* info, const Multiaddr& addr) {
  if (addr.empty() || std::find(info->addrs.begin(), info->addrs.end(), addr) != info->addrs.end()) return;
  if (info->addrs.size() >= 32) info->addrs.erase(info->addrs.begin());
  info->addrs.push_back(addr);
}

}  // namespace libp2p::stream
