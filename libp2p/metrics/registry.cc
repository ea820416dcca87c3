#include "libp2p/metrics/registry.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "libp2p/base/utf8.h"

namespace libp2p::metrics {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

// As Prometheus' Go clients write floats (strconv.FormatFloat(v, 'g', -1, 64)), so that `le` labels and
// values read the same as theirs: the shortest digits that round-trip, in exponent form when the exponent is
// below -4 or at least 6 ("0.0001", "1e-05", "123456", "1.234567e+06"), and "+Inf", "-Inf", "NaN".
void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[64];
  const auto sci = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  const char* e = std::find(buf, sci.ptr, 'e');
  int exponent = 0;
  std::from_chars(e + 1 + (e + 1 < sci.ptr && e[1] == '+' ? 1 : 0), sci.ptr, exponent);
  if (exponent < -4 || exponent >= 6) {
    out->append(buf, sci.ptr);
    return;
  }
  const auto fixed = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  out->append(buf, fixed.ptr);
}

// `name{labels}` or `name` for no labels, then a space.
void AppendSampleName(std::string_view name, std::string_view suffix, std::string_view labels,
                      std::string* out) {
  out->append(name);
  out->append(suffix);
  if (!labels.empty()) {
    out->push_back('{');
    out->append(labels);
    out->push_back('}');
  }
  out->push_back(' ');
}

// Prometheus wants UTF-8 label values: each byte that is not part of a well-formed character becomes U+FFFD,
// and the value is cut to `max_bytes` on a character boundary.
std::string CleanLabelValue(std::string_view v, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(v.size(), max_bytes));
  size_t i = 0;
  while (i < v.size()) {
    const size_t len = Utf8SequenceLength(v, i);
    const std::string_view piece = len != 0 ? v.substr(i, len) : kReplacementChar;
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece);
    i += len != 0 ? len : 1;
  }
  return out;
}

void AppendEscapedLabelValue(std::string_view v, std::string* out) {
  for (const char c : v) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

void AppendEscapedHelp(std::string_view v, std::string* out) {
  for (const char c : v) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

bool IsMetricNameChar(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsMetricNameChar(name[i], i == 0)) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == ':' || !IsMetricNameChar(c, i == 0)) return false;
  }
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

void Counter::Render(std::string_view name, std::string_view labels, std::string* out) const {
  AppendSampleName(name, "", labels, out);
  AppendUint(value(), out);
  out->push_back('\n');
}

void Gauge::Render(std::string_view name, std::string_view labels, std::string* out) const {
  AppendSampleName(name, "", labels, out);
  AppendDouble(value(), out);
  out->push_back('\n');
}

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(*bounds), buckets_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  const size_t i =
      std::isnan(v)
          ? bounds_.size()
          : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  std::atomic<uint64_t>& bucket = buckets_[i];
  bucket.store(bucket.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  sum_.store(sum_.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
}

uint64_t Histogram::count() const { return cumulative_count(bounds_.size()); }

uint64_t Histogram::cumulative_count(size_t i) const {
  assert(i <= bounds_.size());
  uint64_t total = 0;
  for (size_t k = 0; k <= i && k <= bounds_.size(); ++k) total += buckets_[k].load(std::memory_order_relaxed);
  return total;
}

void Histogram::Render(std::string_view name, std::string_view labels, std::string* out) const {
  std::string with_le(labels);
  if (!with_le.empty()) with_le.push_back(',');
  with_le.append("le=\"");
  const size_t prefix = with_le.size();
  // Each bucket is read once, so the cumulative counts and _count agree with each other.
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    with_le.resize(prefix);
    if (i < bounds_.size()) {
      AppendDouble(bounds_[i], &with_le);
    } else {
      with_le.append("+Inf");
    }
    with_le.push_back('"');
    AppendSampleName(name, "_bucket", with_le, out);
    AppendUint(cumulative, out);
    out->push_back('\n');
  }
  AppendSampleName(name, "_sum", labels, out);
  AppendDouble(sum(), out);
  out->push_back('\n');
  AppendSampleName(name, "_count", labels, out);
  AppendUint(cumulative, out);
  out->push_back('\n');
}

MetricFamily::MetricFamily(Registry* registry, std::string name, std::string help, MetricType type,
                           std::vector<std::string> label_names, size_t max_series)
    : registry_(registry),
      name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)),
      max_series_(max_series) {}

MetricFamily::~MetricFamily() = default;

