// The cost of the metrics hot path: a write through a kept handle (what every event pays), a lookup by labels
// (what a caller that does not keep handles pays), and a render (what a scrape pays, off the hot path).
#include <atomic>
#include <string>
#include <thread>

#include "benchmark/benchmark.h"
#include "libp2p/metrics/registry.h"

namespace libp2p::metrics {
namespace {

void BM_CounterInc(benchmark::State& state) {
  Registry registry;
  Counter& counter = (*registry.AddCounterFamily("c_total", "", {"topic"}))->WithLabels({"blocks"});
  for (auto _ : state) counter.Inc();
  benchmark::DoNotOptimize(counter.value());
}
BENCHMARK(BM_CounterInc);

void BM_CounterAdd(benchmark::State& state) {
  Registry registry;
  Counter& counter = **registry.AddCounter("bytes_total", "");
  uint64_t n = 1;
  for (auto _ : state) {
    counter.Add(n);
    n ^= 3;
  }
  benchmark::DoNotOptimize(counter.value());
}
BENCHMARK(BM_CounterAdd);

void BM_GaugeSet(benchmark::State& state) {
  Registry registry;
  Gauge& gauge = **registry.AddGauge("g", "");
  double v = 0;
  for (auto _ : state) {
    gauge.Set(v);
    v += 1;
  }
  benchmark::DoNotOptimize(gauge.value());
}
BENCHMARK(BM_GaugeSet);

void BM_GaugeAdd(benchmark::State& state) {
  Registry registry;
  Gauge& gauge = **registry.AddGauge("g", "");
  for (auto _ : state) gauge.Add(1);
  benchmark::DoNotOptimize(gauge.value());
}
BENCHMARK(BM_GaugeAdd);

// Observations spread over the buckets of a latency histogram (12 exponential buckets).
void BM_HistogramObserve(benchmark::State& state) {
  Registry registry;
  Histogram& histogram = **registry.AddHistogram("h_seconds", "", ExponentialBuckets(0.0001, 2.5, 12));
  double v = 0.00003;
  for (auto _ : state) {
    histogram.Observe(v);
    v *= 1.7;
    if (v > 10) v = 0.00003;
  }
  benchmark::DoNotOptimize(histogram.count());
}
BENCHMARK(BM_HistogramObserve);

// A lookup of an existing series by its label value: the lock and a map search.
void BM_WithLabelsExisting(benchmark::State& state) {
  Registry registry;
  CounterFamily* family = *registry.AddCounterFamily("c_total", "", {"topic"});
  for (int i = 0; i < 32; ++i) family->WithLabels({"topic-" + std::to_string(i)});
  for (auto _ : state) family->WithLabels({"topic-17"}).Inc();
}
BENCHMARK(BM_WithLabelsExisting);

// The writer's cost while another thread renders continuously (the worst case for cache lines).
void BM_CounterIncWhileRendering(benchmark::State& state) {
  Registry registry;
  Counter& counter = **registry.AddCounter("c_total", "");
  std::atomic<bool> stop{false};
  std::thread renderer([&] {
    while (!stop.load(std::memory_order_relaxed)) benchmark::DoNotOptimize(registry.Render());
  });
  for (auto _ : state) counter.Inc();
  stop.store(true);
  renderer.join();
}
BENCHMARK(BM_CounterIncWhileRendering);

// A render of `range(0)` families with 8 series each.
void BM_Render(benchmark::State& state) {
  Registry registry;
  for (int f = 0; f < state.range(0); ++f) {
    CounterFamily* family =
        *registry.AddCounterFamily("family_" + std::to_string(f) + "_total", "Help.", {"topic"});
    for (int s = 0; s < 8; ++s) family->WithLabels({"topic-" + std::to_string(s)}).Add(s * 1000);
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    registry.RenderTo(&out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_Render)->Arg(10)->Arg(100);

}  // namespace
}  // namespace libp2p::metrics
