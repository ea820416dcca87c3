// A set kept as a sorted vector, for the small sets that are read far more often than changed (a topic's
// mesh, its subscribed peers): iterating reads consecutive memory, where std::set follows a pointer to a
// separately allocated node for each element, and a lookup is a binary search over the same memory.
#ifndef LIBP2P_BASE_FLAT_SET_H_
#define LIBP2P_BASE_FLAT_SET_H_

#include <algorithm>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <utility>
#include <vector>

namespace libp2p {

// The part of std::set's interface that such sets use, iterated in the same (sorted) order. Insertion and
// erasure cost a move of the elements after the place (linear), so it suits sets of up to some hundreds.
// Unlike std::set's, iterators and references to elements are invalidated by every insertion and erasure:
// across a call that may change the set, hold a copy of the element, not a reference or an iterator.
// Elements are immutable through the set (only const iterators). Not thread-safe.
template <typename T, typename Less = std::less<T>>
class FlatSet {
 public:
  using value_type = T;
  using const_iterator = typename std::vector<T>::const_iterator;
  using iterator = const_iterator;

  FlatSet() = default;
  FlatSet(std::initializer_list<T> items) : FlatSet(items.begin(), items.end()) {}
  template <typename It>
  FlatSet(It first, It last) : items_(first, last) {
    std::sort(items_.begin(), items_.end(), Less());
    items_.erase(std::unique(items_.begin(), items_.end(), [](const T& a, const T& b) { return !Less()(a, b); }),
                 items_.end());
  }

  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

  // The element equal to `value`, or end().
  const_iterator find(const T& value) const {
    const const_iterator at = LowerBound(value);
    return at != items_.end() && !Less()(value, *at) ? at : items_.end();
  }
  size_t count(const T& value) const { return find(value) == items_.end() ? 0 : 1; }
  bool contains(const T& value) const { return find(value) != items_.end(); }

  // Adds `value` unless present; returns its place and whether it was added.
  std::pair<const_iterator, bool> insert(const T& value) {
    const const_iterator at = LowerBound(value);
    if (at != items_.end() && !Less()(value, *at)) return {at, false};
    return {items_.insert(at, value), true};
  }
  // Removes the element at `at` (not end()); returns the place of the element that followed it.
  const_iterator erase(const_iterator at) { return items_.erase(at); }
  // Removes the element equal to `value`; returns how many were removed (0 or 1).
  size_t erase(const T& value) {
    const const_iterator at = find(value);
    if (at == items_.end()) return 0;
    items_.erase(at);
    return 1;
  }
  void clear() { items_.clear(); }

  friend bool operator==(const FlatSet& a, const FlatSet& b) { return a.items_ == b.items_; }

 private:
  const_iterator LowerBound(const T& value) const {
    return std::lower_bound(items_.begin(), items_.end(), value, Less());
  }

  std::vector<T> items_;  // Sorted by Less, no two equal.
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_FLAT_SET_H_
