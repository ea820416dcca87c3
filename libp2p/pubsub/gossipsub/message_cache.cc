#include "libp2p/pubsub/gossipsub/message_cache.h"

#include <algorithm>
#include <cassert>

namespace libp2p::pubsub::gossipsub {

MessageCache::MessageCache(size_t history_length, size_t gossip_windows, SeededHash hash, size_t max_bytes)
    : history_length_(std::max<size_t>(history_length, 1)),
      gossip_windows_(std::clamp<size_t>(gossip_windows, 1, std::max<size_t>(history_length, 1))),
      entries_(0, IdHash{hash}), max_bytes_(max_bytes) {
  assert(history_length >= 1);
  assert(gossip_windows >= 1 && gossip_windows <= history_length);
  windows_.emplace_front();
}

bool MessageCache::Put(std::string_view id, const pb::Message& msg) {
  // Look up before copying, so a duplicate costs one lookup and no copy of the message.
  if (entries_.find(id) != entries_.end()) return false;
  const size_t size = msg.ByteSizeLong();
  while (bytes_ + size > max_bytes_ && windows_.size() > 1) DropOldestWindow();
  if (bytes_ + size > max_bytes_) return false;
  bytes_ += size;
  auto it = entries_.emplace(std::string(id), Entry{msg, {}}).first;
  Window& current = windows_.front();
  const std::string& topic = it->second.msg.topic();
  auto slot = current.find(topic);
  if (slot == current.end()) slot = current.emplace(topic, std::vector<Node*>()).first;
  slot->second.push_back(&*it);
  return true;
}

const pb::Message* MessageCache::Get(std::string_view id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second.msg;
}

const pb::Message* MessageCache::GetForPeer(std::string_view id, const crypto::PeerId& peer,
                                        int max_transmissions) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return nullptr;
  std::vector<std::pair<crypto::PeerId, int>>& counts = it->second.iwant_counts;
  auto c = std::find_if(counts.begin(), counts.end(), [&](const auto& pc) { return pc.first == peer; });
  if (c == counts.end()) {
    if (max_transmissions < 1) return nullptr;
    counts.emplace_back(peer, 1);
    return &it->second.msg;
  }
  // Requests over the limit are not counted, so the count stays at most max_transmissions and cannot
  // overflow however often a peer asks.
  if (c->second >= max_transmissions) return nullptr;
  ++c->second;
  return &it->second.msg;
}

std::vector<std::string> MessageCache::GetGossipIds(std::string_view topic) const {
  std::vector<std::string> ids;
  const size_t windows = std::min(gossip_windows_, windows_.size());
  for (size_t w = 0; w < windows; ++w) {
    auto slot = windows_[w].find(topic);
    if (slot == windows_[w].end()) continue;
    for (const Node* node : slot->second) ids.push_back(node->first);
  }
  return ids;
}

void MessageCache::Shift() {
  windows_.emplace_front();
  if (windows_.size() > history_length_) DropOldestWindow();
}

void MessageCache::DropOldestWindow() {
  for (const auto& [topic, nodes] : windows_.back()) {
    for (Node* node : nodes) {
      bytes_ -= node->second.msg.ByteSizeLong();
      // Look the node up by its own key before erasing, so the key is not read while being destroyed.
      entries_.erase(entries_.find(node->first));
    }
  }
  windows_.pop_back();
}

}  // namespace libp2p::pubsub::gossipsub
