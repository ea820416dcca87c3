// The copies of each message one simulated node received: when the first arrived and how many did.
#ifndef TOOLS_SIM_RECEIPT_TABLE_H_
#define TOOLS_SIM_RECEIPT_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "libp2p/base/clock.h"
#include "libp2p/base/hash_index.h"

namespace libp2p::sim {

// Every copy of a message a node received, as it arrived (before deduplication and validation).
struct Receipt {
  MonoTime first{};
  uint32_t copies = 0;
};

// Receipts by message id: side by side in a vector in the order the messages first arrived, found through a
// HashIndex (a node looks up every copy it receives, and a node-based map costs an allocation per message
// and two cache misses a lookup). Grows without bound, as the record it keeps does (one entry per message
// the node received).
class ReceiptTable {
 public:
  // The receipt of `id`, added (no copies yet) when there is none. The reference holds until the next call.
  Receipt& operator[](uint64_t id);

  size_t size() const { return entries_.size(); }

  // Calls f(id, receipt) for every message received, in the order they first arrived.
  template <typename F>
  void ForEach(F f) const {
    for (const auto& [id, receipt] : entries_) f(id, receipt);
  }

 private:
  std::vector<std::pair<uint64_t, Receipt>> entries_;
  HashIndex index_;  // Hash of an id -> its place in entries_.
};

}  // namespace libp2p::sim

#endif  // TOOLS_SIM_RECEIPT_TABLE_H_
