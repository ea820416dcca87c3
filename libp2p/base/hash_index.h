// HashIndex: an open-addressing index from 64-bit key hashes to 64-bit positions (sequence numbers of entries
// that a container elsewhere holds, e.g. a ring in insertion order). The keys themselves stay with the
// entries: Find() asks the caller whether the entry at a candidate position is the one wanted.
#ifndef LIBP2P_BASE_HASH_INDEX_H_
#define LIBP2P_BASE_HASH_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace libp2p {

// Each slot holds a full hash and a position (16 bytes), so a lookup touches an entry only when the full
// 64-bit hashes are equal, and growing, shrinking and deleting never touch entries. Linear probing with
// backward-shift deletion (no tombstones); the load stays between 1/8 and 1/2 (above a minimum size), so
// memory follows the number of positions held. Hashes should be keyed (SeededHash) when remote peers pick
// the keys. Not thread-safe.
class HashIndex {
 public:
  static constexpr uint64_t kNotFound = std::numeric_limits<uint64_t>::max();

  HashIndex();

  // The position stored with `hash` for which `is_match(position)` is true, or kNotFound.
  template <typename IsMatch>
  uint64_t Find(uint64_t hash, const IsMatch& is_match) const {
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.position == kEmpty) return kNotFound;
      if (s.hash == hash && is_match(s.position)) return s.position;
    }
  }

  // Adds (hash, position). `position` must not be kNotFound. Duplicates are allowed (Find returns the
  // first that matches).
  void Insert(uint64_t hash, uint64_t position);
  // Removes (hash, position); returns false when it is not present.
  bool Erase(uint64_t hash, uint64_t position);

  size_t size() const { return size_; }
  size_t slot_count() const { return slots_.size(); }
  size_t MemoryUsage() const { return slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint64_t position = kEmpty;
  };
  static constexpr uint64_t kEmpty = kNotFound;
  static constexpr size_t kMinSlots = 16;

  void Place(uint64_t hash, uint64_t position);
  void Resize(size_t slot_count);

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_HASH_INDEX_H_
