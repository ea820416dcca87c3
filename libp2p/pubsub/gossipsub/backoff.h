// GossipSub PRUNE backoff (gossipsub-v1.1.md "PRUNE Backoff and Peer Exchange"): per (peer, topic), the time
// before which neither side may GRAFT the other again, after a PRUNE or an unsubscribe.
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_BACKOFF_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_BACKOFF_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "libp2p/base/clock.h"
#include "libp2p/base/seeded_hash.h"
#include "libp2p/crypto/peer_id.h"

namespace libp2p::pubsub::gossipsub {

// The longest backoff honoured. A PRUNE carries its backoff as uint64 seconds chosen by the remote; values
// above this are clamped to it before any arithmetic, so no value can overflow a Duration or a deadline.
// rust-libp2p's gossipsub had exactly that overflow, twice (advisories GHSA-gc42-3jg7-rxr2 and
// GHSA-g3g5-x568-qvqx). A day is far beyond any sensible backoff (the spec recommends 1 minute; rust now caps
// remote values at 1 hour) and far below Duration's range (~292 years). A long backoff only keeps us from
// re-grafting the peer that asked for it, in that one topic.
inline constexpr Duration kMaxBackoff = std::chrono::hours(24);

// `seconds` (a PRUNE's backoff field) as a Duration, clamped to kMaxBackoff. Safe for every uint64 value: the
// comparison happens before the conversion, which could otherwise overflow.
Duration BackoffFromSeconds(uint64_t seconds);

// Backoff deadlines, keyed by (peer, topic). A deadline only ever moves later: Add() keeps the later of the
// existing deadline and the new one.
//
// Two readings of a deadline: InBackoff() is exact (use it for GRAFTs a peer sends us: it must respect the
// deadline we gave it), InBackoffWithSlack() adds `slack` (use it before we GRAFT a peer ourselves, so the
// remote's heartbeat has cleared its entry first, as the spec asks). ExpireOld() drops an entry once its
// deadline is `slack` in the past, that is when InBackoffWithSlack() turns false.
//
// Bounded: at most `max_entries` entries. Adding a new (peer, topic) to a full table drops whichever entry
// would expire first, the new one included; such drops are counted in capacity_evictions(). Memory is about
// 200 bytes per entry plus topics longer than 15 bytes (~20 MB at the default bound of 100,000).
//
// Not thread-safe: owned by one loop thread. The clock is an observer and must outlive this object.
class Backoff {
 public:
  static constexpr size_t kDefaultMaxEntries = 100000;
  // One heartbeat at the default interval of 1 s: GossipSubParams' backoff_slack_heartbeats (1) times
  // heartbeat_interval (1 s). Routers with other params pass their own product.
  static constexpr Duration kDefaultSlack = std::chrono::seconds(1);

  // `slack` is clamped to [0, kMaxBackoff]; a `max_entries` of 0 is treated as 1.
  explicit Backoff(const Clock* clock, Duration slack = kDefaultSlack, size_t max_entries = kDefaultMaxEntries,
                   SeededHash hash = SeededHash::Random());

  Backoff(const Backoff&) = delete;
  Backoff& operator=(const Backoff&) = delete;

  // Sets (peer, topic)'s deadline to max(existing deadline, now + backoff). `backoff` is clamped to
  // [0, kMaxBackoff] first (a negative value counts as 0) and the sum saturates, so every Duration is safe.
  // A backoff of 0 still records an entry, which lasts `slack`. When the table is full, see the class comment.
  void Add(const crypto::PeerId& peer, std::string_view topic, Duration backoff);

  // Whether now is before (peer, topic)'s deadline. False when there is no entry.
  bool InBackoff(const crypto::PeerId& peer, std::string_view topic) const;

  // Whether now is before (peer, topic)'s deadline plus the slack. False when there is no entry.
  bool InBackoffWithSlack(const crypto::PeerId& peer, std::string_view topic) const;

  // The time left until (peer, topic)'s deadline (without slack); std::nullopt when not InBackoff().
  std::optional<Duration> Remaining(const crypto::PeerId& peer, std::string_view topic) const;

  // Forgets (peer, topic)'s deadline; nothing happens when there is none.
  void Clear(const crypto::PeerId& peer, std::string_view topic);

  // Drops every entry whose deadline is at least `slack` in the past. Called once per heartbeat; costs
  // O(log n) per entry dropped, nothing for the entries kept.
  void ExpireOld();

  // The number of entries, including expired ones that ExpireOld() has not dropped yet.
  size_t size() const { return entries_.size(); }
  size_t max_entries() const { return max_entries_; }
  Duration slack() const { return slack_; }
  // Entries dropped before their time because the table was full (a new entry that was refused counts).
  uint64_t capacity_evictions() const { return capacity_evictions_; }

 private:
  struct Key {
    crypto::PeerId peer;
    std::string topic;
  };
  // A key to look up without copying the topic.
  struct KeyRef {
    const crypto::PeerId& peer;
    std::string_view topic;
  };
  struct KeyHash {
    using is_transparent = void;
    SeededHash hash;
    size_t operator()(const Key& k) const { return Of(k.peer, k.topic); }
    size_t operator()(const KeyRef& k) const { return Of(k.peer, k.topic); }
    size_t Of(const crypto::PeerId& peer, std::string_view topic) const;
  };
  struct KeyEq {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return a.peer == b.peer && std::string_view(a.topic) == std::string_view(b.topic);
    }
  };
  // Deadlines in order, each pointing at its entry's key (map keys stay put while the map rehashes).
  using ExpiryOrder = std::multimap<MonoTime, const Key*>;
  struct Value {
    MonoTime deadline;
    ExpiryOrder::iterator order;
  };
  using EntryMap = std::unordered_map<Key, Value, KeyHash, KeyEq>;

  // The deadline of (peer, topic), or nullopt.
  std::optional<MonoTime> DeadlineOf(const crypto::PeerId& peer, std::string_view topic) const;
  void Erase(EntryMap::iterator it);

  const Clock* const clock_;
  const Duration slack_;
  const size_t max_entries_;
  EntryMap entries_;
  ExpiryOrder order_;
  uint64_t capacity_evictions_ = 0;
};

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_BACKOFF_H_
