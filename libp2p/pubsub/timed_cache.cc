#include "libp2p/pubsub/timed_cache.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>

namespace libp2p::pubsub {
namespace {

constexpr size_t kMinSlots = 16;
constexpr size_t kMinRing = 8;
// Blocks of at most 2 MiB (huge-page backed, see LargeArray), and about an eighth of the largest ring each,
// so that the blocks allocated beyond the live entries (a partly filled block at each end, and the spare)
// stay a fraction of what the entries need.
constexpr size_t kMaxBlockEntries = (size_t{2} << 20) / 64;
constexpr uint64_t kNotFound = std::numeric_limits<uint64_t>::max();
constexpr uint32_t kEmpty = 0;

size_t RoundUpToPowerOfTwo(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

unsigned Log2(size_t power_of_two) {
  unsigned n = 0;
  while ((size_t{1} << n) < power_of_two) ++n;
  return n;
}

size_t BlockEntries(size_t max_entries) {
  return std::clamp(RoundUpToPowerOfTwo(max_entries) / 8, kMinRing, kMaxBlockEntries);
}

}  // namespace

void TimedCache::FreeBlock::operator()(Entry* block) const { FreeLarge(block); }

TimedCache::Block TimedCache::NewBlock(size_t entries) {
  // Not initialised: an entry is written before it is read. Memory that was never touched is faulted in as
  // the entries are written, one page at a time, instead of all at once.
  return Block(static_cast<Entry*>(AllocateLarge(entries * sizeof(Entry), alignof(Entry))));
}

TimedCache::TimedCache(const Clock* clock, Duration ttl, size_t max_entries, SeededHash hash)
    : clock_(clock), ttl_(ttl), max_entries_(std::clamp<size_t>(max_entries, 1, kMaxEntries)), hash_(hash),
      block_entries_(BlockEntries(max_entries_)),
      table_blocks_(RoundUpToPowerOfTwo((max_entries_ + block_entries_ - 1) / block_entries_ + 2)),
      pos_bits_(Log2(RoundUpToPowerOfTwo(max_entries_))), pos_mask_((uint32_t{1} << pos_bits_) - 1),
      slots_(kMinSlots) {}

TimedCache::~TimedCache() { Clear(); }

std::string_view TimedCache::KeyOf(const Entry& e) {
  if (e.inline_size != kHeapKey) return std::string_view(e.data, e.inline_size);
  const char* heap;
  std::memcpy(&heap, e.data, sizeof(heap));
  size_t size;
  std::memcpy(&size, heap, sizeof(size));
  return std::string_view(heap + sizeof(size), size);
}

void TimedCache::SetKey(Entry* e, std::string_view key) {
  if (key.size() <= kInlineKeyBytes) {
    e->inline_size = static_cast<uint8_t>(key.size());
    std::memcpy(e->data, key.data(), key.size());
    return;
  }
  // Out of line: the size, then the bytes.
  char* heap = new char[sizeof(size_t) + key.size()];
  const size_t size = key.size();
  std::memcpy(heap, &size, sizeof(size));
  std::memcpy(heap + sizeof(size), key.data(), size);
  e->inline_size = kHeapKey;
  std::memcpy(e->data, &heap, sizeof(heap));
}

void TimedCache::FreeKey(Entry* e) {
  if (e->inline_size != kHeapKey) return;
  heap_key_bytes_ -= sizeof(size_t) + KeyOf(*e).size();
  char* heap;
  std::memcpy(&heap, e->data, sizeof(heap));
  delete[] heap;
  e->inline_size = 0;
}

TimedCache::Lookup TimedCache::Find(std::string_view key) {
  Lookup l{key, hash_(key), Now(), false};
  EvictExpired(l.now);
  l.found = Locate(key, l.hash) != kNotFound;
  return l;
}

bool TimedCache::Insert(const Lookup& lookup) {
  // Never dated before an entry already held: expiries must grow along the entries.
  const MonoTime now = std::max(lookup.now, latest_);
  EvictExpired(now);
  if (Locate(lookup.key, lookup.hash) != kNotFound) return false;
  if (held() >= max_entries_) {
    EvictOldest();
    ++capacity_evictions_;
  }
  // Keep the index's load factor at or below one half, so probe sequences stay short.
  if ((held() + 1) * 2 > slots_.size()) Rehash(slots_.size() * 2);
  PrepareTail();
  const uint64_t seq = tail_seq_++;
  Entry& e = EntryAt(seq);
  e.hash = lookup.hash;
  e.expiry = now + ttl_;
  if (seq == head_seq_) head_expiry_ = e.expiry;
  SetKey(&e, lookup.key);
  if (e.inline_size == kHeapKey) heap_key_bytes_ += sizeof(size_t) + lookup.key.size();
  // Too far from home (a run of luck a keyed hash makes vanishingly rare): a larger index spreads the keys.
  if (!IndexInsert(seq, e.hash)) Rehash(slots_.size() * 2);
  // The next insert into a busy cache evicts the oldest entry: start loading its index slot now, as that
  // slot is anywhere in the index and the insert is a message away.
  if (head_seq_ != seq) __builtin_prefetch(&slots_[EntryAt(head_seq_).hash & (slots_.size() - 1)], 1);
  return true;
}

size_t TimedCache::size() {
  EvictExpired(Now());
  return held();
}

void TimedCache::Clear() {
  for (uint64_t s = head_seq_; s < tail_seq_; ++s) FreeKey(&EntryAt(s));
  head_seq_ = tail_seq_;
  head_expiry_ = MonoTime::max();
  blocks_.clear();
  spare_.reset();
  blocks_held_ = 0;
  in_blocks_ = false;
  table_mask_ = 0;
  entry_mask_ = 0;
  slots_ = LargeArray<uint32_t>(kMinSlots);
}

size_t TimedCache::MemoryUsage() const {
  const size_t block_bytes = (in_blocks_ ? block_entries_ : entry_mask_ + 1) * sizeof(Entry);
  const size_t blocks = blocks_.empty() ? 0 : blocks_held_ + (spare_ != nullptr ? 1 : 0);
  return blocks * block_bytes + blocks_.capacity() * sizeof(Block) + slots_.size() * sizeof(uint32_t) +
         heap_key_bytes_;
}

void TimedCache::PrepareTail() {
  if (!in_blocks_) {
    const size_t capacity = blocks_.empty() ? 0 : entry_mask_ + 1;
    if (held() < capacity) return;
    if (capacity < block_entries_) return GrowRing(std::max(capacity * 2, std::min(kMinRing, block_entries_)));
    SwitchToBlocks();
  }
  Block& block = blocks_[(tail_seq_ >> block_shift_) & table_mask_];
  if (block != nullptr) return;
  block = spare_ != nullptr ? std::move(spare_) : NewBlock(block_entries_);
  ++blocks_held_;
}

void TimedCache::GrowRing(size_t capacity) {
  Block ring = NewBlock(capacity);
  // Entries are plain bytes (a heap key is owned through a pointer), so moving them is a copy.
  for (uint64_t s = head_seq_; s < tail_seq_; ++s) ring[s & (capacity - 1)] = EntryAt(s);
  blocks_.resize(1);
  blocks_[0] = std::move(ring);
  blocks_held_ = 1;
  entry_mask_ = capacity - 1;
}

void TimedCache::SwitchToBlocks() {
  // The ring is full at block_entries_: entry s sits at s & (block_entries_ - 1), which is where block
  // s >> block_shift_ keeps it. So the ring serves as the block of the oldest entries, and the newer ones
  // (those past the next block boundary, at the start of the ring) are copied to a block of their own.
  assert(held() == block_entries_ && entry_mask_ + 1 == block_entries_);
  block_shift_ = Log2(block_entries_);
  Block ring = std::move(blocks_[0]);
  blocks_.clear();
  blocks_.resize(table_blocks_);
  table_mask_ = table_blocks_ - 1;
  in_blocks_ = true;
  const uint64_t head_block = head_seq_ >> block_shift_;
  const uint64_t tail_block = (tail_seq_ - 1) >> block_shift_;
  if (tail_block != head_block) {
    Block newer = NewBlock(block_entries_);
    for (uint64_t s = tail_block << block_shift_; s < tail_seq_; ++s) newer[s & entry_mask_] = ring[s & entry_mask_];
    blocks_[tail_block & table_mask_] = std::move(newer);
  }
  blocks_[head_block & table_mask_] = std::move(ring);
  blocks_held_ = tail_block != head_block ? 2 : 1;
}

void TimedCache::ReleaseBlockOf(uint64_t seq) {
  Block& block = blocks_[(seq >> block_shift_) & table_mask_];
  assert(block != nullptr);
  --blocks_held_;
  if (spare_ == nullptr) {
    spare_ = std::move(block);
  } else {
    block.reset();
  }
}

void TimedCache::EvictExpired(MonoTime now) {
  if (now > latest_) latest_ = now;
  while (head_expiry_ <= now && head_seq_ != tail_seq_) EvictOldest();
}

void TimedCache::EvictOldest() {
  assert(head_seq_ != tail_seq_);
  Entry& e = EntryAt(head_seq_);
  IndexErase(FindSlotOfSequence(head_seq_, e.hash));
  FreeKey(&e);
  const uint64_t evicted = head_seq_++;
  head_expiry_ = head_seq_ != tail_seq_ ? EntryAt(head_seq_).expiry : MonoTime::max();
  // A block the oldest entries have all left goes (the ring stays: it is the only one).
  if (in_blocks_ && (head_seq_ == tail_seq_ || (head_seq_ >> block_shift_) != (evicted >> block_shift_))) {
    ReleaseBlockOf(evicted);
  }
}

uint64_t TimedCache::Locate(std::string_view key, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  const size_t home = hash & mask;
  const uint32_t tag = TagOf(hash) << pos_bits_;
  const uint32_t tag_mask = ~(pos_mask_ | (kMaxDistance << kDistanceShift));
  for (uint32_t d = 0; d <= kMaxDistance; ++d) {
    const uint32_t v = slots_[(home + d) & mask];
    if (v == kEmpty) return kNotFound;
    // Only a slot as far from the key's home as this probe has that home.
    if (DistanceOf(v) == d && (v & tag_mask) == tag) {
      const uint64_t seq = SequenceOfSlot(v);
      if (KeyOf(EntryAt(seq)) == key) return seq;
    }
  }
  return kNotFound;  // No key lies further from its home.
}

size_t TimedCache::FindSlotOfSequence(uint64_t seq, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  const size_t home = hash & mask;
  for (uint32_t d = 0;; ++d) {
    assert(d <= kMaxDistance);
    const size_t i = (home + d) & mask;
    if (slots_[i] == SlotValue(seq, hash, d)) return i;
    assert(slots_[i] != kEmpty);
  }
}

bool TimedCache::IndexInsert(uint64_t seq, uint64_t hash) {
  const size_t mask = slots_.size() - 1;
  const size_t home = hash & mask;
  for (uint32_t d = 0; d <= kMaxDistance; ++d) {
    uint32_t& slot = slots_[(home + d) & mask];
    if (slot == kEmpty) {
      slot = SlotValue(seq, hash, d);
      return true;
    }
  }
  return false;
}

void TimedCache::IndexErase(size_t slot) {
  // Backward-shift deletion: move later members of the probe run into the hole when their home slot allows,
  // so lookups never need tombstones. A slot holds its distance from home, so the entries are not read.
  const size_t mask = slots_.size() - 1;
  size_t hole = slot;
  for (size_t j = (hole + 1) & mask; slots_[j] != kEmpty; j = (j + 1) & mask) {
    const uint32_t v = slots_[j];
    const size_t home = (j - DistanceOf(v)) & mask;
    // The member at j may move to the hole when its home is not in the cyclic interval (hole, j].
    const bool home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_in_range) {
      const uint32_t distance = static_cast<uint32_t>((hole - home) & mask);
      slots_[hole] = (v & ~(kMaxDistance << kDistanceShift)) | distance << kDistanceShift;
      hole = j;
    }
  }
  slots_[hole] = kEmpty;
}

void TimedCache::Rehash(size_t slot_count) {
  if (slot_count < kMinSlots) slot_count = kMinSlots;
  for (;; slot_count *= 2) {
    slots_ = LargeArray<uint32_t>(slot_count);
    bool placed = true;
    for (uint64_t s = head_seq_; s < tail_seq_ && placed; ++s) placed = IndexInsert(s, EntryAt(s).hash);
    if (placed) return;
  }
}

}  // namespace libp2p::pubsub
