#include "tools/sim/plan.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <utility>

#include "libp2p/base/portable_random.h"
#include "tools/sim/regions.h"

namespace libp2p::sim {
namespace {

using node::InteropScript;
using node::ScriptStep;

// `count` distinct numbers from [0, n) other than `except`, in the order drawn.
std::vector<uint64_t> Distinct(std::mt19937_64& rng, uint64_t n, size_t count, uint64_t except) {
  std::vector<uint64_t> out;
  std::set<uint64_t> taken{except};
  count = std::min<size_t>(count, n - 1);
  while (out.size() < count) {
    const uint64_t x = UniformIndex(rng, n);
    if (taken.insert(x).second) out.push_back(x);
  }
  return out;
}

// Steps at instants: collected in any order, laid out per node in time order with a waitUntil before each
// later instant (steps of one instant keep the order they were added in).
class ScriptBuilder {
 public:
  explicit ScriptBuilder(size_t nodes) : steps_(nodes) {}
  void At(size_t node, Duration when, ScriptStep step) { steps_[node].emplace(when, std::move(step)); }
  std::vector<InteropScript> Build(const pubsub::gossipsub::GossipSubJsonResult& gossipsub) {
    std::vector<InteropScript> scripts(steps_.size());
    for (size_t n = 0; n < steps_.size(); ++n) {
      scripts[n].gossipsub = gossipsub;
      Duration last = Duration::zero();
      for (auto& [when, step] : steps_[n]) {
        if (when > last) {
          ScriptStep wait;
          wait.kind = ScriptStep::Kind::kWaitUntil;
          wait.elapsed = when;
          scripts[n].steps.push_back(wait);
          last = when;
        }
        scripts[n].steps.push_back(std::move(step));
      }
    }
    return scripts;
  }

 private:
  std::vector<std::multimap<Duration, ScriptStep>> steps_;
};

ScriptStep Connect(std::vector<uint64_t> to) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::kConnect;
  s.connect_to = std::move(to);
  return s;
}

ScriptStep Subscribe(const std::string& topic) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::kSubscribe;
  s.topic = topic;
  return s;
}

ScriptStep ValidationDelay(const std::string& topic, Duration delay) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::kSetTopicValidationDelay;
  s.topic = topic;
  s.delay = delay;
  return s;
}

ScriptStep Publish(const std::string& topic, uint64_t id, size_t size) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::kPublish;
  s.topic = topic;
  s.message_id = id;
  s.message_size = size;
  return s;
}

pubsub::gossipsub::GossipSubJsonResult GoDefaults() {
  return *pubsub::gossipsub::ParseGossipSubJson("{}");
}

// go's defaults with peer scoring on `topic_name` as the censorship scenarios use it: P1 to P4 at go's scale of
// thresholds, and P6 (go's weight and threshold) only if `ip_colocation`.
pubsub::gossipsub::GossipSubJsonResult ScoredGossipSub(const std::string& topic_name, bool ip_colocation) {
  pubsub::gossipsub::GossipSubJsonResult gossipsub = GoDefaults();
  pubsub::gossipsub::PeerScoreParams score;
  pubsub::gossipsub::TopicScoreParams topic;
  topic.topic_weight = 1;
  topic.time_in_mesh_weight = 0.01;
  topic.time_in_mesh_cap = 100;
  topic.first_message_deliveries_weight = 1;
  topic.first_message_deliveries_decay = 0.9;
  topic.first_message_deliveries_cap = 20;
  // A mesh peer is asked for one delivery (first, or within 100 ms of the first) in about the last ten
  // seconds (the counter decays by 0.9 a second): an honest peer far away still makes it, one that forwards
  // nothing scores -20, below the gossip threshold, and is pruned.
  topic.mesh_message_deliveries_weight = -20;
  topic.mesh_message_deliveries_decay = 0.9;
  topic.mesh_message_deliveries_cap = 20;
  topic.mesh_message_deliveries_threshold = 1;
  topic.mesh_message_deliveries_window = std::chrono::milliseconds(100);
  // Not before messages flow (from 30 s): a peer grafted during the silent warm-up would otherwise fall short
  // with nothing to deliver, and be pruned and backed off for a minute.
  topic.mesh_message_deliveries_activation = std::chrono::seconds(45);
  topic.mesh_failure_penalty_weight = -1;
  topic.mesh_failure_penalty_decay = 0.9;
  topic.invalid_message_deliveries_weight = -10;
  topic.invalid_message_deliveries_decay = 0.9;
  score.topics[topic_name] = topic;
  score.topic_score_cap = 50;
  if (!ip_colocation) score.ip_colocation_factor_weight = 0;
  gossipsub.config.score_params = score;
  gossipsub.config.thresholds = pubsub::gossipsub::PeerScoreThresholds{};
  return gossipsub;
}

