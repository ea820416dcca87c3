#include "tools/sim/receipt_table.h"

#include <utility>

namespace libp2p::sim {
namespace {

// Fibonacci hashing: message ids are often consecutive numbers, which this spreads over the table.
size_t Home(uint64_t id, size_t mask) { return static_cast<size_t>((id * 0x9e3779b97f4a7c15ULL) >> 32) & mask; }

}  // namespace

Receipt& ReceiptTable::operator[](uint64_t id) {
  if ((size_ + 1) * 2 > slots_.size()) Grow();
  const size_t mask = slots_.size() - 1;
  for (size_t i = Home(id, mask);; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.used && s.id == id) return s.receipt;
    if (!s.used) {
      s.used = true;
      s.id = id;
      ++size_;
      return s.receipt;
    }
  }
}

void ReceiptTable::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (!s.used) continue;
    size_t i = Home(s.id, mask);
    while (slots_[i].used) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

}  // namespace libp2p::sim
