// Rate limits for log lines that remote peers can cause (bad frames, rejected messages, penalties): each key
// (a peer id) has a budget of lines, and all keys together have another, so that neither one hostile peer nor
// many of them can make us log at line rate. A line refused is counted, and the key's next line that gets
// through says how many were suppressed before it.
#ifndef LIBP2P_BASE_LOG_RATE_LIMITER_H_
#define LIBP2P_BASE_LOG_RATE_LIMITER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "libp2p/base/clock.h"
#include "libp2p/base/log.h"
#include "libp2p/base/seeded_hash.h"

namespace libp2p {

// Token buckets, of `burst` lines refilled at one line per `refill`: a key may log `burst` lines at once, then
// one per `refill` on average. All fields must be positive.
struct LogRateLimiterOptions {
  size_t burst = 10;
  Duration refill = std::chrono::seconds(1);
  // The budget of all keys together: it bounds the lines of many peers (or of one peer under many ids).
  size_t total_burst = 100;
  Duration total_refill = std::chrono::milliseconds(50);
  // Keys tracked at once. A new key beyond it takes the place of the key least recently seen, which is
  // forgotten, its suppressed count with it (added to suppressed_forgotten()). So memory stays bounded, about
  // max_keys * (150 + key length) bytes, however many peers come and go.
  size_t max_keys = 1024;
};

// Not thread-safe: owned and used by one loop thread (the component whose lines it limits). The clock is an
// observer that must outlive the limiter.
class LogRateLimiter {
 public:
  // Only the first kMaxKeyBytes bytes of a key tell keys apart (a peer id is at most 42 bytes).
  static constexpr size_t kMaxKeyBytes = 64;

  // `hash` keys the table of keys, which remote peers choose (a fixed one for tests).
  explicit LogRateLimiter(const Clock& clock, LogRateLimiterOptions options = {},
                          SeededHash hash = SeededHash::Random());
  LogRateLimiter(const LogRateLimiter&) = delete;
  LogRateLimiter& operator=(const LogRateLimiter&) = delete;

  // Whether a line for `key` may be logged now. When it may, `*suppressed` is set to the number of the key's
  // lines refused since its last line that got through (usually 0), and that count starts again from 0. When
  // it may not, the refusal is counted for the key and `*suppressed` is left alone.
  [[nodiscard]] bool Allow(std::string_view key, uint64_t* suppressed);

  // Keys tracked now (at most options.max_keys).
  size_t key_count() const { return entries_.size(); }
  // Lines refused since the limiter was made.
  uint64_t suppressed_total() const { return suppressed_total_; }
  // Of those, lines whose count was lost with their key's eviction (never reported in a `suppressed` field).
  uint64_t suppressed_forgotten() const { return suppressed_forgotten_; }

 private:
  struct Entry {
    std::string key;
    // The generic cell rate algorithm's "theoretical arrival time": the bucket is full when it is <= now,
    // empty when it is more than (burst - 1) * refill ahead of now. One time point is the whole bucket.
    MonoTime tat;
    uint64_t suppressed = 0;
  };
  struct KeyHash {
    SeededHash hash;
    size_t operator()(std::string_view key) const { return static_cast<size_t>(hash(key)); }
  };
  using EntryList = std::list<Entry>;

  // The entry of `key`, made (evicting the least recently seen one if the table is full) if there is none, and
  // moved to the front.
  Entry& Touch(std::string_view key, MonoTime now);

  const Clock& clock_;
  const LogRateLimiterOptions options_;
  // Most recently seen first. The index's keys view the entries' keys (list nodes never move).
  EntryList entries_;
  std::unordered_map<std::string_view, EntryList::iterator, KeyHash> index_;
  MonoTime total_tat_;
  uint64_t suppressed_total_ = 0;
  uint64_t suppressed_forgotten_ = 0;
};

}  // namespace libp2p

// As LIBP2P_LOG, for a line that a remote peer's behaviour causes: logged only when `limiter` (a
// LogRateLimiter*; null means no limit) lets a line for `key` (a string_view, such as the peer id's bytes)
// through, with a last field "suppressed" giving the key's lines refused before it, when there were any.
//
//   LIBP2P_LOG_LIMITED(limiter, AsStringView(peer.bytes()), LogLevel::kWarn, "pubsub", "bad frame",
//                      {{"peer", peer.ToBase58()}});
//
// When `level` is off nothing after it is evaluated and the limiter is not asked; when the limiter refuses,
// the message and fields are not evaluated.
#define LIBP2P_LOG_LIMITED(limiter, key, level, component, message, ...)                                     \
  do {                                                                                                       \
    if (const ::libp2p::LogLevel libp2p_log_level_ = (level); ::libp2p::LogEnabled(libp2p_log_level_))      \
      [[unlikely]] {                                                                                         \
      uint64_t libp2p_log_suppressed_ = 0;                                                                   \
      if (::libp2p::LogRateLimiter* const libp2p_log_limiter_ = (limiter);                                   \
          libp2p_log_limiter_ == nullptr || libp2p_log_limiter_->Allow((key), &libp2p_log_suppressed_)) {    \
        ::libp2p::log_internal::Emit(libp2p_log_level_, (component), (message), libp2p_log_suppressed_       \
                                         __VA_OPT__(, ::std::initializer_list<::libp2p::LogField> __VA_ARGS__)); \
      }                                                                                                      \
    }                                                                                                        \
  } while (false)

#endif  // LIBP2P_BASE_LOG_RATE_LIMITER_H_
