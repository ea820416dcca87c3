#include "tools/trace_stat/trace_stats.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "nlohmann/json.hpp"

namespace libp2p::pubsub::trace {

using tracepb::TraceEvent;

DelayPercentiles Percentiles(std::vector<int64_t> samples) {
  DelayPercentiles p;
  p.count = samples.size();
  if (samples.empty()) return p;
  std::sort(samples.begin(), samples.end());
  // Nearest rank: ceil(q * n / 100), 1-based.
  const auto rank = [&](size_t q) { return samples[(q * samples.size() + 99) / 100 - 1]; };
  p.p50 = rank(50);
  p.p90 = rank(90);
  p.p99 = rank(99);
  p.max = samples.back();
  return p;
}

void TraceStats::Add(const TraceEvent& e) {
  ++events_;
  peers_.insert(e.peerid());
  switch (e.type()) {
    case TraceEvent::PUBLISH_MESSAGE: {
      const auto& m = e.publishmessage();
      auto [it, inserted] = publishes_.try_emplace(m.messageid(), Publish{e.timestamp(), e.peerid(), m.topic()});
      if (!inserted && e.timestamp() < it->second.time) it->second = Publish{e.timestamp(), e.peerid(), m.topic()};
      counted_.push_back({m.topic(), m.messageid(), e.type(), ""});
      break;
    }
    case TraceEvent::DELIVER_MESSAGE: {
      const auto& m = e.delivermessage();
      deliveries_.push_back({m.messageid(), e.peerid(), m.topic(), e.timestamp()});
      break;
    }
    case TraceEvent::DUPLICATE_MESSAGE:
      counted_.push_back({e.duplicatemessage().topic(), e.duplicatemessage().messageid(), e.type(), ""});
      break;
    case TraceEvent::REJECT_MESSAGE:
      counted_.push_back(
          {e.rejectmessage().topic(), e.rejectmessage().messageid(), e.type(), e.rejectmessage().reason()});
      break;
    default:
      break;
  }
}

std::string TraceStats::TopicOf(const std::string& topic, const std::string& id) const {
  if (!topic.empty()) return topic;
  auto it = publishes_.find(id);
  return it == publishes_.end() ? "" : it->second.topic;
}

TraceReport TraceStats::Report() const {
  TraceReport r;
  r.peers = peers_.size();
  r.events = events_;
  for (const Pending& p : counted_) {
    TopicReport& t = r.topics[TopicOf(p.topic, p.id)];
    if (p.type == TraceEvent::PUBLISH_MESSAGE) ++t.published;
    if (p.type == TraceEvent::DUPLICATE_MESSAGE) ++t.duplicates;
    if (p.type == TraceEvent::REJECT_MESSAGE) ++t.rejected[p.reason];
  }
  std::map<std::string, std::vector<int64_t>> delays;
  for (const Delivery& d : deliveries_) {
    const std::string topic = TopicOf(d.topic, d.id);
    TopicReport& t = r.topics[topic];
    ++t.delivered;
    auto pub = publishes_.find(d.id);
    if (pub == publishes_.end()) {
      ++t.unmatched;
    } else if (pub->second.peer != d.peer) {
      delays[topic].push_back(d.time - pub->second.time);
    }
  }
  for (auto& [topic, samples] : delays) r.topics[topic].delay = Percentiles(std::move(samples));
  return r;
}

namespace {

std::string Millis(int64_t ns) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.3f ms", static_cast<double>(ns) / 1e6);
  return buf;
}

}  // namespace

std::string FormatText(const TraceReport& report) {
  std::string out = "peers: " + std::to_string(report.peers) + ", events: " + std::to_string(report.events) + "\n";
  for (const auto& [topic, t] : report.topics) {
    out += "topic " + nlohmann::json(topic).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    out += "  published:  " + std::to_string(t.published) + "\n";
    out += "  delivered:  " + std::to_string(t.delivered) + "\n";
    out += "  duplicates: " + std::to_string(t.duplicates) + "\n";
    uint64_t rejected = 0;
    std::string reasons;
    for (const auto& [reason, n] : t.rejected) {
      rejected += n;
      reasons += (reasons.empty() ? "" : ", ") + reason + ": " + std::to_string(n);
    }
    out += "  rejected:   " + std::to_string(rejected) + (reasons.empty() ? "" : " (" + reasons + ")") + "\n";
    out += "  delay:      " + std::to_string(t.delay.count) + " deliveries";
    if (t.delay.count > 0) {
      out += ", p50 " + Millis(t.delay.p50) + ", p90 " + Millis(t.delay.p90) + ", p99 " + Millis(t.delay.p99) +
             ", max " + Millis(t.delay.max);
    }
    out += "\n";
    if (t.unmatched > 0) out += "  unmatched:  " + std::to_string(t.unmatched) + " (no trace published them)\n";
  }
  return out;
}

std::string FormatJson(const TraceReport& report) {
  nlohmann::ordered_json j;
  j["peers"] = report.peers;
  j["events"] = report.events;
  j["topics"] = nlohmann::ordered_json::object();
  for (const auto& [topic, t] : report.topics) {
    nlohmann::ordered_json tj;
    tj["published"] = t.published;
    tj["delivered"] = t.delivered;
    tj["duplicates"] = t.duplicates;
    tj["rejected"] = nlohmann::ordered_json::object();
    for (const auto& [reason, n] : t.rejected) tj["rejected"][reason] = n;
    tj["unmatched"] = t.unmatched;
    tj["delay_ns"] = {{"count", t.delay.count},
                      {"p50", t.delay.p50},
                      {"p90", t.delay.p90},
                      {"p99", t.delay.p99},
                      {"max", t.delay.max}};
    j["topics"][topic] = tj;
  }
  // Topics and reasons that are not UTF-8 are written with U+FFFD in their place.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace libp2p::pubsub::trace
