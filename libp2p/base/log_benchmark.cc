// The cost of log statements: a disabled one must be close to free (one relaxed load and a compare), since
// they sit on the hot paths of the library.
//
// bazel run -c opt //libp2p/base:log_benchmark
#include <string>

#include "benchmark/benchmark.h"
#include "libp2p/base/log.h"
#include "libp2p/base/log_rate_limiter.h"

namespace libp2p {
namespace {

// Counts records and drops them: the cost of making a record, without any output.
class NullSink final : public LogSink {
 public:
  void Write(const LogRecord& record) override { benchmark::DoNotOptimize(record.fields.size()); }
};

// Sets the level and the sink for one benchmark, and restores them.
class Setup {
 public:
  Setup(LogLevel level, LogSink* sink) : level_(GetLogLevel()), sink_(SetLogSink(sink)) { SetLogLevel(level); }
  ~Setup() {
    SetLogLevel(level_);
    SetLogSink(sink_);
  }

 private:
  LogLevel level_;
  LogSink* sink_;
};

const std::string kPeer = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
const std::string kTopic = "/eth2/beacon_block/ssz_snappy";

// A statement with fields whose evaluation would allocate (a string copy per field), at a level that is off.
void BM_DisabledLog(benchmark::State& state) {
  NullSink sink;
  Setup setup(LogLevel::kWarn, &sink);
  const std::string* peer = &kPeer;
  benchmark::DoNotOptimize(peer);
  for (auto _ : state) {
    LIBP2P_LOG(LogLevel::kDebug, "pubsub", "message rejected",
               {{"peer", std::string(*peer)}, {"topic", std::string(kTopic)}, {"reason", "invalid"}});
  }
}
BENCHMARK(BM_DisabledLog);

// The same with a rate limiter in front: the limiter is not reached either.
void BM_DisabledLimitedLog(benchmark::State& state) {
  NullSink sink;
  Setup setup(LogLevel::kWarn, &sink);
  RealClock clock;
  LogRateLimiter limiter(clock);
  for (auto _ : state) {
    LIBP2P_LOG_LIMITED(&limiter, kPeer, LogLevel::kDebug, "pubsub", "message rejected",
                       {{"peer", std::string(kPeer)}, {"topic", std::string(kTopic)}});
  }
}
BENCHMARK(BM_DisabledLimitedLog);

// An enabled statement into a sink that drops the record: the clock read, the field copies and the lock.
void BM_EnabledLogToNullSink(benchmark::State& state) {
  NullSink sink;
  Setup setup(LogLevel::kDebug, &sink);
  for (auto _ : state) {
    LIBP2P_LOG(LogLevel::kDebug, "pubsub", "message rejected",
               {{"peer", kPeer}, {"topic", kTopic}, {"reason", "invalid"}});
  }
}
BENCHMARK(BM_EnabledLogToNullSink);

// Formatting one record as a JSON line (what the default sink does before its write()).
void BM_FormatJsonLine(benchmark::State& state) {
  const LogField fields[] = {{"peer", kPeer}, {"topic", kTopic}, {"reason", "invalid"}, {"count", 3}};
  LogRecord r;
  r.level = LogLevel::kDebug;
  r.time = std::chrono::system_clock::now();
  r.component = "pubsub";
  r.message = "message rejected";
  r.fields = fields;
  std::string line;
  for (auto _ : state) {
    line.clear();
    AppendLogJson(r, &line);
    benchmark::DoNotOptimize(line.data());
  }
}
BENCHMARK(BM_FormatJsonLine);

// An enabled limited statement whose key's budget is spent: a hash, a lookup, a clock read, no record.
void BM_SuppressedLimitedLog(benchmark::State& state) {
  NullSink sink;
  Setup setup(LogLevel::kDebug, &sink);
  RealClock clock;
  LogRateLimiter limiter(clock, LogRateLimiterOptions{.burst = 1, .refill = std::chrono::hours(1)});
  for (auto _ : state) {
    LIBP2P_LOG_LIMITED(&limiter, kPeer, LogLevel::kDebug, "pubsub", "message rejected",
                       {{"peer", kPeer}, {"topic", kTopic}});
  }
}
BENCHMARK(BM_SuppressedLimitedLog);

}  // namespace
}  // namespace libp2p
