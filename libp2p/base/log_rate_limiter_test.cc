#include "libp2p/base/log_rate_limiter.h"

#include <chrono>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/testing/capturing_log_sink.h"

namespace libp2p {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::CapturingLogSink;

// Per key: 3 lines at once, then one a second; all keys: far more, unless a test says otherwise.
LogRateLimiterOptions Options() {
  LogRateLimiterOptions o;
  o.burst = 3;
  o.refill = seconds(1);
  o.total_burst = 1000;
  o.total_refill = milliseconds(1);
  o.max_keys = 4;
  return o;
}

class LogRateLimiterTest : public ::testing::Test {
 protected:
  // Allow() for `key`; -1 when refused, else the suppressed count it reported.
  int64_t Try(LogRateLimiter& limiter, std::string_view key) {
    uint64_t suppressed = 12345;
    if (!limiter.Allow(key, &suppressed)) {
      EXPECT_EQ(suppressed, 12345u) << "left alone when refused";
      return -1;
    }
    return static_cast<int64_t>(suppressed);
  }

  ManualClock clock_;
};

TEST_F(LogRateLimiterTest, BurstThenSuppressedThenCountedOnTheNextLine) {
  LogRateLimiter limiter(clock_, Options(), SeededHash(1, 2));
  EXPECT_EQ(Try(limiter, "peer"), 0);
  EXPECT_EQ(Try(limiter, "peer"), 0);
  EXPECT_EQ(Try(limiter, "peer"), 0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Try(limiter, "peer"), -1);
  EXPECT_EQ(limiter.suppressed_total(), 5u);
  clock_.Advance(milliseconds(999));
  EXPECT_EQ(Try(limiter, "peer"), -1);
  clock_.Advance(milliseconds(1));
  // A second later: one line, which says how many were refused before it; then the count starts again.
  EXPECT_EQ(Try(limiter, "peer"), 6);
  EXPECT_EQ(Try(limiter, "peer"), -1);
  clock_.Advance(seconds(1));
  EXPECT_EQ(Try(limiter, "peer"), 1);
  // Quiet for long enough, the bucket is full again, and no fuller than `burst`.
  clock_.Advance(seconds(60));
  EXPECT_EQ(Try(limiter, "peer"), 0);
  EXPECT_EQ(Try(limiter, "peer"), 0);
  EXPECT_EQ(Try(limiter, "peer"), 0);
  EXPECT_EQ(Try(limiter, "peer"), -1);
}

TEST_F(LogRateLimiterTest, KeysHaveBudgetsOfTheirOwn) {
  LogRateLimiter limiter(clock_, Options(), SeededHash(1, 2));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Try(limiter, "hostile"), 0);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(Try(limiter, "hostile"), -1);
  // The hostile peer's flood costs the others nothing.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Try(limiter, "honest"), 0);
  EXPECT_EQ(limiter.key_count(), 2u);
}

TEST_F(LogRateLimiterTest, TheTotalBudgetBoundsManyKeys) {
  LogRateLimiterOptions o = Options();
  o.total_burst = 5;
  o.total_refill = milliseconds(100);
  o.max_keys = 100;
  LogRateLimiter limiter(clock_, o, SeededHash(1, 2));
  // Many peers (or one peer under many ids), one line each: 5 get through.
  int allowed = 0;
  for (int i = 0; i < 50; ++i) allowed += Try(limiter, "peer" + std::to_string(i)) >= 0;
  EXPECT_EQ(allowed, 5);
  EXPECT_EQ(limiter.suppressed_total(), 45u);
  // Then one per total_refill; a key refused for want of the total budget has its refusals counted.
  clock_.Advance(milliseconds(100));
  EXPECT_EQ(Try(limiter, "peer10"), 1);
  EXPECT_EQ(Try(limiter, "peer11"), -1);
}

