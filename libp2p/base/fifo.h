// A first-in, first-out queue on one vector. It holds no memory until its first push, and afterwards about
// as much as the most items it held at once; std::deque allocates a block of about 600 bytes as soon as it
// is made, which adds up over the thousands of mostly idle queues of a busy node (four per pubsub peer).
#ifndef LIBP2P_BASE_FIFO_H_
#define LIBP2P_BASE_FIFO_H_

#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace libp2p {

template <typename T>
class Fifo {
 public:
  Fifo() = default;
  // A moved-from queue is empty.
  Fifo(Fifo&& other) noexcept : items_(std::move(other.items_)), head_(std::exchange(other.head_, 0)) {
    other.items_.clear();
  }
  Fifo& operator=(Fifo&& other) noexcept {
    items_ = std::move(other.items_);
    head_ = std::exchange(other.head_, 0);
    other.items_.clear();
    return *this;
  }
  Fifo(const Fifo&) = delete;
  Fifo& operator=(const Fifo&) = delete;

  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  // The oldest item; the queue must not be empty.
  T& front() {
    assert(!empty());
    return items_[head_];
  }
  const T& front() const {
    assert(!empty());
    return items_[head_];
  }
  // The newest item; the queue must not be empty.
  T& back() {
    assert(!empty());
    return items_.back();
  }

  void push_back(T item) {
    if (head_ > 0 && head_ * 2 >= items_.size()) {
      // Half or more of the vector is taken items: move the rest down (each item moves about once).
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    items_.push_back(std::move(item));
  }

  // Drops the oldest item (what it owns is freed now); the queue must not be empty. An emptied queue keeps
  // its vector for the next items unless it grew past kKeptCapacity.
  void pop_front() {
    assert(!empty());
    items_[head_++] = T();
    if (!empty()) return;
    if (items_.capacity() > kKeptCapacity) {
      std::vector<T>().swap(items_);
    } else {
      items_.clear();
    }
    head_ = 0;
  }

  // Puts `item` back at the front, as the oldest (for an item just taken that could not be used).
  void push_front(T item) {
    if (head_ > 0) {
      items_[--head_] = std::move(item);
    } else {
      items_.insert(items_.begin(), std::move(item));
    }
  }

  // Drops every item and the memory they took.
  void clear() {
    std::vector<T>().swap(items_);
    head_ = 0;
  }

  // Items an emptied queue keeps room for.
  static constexpr size_t kKeptCapacity = 16;

 private:
  std::vector<T> items_;  // items_[head_] onwards are queued; those before are taken (default values).
  size_t head_ = 0;
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_FIFO_H_
