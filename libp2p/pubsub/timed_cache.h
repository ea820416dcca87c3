// The seen-message cache: a set of byte-string keys (message ids) that each expire a fixed TTL after insertion.
#ifndef LIBP2P_PUBSUB_TIMED_CACHE_H_
#define LIBP2P_PUBSUB_TIMED_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "libp2p/base/bytes.h"
#include "libp2p/base/clock.h"
#include "libp2p/base/large_array.h"
#include "libp2p/base/seeded_hash.h"

namespace libp2p::pubsub {

// A key inserted at time t is present while now < t + ttl and gone from t + ttl on (first-seen semantics:
// inserting a present key does not extend its life). Expired keys are evicted lazily by the calls that
// follow, oldest first: there is no timer per entry and no sweeper thread. Insert and lookup are O(1)
// amortised.
//
// At most `max_entries` keys are held: inserting a new key into a full cache evicts the oldest key early,
// which is counted in capacity_evictions().
//
// Keys are hashed with a keyed SipHash, so remote peers cannot force collisions. Not thread-safe: owned by
// one loop thread. The clock is an observer and must outlive the cache.
class TimedCache {
 public:
  TimedCache(const Clock* clock, Duration ttl, size_t max_entries, SeededHash hash = SeededHash::Random());

  TimedCache(const TimedCache&) = delete;
  TimedCache& operator=(const TimedCache&) = delete;

  // Inserts `key` unless present. Returns true when it was inserted, false when it was already present.
  bool Insert(std::string_view key);
  bool Insert(ByteSpan key) { return Insert(AsStringView(key)); }

  // Whether `key` is present (and not expired).
  bool Contains(std::string_view key);
  bool Contains(ByteSpan key) { return Contains(AsStringView(key)); }

  // Keys held, after evicting those that have expired.
  size_t size();
  // Keys held, expired ones not yet evicted included (never more than max_entries); changes nothing.
  size_t held() const { return tail_seq_ - head_seq_; }
  void Clear();

  Duration ttl() const { return ttl_; }
  size_t max_entries() const { return max_entries_; }
  // Keys evicted before their time because the cache was full.
  uint64_t capacity_evictions() const { return capacity_evictions_; }
  // The heap bytes the cache holds (entry ring, index and out-of-line keys).
  size_t MemoryUsage() const;

  ~TimedCache();

 private:
  // One cache line per entry. Keys up to kInlineKeyBytes long (js's and go's default message ids among
  // them) are stored inline; a longer key is stored on the heap and `data` holds a pointer to it.
  struct alignas(64) Entry {
    uint64_t hash;
    MonoTime expiry;
    uint8_t inline_size;  // kHeapKey when the key is on the heap.
    char data[47];
  };
  static_assert(sizeof(Entry) == 64, "an entry is one cache line");
  static constexpr size_t kInlineKeyBytes = sizeof(Entry::data);
  static constexpr uint8_t kHeapKey = 0xff;
  static constexpr uint64_t kEmpty = 0;
  static constexpr int kTagBits = 16;

  static std::string_view KeyOf(const Entry& e);
  static void SetKey(Entry* e, std::string_view key);
  static void FreeKey(Entry* e);

  void EvictExpired();
  void EvictOldest();
  Entry& EntryAt(uint64_t seq) { return ring_[seq & (ring_.size() - 1)]; }
  const Entry& EntryAt(uint64_t seq) const { return ring_[seq & (ring_.size() - 1)]; }
  // Grows the ring so it holds at least `n` entries.
  void ReserveRing(size_t n);
  // The index slot that refers to the entry with sequence number `seq`, which must be indexed.
  size_t FindSlotOfSequence(uint64_t seq, uint64_t hash) const;
  // The sequence number of `key`'s entry, or UINT64_MAX.
  uint64_t Find(std::string_view key, uint64_t hash) const;
  void IndexInsert(uint64_t seq, uint64_t hash);
  void IndexErase(size_t slot);
  void Rehash(size_t slot_count);
  static uint64_t SequenceOfSlot(uint64_t slot_value) { return (slot_value >> kTagBits) - 1; }
  static uint64_t SlotValue(uint64_t seq, uint64_t hash) { return ((seq + 1) << kTagBits) | (hash >> 48); }

  const Clock* const clock_;
  const Duration ttl_;
  const size_t max_entries_;
  const SeededHash hash_;
  // Live entries in insertion (hence expiry) order, in a ring whose capacity is a power of two: the entry with
  // sequence number s is at ring_[s & (ring_.size() - 1)], for head_seq_ <= s < tail_seq_.
  LargeArray<Entry> ring_;
  uint64_t head_seq_ = 0;
  uint64_t tail_seq_ = 0;
  // Open-addressing index with linear probing: each slot holds (seq + 1) << 16 | 16 bits of the hash, or 0.
  LargeArray<uint64_t> slots_;
  size_t heap_key_bytes_ = 0;
  uint64_t capacity_evictions_ = 0;
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_TIMED_CACHE_H_
