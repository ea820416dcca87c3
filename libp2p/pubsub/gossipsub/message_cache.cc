#include "libp2p/pubsub/gossipsub/message_cache.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace libp2p::pubsub::gossipsub {

MessageCache::MessageCache(size_t history_length, size_t gossip_windows, SeededHash hash, size_t max_bytes)
    : history_length_(std::max<size_t>(history_length, 1)),
      gossip_windows_(std::clamp<size_t>(gossip_windows, 1, std::max<size_t>(history_length, 1))),
      hash_(hash), max_bytes_(max_bytes) {
  assert(history_length >= 1);
  assert(gossip_windows >= 1 && gossip_windows <= history_length);
  windows_.push_front(Window{0, {}, {}});
}

uint64_t MessageCache::Find(std::string_view id, uint64_t hash) const {
  return index_.Find(hash, [&](uint64_t seq) { return At(seq).id() == id; });
}

uint8_t* MessageCache::Allocate(size_t size) {
  std::vector<Chunk>& chunks = windows_.front().chunks;
  if (chunks.empty() || chunks.back().size - chunks.back().used < size) {
    const size_t next = chunks.empty() ? kFirstChunkBytes : std::min(2 * chunks.back().size, kChunkBytes);
    if (next == kChunkBytes && size <= kChunkBytes && !spare_chunks_.empty()) {
      chunks.push_back(std::move(spare_chunks_.back()));
      spare_chunks_.pop_back();
      chunks.back().used = 0;
    } else {
      const size_t chunk_size = std::max(size, next);
      // Not zeroed: only what Put writes is read, and a fresh chunk's pages are touched as it fills.
      chunks.push_back(Chunk{std::make_unique_for_overwrite<uint8_t[]>(chunk_size), chunk_size, 0});
    }
  }
  Chunk& chunk = chunks.back();
  uint8_t* p = chunk.data.get() + chunk.used;
  chunk.used += size;
  return p;
}

bool MessageCache::Put(std::string_view id, const pb::Message& msg) {
  const uint64_t hash = hash_(id);
  if (Find(id, hash) != HashIndex::kNotFound) return false;
  const size_t size = msg.ByteSizeLong();
  if (id.size() > UINT32_MAX || size > UINT32_MAX) return false;
  while (bytes_ + size > max_bytes_ && windows_.size() > 1) DropOldestWindow();
  if (bytes_ + size > max_bytes_) return false;
  bytes_ += size;
  uint8_t* data = Allocate(id.size() + size);
  std::memcpy(data, id.data(), id.size());
  msg.SerializeWithCachedSizesToArray(data + id.size());
  const uint64_t seq = first_seq_ + ring_.size();
  auto& by_topic = windows_.front().by_topic;
  auto slot = by_topic.find(msg.topic());
  if (slot == by_topic.end()) slot = by_topic.emplace(msg.topic(), std::vector<uint64_t>()).first;
  slot->second.push_back(seq);
  ring_.push_back(Entry{hash, data, static_cast<uint32_t>(id.size()), static_cast<uint32_t>(size), {}});
  index_.Insert(hash, seq);
  return true;
}

size_t MessageCache::held_bytes() const {
  size_t held = 0;
  for (const Window& w : windows_) {
    for (const Chunk& c : w.chunks) held += c.size;
  }
  for (const Chunk& c : spare_chunks_) held += c.size;
  return held;
}

std::optional<pb::Message> MessageCache::Decode(const Entry& e) {
  pb::Message msg;
  // It was encoded by Put from a valid message, so it decodes.
  if (!msg.ParseFromArray(e.data + e.id_size, static_cast<int>(e.msg_size))) return std::nullopt;
  return msg;
}

std::optional<pb::Message> MessageCache::Get(std::string_view id) const {
  const uint64_t seq = Find(id, hash_(id));
  if (seq == HashIndex::kNotFound) return std::nullopt;
  return Decode(At(seq));
}

std::optional<pb::Message> MessageCache::GetForPeer(std::string_view id, const crypto::PeerId& peer,
                                                    int max_transmissions) {
  const uint64_t seq = Find(id, hash_(id));
  if (seq == HashIndex::kNotFound) return std::nullopt;
  Entry& entry = At(seq);
  std::vector<std::pair<crypto::PeerId, int>>& counts = entry.iwant_counts;
  auto c = std::find_if(counts.begin(), counts.end(), [&](const auto& pc) { return pc.first == peer; });
  if (c == counts.end()) {
    if (max_transmissions < 1) return std::nullopt;
    counts.emplace_back(peer, 1);
    return Decode(entry);
  }
  // Requests over the limit are not counted, so the count stays at most max_transmissions and cannot
  // overflow however often a peer asks.
  if (c->second >= max_transmissions) return std::nullopt;
  ++c->second;
  return Decode(entry);
}

std::vector<std::string> MessageCache::GetGossipIds(std::string_view topic) const {
  std::vector<std::string> ids;
  const size_t windows = std::min(gossip_windows_, windows_.size());
  for (size_t w = 0; w < windows; ++w) {
    auto slot = windows_[w].by_topic.find(topic);
    if (slot == windows_[w].by_topic.end()) continue;
    for (uint64_t seq : slot->second) ids.emplace_back(At(seq).id());
  }
  return ids;
}

bool MessageCache::HasGossipIds(std::string_view topic) const {
  const size_t windows = std::min(gossip_windows_, windows_.size());
  for (size_t w = 0; w < windows; ++w) {
    auto slot = windows_[w].by_topic.find(topic);
    if (slot != windows_[w].by_topic.end() && !slot->second.empty()) return true;
  }
  return false;
}

void MessageCache::Shift() {
  windows_.push_front(Window{first_seq_ + ring_.size(), {}, {}});
  if (windows_.size() > history_length_) DropOldestWindow();
}

void MessageCache::DropOldestWindow() {
  assert(windows_.size() > 1);  // The current window is never dropped.
  Window& oldest = windows_.back();
  // Its messages are the front of the ring, up to where the next window starts.
  const uint64_t end = windows_[windows_.size() - 2].first_seq;
  while (first_seq_ < end) {
    const Entry& e = ring_.front();
    index_.Erase(e.hash, first_seq_);
    bytes_ -= e.msg_size;
    ring_.pop_front();
    ++first_seq_;
  }
  // Standard-size chunks are kept for reuse, up to a quarter of max_bytes.
  for (Chunk& chunk : oldest.chunks) {
    if (chunk.size == kChunkBytes && (spare_chunks_.size() + 1) * kChunkBytes <= max_bytes_ / 4) {
      spare_chunks_.push_back(std::move(chunk));
    }
  }
  windows_.pop_back();
}

}  // namespace libp2p::pubsub::gossipsub
