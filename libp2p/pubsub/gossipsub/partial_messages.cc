#include "libp2p/pubsub/gossipsub/partial_messages.h"

#include <algorithm>

namespace libp2p::pubsub::gossipsub {

using crypto::PeerId;

PartialGroups::Group& PartialGroups::Ours(const std::string& topic, const std::string& group_id) {
  Topic& t = topics_[topic];
  Group& g = t.groups[group_id];
  // A group a peer created keeps counting against it until it goes: an application that answers every
  // RPC with a publish cannot be made to hold more groups than the caps.
  g.ours = true;
  g.ttl = Ttl();
  return g;
}

PartialGroups::Group* PartialGroups::ForPeer(const std::string& topic, const std::string& group_id,
                                             const PeerId& from) {
  if (Group* g = Find(topic, group_id)) return g;
  auto t = topics_.find(topic);
  const size_t in_topic = t == topics_.end() ? 0 : t->second.peer_initiated;
  size_t by_peer = 0;
  if (t != topics_.end()) {
    auto it = t->second.initiated_by.find(from);
    if (it != t->second.initiated_by.end()) by_peer = it->second;
  }
  if (in_topic >= options_.peer_initiated_groups_per_topic ||
      by_peer >= options_.peer_initiated_groups_per_topic_per_peer) {
    ++refused_;
    return nullptr;
  }
  Topic& topic_state = topics_[topic];
  ++topic_state.peer_initiated;
  ++topic_state.initiated_by[from];
  Group& g = topic_state.groups[group_id];
  g.ttl = Ttl();
  g.counted_for = from;
  return &g;
}

PartialGroups::Group* PartialGroups::Find(const std::string& topic, const std::string& group_id) {
  auto t = topics_.find(topic);
  if (t == topics_.end()) return nullptr;
  auto g = t->second.groups.find(group_id);
  return g == t->second.groups.end() ? nullptr : &g->second;
}

std::vector<std::pair<const std::string*, PartialGroups::Group*>> PartialGroups::OurGroups(const std::string& topic) {
  std::vector<std::pair<const std::string*, Group*>> out;
  auto t = topics_.find(topic);
  if (t == topics_.end()) return out;
  for (auto& [id, g] : t->second.groups) {
    if (g.ours) out.emplace_back(&id, &g);
  }
  return out;
}

void PartialGroups::Uncount(Topic& t, const PeerId& peer) {
  auto it = t.initiated_by.find(peer);
  if (it == t.initiated_by.end()) return;
  --t.peer_initiated;
  if (--it->second == 0) t.initiated_by.erase(it);
}

void PartialGroups::RemovePeer(const PeerId& peer) {
  for (auto& [name, t] : topics_) {
    // The groups it created stay until they age out, but no longer count against it.
    for (auto& [id, g] : t.groups) {
      g.peers.erase(peer);
      if (g.counted_for && *g.counted_for == peer) {
        Uncount(t, peer);
        g.counted_for.reset();
      }
    }
  }
}

void PartialGroups::Heartbeat() {
  for (auto t = topics_.begin(); t != topics_.end();) {
    for (auto g = t->second.groups.begin(); g != t->second.groups.end();) {
      if (g->second.ttl <= 0 || g->second.peers.empty()) {
        if (g->second.counted_for) Uncount(t->second, *g->second.counted_for);
        g = t->second.groups.erase(g);
      } else {
        --g->second.ttl;
        ++g;
      }
    }
    t = t->second.groups.empty() ? topics_.erase(t) : std::next(t);
  }
}

size_t PartialGroups::groups() const {
  size_t n = 0;
  for (const auto& [name, t] : topics_) n += t.groups.size();
  return n;
}

size_t PartialGroups::views() const {
  size_t n = 0;
  for (const auto& [name, t] : topics_) {
    for (const auto& [id, g] : t.groups) n += g.peers.size();
  }
  return n;
}

size_t PartialGroups::peer_initiated(const std::string& topic) const {
  auto t = topics_.find(topic);
  return t == topics_.end() ? 0 : t->second.peer_initiated;
}

}  // namespace libp2p::pubsub::gossipsub
