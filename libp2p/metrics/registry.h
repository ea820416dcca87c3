// A registry of Prometheus metrics (counters, gauges, histograms) and its text exposition (format 0.0.4).
//
// Threads: one writer per series, any number of readers. The values of a series are relaxed atomics, so a
// series may be written on its loop thread while Render() reads it from any other thread (an HTTP server, a
// test). Writes are a relaxed load and store, not a read-modify-write (about 1 ns instead of 6): increments
// of one series from two threads at once may lose counts (never memory safety). The intended writer is the
// loop thread that owns what is measured. Creating and removing series takes the family's lock, which
// rendering also takes; writing through a kept series reference takes no lock: look a series up once and keep
// the reference.
//
// Bounded memory: each family holds at most `max_series` series. A label set beyond that is not created: the
// lookup returns a sink series that is never rendered and counts the refusal in
// `libp2p_metrics_dropped_series_total{family="..."}`. Label values are cut to a maximum length and invalid
// UTF-8 in them is replaced, so neither many nor long label values from a peer can grow the registry without
// bound, and the exposition always parses.
//
// Programming errors (a malformed metric or label name, a counter not named `..._total`, a name registered
// twice, unsorted buckets) are reported as a Status from the Registry::Add* factories; a lookup with the
// wrong number of label values is asserted (and counted as a dropped series in release builds).
//
// No collectors: nothing runs at render time. A gauge that mirrors loop state is set by its owner on the loop
// thread (e.g. at every heartbeat), so rendering never reads loop state from another thread.
#ifndef LIBP2P_METRICS_REGISTRY_H_
#define LIBP2P_METRICS_REGISTRY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "libp2p/base/status.h"

