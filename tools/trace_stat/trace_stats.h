// What trace_stat computes from the traces of several nodes (as go-libp2p-pubsub-tracer's tracestat): per
// topic, messages published, delivered, duplicated and rejected (by reason), and how long messages took to
// reach the other nodes.
#ifndef TOOLS_TRACE_STAT_TRACE_STATS_H_
#define TOOLS_TRACE_STAT_TRACE_STATS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "libp2p/pubsub/trace/trace_sink.h"

namespace libp2p::pubsub::trace {

// Nearest-rank percentiles of a set of delays (nanoseconds): the p-th is the smallest sample with at least p%
// of the samples at or below it. All zero when there are no samples.
struct DelayPercentiles {
  size_t count = 0;
  int64_t p50 = 0;
  int64_t p90 = 0;
  int64_t p99 = 0;
  int64_t max = 0;
};

// Computes DelayPercentiles of `samples` (any order).
DelayPercentiles Percentiles(std::vector<int64_t> samples);

struct TopicReport {
  uint64_t published = 0;   // PUBLISH_MESSAGE events.
  uint64_t delivered = 0;   // DELIVER_MESSAGE events (the publisher's own delivery included, as go counts).
  uint64_t duplicates = 0;  // DUPLICATE_MESSAGE events.
  std::map<std::string, uint64_t> rejected;  // REJECT_MESSAGE events by reason.
  // Propagation delays: for each delivery on a node other than the message's publisher, its time minus the
  // publish time (the earliest publish of that id in all the traces).
  DelayPercentiles delay;
  // Deliveries on other nodes of messages that no trace published (a node whose trace is missing).
  uint64_t unmatched = 0;
};

struct TraceReport {
  size_t peers = 0;     // Distinct peer ids that wrote events.
  uint64_t events = 0;  // Events read.
  std::map<std::string, TopicReport> topics;
};

// Accumulates events from any number of traces, in any order (a delivery may be read before its publish).
class TraceStats {
 public:
  void Add(const tracepb::TraceEvent& event);
  // The figures of everything added so far.
  TraceReport Report() const;

 private:
  struct Publish {
    int64_t time;
    std::string peer;
    std::string topic;
  };
  struct Delivery {
    std::string id;
    std::string peer;
    std::string topic;  // Empty when the event had none: the publish's topic is used.
    int64_t time;
  };
  // The topic of a message event: its own, else its publish's, else "".
  std::string TopicOf(const std::string& topic, const std::string& id) const;

  std::set<std::string> peers_;
  uint64_t events_ = 0;
  std::unordered_map<std::string, Publish> publishes_;  // By message id: the earliest.
  std::vector<Delivery> deliveries_;
  // Events other than deliveries, counted as they come, by (topic or "", id) for those without a topic.
  struct Pending {
    std::string topic;
    std::string id;
    tracepb::TraceEvent::Type type;
    std::string reason;
  };
  std::vector<Pending> counted_;
};

// The report as text for people, and as one JSON object:
// {"peers":N,"events":N,"topics":{"<topic>":{"published":N,"delivered":N,"duplicates":N,
//  "rejected":{"<reason>":N},"unmatched":N,"delay_ns":{"count":N,"p50":N,"p90":N,"p99":N,"max":N}}}}
std::string FormatText(const TraceReport& report);
std::string FormatJson(const TraceReport& report);

}  // namespace libp2p::pubsub::trace

#endif  // TOOLS_TRACE_STAT_TRACE_STATS_H_
