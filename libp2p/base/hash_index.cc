#include "libp2p/base/hash_index.h"

#include <algorithm>
#include <cassert>

namespace libp2p {

HashIndex::HashIndex() : slots_(kMinSlots) {}

void HashIndex::Insert(uint64_t hash, uint64_t position) {
  assert(position != kEmpty);
  if ((size_ + 1) * 2 > slots_.size()) Resize(slots_.size() * 2);
  Place(hash, position);
  ++size_;
}

void HashIndex::Place(uint64_t hash, uint64_t position) {
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i].position != kEmpty) i = (i + 1) & mask;
  slots_[i] = Slot{hash, position};
}

bool HashIndex::Erase(uint64_t hash, uint64_t position) {
  const size_t mask = slots_.size() - 1;
  size_t hole = hash & mask;
  while (true) {
    const Slot& s = slots_[hole];
    if (s.position == kEmpty) return false;
    if (s.hash == hash && s.position == position) break;
    hole = (hole + 1) & mask;
  }
  // Backward-shift deletion: a later member of the probe run moves into the hole unless its home slot lies
  // in the cyclic interval (hole, j], where moving it would put it before its home.
  for (size_t j = (hole + 1) & mask; slots_[j].position != kEmpty; j = (j + 1) & mask) {
    const size_t home = slots_[j].hash & mask;
    const bool home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_in_range) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
  if (slots_.size() > kMinSlots && size_ * 8 < slots_.size()) Resize(slots_.size() / 2);
  return true;
}

void HashIndex::Resize(size_t slot_count) {
  std::vector<Slot> old(std::max(slot_count, kMinSlots));
  old.swap(slots_);
  for (const Slot& s : old) {
    if (s.position != kEmpty) Place(s.hash, s.position);
  }
}

}  // namespace libp2p
