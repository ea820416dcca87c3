#include "tools/sim/results.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "tools/sim/receipt_table.h"
#include "tools/sim/regions.h"

namespace libp2p::sim {
namespace {

struct Published {
  std::string topic;
  size_t publisher = 0;
  Duration at{};
};

Status WriteFile(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return InternalError("cannot write " + path);
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return InternalError("cannot write " + path);
  return OkStatus();
}

// The p-th percentile (0 < p <= 100) of sorted `v` by the nearest-rank method; zero when empty.
Duration Percentile(const std::vector<Duration>& v, int p) {
  if (v.empty()) return Duration::zero();
  const size_t rank = (v.size() * static_cast<size_t>(p) + 99) / 100;
  return v[std::max<size_t>(rank, 1) - 1];
}

}  // namespace

namespace {

// `thousandths` / 1000 with three decimals ("12.345"), printed from the integer.
std::string Thousandths(int64_t thousandths) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%" PRId64 ".%03" PRId64, thousandths < 0 ? "-" : "",
                std::abs(thousandths) / 1000, std::abs(thousandths) % 1000);
  return buf;
}

}  // namespace

std::string Millis(Duration d) {
  return Thousandths(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

void TimeSeries::SampleMesh(Duration since_start, const std::vector<std::unique_ptr<SimNode>>& nodes) {
  const std::string t = Millis(since_start);
  for (const auto& node : nodes) {
    std::vector<std::string> topics = node->topics();
    std::sort(topics.begin(), topics.end());
    for (const std::string& topic : topics) {
      mesh_csv_ += t + "," + std::to_string(node->index()) + "," + topic + "," +
                   std::to_string(node->MeshSize(topic)) + "\n";
    }
  }
}

void TimeSeries::SampleScores(Duration since_start, const Plan& plan,
                              const std::vector<std::unique_ptr<SimNode>>& nodes) {
  if (index_of_.empty()) {
    for (const auto& node : nodes) index_of_.emplace(node->id(), node->index());
  }
  const std::string t = Millis(since_start);
  for (const auto& node : nodes) {
    std::vector<std::pair<size_t, double>> rows;
    for (const auto& [peer, score] : node->Scores()) {
      const auto it = index_of_.find(peer);
      if (it != index_of_.end()) rows.emplace_back(it->second, score);
    }
    std::sort(rows.begin(), rows.end());
    for (const auto& [peer, score] : rows) {
      const bool sybil = !plan.attackers.empty() && plan.attackers[peer];
      scores_csv_ += t + "," + std::to_string(node->index()) + "," + std::to_string(peer) + "," +
                     (sybil ? "sybil," : "honest,") + Thousandths(std::llround(score * 1000)) + "\n";
    }
  }
}

namespace {

// Latencies and copies of deliveries, gathered per message and node, then summed up.
class StatsBuilder {
 public:
  void Expect() { ++stats_.expected; }
  void Deliver(Duration latency, uint32_t copies) {
    ++stats_.delivered;
    latencies_.push_back(latency);
    copies_ += copies;
  }
  DeliveryStats Build() {
    std::sort(latencies_.begin(), latencies_.end());
    stats_.p50 = Percentile(latencies_, 50);
    stats_.p99 = Percentile(latencies_, 99);
    stats_.max = latencies_.empty() ? Duration::zero() : latencies_.back();
    stats_.mean_duplicates = stats_.delivered == 0 ? 0
                                                   : static_cast<double>(copies_ - stats_.delivered) /
                                                         static_cast<double>(stats_.delivered);
    return stats_;
  }

 private:
  DeliveryStats stats_;
  std::vector<Duration> latencies_;
  uint64_t copies_ = 0;
};

}  // namespace

StatusOr<Summary> WriteResults(const Plan& plan, const std::vector<std::unique_ptr<SimNode>>& nodes,
                               const stream::MemoryNetwork& network, MonoTime start, const TimeSeries& series,
                               const std::string& dir) {
  std::map<uint64_t, Published> published;
  std::map<std::string, std::vector<size_t>> subscribers;
  // Each message's receipts, in the order of `nodes`, so that a message is matched against its subscribers
  // and receivers only, not against every node.
  std::unordered_map<uint64_t, std::vector<std::pair<size_t, const Receipt*>>> receivers;
  const auto attacker = [&](size_t n) { return !plan.attackers.empty() && plan.attackers[n]; };
  const auto victim = [&](size_t n) { return std::find(plan.victims.begin(), plan.victims.end(), n) != plan.victims.end(); };
  for (size_t i = 0; i < nodes.size(); ++i) {
    const SimNode& node = *nodes[i];
    if (node.index() != i) return InternalError("simulation results: nodes out of order");
    for (const Publication& p : node.publications()) published[p.id] = {p.topic, node.index(), p.at - start};
    if (attacker(i)) continue;
    for (const std::string& topic : node.topics()) subscribers[topic].push_back(i);
    node.receipts().ForEach([&](uint64_t id, const Receipt& receipt) { receivers[id].emplace_back(i, &receipt); });
  }
  // A node that subscribed to a topic twice is one subscriber (the lists are in node order already).
  for (auto& [topic, subs] : subscribers) subs.erase(std::unique(subs.begin(), subs.end()), subs.end());
  Summary s;
  StatsBuilder all, victims;
  std::string deliveries = "message,topic,publisher,publish_ms,node,first_ms,copies\n";
  std::string expected = "message,topic,publisher,publish_ms,expected\n";
  static const std::vector<std::pair<size_t, const Receipt*>> kNone;
  for (const auto& [id, p] : published) {
    const std::vector<size_t>& subs = subscribers[p.topic];
    auto got = receivers.find(id);
    const auto& receipts = got == receivers.end() ? kNone : got->second;
    const bool measured = p.at >= plan.measure_from && p.at + plan.max_latency <= plan.duration;
    const std::string head = std::to_string(id) + "," + p.topic + "," + std::to_string(p.publisher) + "," + Millis(p.at);
    if (measured) ++s.messages;
    uint64_t want = 0;
    // The subscribers and the receivers, merged in node order.
    auto sub = subs.begin();
    auto receipt = receipts.begin();
    while (sub != subs.end() || receipt != receipts.end()) {
      const size_t n = std::min(sub != subs.end() ? *sub : SIZE_MAX, receipt != receipts.end() ? receipt->first : SIZE_MAX);
      const bool subscribed = sub != subs.end() && *sub == n;
      const Receipt* r = receipt != receipts.end() && receipt->first == n ? receipt->second : nullptr;
      if (subscribed) ++sub;
      if (r != nullptr) ++receipt;
      if (n == p.publisher || attacker(n)) continue;
      // Whether n should receive the message (Summary).
      const bool expects = subscribed && OnlineThroughout(plan, n, p.at - plan.settle, p.at + plan.max_latency);
      want += expects ? 1 : 0;
      const bool counted = measured && expects;
      if (counted) {
        all.Expect();
        if (victim(n)) victims.Expect();
      }
      if (r == nullptr) continue;
      const Duration latency = r->first - start - p.at;
      deliveries += head + "," + std::to_string(n) + "," + Millis(latency) + "," + std::to_string(r->copies) + "\n";
      if (counted) {
        all.Deliver(latency, r->copies);
        if (victim(n)) victims.Deliver(latency, r->copies);
      }
    }
    expected += head + "," + std::to_string(want) + "\n";
  }
  s.all = all.Build();
  s.victims = victims.Build();
  std::string node_rows = "node,region,class,bytes_sent,bytes_received,mesh_degree\n";
  for (const auto& node : nodes) {
    const size_t host = HostOf(plan, node->index());
    const Placement& where = plan.placements[host];
    const stream::Traffic t = network.TrafficOf(HostAddress(host));
    const size_t degree = node->topics().empty() ? 0 : node->MeshSize(node->topics().front());
    node_rows += std::to_string(node->index()) + "," + std::string(Regions()[where.region].name) + "," +
                 (attacker(node->index()) ? "sybil" : where.super ? "super" : "full") + "," + std::to_string(t.bytes_sent) + "," +
                 std::to_string(t.bytes_received) + "," + std::to_string(degree) + "\n";
    if (attacker(node->index())) {
      s.attacker_failed_dials += node->failed_dials();
      continue;
    }
    s.failed_dials += node->failed_dials();
    s.failed_publishes += node->failed_publishes();
    s.failed_subscribes += node->failed_subscribes();
  }
  RETURN_IF_ERROR(WriteFile(dir + "/deliveries.csv", deliveries));
  RETURN_IF_ERROR(WriteFile(dir + "/expected.csv", expected));
  RETURN_IF_ERROR(WriteFile(dir + "/nodes.csv", node_rows));
  RETURN_IF_ERROR(WriteFile(dir + "/mesh.csv", series.mesh_csv()));
  RETURN_IF_ERROR(WriteFile(dir + "/scores.csv", series.scores_csv()));
  return s;
}

namespace {

std::string DescribeStats(const DeliveryStats& s) {
  char buf[256];
  const double pct = s.expected == 0 ? 100.0 : 100.0 * static_cast<double>(s.delivered) / static_cast<double>(s.expected);
  std::snprintf(buf, sizeof(buf),
                "deliveries %" PRIu64 " of %" PRIu64 " (%.2f%%), latency p50 %s ms, p99 %s ms, max %s ms, "
                "duplicates per delivery %.2f",
                s.delivered, s.expected, pct, Millis(s.p50).c_str(), Millis(s.p99).c_str(), Millis(s.max).c_str(),
                s.mean_duplicates);
  return buf;
}

}  // namespace

std::string Describe(const Summary& s) {
  std::string out = "messages " + std::to_string(s.messages) + ", " + DescribeStats(s.all) + ", failed dials " +
                    std::to_string(s.failed_dials) + ", publishes " + std::to_string(s.failed_publishes) +
                    ", subscriptions " + std::to_string(s.failed_subscribes);
  if (s.attacker_failed_dials > 0) out += ", attackers' dials refused " + std::to_string(s.attacker_failed_dials);
  if (s.victims.expected > 0) out += "; at the victims: " + DescribeStats(s.victims);
  return out;
}

Status CheckSummary(const Plan& plan, const Summary& s) {
  if (s.messages == 0) return FailedPreconditionError("no message was measured");
  if (s.all.delivered != s.all.expected) {
    return FailedPreconditionError(std::to_string(s.all.expected - s.all.delivered) + " of " +
                                   std::to_string(s.all.expected) + " deliveries missing");
  }
  if (s.all.max > plan.max_latency) {
    return FailedPreconditionError("a delivery took " + Millis(s.all.max) + " ms, over the scenario's bound of " +
                                   Millis(plan.max_latency) + " ms");
  }
  if (s.failed_dials > 0 || s.failed_publishes > 0 || s.failed_subscribes > 0) {
    return FailedPreconditionError(std::to_string(s.failed_dials) + " dials, " + std::to_string(s.failed_publishes) +
                                   " publishes and " + std::to_string(s.failed_subscribes) + " subscriptions failed");
  }
  return OkStatus();
}

}  // namespace libp2p::sim
