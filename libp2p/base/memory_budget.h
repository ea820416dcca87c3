// A budget of buffered bytes: what a connection, or the whole node, may hold in buffers that a remote peer
// (or a writer ignoring back-pressure) can fill. Budgets form a tree, a connection's under the node's; a
// reservation must fit in the budget and in every ancestor.
#ifndef LIBP2P_BASE_MEMORY_BUDGET_H_
#define LIBP2P_BASE_MEMORY_BUDGET_H_

#include <cstddef>

namespace libp2p {

// Used on the loop thread only. The parent is an observer that must outlive its children.
class MemoryBudget {
 public:
  // A budget of `limit` bytes under `parent` (none for the root).
  explicit MemoryBudget(size_t limit, MemoryBudget* parent = nullptr) : limit_(limit), parent_(parent) {}
  // Gives back to the ancestors whatever is still reserved here.
  ~MemoryBudget() {
    if (parent_ != nullptr && used_ > 0) parent_->Release(used_);
  }
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Reserves `n` bytes here and in every ancestor. Returns false, reserving nothing, when that would take this
  // budget or an ancestor over its limit.
  [[nodiscard]] bool TryReserve(size_t n) {
    if (n > available()) return false;
    for (MemoryBudget* b = this; b != nullptr; b = b->parent_) b->used_ += n;
    return true;
  }
  // Returns `n` reserved bytes (at most what is reserved here).
  void Release(size_t n) {
    if (n > used_) n = used_;
    for (MemoryBudget* b = this; b != nullptr; b = b->parent_) b->used_ -= n;
  }

  // What TryReserve() would grant now: the smallest room left along the chain.
  size_t available() const {
    size_t room = limit_ - (used_ < limit_ ? used_ : limit_);
    for (const MemoryBudget* b = parent_; b != nullptr; b = b->parent_) {
      const size_t r = b->limit_ - (b->used_ < b->limit_ ? b->used_ : b->limit_);
      if (r < room) room = r;
    }
    return room;
  }
  size_t used() const { return used_; }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  MemoryBudget* const parent_;
  size_t used_ = 0;
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_MEMORY_BUDGET_H_