// Seeds for the generators' independent draws, so that changing one kind of draw leaves the others alone.
enum class Stream : uint64_t { kPlacement = 1, kLinks = 2, kSubnets = 3, kPublishers = 4, kChurn = 5 };
std::mt19937_64 RngOf(uint64_t seed, Stream s) { return std::mt19937_64(seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(s)); }

}  // namespace

std::vector<Placement> DrawPlacements(size_t nodes, double super_fraction, uint64_t seed) {
  std::mt19937_64 rng = RngOf(seed, Stream::kPlacement);
  std::vector<Placement> out(nodes);
  for (Placement& p : out) {
    p.region = RegionForDraw(UniformReal01(rng));
    p.super = UniformReal01(rng) < super_fraction;
  }
  return out;
}

Plan EthereumPlan(const PlanOptions& o) {
  constexpr size_t kSubnets = 64;
  constexpr size_t kSubnetsPerNode = 2;
  constexpr size_t kSubnetDials = 3;
  constexpr Duration kWarmUp = std::chrono::seconds(20);
  constexpr Duration kSlot = std::chrono::seconds(12);
  constexpr Duration kAttestationInterval = std::chrono::milliseconds(10);  // 100/s network-wide.
  constexpr Duration kValidation = std::chrono::milliseconds(5);
  const std::string kBlocks = "beacon_block";
  auto subnet_topic = [](size_t i) { return "beacon_attestation_" + std::to_string(i); };

  Plan plan;
  plan.name = "ethereum";
  plan.duration = o.duration;
  plan.measure_from = kWarmUp;
  plan.max_latency = std::chrono::seconds(4);
  plan.placements = DrawPlacements(o.nodes, o.super_fraction, o.seed);
  ScriptBuilder b(o.nodes);
  std::mt19937_64 links = RngOf(o.seed, Stream::kLinks);
  std::mt19937_64 subnets = RngOf(o.seed, Stream::kSubnets);
  std::vector<std::vector<uint64_t>> members(kSubnets);
  std::vector<std::vector<size_t>> subnets_of(o.nodes);
  for (size_t n = 0; n < o.nodes; ++n) {
    std::vector<uint64_t> chosen = Distinct(subnets, kSubnets + 1, kSubnetsPerNode, kSubnets);
    for (uint64_t s : chosen) {
      members[s].push_back(n);
      subnets_of[n].push_back(s);
    }
  }
  for (size_t n = 0; n < o.nodes; ++n) {
    b.At(n, Duration::zero(), ValidationDelay(kBlocks, kValidation));
    b.At(n, Duration::zero(), Subscribe(kBlocks));
    for (size_t s : subnets_of[n]) {
      b.At(n, Duration::zero(), ValidationDelay(subnet_topic(s), kValidation));
      b.At(n, Duration::zero(), Subscribe(subnet_topic(s)));
    }
    std::vector<uint64_t> to = Distinct(links, o.nodes, o.dials_per_node, n);
    // Subnet discovery: the member before us in the subnet's list (so that every subnet is connected: its
    // members form a chain), then random members.
    for (size_t s : subnets_of[n]) {
      const std::vector<uint64_t>& m = members[s];
      if (m.size() < 2) continue;
      const size_t at = static_cast<size_t>(std::find(m.begin(), m.end(), n) - m.begin());
      std::vector<uint64_t> picks;
      if (at > 0) picks.push_back(m[at - 1]);
      for (size_t i = 1; i < kSubnetDials; ++i) picks.push_back(m[UniformIndex(links, m.size())]);
      for (uint64_t peer : picks) {
        if (peer != n && std::find(to.begin(), to.end(), peer) == to.end()) to.push_back(peer);
      }
    }
    // Staggered by 1 ms per node, as nodes do not all start in the same instant.
    b.At(n, std::chrono::milliseconds(static_cast<int64_t>(n % 1000)), Connect(std::move(to)));
  }
  std::mt19937_64 publishers = RngOf(o.seed, Stream::kPublishers);
  uint64_t next_id = 1;
  for (Duration t = kWarmUp; t < o.duration; t += kSlot) {
    b.At(UniformIndex(publishers, o.nodes), t, Publish(kBlocks, next_id++, 128 * 1024));
  }
  std::vector<size_t> populated;  // Subnets with members (with few nodes, some have none).
  for (size_t s = 0; s < kSubnets; ++s) {
    if (!members[s].empty()) populated.push_back(s);
  }
  for (Duration t = kWarmUp; t < o.duration; t += kAttestationInterval) {
    const size_t s = populated[UniformIndex(publishers, populated.size())];
    b.At(members[s][UniformIndex(publishers, members[s].size())], t, Publish(subnet_topic(s), next_id++, 300));
  }
  pubsub::gossipsub::GossipSubJsonResult gossipsub = GoDefaults();
  gossipsub.config.params.heartbeat_interval = std::chrono::milliseconds(700);  // Ethereum's.
  plan.scripts = b.Build(gossipsub);
  return plan;
}

