// The GossipSub message cache ("mcache", gossipsub-v1.0.md "Message Cache"): the messages of the last few
// heartbeats, kept to answer IWANT and to advertise in IHAVE.
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_MESSAGE_CACHE_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_MESSAGE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "libp2p/base/seeded_hash.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/rpc/rpc.pb.h"

namespace libp2p::pubsub::gossipsub {

// A sliding window of `history_length` heartbeat windows (mcache_len). Put() adds to the current window;
// Shift(), called once per heartbeat after gossip is emitted, opens a new current window and drops the
// messages of the one that falls off the end, so a message is cached for between history_length - 1 and
// history_length heartbeats. GetGossipIds() reads the newest `gossip_windows` windows (mcache_gossip).
//
// IWANT retransmissions are counted per (message, peer): GetForPeer() serves one peer the same message at
// most `max_transmissions` times (the v1.1 spam protection; go's GossipRetransmission).
//
// Memory: only the messages Put during the last history_length heartbeats are held, each once (a copy of
// the protobuf, its id, ~150 bytes of bookkeeping, and ~48 bytes per peer that has asked for it). There is no
// bound on the number of messages beyond that window: the caller bounds it by Putting only first-seen,
// validated messages, whose rate its inbound limits bound.
//
// Message ids are byte strings (any bytes, including NUL and non-UTF-8). They are hashed with a keyed hash,
// so remote peers cannot choose ids that collide. Not thread-safe: owned by one loop thread.
class MessageCache {
 public:
  // `history_length` >= 1 and 1 <= `gossip_windows` <= history_length (GossipSubParams::Validate() checks
  // mcache_len and mcache_gossip); other values are a programming error, asserted, and clamped into range.
  // At most `max_bytes` of messages are held: beyond, the oldest windows are dropped early, and when the
  // current window alone is full, new messages are not cached (they are still forwarded, only not gossiped).
  MessageCache(size_t history_length, size_t gossip_windows, SeededHash hash = SeededHash::Random(),
               size_t max_bytes = kDefaultMaxBytes);
  static constexpr size_t kDefaultMaxBytes = 64 * 1024 * 1024;

  MessageCache(const MessageCache&) = delete;
  MessageCache& operator=(const MessageCache&) = delete;

  // Stores a copy of `msg` under `id` in the current window; the cache owns the copy. Returns false, and
  // changes nothing (no copy is made), when `id` is already cached: the first message stays, with its window
  // and IWANT counts.
  bool Put(std::string_view id, const pb::Message& msg);

  // The message cached under `id`, or nullptr when it is not (never put, or shifted out). The pointer is
  // owned by the cache and stays valid until the message is shifted out or the cache is destroyed (Put does
  // not invalidate it).
  const pb::Message* Get(std::string_view id) const;

  // For answering `peer`'s IWANT for `id`: counts the request and returns the message while `peer` has
  // asked for it at most `max_transmissions` times (so the first max_transmissions requests are served).
  // Returns nullptr when `id` is not cached or when the peer is over the limit; a request over the limit is
  // not counted, so the count never exceeds max_transmissions. The message's lifetime is Get()'s.
  const pb::Message* GetForPeer(std::string_view id, const crypto::PeerId& peer,
                                               int max_transmissions);

  // The ids of the messages for `topic` in the newest gossip_windows windows, newest window first and in Put
  // order within a window; empty when there are none. The ids are copies.
  std::vector<std::string> GetGossipIds(std::string_view topic) const;

  // Opens a new current window; when that makes more than history_length windows, drops the oldest window
  // and every message in it (with its IWANT counts). Called once per heartbeat.
  void Shift();

  // The number of messages cached.
  size_t size() const { return entries_.size(); }
  // Bytes of the cached messages (their encoded sizes).
  size_t bytes() const { return bytes_; }
  size_t history_length() const { return history_length_; }
  size_t gossip_windows() const { return gossip_windows_; }

 private:
  struct Entry {
    pb::Message msg;
    // The peers that asked for this message by IWANT, with their request counts. A vector: most messages
    // are never requested or by few peers, and an empty vector costs no allocation.
    std::vector<std::pair<crypto::PeerId, int>> iwant_counts;
  };
  struct IdHash {
    using is_transparent = void;
    SeededHash hash;
    size_t operator()(std::string_view id) const { return hash(id); }
  };
  using EntryMap = std::unordered_map<std::string, Entry, IdHash, std::equal_to<>>;
  using Node = EntryMap::value_type;
  // One heartbeat's messages by topic. The pointers are to EntryMap elements, which stay put while the map
  // rehashes; each element is in exactly one window.
  using Window = std::map<std::string, std::vector<Node*>, std::less<>>;

  const size_t history_length_;
  const size_t gossip_windows_;
  EntryMap entries_;
  // windows_.front() is the current window. Never empty; at most history_length_ long.
  std::deque<Window> windows_;
  const size_t max_bytes_;
  size_t bytes_ = 0;
  // Drops the oldest window's messages.
  void DropOldestWindow();
};

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_MESSAGE_CACHE_H_
