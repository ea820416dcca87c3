#include "libp2p/metrics/registry.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace libp2p::metrics {
namespace {

TEST(RegistryTest, EmptyRegistryRendersNothing) {
  Registry registry;
  EXPECT_EQ(registry.Render(), "");
}

TEST(RegistryTest, CounterWithLabelsAndEscaping) {
  Registry registry;
  auto family = registry.AddCounterFamily("rpc_total", "RPCs seen.\nBy \\ kind", {"kind", "topic"});
  ASSERT_TRUE(family.ok()) << family.status().ToString();
  (*family)->WithLabels({"a\"b", "x\\y\nz"}).Add(3);
  (*family)->WithLabels({"a", "t"}).Inc();
  EXPECT_EQ(registry.Render(),
            "# HELP rpc_total RPCs seen.\\nBy \\\\ kind\n"
            "# TYPE rpc_total counter\n"
            "rpc_total{kind=\"a\",topic=\"t\"} 1\n"
            "rpc_total{kind=\"a\\\"b\",topic=\"x\\\\y\\nz\"} 3\n");
}

TEST(RegistryTest, SameLabelsSameSeries) {
  Registry registry;
  CounterFamily* family = *registry.AddCounterFamily("x_total", "", {"k"});
  Counter& a = family->WithLabels({"v"});
  Counter& b = family->WithLabels({"v"});
  EXPECT_EQ(&a, &b);
  a.Inc();
  b.Add(2);
  EXPECT_EQ(a.value(), 3u);
  EXPECT_EQ(family->size(), 1u);
}

TEST(RegistryTest, UnlabelledSeriesRenderFromTheStart) {
  Registry registry;
  Counter* counter = *registry.AddCounter("published_total", "Messages published.");
  Gauge* gauge = *registry.AddGauge("peers", "Connected peers.");
  EXPECT_EQ(registry.Render(),
            "# HELP published_total Messages published.\n"
            "# TYPE published_total counter\n"
            "published_total 0\n"
            "# HELP peers Connected peers.\n"
            "# TYPE peers gauge\n"
            "peers 0\n");
  counter->Add(7);
  gauge->Set(2.5);
  gauge->Dec();
  EXPECT_EQ(registry.Render(),
            "# HELP published_total Messages published.\n"
            "# TYPE published_total counter\n"
            "published_total 7\n"
            "# HELP peers Connected peers.\n"
            "# TYPE peers gauge\n"
            "peers 1.5\n");
}

TEST(RegistryTest, LabelledFamilyWithoutSeriesIsNotRendered) {
  Registry registry;
  ASSERT_TRUE(registry.AddGaugeFamily("mesh_peers", "Mesh peers.", {"topic"}).ok());
  EXPECT_EQ(registry.Render(), "");
}

TEST(RegistryTest, GaugeValues) {
  Registry registry;
  GaugeFamily* family = *registry.AddGaugeFamily("g", "", {"k"});
  family->WithLabels({"a"}).Set(-1);
  family->WithLabels({"b"}).Set(0.1);
  family->WithLabels({"c"}).Set(1e21);
  family->WithLabels({"d"}).Set(std::numeric_limits<double>::infinity());
  family->WithLabels({"e"}).Set(-std::numeric_limits<double>::infinity());
  family->WithLabels({"f"}).Set(std::nan(""));
  family->WithLabels({"g"}).Add(0.5);
  family->WithLabels({"g"}).Add(0.25);
  // As Go's strconv.FormatFloat(v, 'g', -1, 64): exponent form below 1e-4 and from 1e6 on.
  family->WithLabels({"h1"}).Set(0.0001);
  family->WithLabels({"h2"}).Set(0.00001);
  family->WithLabels({"h3"}).Set(123456);
  family->WithLabels({"h4"}).Set(999999.5);
  family->WithLabels({"h5"}).Set(1234567);
  family->WithLabels({"h6"}).Set(-0.00012345);
  family->WithLabels({"h7"}).Set(1e100);
  EXPECT_EQ(registry.Render(),
            "# TYPE g gauge\n"
            "g{k=\"a\"} -1\n"
            "g{k=\"b\"} 0.1\n"
            "g{k=\"c\"} 1e+21\n"
            "g{k=\"d\"} +Inf\n"
            "g{k=\"e\"} -Inf\n"
            "g{k=\"f\"} NaN\n"
            "g{k=\"g\"} 0.75\n"
            "g{k=\"h1\"} 0.0001\n"
            "g{k=\"h2\"} 1e-05\n"
            "g{k=\"h3\"} 123456\n"
            "g{k=\"h4\"} 999999.5\n"
            "g{k=\"h5\"} 1.234567e+06\n"
            "g{k=\"h6\"} -0.00012345\n"
            "g{k=\"h7\"} 1e+100\n");
}

TEST(RegistryTest, HistogramBucketsAreCumulative) {
  Registry registry;
  HistogramFamily* family =
      *registry.AddHistogramFamily("latency_seconds", "Latency.", {"topic"}, {0.5, 1, 10});
  Histogram& h = family->WithLabels({"t"});
  h.Observe(0.25);
  h.Observe(0.5);  // A bound is inclusive (le).
  h.Observe(5);
  h.Observe(100);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.cumulative_count(0), 2u);
  EXPECT_EQ(h.cumulative_count(1), 2u);
  EXPECT_EQ(h.cumulative_count(2), 3u);
  EXPECT_EQ(h.cumulative_count(3), 4u);
  EXPECT_EQ(registry.Render(),
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{topic=\"t\",le=\"0.5\"} 2\n"
            "latency_seconds_bucket{topic=\"t\",le=\"1\"} 2\n"
            "latency_seconds_bucket{topic=\"t\",le=\"10\"} 3\n"
            "latency_seconds_bucket{topic=\"t\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{topic=\"t\"} 105.75\n"
            "latency_seconds_count{topic=\"t\"} 4\n");
}

TEST(RegistryTest, UnlabelledHistogram) {
  Registry registry;
  Histogram* h = *registry.AddHistogram("heartbeat_seconds", "", {0.001});
  h->Observe(0.0005);
  h->Observe(std::nan(""));  // Counted in +Inf.
  EXPECT_EQ(registry.Render(),
            "# TYPE heartbeat_seconds histogram\n"
            "heartbeat_seconds_bucket{le=\"0.001\"} 1\n"
            "heartbeat_seconds_bucket{le=\"+Inf\"} 2\n"
            "heartbeat_seconds_sum NaN\n"
            "heartbeat_seconds_count 2\n");
}

TEST(RegistryTest, FamiliesRenderInTheOrderAdded) {
  Registry registry;
  ASSERT_TRUE(registry.AddGauge("b", "").ok());
  ASSERT_TRUE(registry.AddGauge("a", "").ok());
  EXPECT_EQ(registry.Render(), "# TYPE b gauge\nb 0\n# TYPE a gauge\na 0\n");
}

TEST(RegistryTest, BadNamesAreRefused) {
  Registry registry;
  EXPECT_EQ(registry.AddGauge("", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGauge("1abc", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGauge("a-b", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGauge("a b", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry.AddGauge("_ok:name9", "").ok());
  EXPECT_EQ(registry.AddCounter("messages", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry.AddCounter("messages_total", "").ok());
  EXPECT_EQ(registry.AddHistogram("h_count", "", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h_sum", "", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h_bucket", "", {}).status().code(), StatusCode::kInvalidArgument);
  // promtool's lint: only histograms and summaries write _count, _sum and _bucket samples.
  EXPECT_EQ(registry.AddGauge("peer_count", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGauge("latency_sum", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGaugeFamily("le_bucket", "", {"k"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry.AddGauge("peers", "").ok());
}

TEST(RegistryTest, BadLabelNamesAreRefused) {
  Registry registry;
  EXPECT_EQ(registry.AddGaugeFamily("g1", "", {"__reserved"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGaugeFamily("g2", "", {"a:b"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGaugeFamily("g3", "", {"9a"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGaugeFamily("g4", "", {"a", "a"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGaugeFamily("g5", "", {""}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogramFamily("h", "", {"le"}, {1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry.AddGaugeFamily("g6", "", {"le"}).ok());  // Reserved in histograms only.
  EXPECT_TRUE(registry.AddGaugeFamily("g7", "", {"_a1", "b"}).ok());
}

TEST(RegistryTest, BadBucketsAreRefused) {
  Registry registry;
  EXPECT_EQ(registry.AddHistogram("h1", "", {1, 1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h2", "", {2, 1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h3", "", {1, std::numeric_limits<double>::infinity()}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h4", "", {std::nan("")}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry.AddHistogram("h5", "", {}).ok());
}

TEST(RegistryTest, TakenNamesAreRefused) {
  Registry registry;
  ASSERT_TRUE(registry.AddGauge("x", "").ok());
  EXPECT_EQ(registry.AddGauge("x", "").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.AddHistogram("x", "", {}).status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(registry.AddHistogram("h", "", {}).ok());
  // A histogram's sample names cannot be taken by others: the suffix rule refuses them first.
  EXPECT_EQ(registry.AddGauge("h_count", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h", "", {1}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.AddCounter("libp2p_metrics_dropped_series_total", "").status().code(),
            StatusCode::kAlreadyExists);
}

TEST(RegistryTest, CardinalityIsCappedAndRefusalsCounted) {
  Registry registry;
  CounterFamily* family = *registry.AddCounterFamily("msgs_total", "", {"topic"}, /*max_series=*/2);
  EXPECT_EQ(family->max_series(), 2u);
  family->WithLabels({"a"}).Inc();
  family->WithLabels({"b"}).Inc();
  Counter& refused = family->WithLabels({"c"});
  refused.Add(100);  // Goes to the sink: never rendered.
  family->WithLabels({"d"}).Inc();
  EXPECT_EQ(family->size(), 2u);
  // Existing series are still found.
  family->WithLabels({"a"}).Inc();
  EXPECT_EQ(family->size(), 2u);
  EXPECT_EQ(registry.dropped_series().size(), 1u);
  EXPECT_EQ(registry.Render(),
            "# HELP libp2p_metrics_dropped_series_total Series not created because their family held its "
            "maximum number of series.\n"
            "# TYPE libp2p_metrics_dropped_series_total counter\n"
            "libp2p_metrics_dropped_series_total{family=\"msgs_total\"} 2\n"
            "# TYPE msgs_total counter\n"
            "msgs_total{topic=\"a\"} 2\n"
            "msgs_total{topic=\"b\"} 1\n");
}

TEST(RegistryTest, DefaultCapComesFromOptions) {
  Registry::Options options;
  options.max_series_per_family = 3;
  Registry registry(options);
  GaugeFamily* family = *registry.AddGaugeFamily("g", "", {"k"});
  EXPECT_EQ(family->max_series(), 3u);
  for (int i = 0; i < 1000; ++i) family->WithLabels({std::to_string(i)}).Set(i);
  EXPECT_EQ(family->size(), 3u);
  EXPECT_NE(registry.Render().find("libp2p_metrics_dropped_series_total{family=\"g\"} 997\n"),
            std::string::npos);
}

TEST(RegistryTest, RemovedSeriesIsGoneAndFreesRoom) {
  Registry registry;
  HistogramFamily* family = *registry.AddHistogramFamily("h", "", {"topic"}, {1}, /*max_series=*/1);
  family->WithLabels({"a"}).Observe(0.5);
  EXPECT_FALSE(family->Remove({"b"}));
  EXPECT_TRUE(family->Remove({"a"}));
  EXPECT_FALSE(family->Remove({"a"}));
  EXPECT_EQ(family->size(), 0u);
  EXPECT_EQ(registry.Render(), "");
  // The room is free for another topic, and a new series starts at zero.
  family->WithLabels({"b"}).Observe(2);
  EXPECT_EQ(family->WithLabels({"a"}).count(), 0u);  // Refused: b holds the only place.
  EXPECT_TRUE(family->Remove({"b"}));
  EXPECT_EQ(family->WithLabels({"a"}).count(), 0u);
  EXPECT_EQ(family->size(), 1u);
}

TEST(RegistryTest, UnlabelledSeriesCannotBeRemoved) {
  Registry registry;
  GaugeFamily* family = *registry.AddGaugeFamily("g", "", {});
  EXPECT_FALSE(family->Remove({}));
  EXPECT_EQ(family->size(), 1u);
}

TEST(RegistryTest, LabelValuesAreCleanedAndCut) {
  Registry::Options options;
  options.max_label_value_bytes = 10;
  Registry registry(options);
  CounterFamily* family = *registry.AddCounterFamily("c_total", "", {"v"});
  family->WithLabels({"ok\xff"}).Inc();                         // An invalid byte becomes U+FFFD.
  family->WithLabels({std::string_view("\xc0\x80", 2)}).Inc();  // An overlong NUL: two invalid bytes.
  family->WithLabels({"\xed\xa0\x80"}).Inc();                   // A surrogate: three.
  family->WithLabels({"0123456789AB"}).Inc();                   // Cut to 10 bytes...
  family->WithLabels({"0123456789xyz"}).Inc();                  // ...so this is the same series.
  family->WithLabels({"123456789\xc3\xa9"}).Inc();              // Cut before a character that does not fit.
  EXPECT_EQ(registry.Render(),
            "# TYPE c_total counter\n"
            "c_total{v=\"0123456789\"} 2\n"
            "c_total{v=\"123456789\"} 1\n"
            "c_total{v=\"ok\xef\xbf\xbd\"} 1\n"
            "c_total{v=\"\xef\xbf\xbd\xef\xbf\xbd\"} 1\n"
            "c_total{v=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"} 1\n");
}

TEST(RegistryTest, RemoveCleansLabelValuesTheSameWay) {
  Registry::Options options;
  options.max_label_value_bytes = 4;
  Registry registry(options);
  CounterFamily* family = *registry.AddCounterFamily("c_total", "", {"v"});
  family->WithLabels({"abcdef"}).Inc();
  EXPECT_TRUE(family->Remove({"abcdXYZ"}));
  EXPECT_EQ(family->size(), 0u);
}

TEST(RegistryTest, BucketHelpers) {
  EXPECT_EQ(ExponentialBuckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_EQ(LinearBuckets(-1, 0.5, 3), (std::vector<double>{-1, -0.5, 0}));
  EXPECT_TRUE(ExponentialBuckets(1, 2, 0).empty());
}

}  // namespace
}  // namespace libp2p::metrics
