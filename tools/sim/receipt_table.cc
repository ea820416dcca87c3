#include "tools/sim/receipt_table.h"

namespace libp2p::sim {
namespace {

// HashIndex homes a key by its hash's low bits: mix the id's bits into them (ids are often consecutive
// numbers, or numbers that differ only in their high bytes).
uint64_t HashOf(uint64_t id) {
  const uint64_t h = id * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 32);
}

}  // namespace

Receipt& ReceiptTable::operator[](uint64_t id) {
  const uint64_t hash = HashOf(id);
  const uint64_t at = index_.Find(hash, [&](uint64_t position) { return entries_[position].first == id; });
  if (at != HashIndex::kNotFound) return entries_[at].second;
  index_.Insert(hash, entries_.size());
  return entries_.emplace_back(id, Receipt{}).second;
}

}  // namespace libp2p::sim
