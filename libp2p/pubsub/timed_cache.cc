#include "libp2p/pubsub/timed_cache.h"

#include <cassert>
#include <cstring>
#include <limits>

namespace libp2p::pubsub {
namespace {

constexpr size_t kMinSlots = 16;
constexpr size_t kMinRing = 8;
constexpr uint64_t kNotFound = std::numeric_limits<uint64_t>::max();

size_t RoundUpToPowerOfTwo(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

TimedCache::TimedCache(const Clock* clock, Duration ttl, size_t max_entries, SeededHash hash)
    : clock_(clock), ttl_(ttl), max_entries_(max_entries == 0 ? 1 : max_entries), hash_(hash),
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
  char* heap;
  std::memcpy(&heap, e->data, sizeof(heap));
  delete[] heap;
  e->inline_size = 0;
}

bool TimedCache::Insert(std::string_view key) {
  EvictExpired();
  const uint64_t h = hash_(key);
  if (Find(key, h) != kNotFound) return false;
  if (tail_seq_ - head_seq_ >= max_entries_) {
    EvictOldest();
    ++capacity_evictions_;
  }
  const size_t live = tail_seq_ - head_seq_;
  // Keep the index's load factor at or below one half, so probe sequences stay short.
  if ((live + 1) * 2 > slots_.size()) Rehash(slots_.size() * 2);
  if (live + 1 > ring_.size()) ReserveRing(live + 1);
  const uint64_t seq = tail_seq_++;
  Entry& e = EntryAt(seq);
  e.hash = h;
  e.expiry = clock_->Now() + ttl_;
  SetKey(&e, key);
  if (e.inline_size == kHeapKey) heap_key_bytes_ += sizeof(size_t) + key.size();
  IndexInsert(seq, h);
  return true;
}

bool TimedCache::Contains(std::string_view key) {
  EvictExpired();
  return Find(key, hash_(key)) != kNotFound;
}

size_t TimedCache::size() {
  EvictExpired();
  return tail_seq_ - head_seq_;
}

void TimedCache::Clear() {
  for (uint64_t s = head_seq_; s < tail_seq_; ++s) FreeKey(&EntryAt(s));
  head_seq_ = tail_seq_;
  heap_key_bytes_ = 0;
  slots_ = LargeArray<uint64_t>(kMinSlots);
}

size_t TimedCache::MemoryUsage() const {
  return ring_.size() * sizeof(Entry) + slots_.size() * sizeof(uint64_t) + heap_key_bytes_;
}

void TimedCache::ReserveRing(size_t n) {
  const size_t capacity = RoundUpToPowerOfTwo(n < kMinRing ? kMinRing : n);
  LargeArray<Entry> ring(capacity);
  // Entries are plain bytes (a heap key is owned through a pointer), so moving them is a copy.
  for (uint64_t s = head_seq_; s < tail_seq_; ++s) ring[s & (capacity - 1)] = EntryAt(s);
  ring_ = std::move(ring);
}

void TimedCache::EvictExpired() {
  const MonoTime now = clock_->Now();
  while (head_seq_ != tail_seq_ && EntryAt(head_seq_).expiry <= now) EvictOldest();
}

void TimedCache::EvictOldest() {
  assert(head_seq_ != tail_seq_);
  Entry& e = EntryAt(head_seq_);
  IndexErase(FindSlotOfSequence(head_seq_, e.hash));
  if (e.inline_size == kHeapKey) heap_key_bytes_ -= sizeof(size_t) + KeyOf(e).size();
  FreeKey(&e);
  ++head_seq_;
}

uint64_t TimedCache::Find(std::string_view key, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  const uint64_t tag = hash >> 48;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const uint64_t v = slots_[i];
    if (v == kEmpty) return kNotFound;
    if ((v & 0xffff) == tag) {
      const uint64_t seq = SequenceOfSlot(v);
      const Entry& e = EntryAt(seq);
      if (e.hash == hash && KeyOf(e) == key) return seq;
    }
  }
}

size_t TimedCache::FindSlotOfSequence(uint64_t seq, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  const uint64_t want = SlotValue(seq, hash);
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    if (slots_[i] == want) return i;
    assert(slots_[i] != kEmpty);
  }
}

void TimedCache::IndexInsert(uint64_t seq, uint64_t hash) {
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i] != kEmpty) i = (i + 1) & mask;
  slots_[i] = SlotValue(seq, hash);
}

void TimedCache::IndexErase(size_t slot) {
  // Backward-shift deletion: move later members of the probe run into the hole when their home slot allows,
  // so lookups never need tombstones.
  const size_t mask = slots_.size() - 1;
  size_t hole = slot;
  for (size_t j = (hole + 1) & mask; slots_[j] != kEmpty; j = (j + 1) & mask) {
    const size_t home = EntryAt(SequenceOfSlot(slots_[j])).hash & mask;
    // The member at j may move to the hole when its home is not in the cyclic interval (hole, j].
    const bool home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_in_range) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = kEmpty;
}

void TimedCache::Rehash(size_t slot_count) {
  if (slot_count < kMinSlots) slot_count = kMinSlots;
  slots_ = LargeArray<uint64_t>(slot_count);
  for (uint64_t s = head_seq_; s < tail_seq_; ++s) IndexInsert(s, EntryAt(s).hash);
}

}  // namespace libp2p::pubsub
