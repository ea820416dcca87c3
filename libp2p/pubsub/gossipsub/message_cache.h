// The GossipSub message cache ("mcache", gossipsub-v1.0.md "Message Cache"): the messages of the last few
// heartbeats, kept to answer IWANT and to advertise in IHAVE.
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_MESSAGE_CACHE_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_MESSAGE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libp2p/base/hash_index.h"
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
// Memory: only the messages Put during the last history_length heartbeats are held, each once, encoded,
// with its id, in the chunks of its window (freed all at once when the window goes; a few spare chunks are
// kept for reuse), plus ~80 bytes of bookkeeping and ~48 bytes per peer that has asked for it. max_bytes
// bounds the encoded messages; the spare chunks add at most a quarter of it.
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

  // Stores `msg`, encoded, under `id` in the current window. Returns false, and changes nothing, when `id` is
  // already cached (the first message stays, with its window and IWANT counts) or when the message does not
  // fit in max_bytes.
  bool Put(std::string_view id, const pb::Message& msg);

  // A copy of the message cached under `id` (decoded again), or nothing when it is not cached (never put,
  // or shifted out).
  std::optional<pb::Message> Get(std::string_view id) const;

  // For answering `peer`'s IWANT for `id`: counts the request and returns the message while `peer` has
  // asked for it at most `max_transmissions` times (so the first max_transmissions requests are served).
  // Returns nothing when `id` is not cached or when the peer is over the limit; a request over the limit is
  // not counted, so the count never exceeds max_transmissions.
  std::optional<pb::Message> GetForPeer(std::string_view id, const crypto::PeerId& peer, int max_transmissions);

  // The ids of the messages for `topic` in the newest gossip_windows windows, newest window first and in Put
  // order within a window; empty when there are none. The ids are copies.
  std::vector<std::string> GetGossipIds(std::string_view topic) const;
  // Whether GetGossipIds(topic) would return any id (without copying them).
  bool HasGossipIds(std::string_view topic) const;

  // Opens a new current window; when that makes more than history_length windows, drops the oldest window
  // and every message in it (with its IWANT counts). Called once per heartbeat.
  void Shift();

  // The number of messages cached.
  size_t size() const { return ring_.size(); }
  // Bytes of the cached messages (their encoded sizes).
  size_t bytes() const { return bytes_; }
  // Bytes of memory the cache holds for them: its windows' chunks and the spare ones (not counting the
  // index and the per-entry bookkeeping).
  size_t held_bytes() const;
  size_t history_length() const { return history_length_; }
  size_t gossip_windows() const { return gossip_windows_; }

 private:
  struct Entry {
    uint64_t hash;        // Of the id, with hash_.
    const uint8_t* data;  // The id, then the encoded message, in a chunk of the entry's window.
    uint32_t id_size;
    uint32_t msg_size;
    // The peers that asked for this message by IWANT, with their request counts. A vector: most messages
    // are never requested or by few peers, and an empty vector costs no allocation.
    std::vector<std::pair<crypto::PeerId, int>> iwant_counts;

    std::string_view id() const { return std::string_view(reinterpret_cast<const char*>(data), id_size); }
  };
  // A block of a window's bytes, filled front to back.
  struct Chunk {
    std::unique_ptr<uint8_t[]> data;
    size_t size = 0;
    size_t used = 0;
  };
  // One heartbeat's messages: the sequence numbers [first_seq, next window's first_seq) of ring_, those
  // sequence numbers again by topic, for gossip, and the chunks holding their bytes.
  struct Window {
    uint64_t first_seq;
    std::map<std::string, std::vector<uint64_t>, std::less<>> by_topic;
    std::vector<Chunk> chunks;
  };
  // A window's chunks grow from kFirstChunkBytes, doubling, to kChunkBytes: a window of a few small messages
  // (an attestation subnet's, a quiet topic's) holds little, in each of the history_length windows of each of
  // the nodes of a simulation or of a light node, while a busy window soon allocates rarely. A message larger
  // than its window's next chunk gets a chunk of its own size, freed with its window. Only chunks of
  // kChunkBytes are kept for reuse.
  static constexpr size_t kFirstChunkBytes = 2 * 1024;
  static constexpr size_t kChunkBytes = 32 * 1024;

  // The entry with sequence number `seq`, which must be held.
  Entry& At(uint64_t seq) { return ring_[seq - first_seq_]; }
  const Entry& At(uint64_t seq) const { return ring_[seq - first_seq_]; }
  // The sequence number of `id`'s entry, or HashIndex::kNotFound.
  uint64_t Find(std::string_view id, uint64_t hash) const;
  // `size` bytes at the end of the current window's chunks.
  uint8_t* Allocate(size_t size);
  static std::optional<pb::Message> Decode(const Entry& e);
  // Drops the oldest window's messages.
  void DropOldestWindow();

  const size_t history_length_;
  const size_t gossip_windows_;
  const SeededHash hash_;
  // Every held message in Put order: ring_[i] has sequence number first_seq_ + i. Windows are consecutive
  // runs of it, so dropping the oldest window pops from the front.
  std::deque<Entry> ring_;
  uint64_t first_seq_ = 0;
  HashIndex index_;  // id hash -> sequence number.
  // windows_.front() is the current window. Never empty; at most history_length_ long.
  std::deque<Window> windows_;
  // Chunks of dropped windows, kept for reuse (so steady traffic does not fault in fresh pages).
  std::vector<Chunk> spare_chunks_;
  const size_t max_bytes_;
  size_t bytes_ = 0;
};

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_MESSAGE_CACHE_H_