namespace libp2p::metrics {

class Registry;

namespace internal {

// One series of a family as rendering sees it. Not for use outside this library.
class Series {
 public:
  virtual ~Series() = default;
  // Appends this series' sample lines for family `name`. `labels` is the series' label pairs, already
  // escaped and without braces (`a="x",b="y"`), empty for an unlabelled series.
  virtual void Render(std::string_view name, std::string_view labels, std::string* out) const = 0;
};

}  // namespace internal

// A monotonically increasing count: one series of a CounterFamily. Owned by its family; a reference stays
// valid until the series is removed (MetricFamily::Remove) or the registry is destroyed.
class Counter final : public internal::Series {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Single writer (see the top of this file).
  void Inc() { Add(1); }
  void Add(uint64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

  void Render(std::string_view name, std::string_view labels, std::string* out) const override;

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down: one series of a GaugeFamily. Owned by its family; a reference stays valid
// until the series is removed or the registry is destroyed.
class Gauge final : public internal::Series {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  // Single writer (see the top of this file).
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double delta) { Set(value() + delta); }
  void Inc() { Add(1.0); }
  void Dec() { Add(-1.0); }
  double value() const { return value_.load(std::memory_order_relaxed); }

  void Render(std::string_view name, std::string_view labels, std::string* out) const override;

 private:
  std::atomic<double> value_{0.0};
};

// A distribution over fixed buckets: one series of a HistogramFamily. Owned by its family; a reference stays
// valid until the series is removed or the registry is destroyed.
//
// Each bucket is counted on its own (not cumulatively) and rendering sums them, so `_count` always equals the
// `+Inf` bucket even while a writer runs; `_sum` may lag by the observation in flight.
class Histogram final : public internal::Series {
 public:
  // `bounds` are the family's upper bounds (strictly increasing, finite); the family owns them and outlives
  // the series.
  explicit Histogram(const std::vector<double>* bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts `v` in the first bucket whose bound is >= v (the +Inf bucket when none is, or for NaN) and adds it
  // to the sum. Single writer (see the top of this file).
  void Observe(double v);

  // The number of observations so far.
  uint64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  // The cumulative count of bucket `i` (observations <= bounds[i]); i == bounds.size() is +Inf.
  uint64_t cumulative_count(size_t i) const;

  void Render(std::string_view name, std::string_view labels, std::string* out) const override;

 private:
  const std::vector<double>& bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 entries, the last one +Inf.
  std::atomic<double> sum_{0.0};
};

enum class MetricType { kCounter, kGauge, kHistogram };

// What families share: a name, help text, fixed label names and the series by label values. Created by the
// Registry, which owns it; a pointer to a family stays valid for the registry's lifetime.
class MetricFamily {
 public:
  virtual ~MetricFamily();
  MetricFamily(const MetricFamily&) = delete;
  MetricFamily& operator=(const MetricFamily&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  size_t max_series() const { return max_series_; }

  // The number of series held now. Any thread.
  size_t size() const;

  // Removes the series with these label values (as given to WithLabels: cut and cleaned the same way);
  // whether there was one. References to it dangle from now on, so the writer that holds them calls this
  // (e.g. when we leave a topic) and drops them. The unlabelled series of a family without labels cannot be
  // removed (false).
  bool Remove(std::initializer_list<std::string_view> label_values) {
    return RemoveKey(label_values.begin(), label_values.size());
  }
  bool Remove(const std::vector<std::string_view>& label_values) {
    return RemoveKey(label_values.data(), label_values.size());
  }

  // Appends `# HELP`, `# TYPE` and every series' samples, in label-value order; nothing for a family with no
  // series. Any thread.
  void Render(std::string* out) const;

 protected:
  MetricFamily(Registry* registry, std::string name, std::string help, MetricType type,
               std::vector<std::string> label_names, size_t max_series);

  // The series for `values` (n of them), created when new and the family has room; else the sink, a series
  // that is never rendered (the refusal is counted in the registry's dropped-series counter).
  internal::Series& FindOrCreate(const std::string_view* values, size_t n);

 private:
  friend class Registry;
  struct Entry {
    std::string labels;  // Rendered label pairs, escaped, without braces.
    std::unique_ptr<internal::Series> series;
  };
  // A new, zero series of this family's kind.
  virtual std::unique_ptr<internal::Series> NewSeries() const = 0;
  // Called by the registry once the family is constructed: creates the sink, and the one series of a family
  // without labels so that it renders from the start.
  void Init();
  // The map key of `values`: each cut and cleaned (see Registry::Options).
  std::vector<std::string> Key(const std::string_view* values, size_t n) const;
  bool RemoveKey(const std::string_view* values, size_t n);
  // Counts a refused lookup in the registry's dropped-series counter. Under mu_, so that the counter has one
  // writer at a time even if a family were written from two threads.
  void CountDropped();

  Registry* const registry_;
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
  const size_t max_series_;

  mutable std::mutex mu_;  // Guards series_ (creation and removal against rendering).
  std::map<std::vector<std::string>, Entry> series_;
  std::unique_ptr<internal::Series> sink_;  // Written instead of a refused series; never rendered.
  // This family's series of libp2p_metrics_dropped_series_total, looked up on the first refusal; under mu_.
  Counter* dropped_ = nullptr;
};

// Counters by label values.
class CounterFamily final : public MetricFamily {
 public:
  // The series for `label_values` (one per label name), created if new. Takes the family's lock: look it up
  // once and keep the reference. Beyond max_series a sink that is never rendered is returned.
  Counter& WithLabels(std::initializer_list<std::string_view> label_values) {
    return static_cast<Counter&>(FindOrCreate(label_values.begin(), label_values.size()));
  }
  Counter& WithLabels(const std::vector<std::string_view>& label_values) {
    return static_cast<Counter&>(FindOrCreate(label_values.data(), label_values.size()));
  }

 private:
  friend class Registry;
  using MetricFamily::MetricFamily;
  std::unique_ptr<internal::Series> NewSeries() const override { return std::make_unique<Counter>(); }
};

// Gauges by label values.
class GaugeFamily final : public MetricFamily {
 public:
  // As CounterFamily::WithLabels.
  Gauge& WithLabels(std::initializer_list<std::string_view> label_values) {
    return static_cast<Gauge&>(FindOrCreate(label_values.begin(), label_values.size()));
  }
  Gauge& WithLabels(const std::vector<std::string_view>& label_values) {
    return static_cast<Gauge&>(FindOrCreate(label_values.data(), label_values.size()));
  }