void MetricFamily::Init() {
  sink_ = NewSeries();
  if (label_names_.empty()) FindOrCreate(nullptr, 0);
}

size_t MetricFamily::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return series_.size();
}

std::vector<std::string> MetricFamily::Key(const std::string_view* values, size_t n) const {
  std::vector<std::string> key;
  key.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    key.push_back(CleanLabelValue(values[i], registry_->options().max_label_value_bytes));
  }
  return key;
}

internal::Series& MetricFamily::FindOrCreate(const std::string_view* values, size_t n) {
  assert(n == label_names_.size() && "wrong number of label values");
  if (n != label_names_.size()) {
    std::lock_guard<std::mutex> lock(mu_);
    CountDropped();
    return *sink_;
  }
  std::vector<std::string> key = Key(values, n);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(key);
  if (it != series_.end()) return *it->second.series;
  if (series_.size() >= max_series_) {
    CountDropped();
    return *sink_;
  }
  Entry entry;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) entry.labels.push_back(',');
    entry.labels.append(label_names_[i]);
    entry.labels.append("=\"");
    AppendEscapedLabelValue(key[i], &entry.labels);
    entry.labels.push_back('"');
  }
  entry.series = NewSeries();
  internal::Series& series = *entry.series;
  series_.emplace(std::move(key), std::move(entry));
  return series;
}

bool MetricFamily::RemoveKey(const std::string_view* values, size_t n) {
  if (n != label_names_.size() || n == 0) return false;
  const std::vector<std::string> key = Key(values, n);
  std::unique_ptr<internal::Series> doomed;  // Freed after the lock is released.
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(key);
  if (it == series_.end()) return false;
  doomed = std::move(it->second.series);
  series_.erase(it);
  return true;
}

void MetricFamily::CountDropped() {
  // Lock order: a family's mu_, then the dropped-series family's (which never refuses, so never nests
  // further).
  if (dropped_ == nullptr) dropped_ = registry_->DroppedCounterFor(name_);
  dropped_->Inc();
}

void MetricFamily::Render(std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (series_.empty()) return;
  if (!help_.empty()) {
    out->append("# HELP ");
    out->append(name_);
    out->push_back(' ');
    AppendEscapedHelp(help_, out);
    out->push_back('\n');
  }
  out->append("# TYPE ");
  out->append(name_);
  out->push_back(' ');
  out->append(TypeName(type_));
  out->push_back('\n');
  for (const auto& [key, entry] : series_) entry.series->Render(name_, entry.labels, out);
}

HistogramFamily::HistogramFamily(Registry* registry, std::string name, std::string help,
                                 std::vector<std::string> label_names, size_t max_series,
                                 std::vector<double> bounds)
    : MetricFamily(registry, std::move(name), std::move(help), MetricType::kHistogram, std::move(label_names),
                   max_series),
      bounds_(std::move(bounds)) {}

std::vector<double> ExponentialBuckets(double start, double factor, size_t count) {
  assert(start > 0 && factor > 1);
  std::vector<double> bounds;
  bounds.reserve(count);
  double v = start;
  for (size_t i = 0; i < count; ++i, v *= factor) bounds.push_back(v);
  return bounds;
}

std::vector<double> LinearBuckets(double start, double width, size_t count) {
  assert(width > 0);
  std::vector<double> bounds;
  bounds.reserve(count);
  for (size_t i = 0; i < count; ++i) bounds.push_back(start + width * static_cast<double>(i));
  return bounds;
}

Registry::Registry() : Registry(Options()) {}

Registry::Registry(Options options) : options_(options) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t unlimited = std::numeric_limits<size_t>::max();  // One series per family: bounded by the code.
  const Status reserved =
      Reserve(std::string(kDroppedSeriesName), MetricType::kCounter, {"family"}, &unlimited);
  assert(reserved.ok());
  reserved.IgnoreError();
  dropped_series_ = Adopt(std::unique_ptr<CounterFamily>(
      new CounterFamily(this, std::string(kDroppedSeriesName),
                        "Series not created because their family held its maximum number of series.",
                        MetricType::kCounter, {"family"}, unlimited)));
}

Registry::~Registry() = default;