TEST_F(LogRateLimiterTest, KeysAreBoundedAndTheLeastRecentlySeenGoes) {
  LogRateLimiter limiter(clock_, Options(), SeededHash(1, 2));  // max_keys 4.
  for (const char* k : {"a", "b", "c", "d"}) {
    for (int i = 0; i < 3; ++i) EXPECT_EQ(Try(limiter, k), 0);
  }
  EXPECT_EQ(Try(limiter, "a"), -1);  // "a" is seen again: "b" is now the least recent.
  EXPECT_EQ(Try(limiter, "b"), -1);
  EXPECT_EQ(Try(limiter, "b"), -1);
  EXPECT_EQ(Try(limiter, "c"), -1);
  EXPECT_EQ(Try(limiter, "d"), -1);
  EXPECT_EQ(Try(limiter, "a"), -1);
  // Order from least recent: b, c, d, a. A fifth key evicts "b", whose two refusals are forgotten.
  EXPECT_EQ(Try(limiter, "e"), 0);
  EXPECT_EQ(limiter.key_count(), 4u);
  EXPECT_EQ(limiter.suppressed_forgotten(), 2u);
  // "b" comes back as a new key, with a full bucket; "a", still tracked, is still out of lines.
  EXPECT_EQ(Try(limiter, "b"), 0);  // Evicts "c".
  EXPECT_EQ(Try(limiter, "a"), -1);
  EXPECT_EQ(limiter.key_count(), 4u);
  // Thousands of keys: the table never grows past max_keys.
  for (int i = 0; i < 10000; ++i) (void)Try(limiter, "sybil" + std::to_string(i));
  EXPECT_EQ(limiter.key_count(), 4u);
}

TEST_F(LogRateLimiterTest, OnlyTheFirstBytesOfALongKeyCount) {
  LogRateLimiter limiter(clock_, Options(), SeededHash(1, 2));
  const std::string prefix(LogRateLimiter::kMaxKeyBytes, 'k');
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Try(limiter, prefix + std::to_string(i)), 0);
  EXPECT_EQ(Try(limiter, prefix + "other"), -1);
  EXPECT_EQ(limiter.key_count(), 1u);
}

TEST_F(LogRateLimiterTest, MacroAddsTheSuppressedFieldAndEvaluatesNothingRefused) {
  CapturingLogSink sink(LogLevel::kDebug);
  LogRateLimiter limiter(clock_, Options(), SeededHash(1, 2));
  int evaluated = 0;
  auto peer = [&] {
    ++evaluated;
    return std::string("12D3KooWpeer");
  };
  for (int i = 0; i < 10; ++i) {
    LIBP2P_LOG_LIMITED(&limiter, "peer-key", LogLevel::kInfo, "pubsub", "bad frame", {{"peer", peer()}});
  }
  EXPECT_EQ(sink.size(), 3u);
  EXPECT_EQ(evaluated, 3);
  for (const auto& r : sink.records()) EXPECT_FALSE(r.Field("suppressed").has_value());
  clock_.Advance(seconds(1));
  LIBP2P_LOG_LIMITED(&limiter, "peer-key", LogLevel::kInfo, "pubsub", "bad frame", {{"peer", peer()}});
  ASSERT_EQ(sink.size(), 4u);
  const auto last = sink.records().back();
  EXPECT_EQ(last.Field("peer"), "12D3KooWpeer");
  EXPECT_EQ(last.Field("suppressed"), "7");
  EXPECT_EQ(last.fields.back().first, "suppressed");

  // Below the level the limiter is not even asked: no budget spent, no refusal counted.
  const uint64_t refused = limiter.suppressed_total();
  for (int i = 0; i < 10; ++i) {
    LIBP2P_LOG_LIMITED(&limiter, "quiet-key", LogLevel::kTrace, "pubsub", "bad frame", {{"peer", peer()}});
  }
  EXPECT_EQ(limiter.suppressed_total(), refused);
  EXPECT_EQ(limiter.key_count(), 1u);
  EXPECT_EQ(evaluated, 4);

  // No limiter: no limit.
  LogRateLimiter* none = nullptr;
  for (int i = 0; i < 10; ++i) LIBP2P_LOG_LIMITED(none, "peer-key", LogLevel::kInfo, "pubsub", "unlimited");
  EXPECT_EQ(sink.WithMessage("unlimited").size(), 10u);
}

}  // namespace
}  // namespace libp2p