Plan BlobPlan(const PlanOptions& o) {
  constexpr Duration kWarmUp = std::chrono::seconds(30);
  constexpr Duration kInterval = std::chrono::seconds(12);
  const std::string kTopic = "a-subnet";
  Plan plan;
  plan.name = "blob";
  plan.measure_from = kWarmUp + 4 * kInterval;
  plan.duration = kWarmUp + 17 * kInterval;
  plan.max_latency = std::chrono::seconds(1);
  plan.placements = DrawPlacements(o.nodes, o.super_fraction, o.seed);
  ScriptBuilder b(o.nodes);
  std::mt19937_64 links = RngOf(o.seed, Stream::kLinks);
  for (size_t n = 0; n < o.nodes; ++n) {
    b.At(n, Duration::zero(), ValidationDelay(kTopic, std::chrono::milliseconds(5)));
    b.At(n, Duration::zero(), Subscribe(kTopic));
    b.At(n, std::chrono::milliseconds(static_cast<int64_t>(n % 1000)),
         Connect(Distinct(links, o.nodes, o.dials_per_node, n)));
  }
  std::mt19937_64 publishers = RngOf(o.seed, Stream::kPublishers);
  for (uint64_t m = 0; m < 16; ++m) {
    b.At(UniformIndex(publishers, o.nodes), kWarmUp + static_cast<int64_t>(m) * kInterval, Publish(kTopic, m + 1, 98304));
  }
  plan.scripts = b.Build(GoDefaults());
  return plan;
}