Status Registry::Reserve(const std::string& name, MetricType type,
                         const std::vector<std::string>& label_names, size_t* max_series) {
  if (!IsValidMetricName(name)) return InvalidArgumentError("malformed metric name \"" + name + "\"");
  if (type == MetricType::kCounter && !EndsWith(name, "_total")) {
    return InvalidArgumentError("counter name \"" + name + "\" does not end in _total");
  }
  // These suffixes name the samples of histograms (and summaries): no family may end in one (promtool's lint
  // refuses a gauge that does), and a histogram adds them.
  std::vector<std::string> samples{name};
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (EndsWith(name, suffix)) {
      return InvalidArgumentError("metric name \"" + name + "\" ends in " + std::string(suffix));
    }
    if (type == MetricType::kHistogram) samples.push_back(name + std::string(suffix));
  }
  for (size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    if (!IsValidLabelName(label)) {
      return InvalidArgumentError("malformed label name \"" + label + "\" in " + name);
    }
    if (type == MetricType::kHistogram && label == "le") {
      return InvalidArgumentError("histogram " + name + " uses the reserved label le");
    }
    if (std::find(label_names.begin(), label_names.begin() + i, label) != label_names.begin() + i) {
      return InvalidArgumentError("label \"" + label + "\" repeated in " + name);
    }
  }
  if (*max_series == 0) *max_series = options_.max_series_per_family;
  if (*max_series == 0) return InvalidArgumentError("max_series of " + name + " is 0");
  for (const std::string& sample : samples) {
    if (sample_names_.count(sample) != 0) return AlreadyExistsError("metric name " + sample + " is taken");
  }
  sample_names_.insert(samples.begin(), samples.end());
  return OkStatus();
}

template <typename F>
F* Registry::Adopt(std::unique_ptr<F> family) {
  F* raw = family.get();
  raw->Init();
  families_.push_back(std::move(family));
  return raw;
}

StatusOr<CounterFamily*> Registry::AddCounterFamily(std::string name, std::string help,
                                                    std::vector<std::string> label_names, size_t max_series) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(Reserve(name, MetricType::kCounter, label_names, &max_series));
  return Adopt(std::unique_ptr<CounterFamily>(new CounterFamily(
      this, std::move(name), std::move(help), MetricType::kCounter, std::move(label_names), max_series)));
}

StatusOr<GaugeFamily*> Registry::AddGaugeFamily(std::string name, std::string help,
                                                std::vector<std::string> label_names, size_t max_series) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(Reserve(name, MetricType::kGauge, label_names, &max_series));
  return Adopt(std::unique_ptr<GaugeFamily>(new GaugeFamily(
      this, std::move(name), std::move(help), MetricType::kGauge, std::move(label_names), max_series)));
}

StatusOr<HistogramFamily*> Registry::AddHistogramFamily(std::string name, std::string help,
                                                        std::vector<std::string> label_names,
                                                        std::vector<double> bounds, size_t max_series) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]))
      return InvalidArgumentError("histogram " + name + " has a bound not finite");
    if (i > 0 && !(bounds[i - 1] < bounds[i])) {
      return InvalidArgumentError("histogram " + name + " has bounds not strictly increasing");
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(Reserve(name, MetricType::kHistogram, label_names, &max_series));
  return Adopt(std::unique_ptr<HistogramFamily>(new HistogramFamily(
      this, std::move(name), std::move(help), std::move(label_names), max_series, std::move(bounds))));
}

StatusOr<Counter*> Registry::AddCounter(std::string name, std::string help) {
  ASSIGN_OR_RETURN(CounterFamily * family, AddCounterFamily(std::move(name), std::move(help), {}));
  return &family->WithLabels({});
}

StatusOr<Gauge*> Registry::AddGauge(std::string name, std::string help) {
  ASSIGN_OR_RETURN(GaugeFamily * family, AddGaugeFamily(std::move(name), std::move(help), {}));
  return &family->WithLabels({});
}

StatusOr<Histogram*> Registry::AddHistogram(std::string name, std::string help, std::vector<double> bounds) {
  ASSIGN_OR_RETURN(HistogramFamily * family,
                   AddHistogramFamily(std::move(name), std::move(help), {}, std::move(bounds)));
  return &family->WithLabels({});
}

Counter* Registry::DroppedCounterFor(const std::string& name) {
  // dropped_series_ is set in the constructor and never changes: no registry lock is needed here, and none is
  // taken, so a family may call this while the registry renders.
  return &dropped_series_->WithLabels({name});
}

std::string Registry::Render() const {
  std::string out;
  RenderTo(&out);
  return out;
}

void Registry::RenderTo(std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& family : families_) family->Render(out);
}

}  // namespace libp2p::metrics
