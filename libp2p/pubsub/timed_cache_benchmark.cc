// Insert-or-lookup throughput of the seen cache with 1M live 32-byte keys, and its memory per live entry.
//
// bazel run -c opt //libp2p/pubsub:timed_cache_benchmark
#include <malloc.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "libp2p/pubsub/timed_cache.h"

namespace libp2p::pubsub {
namespace {

constexpr size_t kLiveEntries = 1'000'000;
constexpr size_t kKeySize = 32;

std::string KeyOf(uint64_t n) {
  std::string key(kKeySize, '\0');
  // Spread the counter over the key like a message id (peer id prefix + seqno): a fixed prefix and the
  // counter's bytes at the end.
  std::memset(key.data(), 0x5a, kKeySize - 8);
  std::memcpy(key.data() + kKeySize - 8, &n, 8);
  return key;
}

// A cache holding kLiveEntries keys with a TTL long enough that none expire during the run; once full, each
// new key evicts the oldest (the same work as expiry).
struct Fixture {
  ManualClock clock;
  TimedCache cache{&clock, std::chrono::hours(1), kLiveEntries};
  uint64_t next = 0;
  Fixture() {
    for (; next < kLiveEntries; ++next) cache.Insert(KeyOf(next));
  }
};

void BM_InsertNew(benchmark::State& state) {
  Fixture f;
  std::vector<std::string> keys;
  for (uint64_t i = 0; i < 1 << 20; ++i) keys.push_back(KeyOf(f.next + i));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.cache.Insert(keys[i]));
    if (++i == keys.size()) {
      state.PauseTiming();
      f.next += keys.size();
      for (uint64_t j = 0; j < keys.size(); ++j) keys[j] = KeyOf(f.next + j);
      i = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InsertNew);

void BM_LookupHit(benchmark::State& state) {
  Fixture f;
  std::mt19937_64 rng(1);
  std::vector<std::string> keys;
  for (int i = 0; i < 1 << 20; ++i) keys.push_back(KeyOf(rng() % kLiveEntries));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.cache.Contains(keys[i]));
    i = (i + 1) & (keys.size() - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupHit);

// 2^20 arriving ids after `fresh` (the next new key): one in four new, the others copies of recent ones.
std::vector<std::string> MixedKeys(uint64_t fresh) {
  std::mt19937_64 rng(2);
  std::vector<std::string> keys;
  for (int i = 0; i < 1 << 20; ++i) {
    keys.push_back(i % 4 == 0 ? KeyOf(fresh++) : KeyOf(fresh - 1 - rng() % (kLiveEntries / 2)));
  }
  return keys;
}

// The seen cache's real pattern: Insert() on every arriving message, most of them duplicates (each message
// arrives from several mesh peers), one in four new.
void BM_InsertOrLookupMixed(benchmark::State& state) {
  Fixture f;
  const std::vector<std::string> keys = MixedKeys(f.next);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.cache.Insert(keys[i]));
    i = (i + 1) & (keys.size() - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InsertOrLookupMixed);

// What the pubsub core does with a message from a peer: a lookup (a duplicate ends there), then the insert
// of a new id as of that lookup. One in four new, as in BM_InsertOrLookupMixed.
void BM_FindThenInsertMixed(benchmark::State& state) {
  Fixture f;
  const std::vector<std::string> keys = MixedKeys(f.next);
  size_t i = 0;
  for (auto _ : state) {
    const TimedCache::Lookup lookup = f.cache.Find(keys[i]);
    if (!lookup.found) benchmark::DoNotOptimize(f.cache.Insert(lookup));
    i = (i + 1) & (keys.size() - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FindThenInsertMixed);

// Filling an empty cache of the pubsub core's default size (2^18 ids) with new ids, as a node does in its
// first seconds of a busy topic: the entries' memory is allocated and touched as the cache grows.
void BM_FillFromEmpty(benchmark::State& state) {
  constexpr size_t kEntries = size_t{1} << 18;
  std::vector<std::string> keys;
  for (uint64_t i = 0; i < kEntries; ++i) keys.push_back(KeyOf(i));
  for (auto _ : state) {
    ManualClock clock;
    TimedCache cache(&clock, std::chrono::hours(1), kEntries);
    for (const std::string& k : keys) benchmark::DoNotOptimize(cache.Insert(k));
    state.PauseTiming();
    cache.Clear();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kEntries);
}
BENCHMARK(BM_FillFromEmpty)->Unit(benchmark::kMillisecond);

void BM_MemoryPerEntry(benchmark::State& state) {
  for (auto _ : state) {
    const size_t before = (mallinfo2().uordblks + mallinfo2().hblkhd);
    auto f = std::make_unique<Fixture>();
    const size_t after = (mallinfo2().uordblks + mallinfo2().hblkhd);
    state.counters["heap_bytes_per_entry"] = double(after - before) / kLiveEntries;
    state.counters["estimated_bytes_per_entry"] = double(f->cache.MemoryUsage()) / kLiveEntries;
  }
}
BENCHMARK(BM_MemoryPerEntry)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace libp2p::pubsub

BENCHMARK_MAIN();
