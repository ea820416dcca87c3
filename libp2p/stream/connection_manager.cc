#include "libp2p/stream/connection_manager.h"

#include <algorithm>
#include <tuple>

namespace libp2p::stream {

ConnectionManager::ConnectionManager(ConnectionManagerOptions options) : options_(options) {}

void ConnectionManager::Protect(const crypto::PeerId& peer, const std::string& tag) {
  peers_[peer].protections.insert(tag);
}

bool ConnectionManager::Unprotect(const crypto::PeerId& peer, const std::string& tag) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return false;
  it->second.protections.erase(tag);
  const bool still = !it->second.protections.empty();
  EraseIfEmpty(it);
  return still;
}

void ConnectionManager::EraseIfEmpty(crypto::PeerMap<PeerState>::iterator it) {
  const PeerState& p = it->second;
  if (p.protections.empty() && p.tags.empty() && !p.useful) peers_.erase(it);
}

bool ConnectionManager::IsProtected(const crypto::PeerId& peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && !it->second.protections.empty();
}

void ConnectionManager::SetTag(const crypto::PeerId& peer, const std::string& tag, int value) {
  PeerState& p = peers_[peer];
  auto [it, inserted] = p.tags.try_emplace(tag, value);
  if (!inserted) {
    p.value -= it->second;
    it->second = value;
  }
  p.value += value;
}

void ConnectionManager::RemoveTag(const crypto::PeerId& peer, const std::string& tag) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  auto t = it->second.tags.find(tag);
  if (t == it->second.tags.end()) return;
  it->second.value -= t->second;
  it->second.tags.erase(t);
  EraseIfEmpty(it);
}

int ConnectionManager::Value(const crypto::PeerId& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? 0 : it->second.value;
}

void ConnectionManager::MarkUseful(const crypto::PeerId& peer, MonoTime now) {
  PeerState& p = peers_[peer];
  p.useful = true;
  p.last_useful = now;
}

void ConnectionManager::ForgetPeer(const crypto::PeerId& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  if (it->second.protections.empty()) {
    peers_.erase(it);
    return;
  }
  it->second.tags.clear();
  it->second.value = 0;
  it->second.useful = false;
}

bool ConnectionManager::ShouldTrim(size_t open_connections, MonoTime now) const {
  if (open_connections <= options_.high_water) return false;
  return !trimmed_ || now - last_trim_ >= options_.silence_period;
}

std::vector<uint64_t> ConnectionManager::SelectForTrim(const std::vector<ConnectionSummary>& open, MonoTime now) {
  trimmed_ = true;
  last_trim_ = now;
  if (open.size() <= options_.low_water) return {};
  // Candidate peers: unprotected, with every connection past the grace period (a peer is closed whole).
  struct Candidate {
    crypto::PeerId peer;
    bool recently_useful;
    int value;
    MonoTime last_useful;
    MonoTime newest;
    std::vector<uint64_t> ids;
  };
  std::unordered_map<crypto::PeerId, size_t> index;
  std::vector<Candidate> candidates;
  std::unordered_map<crypto::PeerId, bool> excluded;
  for (const ConnectionSummary& c : open) {
    bool& out = excluded[c.peer];
    if (out) continue;
    if (IsProtected(c.peer) || now - c.opened < options_.grace_period) {
      out = true;
      auto it = index.find(c.peer);
      if (it != index.end()) candidates[it->second].ids.clear();  // Marks the candidate void.
      continue;
    }
    auto [it, inserted] = index.try_emplace(c.peer, candidates.size());
    if (inserted) {
      auto p = peers_.find(c.peer);
      const bool known = p != peers_.end();
      const bool useful = known && p->second.useful && now - p->second.last_useful < options_.useful_window;
      candidates.push_back(Candidate{c.peer, useful, known ? p->second.value : 0,
                                     known && p->second.useful ? p->second.last_useful : MonoTime(), c.opened, {}});
    }
    Candidate& cand = candidates[it->second];
    cand.ids.push_back(c.id);
    cand.newest = std::max(cand.newest, c.opened);
  }
  std::erase_if(candidates, [&](const Candidate& c) { return c.ids.empty() || excluded[c.peer]; });
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::make_tuple(a.recently_useful, a.value, a.last_useful, b.newest) <
           std::make_tuple(b.recently_useful, b.value, b.last_useful, a.newest);
  });
  std::vector<uint64_t> chosen;
  size_t remaining = open.size();
  for (const Candidate& c : candidates) {
    if (remaining <= options_.low_water) break;
    chosen.insert(chosen.end(), c.ids.begin(), c.ids.end());
    remaining -= std::min(remaining, c.ids.size());
  }
  return chosen;
}

}  // namespace libp2p::stream
