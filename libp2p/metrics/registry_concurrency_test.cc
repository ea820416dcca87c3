// One thread writes (increments through kept handles, creates and removes series) while another renders, as a
// loop thread and an HTTP scrape do. Run under --config=tsan: a report fails the test.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "libp2p/metrics/registry.h"

namespace libp2p::metrics {
namespace {

// The value of the sample line that starts with `prefix` (name and labels, then a space), or -1.
double SampleValue(const std::string& text, const std::string& prefix) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    if (line.compare(0, prefix.size(), prefix) == 0) return std::stod(line.substr(prefix.size()));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return -1;
}

TEST(RegistryConcurrencyTest, RenderWhileAnotherThreadWrites) {
  constexpr int kIterations = 20000;
  Registry registry;
  Counter* counter = *registry.AddCounter("writes_total", "");
  Gauge* gauge = *registry.AddGauge("last", "");
  Histogram* histogram = *registry.AddHistogram("values", "", {10, 100, 1000});
  CounterFamily* churn = *registry.AddCounterFamily("churn_total", "", {"k"}, /*max_series=*/4);

  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < kIterations; ++i) {
      counter->Inc();
      gauge->Set(i);
      histogram->Observe(i % 2000);
      // Series come and go (more label sets than the cap, so some lookups are refused).
      const std::string label = std::to_string(i % 7);
      churn->WithLabels({label}).Inc();
      if (i % 5 == 0) churn->Remove({label});
    }
    done.store(true, std::memory_order_release);
  });

  int renders = 0;
  double last_count = 0;
  // Renders until the writer is done, then once more: at least one render always overlaps nothing, and
  // usually hundreds overlap the writes.
  while (true) {
    const bool writer_done = done.load(std::memory_order_acquire);
    const std::string text = registry.Render();
    ++renders;
    // A render is consistent with itself: _count equals the +Inf bucket, and counts never go back.
    const double inf = SampleValue(text, "values_bucket{le=\"+Inf\"} ");
    const double count = SampleValue(text, "values_count ");
    EXPECT_EQ(inf, count);
    EXPECT_GE(count, last_count);
    last_count = count;
    EXPECT_LE(SampleValue(text, "values_bucket{le=\"10\"} "),
              SampleValue(text, "values_bucket{le=\"100\"} "));
    if (writer_done) break;
  }
  writer.join();

  const std::string text = registry.Render();
  EXPECT_EQ(SampleValue(text, "writes_total "), kIterations);
  EXPECT_EQ(SampleValue(text, "last "), kIterations - 1);
  EXPECT_EQ(SampleValue(text, "values_count "), kIterations);
  EXPECT_LE(churn->size(), 4u);
  EXPECT_GE(renders, 1);
}

TEST(RegistryConcurrencyTest, FamiliesAddedWhileRendering) {
  Registry registry;
  std::atomic<bool> done{false};
  std::thread adder([&] {
    for (int i = 0; i < 200; ++i) {
      Gauge* g = *registry.AddGauge("g" + std::to_string(i), "");
      g->Set(i);
    }
    done.store(true, std::memory_order_release);
  });
  while (!done.load(std::memory_order_acquire)) {
    const std::string text = registry.Render();
    EXPECT_TRUE(text.empty() || text.back() == '\n');
  }
  adder.join();
  EXPECT_NE(registry.Render().find("g199 199\n"), std::string::npos);
}

}  // namespace
}  // namespace libp2p::metrics