Plan CensorAttack(const PlanOptions& o, CensorMode mode) {
  constexpr size_t kSybilsPerHonest = 4;
  constexpr size_t kSybilDials = 10;
  constexpr size_t kEclipseHonestDials = 2;
  constexpr Duration kWarmUp = std::chrono::seconds(30);
  constexpr Duration kInterval = std::chrono::milliseconds(100);
  const std::string kTopic = "t";
  const size_t honest = o.nodes;
  const bool attack = mode != CensorMode::kBaseline;
  const size_t total = attack ? honest * (1 + kSybilsPerHonest) : honest;
  Plan plan;
  plan.name = mode == CensorMode::kBaseline      ? "censor-baseline"
              : mode == CensorMode::kColdBoot    ? "censor-attack"
              : mode == CensorMode::kCovertFlash ? "covert-flash"
              : mode == CensorMode::kColocated   ? "colocation"
              : mode == CensorMode::kAtDawn      ? "attack-at-dawn"
                                                 : "eclipse";
  plan.attack_from = mode == CensorMode::kCovertFlash ? std::chrono::seconds(60) : Duration::zero();
  plan.duration = o.duration;
  plan.measure_from = kWarmUp;
  plan.max_latency = std::chrono::seconds(4);
  plan.placements = DrawPlacements(total, o.super_fraction, o.seed);
  plan.attackers.assign(total, false);
  for (size_t n = honest; n < total; ++n) plan.attackers[n] = true;
  if (mode == CensorMode::kColocated) {
    constexpr size_t kSybilsPerHost = 50;
    plan.hosts.resize(total);
    for (size_t n = 0; n < total; ++n) plan.hosts[n] = n < honest ? n : honest + (n - honest) / kSybilsPerHost;
  }
  ScriptBuilder b(total);
  // The honest nodes' links are drawn first, so that they are the same with and without the Sybils.
  std::mt19937_64 links = RngOf(o.seed, Stream::kLinks);
  if (mode == CensorMode::kEclipse) plan.victims = {0};
  for (size_t n = 0; n < total; ++n) {
    b.At(n, Duration::zero(), Subscribe(kTopic));
    // Staggered by 1 ms per node, as nodes do not all start in the same instant.
    Duration when = std::chrono::milliseconds(static_cast<int64_t>(n % 1000));
    std::vector<uint64_t> to;
    if (n < honest) {
      to = Distinct(links, honest, o.dials_per_node, n);
      if (mode == CensorMode::kAtDawn) when += std::chrono::seconds(5);
      if (mode == CensorMode::kEclipse && n == plan.victims.front()) {
        // Its discovery is poisoned: of its own dials, two go to honest nodes and the rest to Sybils.
        for (size_t i = kEclipseHonestDials; i < to.size(); ++i) to[i] = honest + (i - kEclipseHonestDials);
      }
    } else if (mode == CensorMode::kEclipse) {
      to = {plan.victims.front()};
      when = std::chrono::milliseconds(static_cast<int64_t>(10 * (n - honest) % 5000));
    } else {
      to = Distinct(links, honest + 1, kSybilDials, honest);
    }
    b.At(n, when, Connect(std::move(to)));
  }
  std::mt19937_64 publishers = RngOf(o.seed, Stream::kPublishers);
  uint64_t next_id = 1;
  for (Duration t = kWarmUp; t < o.duration; t += kInterval) {
    b.At(UniformIndex(publishers, honest), t, Publish(kTopic, next_id++, 1024));
  }
  plan.scripts = b.Build(ScoredGossipSub(kTopic, /*ip_colocation=*/mode == CensorMode::kColocated));
  return plan;
}

bool OnlineThroughout(const Plan& plan, size_t n, Duration from, Duration to) {
  if (plan.outages.empty()) return true;
  for (const Outage& o : plan.outages[n]) {
    if (o.leave <= to && o.back > from) return false;
  }
  return true;
}

