// The copies of each message one simulated node received: when the first arrived and how many did.
#ifndef TOOLS_SIM_RECEIPT_TABLE_H_
#define TOOLS_SIM_RECEIPT_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "libp2p/base/clock.h"

namespace libp2p::sim {

// Every copy of a message a node received, as it arrived (before deduplication and validation).
struct Receipt {
  MonoTime first{};
  uint32_t copies = 0;
};

// Receipts by message id, in one open-addressing array: a node looks up every copy it receives (thousands
// a simulated minute), and a node-based map costs an allocation per message and two cache misses a lookup.
// Grows without bound, as the record it keeps does (one entry per message the node received).
class ReceiptTable {
 public:
  // The receipt of `id`, added (no copies yet) when there is none. The reference holds until the next call.
  Receipt& operator[](uint64_t id);

  size_t size() const { return size_; }

  // Calls f(id, receipt) for every message received, in no particular order.
  template <typename F>
  void ForEach(F f) const {
    for (const Slot& s : slots_) {
      if (s.used) f(s.id, s.receipt);
    }
  }

 private:
  struct Slot {
    uint64_t id = 0;
    Receipt receipt;
    bool used = false;
  };

  void Grow();

  std::vector<Slot> slots_;  // Empty, or a power of two slots, at most half of them used.
  size_t size_ = 0;
};

}  // namespace libp2p::sim

#endif  // TOOLS_SIM_RECEIPT_TABLE_H_
