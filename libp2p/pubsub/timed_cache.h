// The seen-message cache: a set of byte-string keys (message ids) that each expire a fixed TTL after insertion.
#ifndef LIBP2P_PUBSUB_TIMED_CACHE_H_
#define LIBP2P_PUBSUB_TIMED_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libp2p/base/bytes.h"
#include "libp2p/base/clock.h"
#include "libp2p/base/large_array.h"
#include "libp2p/base/seeded_hash.h"

namespace libp2p::pubsub {

// A key inserted at time t is present while now < t + ttl and gone from t + ttl on (first-seen semantics:
// inserting a present key does not extend its life). Expired keys are evicted lazily by the calls that
// follow, oldest first: there is no timer per entry and no sweeper thread. Insert and lookup are O(1)
// amortised, and in the steady state of a full cache they allocate nothing: the entries live in blocks
// that are reused as the oldest ones empty, so a busy cache neither copies its entries to grow nor touches
// fresh memory.
//
// At most `max_entries` keys are held (at most kMaxEntries): inserting a new key into a full cache evicts
// the oldest key early, which is counted in capacity_evictions().
//
// Keys are hashed with a keyed SipHash, so remote peers cannot force collisions (message ids are chosen by
// whoever writes the message, and even an id that is a SHA-256 of the data can be ground until its low bits
// collide). Not thread-safe: owned by one loop thread. The clock is an observer and must outlive the cache.
class TimedCache {
 public:
  // Keys up to this long are held in the entry itself (js's and go's default message ids among them); a
  // longer key costs a heap allocation of its own.
  static constexpr size_t kInlineKeyBytes = 47;
  // The largest max_entries honoured (a gigabyte of entries); a larger one is lowered to it.
  static constexpr size_t kMaxEntries = size_t{1} << 24;

  TimedCache(const Clock* clock, Duration ttl, size_t max_entries, SeededHash hash = SeededHash::Random());

  TimedCache(const TimedCache&) = delete;
  TimedCache& operator=(const TimedCache&) = delete;

  // What Find() learned of a key: whether it is present, with its hash and the time of the lookup, so that
  // an Insert() of the same key that follows neither hashes it again nor reads the clock. `key` views the
  // caller's bytes, which must stay valid while the Lookup is used.
  struct Lookup {
    std::string_view key;
    uint64_t hash = 0;
    MonoTime now{};
    bool found = false;
  };

  // Whether `key` is present (and not expired), as Contains().
  Lookup Find(std::string_view key);
  // Inserts `lookup.key` unless present, as Insert(), at the time of the lookup (or the latest time the
  // cache has read, when a later call read a later one). `lookup` must come from this cache's Find().
  bool Insert(const Lookup& lookup);

  // Inserts `key` unless present. Returns true when it was inserted, false when it was already present.
  bool Insert(std::string_view key) { return Insert(Lookup{key, hash_(key), Now(), false}); }
  bool Insert(ByteSpan key) { return Insert(AsStringView(key)); }

  // Starts loading the index slot where a lookup or insert of `key` begins, so that one a little later
  // finds it in the caches (in a large cache, that slot is a cache miss of every new key). Changes nothing.
  void Prefetch(std::string_view key) const { __builtin_prefetch(&slots_[hash_(key) & (slots_.size() - 1)]); }

  // Whether `key` is present (and not expired).
  bool Contains(std::string_view key) { return Find(key).found; }
  bool Contains(ByteSpan key) { return Contains(AsStringView(key)); }

  // Keys held, after evicting those that have expired.
  size_t size();
  // Keys held, expired ones not yet evicted included (never more than max_entries); changes nothing.
  size_t held() const { return tail_seq_ - head_seq_; }
  // Drops every key and returns the memory the entries held.
  void Clear();

  Duration ttl() const { return ttl_; }
  size_t max_entries() const { return max_entries_; }
  // Keys evicted before their time because the cache was full.
  uint64_t capacity_evictions() const { return capacity_evictions_; }
  // The heap bytes the cache holds (entry blocks, index and out-of-line keys).
  size_t MemoryUsage() const;

  ~TimedCache();

 private:
  // One cache line per entry. A key longer than kInlineKeyBytes is stored on the heap and `data` holds a
  // pointer to it.
  struct alignas(64) Entry {
    MonoTime expiry;
    uint64_t hash;
    uint8_t inline_size;  // kHeapKey when the key is on the heap.
    char data[47];
  };
  static_assert(sizeof(Entry) == 64, "an entry is one cache line");
  static_assert(sizeof(Entry::data) == kInlineKeyBytes);
  static constexpr uint8_t kHeapKey = 0xff;

  // Entries are numbered in insertion order (their sequence numbers), so they are also in expiry order; the
  // live ones are those numbered head_seq_ <= s < tail_seq_.
  //
  // Small caches keep their entries in one ring of a power-of-two capacity that doubles as they grow (the
  // entry numbered s at s & entry_mask_). Once the ring would outgrow block_entries_, entries live in blocks
  // of that size instead: entry s is at offset s & entry_mask_ of block s >> block_shift_, found through
  // a table of block pointers indexed modulo its size. Exactly the blocks holding live entries are
  // allocated; the block the oldest entries leave is kept as a spare for the next block the newest need.
  // (The ring is the same structure with a table of one block.)
  struct FreeBlock {
    void operator()(Entry* block) const;
  };
  using Block = std::unique_ptr<Entry[], FreeBlock>;
  static Block NewBlock(size_t entries);

