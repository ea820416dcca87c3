// PeerMap: a map from peer id to a value, for the per-peer tables that messages look up (the pubsub core's,
// the router's, the score's, the gater's, the host's).
#ifndef LIBP2P_CRYPTO_PEER_MAP_H_
#define LIBP2P_CRYPTO_PEER_MAP_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "libp2p/base/hash_index.h"
#include "libp2p/crypto/peer_id.h"

namespace libp2p::crypto {

// The part of std::unordered_map's interface that such tables use, with cheaper lookups: a HashIndex slot
// holds the id's full hash and its entry's address, so a lookup reads one slot and then the entry (two cache
// lines), where libstdc++'s map reads a bucket, the node before the bucket's chain, then the chain's nodes
// (three lines or more).
//
// Each entry is allocated on its own: a reference to an entry or its value stays valid until that entry is
// erased, whatever else is added or erased. An iterator is a position in insertion order, with erasure
// moving the last entry into the hole: erase(it) returns the iterator to visit next, so an erasing loop
// sees every entry once; any other insertion or erasure invalidates iterators (unlike std::unordered_map's,
// which survive the erasure of other entries): across a call that may erase, hold a reference or the id,
// not an iterator, and do not iterate over the map itself. The order of iteration is
// deterministic (it follows the calls), not sorted. The hash is std::hash<PeerId>, as std::unordered_map's
// would be: ids come from remote peers, but a node holds as many as its connection limits allow. Not
// thread-safe.
template <typename V>
class PeerMap {
 public:
  using value_type = std::pair<const PeerId, V>;

  template <bool kConst>
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = PeerMap::value_type;
    using difference_type = std::ptrdiff_t;
    using reference = std::conditional_t<kConst, const value_type&, value_type&>;
    using pointer = std::conditional_t<kConst, const value_type*, value_type*>;

    Iterator() = default;
    // A const iterator from a mutable one.
    template <bool kOther, typename = std::enable_if_t<kConst && !kOther>>
    Iterator(const Iterator<kOther>& other) : map_(other.map_), index_(other.index_) {}

    reference operator*() const { return map_->entries_[index_]->kv; }
    pointer operator->() const { return &**this; }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator before = *this;
      ++index_;
      return before;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.index_ == b.index_; }
    friend bool operator!=(const Iterator& a, const Iterator& b) { return a.index_ != b.index_; }

   private:
    friend class PeerMap;
    template <bool>
    friend class Iterator;
    using Map = std::conditional_t<kConst, const PeerMap, PeerMap>;
    Iterator(Map* map, size_t index) : map_(map), index_(index) {}

    Map* map_ = nullptr;
    size_t index_ = 0;
  };
  using iterator = Iterator<false>;
  using const_iterator = Iterator<true>;

  PeerMap() = default;
  PeerMap(const PeerMap&) = delete;
  PeerMap& operator=(const PeerMap&) = delete;
  PeerMap(PeerMap&&) noexcept = default;
  PeerMap& operator=(PeerMap&&) noexcept = default;

  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, entries_.size()); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, entries_.size()); }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // The entry for `peer`, or end().
  iterator find(const PeerId& peer) { return iterator(this, IndexOf(peer)); }
  const_iterator find(const PeerId& peer) const { return const_iterator(this, IndexOf(peer)); }
  size_t count(const PeerId& peer) const { return IndexOf(peer) == entries_.size() ? 0 : 1; }

  // The entry for `peer` and true when it was added (its value constructed from `args`), or the existing
  // entry and false (`args` unused).
  template <typename... Args>
  std::pair<iterator, bool> try_emplace(const PeerId& peer, Args&&... args) {
    const size_t found = IndexOf(peer);
    if (found != entries_.size()) return {iterator(this, found), false};
    auto entry = std::make_unique<Entry>(peer, entries_.size(), std::forward<Args>(args)...);
    index_.Insert(Hash(peer), Address(*entry));
    entries_.push_back(std::move(entry));
    return {iterator(this, entries_.size() - 1), true};
  }
  V& operator[](const PeerId& peer) { return try_emplace(peer).first->second; }

  // Erases the entry at `it` (not end()); returns the iterator to visit next, which is `it` again: the last
  // entry, if another, has moved there.
  iterator erase(const_iterator it) {
    const size_t index = it.index_;
    Entry& gone = *entries_[index];
    index_.Erase(Hash(gone.kv.first), Address(gone));
    if (index + 1 != entries_.size()) {
      entries_[index] = std::move(entries_.back());
      entries_[index]->index = index;
    }
    entries_.pop_back();
    return iterator(this, index);
  }
  // Erases `peer`'s entry; returns how many were erased (0 or 1).
  size_t erase(const PeerId& peer) {
    const size_t found = IndexOf(peer);
    if (found == entries_.size()) return 0;
    erase(const_iterator(this, found));
    return 1;
  }
  // Erases every entry.
  void clear() {
    entries_.clear();
    index_ = HashIndex();
  }

 private:
  struct Entry {
    template <typename... Args>
    Entry(const PeerId& peer, size_t at, Args&&... args)
        : index(at),
          kv(std::piecewise_construct, std::forward_as_tuple(peer), std::forward_as_tuple(std::forward<Args>(args)...)) {}
    size_t index;  // Its place in entries_ (first: a lookup reads it beside the id).
    value_type kv;
  };

  static uint64_t Hash(const PeerId& peer) { return std::hash<PeerId>()(peer); }
  static uint64_t Address(const Entry& e) { return reinterpret_cast<uintptr_t>(&e); }

  // The index of `peer`'s entry in entries_, or entries_.size().
  size_t IndexOf(const PeerId& peer) const {
    const uint64_t found = index_.Find(
        Hash(peer), [&](uint64_t address) { return reinterpret_cast<const Entry*>(address)->kv.first == peer; });
    return found == HashIndex::kNotFound ? entries_.size() : reinterpret_cast<const Entry*>(found)->index;
  }

  std::vector<std::unique_ptr<Entry>> entries_;  // In insertion order, but for erasures' moves.
  HashIndex index_;                               // Hash of the id -> the entry's address.
};

}  // namespace libp2p::crypto

#endif  // LIBP2P_CRYPTO_PEER_MAP_H_
