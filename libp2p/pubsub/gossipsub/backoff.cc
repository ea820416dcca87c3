#include "libp2p/pubsub/gossipsub/backoff.h"

#include <algorithm>
#include <cassert>

#include "libp2p/base/bytes.h"

namespace libp2p::pubsub::gossipsub {
namespace {

constexpr uint64_t kMaxBackoffSeconds =
    static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(kMaxBackoff).count());
static_assert(std::chrono::seconds(kMaxBackoffSeconds) == kMaxBackoff, "kMaxBackoff is whole seconds");

Duration ClampBackoff(Duration d) { return std::clamp(d, Duration::zero(), kMaxBackoff); }

// t + d for 0 <= d, saturating at the end of time instead of overflowing. Clocks start far from the end,
// so this never saturates in practice; it is here so that no input can make it UB.
MonoTime SaturatingAdd(MonoTime t, Duration d) {
  assert(d >= Duration::zero());
  if (t > MonoTime::max() - d) return MonoTime::max();
  return t + d;
}

}  // namespace

Duration BackoffFromSeconds(uint64_t seconds) {
  // Compare first: std::chrono::seconds(seconds) would convert a uint64 to int64 (wrapping above 2^63), and
  // the conversion to nanoseconds would multiply by 10^9 (overflowing above ~292 years).
  if (seconds >= kMaxBackoffSeconds) return kMaxBackoff;
  return std::chrono::seconds(static_cast<int64_t>(seconds));
}

size_t Backoff::KeyHash::Of(const crypto::PeerId& peer, std::string_view topic) const {
  // Two keyed hashes combined with an odd multiplier; either part alone would let a peer pile its entries
  // into one bucket.
  return static_cast<size_t>(hash(AsStringView(peer.bytes())) * 0x9e3779b97f4a7c15ULL + hash(topic));
}

Backoff::Backoff(const Clock* clock, Duration slack, size_t max_entries, SeededHash hash)
    : clock_(clock),
      slack_(ClampBackoff(slack)),
      max_entries_(std::max<size_t>(max_entries, 1)),
      entries_(0, KeyHash{hash}) {}

void Backoff::Add(const crypto::PeerId& peer, std::string_view topic, Duration backoff) {
  const MonoTime deadline = SaturatingAdd(clock_->Now(), ClampBackoff(backoff));
  auto it = entries_.find(KeyRef{peer, topic});
  if (it != entries_.end()) {
    Value& v = it->second;
    if (deadline <= v.deadline) return;
    order_.erase(v.order);
    v.deadline = deadline;
    v.order = order_.emplace(deadline, &it->first);
    return;
  }
  if (entries_.size() >= max_entries_) {
    // Full: whichever entry would expire first goes, and that may be the new one.
    ++capacity_evictions_;
    if (deadline <= order_.begin()->first) return;
    Erase(entries_.find(*order_.begin()->second));
  }
  it = entries_.emplace(Key{peer, std::string(topic)}, Value{deadline, {}}).first;
  it->second.order = order_.emplace(deadline, &it->first);
}

std::optional<MonoTime> Backoff::DeadlineOf(const crypto::PeerId& peer, std::string_view topic) const {
  auto it = entries_.find(KeyRef{peer, topic});
  if (it == entries_.end()) return std::nullopt;
  return it->second.deadline;
}

bool Backoff::InBackoff(const crypto::PeerId& peer, std::string_view topic) const {
  const std::optional<MonoTime> deadline = DeadlineOf(peer, topic);
  return deadline && clock_->Now() < *deadline;
}

bool Backoff::InBackoffWithSlack(const crypto::PeerId& peer, std::string_view topic) const {
  const std::optional<MonoTime> deadline = DeadlineOf(peer, topic);
  return deadline && clock_->Now() < SaturatingAdd(*deadline, slack_);
}

std::optional<Duration> Backoff::Remaining(const crypto::PeerId& peer, std::string_view topic) const {
  const std::optional<MonoTime> deadline = DeadlineOf(peer, topic);
  if (!deadline) return std::nullopt;
  const MonoTime now = clock_->Now();
  if (now >= *deadline) return std::nullopt;
  return *deadline - now;
}

void Backoff::Clear(const crypto::PeerId& peer, std::string_view topic) {
  auto it = entries_.find(KeyRef{peer, topic});
  if (it != entries_.end()) Erase(it);
}

void Backoff::ExpireOld() {
  const MonoTime now = clock_->Now();
  while (!order_.empty() && now >= SaturatingAdd(order_.begin()->first, slack_)) {
    Erase(entries_.find(*order_.begin()->second));
  }
}

void Backoff::Erase(EntryMap::iterator it) {
  assert(it != entries_.end());
  order_.erase(it->second.order);
  entries_.erase(it);
}

}  // namespace libp2p::pubsub::gossipsub