  static std::string_view KeyOf(const Entry& e);
  static void SetKey(Entry* e, std::string_view key);
  void FreeKey(Entry* e);

  MonoTime Now() const { return clock_->Now(); }
  void EvictExpired(MonoTime now);
  void EvictOldest();
  Entry& EntryAt(uint64_t seq) { return blocks_[(seq >> block_shift_) & table_mask_][seq & entry_mask_]; }
  const Entry& EntryAt(uint64_t seq) const {
    return blocks_[(seq >> block_shift_) & table_mask_][seq & entry_mask_];
  }
  // Makes room for the entry numbered tail_seq_: a larger ring, or the block it falls in.
  void PrepareTail();
  void GrowRing(size_t capacity);
  // Turns the ring, full at block_entries_, into blocks.
  void SwitchToBlocks();
  // Frees the block of the entry numbered `seq`, which holds no live entry any more.
  void ReleaseBlockOf(uint64_t seq);

  // The index: open addressing with linear probing, in 32-bit slots (small, so that more of it stays in the
  // caches). A slot is 0 when empty; else, from the top, the distance from the key's home slot (6 bits: no
  // key is placed further, the index grows instead), a tag of the key's hash (its top bit set, so that a
  // slot in use is never 0), and the entry's sequence number modulo 2^pos_bits_ (which tells the live
  // entries apart, as at most max_entries are live). The distance gives each slot's home without reading
  // its entry (moving slots back on erase needs it), and lets a probe pass slots of other homes unread.
  static constexpr unsigned kDistanceShift = 26;
  static constexpr uint32_t kMaxDistance = 63;
  uint32_t SlotValue(uint64_t seq, uint64_t hash, uint32_t distance) const {
    return distance << kDistanceShift | TagOf(hash) << pos_bits_ | (static_cast<uint32_t>(seq) & pos_mask_);
  }
  uint32_t TagOf(uint64_t hash) const {
    const unsigned tag_bits = kDistanceShift - pos_bits_;
    return (static_cast<uint32_t>(hash >> 32) >> (32 - tag_bits)) | (uint32_t{1} << (tag_bits - 1));
  }
  static uint32_t DistanceOf(uint32_t slot_value) { return slot_value >> kDistanceShift; }
  uint64_t SequenceOfSlot(uint32_t slot_value) const {
    return head_seq_ + ((slot_value - static_cast<uint32_t>(head_seq_)) & pos_mask_);
  }
  // The index slot that refers to the entry numbered `seq`, which must be indexed.
  size_t FindSlotOfSequence(uint64_t seq, uint64_t hash) const;
  // The sequence number of `key`'s entry, or UINT64_MAX.
  uint64_t Locate(std::string_view key, uint64_t hash) const;
  // False when the free slot nearest the key's home is more than kMaxDistance away (nothing is written).
  [[nodiscard]] bool IndexInsert(uint64_t seq, uint64_t hash);
  void IndexErase(size_t slot);
  // Indexes the live entries again in `slot_count` slots, or more where a key would land too far from home.
  void Rehash(size_t slot_count);

  const Clock* const clock_;
  const Duration ttl_;
  const size_t max_entries_;
  const SeededHash hash_;
  // The size of a block once the entries live in blocks (a power of two), and the size of the block table
  // then (a power of two larger than the most blocks live entries can span).
  const size_t block_entries_;
  const size_t table_blocks_;
  // Bits of a sequence number kept in an index slot (2^pos_bits_ >= max_entries), and their mask.
  const unsigned pos_bits_;
  const uint32_t pos_mask_;

  // The ring or the blocks (see Entry). While a ring: one element, table_mask_ 0, entry_mask_ its
  // capacity - 1.
  std::vector<Block> blocks_;
  size_t table_mask_ = 0;
  size_t entry_mask_ = 0;
  unsigned block_shift_ = 0;
  bool in_blocks_ = false;
  size_t blocks_held_ = 0;  // Blocks allocated in blocks_ (the ring counts as one), the spare not included.
  Block spare_;
  uint64_t head_seq_ = 0;
  uint64_t tail_seq_ = 0;
  // The latest time a call read: inserts are never dated earlier, so that expiries grow along the entries.
  MonoTime latest_{};
  // The oldest entry's expiry (MonoTime::max() when empty), kept here so that a lookup with nothing to
  // evict does not load that entry: it is rarely in the cache.
  MonoTime head_expiry_ = MonoTime::max();
  // The index (see SlotValue()).
  LargeArray<uint32_t> slots_;
  size_t heap_key_bytes_ = 0;
  uint64_t capacity_evictions_ = 0;
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_TIMED_CACHE_H_