Plan ChurnPlan(const PlanOptions& o) {
  constexpr Duration kWarmUp = std::chrono::seconds(30);
  constexpr Duration kChurnFrom = std::chrono::seconds(20);
  constexpr Duration kInterval = std::chrono::milliseconds(100);
  constexpr Duration kRedialWindow = std::chrono::seconds(10);
  const std::string kTopic = "t";
  Plan plan;
  plan.name = "churn";
  plan.duration = o.duration;
  plan.measure_from = kWarmUp;
  plan.max_latency = std::chrono::seconds(4);
  plan.settle = std::chrono::seconds(5);
  plan.placements = DrawPlacements(o.nodes, o.super_fraction, o.seed);
  plan.outages.resize(o.nodes);
  ScriptBuilder b(o.nodes);
  std::mt19937_64 links = RngOf(o.seed, Stream::kLinks);
  for (size_t n = 0; n < o.nodes; ++n) {
    b.At(n, Duration::zero(), Subscribe(kTopic));
    b.At(n, std::chrono::milliseconds(static_cast<int64_t>(n % 1000)),
         Connect(Distinct(links, o.nodes, o.dials_per_node, n)));
  }
  // The schedule first: each second one node per 100 (at least one) of those back (or up) for the redial
  // window leaves, for 5 to 30 s.
  std::mt19937_64 churn = RngOf(o.seed, Stream::kChurn);
  const size_t per_second = std::max<size_t>(1, o.nodes / 100);
  std::vector<Duration> settled_at(o.nodes, Duration::zero());
  for (Duration t = kChurnFrom; t < o.duration; t += std::chrono::seconds(1)) {
    for (size_t i = 0; i < per_second; ++i) {
      std::vector<size_t> candidates;
      for (size_t n = 0; n < o.nodes; ++n) {
        if (settled_at[n] <= t) candidates.push_back(n);
      }
      if (candidates.empty()) break;
      const size_t n = candidates[UniformIndex(churn, candidates.size())];
      const Duration away = std::chrono::milliseconds(5000 + static_cast<int64_t>(UniformIndex(churn, 25001)));
      plan.outages[n].push_back(Outage{t, t + away, {}});
      settled_at[n] = t + away + kRedialWindow;
    }
  }
  // Then whom each returning node dials: nodes online for its first seconds back.
  for (size_t n = 0; n < o.nodes; ++n) {
    for (Outage& outage : plan.outages[n]) {
      std::vector<uint64_t> online;
      for (size_t m = 0; m < o.nodes; ++m) {
        if (m != n && OnlineThroughout(plan, m, outage.back, outage.back + kRedialWindow)) online.push_back(m);
      }
      Shuffle(churn, &online);
      online.resize(std::min(online.size(), o.dials_per_node));
      outage.redial = std::move(online);
    }
  }
  // Publishers: nodes online from the settling time before the publish until the bound after it.
  std::mt19937_64 publishers = RngOf(o.seed, Stream::kPublishers);
  uint64_t next_id = 1;
  for (Duration t = kWarmUp; t < o.duration; t += kInterval) {
    std::vector<size_t> up;
    for (size_t n = 0; n < o.nodes; ++n) {
      if (OnlineThroughout(plan, n, t - plan.settle, t + plan.max_latency)) up.push_back(n);
    }
    if (up.empty()) continue;
    b.At(up[UniformIndex(publishers, up.size())], t, Publish(kTopic, next_id++, 1024));
  }
  plan.scripts = b.Build(ScoredGossipSub(kTopic, /*ip_colocation=*/false));
  return plan;
}

StatusOr<Plan> PlanFromParams(std::string_view json, const PlanOptions& o) {
  Plan plan;
  plan.name = "params";
  plan.duration = o.duration;
  plan.max_latency = std::chrono::seconds(4);
  plan.placements = DrawPlacements(o.nodes, o.super_fraction, o.seed);
  for (size_t n = 0; n < o.nodes; ++n) {
    StatusOr<InteropScript> script = node::ParseInteropScript(json, n);
    if (!script.ok()) return InvalidArgumentError("node " + std::to_string(n) + ": " + script.status().message());
    for (const ScriptStep& step : script->steps) {
      if (step.kind == ScriptStep::Kind::kAddPartialMessage || step.kind == ScriptStep::Kind::kPublishPartial ||
          step.partial) {
        return InvalidArgumentError("node " + std::to_string(n) + ": partial messages are not simulated");
      }
      for (uint64_t peer : step.connect_to) {
        if (peer >= o.nodes) {
          return InvalidArgumentError("node " + std::to_string(n) + " connects to node " + std::to_string(peer) +
                                      ", beyond the " + std::to_string(o.nodes) + " nodes simulated");
        }
      }
    }
    plan.scripts.push_back(std::move(script).value());
  }
  return plan;
}

}  // namespace libp2p::sim