 private:
  friend class Registry;
  using MetricFamily::MetricFamily;
  std::unique_ptr<internal::Series> NewSeries() const override { return std::make_unique<Gauge>(); }
};

// Histograms by label values, all with the family's buckets.
class HistogramFamily final : public MetricFamily {
 public:
  // As CounterFamily::WithLabels.
  Histogram& WithLabels(std::initializer_list<std::string_view> label_values) {
    return static_cast<Histogram&>(FindOrCreate(label_values.begin(), label_values.size()));
  }
  Histogram& WithLabels(const std::vector<std::string_view>& label_values) {
    return static_cast<Histogram&>(FindOrCreate(label_values.data(), label_values.size()));
  }
  // The upper bounds of the buckets, without the implicit +Inf.
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  friend class Registry;
  HistogramFamily(Registry* registry, std::string name, std::string help,
                  std::vector<std::string> label_names, size_t max_series, std::vector<double> bounds);
  std::unique_ptr<internal::Series> NewSeries() const override {
    return std::make_unique<Histogram>(&bounds_);
  }

  const std::vector<double> bounds_;
};

// `count` bucket bounds start, start*factor, start*factor^2, ... (start > 0, factor > 1; asserted).
std::vector<double> ExponentialBuckets(double start, double factor, size_t count);
// `count` bucket bounds start, start+width, ... (width > 0; asserted).
std::vector<double> LinearBuckets(double start, double width, size_t count);

// Owns metric families and renders them. Families are added at setup (any thread) and live as long as the
// registry, which must outlive every user of their series and every renderer (e.g. the HTTP server).
class Registry {
 public:
  struct Options {
    // The most series a family holds unless its Add* call says otherwise.
    size_t max_series_per_family = 256;
    // Label values longer than this are cut (at a UTF-8 character boundary).
    size_t max_label_value_bytes = 256;
  };

  // The name of the registry's own counter of refused series, labelled by `family`.
  static constexpr std::string_view kDroppedSeriesName = "libp2p_metrics_dropped_series_total";

  Registry();
  explicit Registry(Options options);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Adds a family. `name` must match [a-zA-Z_:][a-zA-Z0-9_:]* (a counter's must end in `_total`; none may end
  // in `_bucket`, `_sum` or `_count`, as promtool's lint wants), label names [a-zA-Z_][a-zA-Z0-9_]*, distinct,
  // not starting with `__` (and not `le` for a histogram); `max_series` 0 means
  // Options::max_series_per_family. Fails with kInvalidArgument for a malformed name, label or bucket list,
  // and kAlreadyExists when a sample name it would write is taken. The registry owns the family; the pointer
  // is valid for its lifetime.
  StatusOr<CounterFamily*> AddCounterFamily(std::string name, std::string help,
                                            std::vector<std::string> label_names, size_t max_series = 0);
  StatusOr<GaugeFamily*> AddGaugeFamily(std::string name, std::string help,
                                        std::vector<std::string> label_names, size_t max_series = 0);
  // `bounds`: finite, strictly increasing upper bounds; +Inf is implicit.
  StatusOr<HistogramFamily*> AddHistogramFamily(std::string name, std::string help,
                                                std::vector<std::string> label_names,
                                                std::vector<double> bounds, size_t max_series = 0);

  // A family without labels, and its one series (rendered from the start, at zero). Fail as above.
  StatusOr<Counter*> AddCounter(std::string name, std::string help);
  StatusOr<Gauge*> AddGauge(std::string name, std::string help);
  StatusOr<Histogram*> AddHistogram(std::string name, std::string help, std::vector<double> bounds);

  // The text exposition format 0.0.4 of every family, in the order they were added (the dropped-series
  // counter first, once it has a series). Any thread.
  std::string Render() const;
  void RenderTo(std::string* out) const;

  // The counter of lookups refused for want of room, by family.
  const CounterFamily& dropped_series() const { return *dropped_series_; }
  const Options& options() const { return options_; }

 private:
  friend class MetricFamily;
  // Checks a new family's names and takes its sample names; fills in the default max_series. Under mu_.
  Status Reserve(const std::string& name, MetricType type, const std::vector<std::string>& label_names,
                 size_t* max_series);
  // Initializes `family` and appends it to the render order. Under mu_.
  template <typename F>
  F* Adopt(std::unique_ptr<F> family);
  // The dropped-series counter of family `name`, created on first use.
  Counter* DroppedCounterFor(const std::string& name);

  const Options options_;
  mutable std::mutex mu_;  // Guards families_ and sample_names_.
  std::vector<std::unique_ptr<MetricFamily>> families_;
  std::set<std::string> sample_names_;  // Every sample name a family writes, to refuse collisions.
  CounterFamily* dropped_series_ = nullptr;
};

}  // namespace libp2p::metrics

#endif  // LIBP2P_METRICS_REGISTRY_H_
