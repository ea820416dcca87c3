#include "libp2p/base/log_rate_limiter.h"

#include <algorithm>
#include <cassert>

namespace libp2p {

namespace {

// Whether a bucket whose theoretical arrival time is `tat` has a line left at `now`.
bool HasLine(MonoTime tat, MonoTime now, size_t burst, Duration refill) {
  return tat - now <= refill * static_cast<int64_t>(burst - 1);
}

}  // namespace

LogRateLimiter::LogRateLimiter(const Clock& clock, LogRateLimiterOptions options, SeededHash hash)
    : clock_(clock), options_(options), index_(0, KeyHash{hash}), total_tat_(clock.Now()) {
  assert(options_.burst > 0 && options_.total_burst > 0 && options_.max_keys > 0);
  assert(options_.refill > Duration::zero() && options_.total_refill > Duration::zero());
}

LogRateLimiter::Entry& LogRateLimiter::Touch(std::string_view key, MonoTime now) {
  if (auto it = index_.find(key); it != index_.end()) {
    entries_.splice(entries_.begin(), entries_, it->second);
    return entries_.front();
  }
  if (entries_.size() >= options_.max_keys) {
    Entry& oldest = entries_.back();
    suppressed_forgotten_ += oldest.suppressed;
    index_.erase(oldest.key);
    entries_.pop_back();
  }
  // A new key starts with a full bucket.
  entries_.push_front(Entry{std::string(key), now, 0});
  index_.emplace(entries_.front().key, entries_.begin());
  return entries_.front();
}

bool LogRateLimiter::Allow(std::string_view key, uint64_t* suppressed) {
  const MonoTime now = clock_.Now();
  Entry& e = Touch(key.substr(0, kMaxKeyBytes), now);
  if (!HasLine(e.tat, now, options_.burst, options_.refill) ||
      !HasLine(total_tat_, now, options_.total_burst, options_.total_refill)) {
    ++e.suppressed;
    ++suppressed_total_;
    return false;
  }
  e.tat = std::max(e.tat, now) + options_.refill;
  total_tat_ = std::max(total_tat_, now) + options_.total_refill;
  *suppressed = e.suppressed;
  e.suppressed = 0;
  return true;
}

}  // namespace libp2p
