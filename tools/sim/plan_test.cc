#include "tools/sim/plan.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tools/sim/regions.h"

namespace libp2p::sim {
namespace {

using node::ScriptStep;

// Every (node, kind) step flattened, with the time of the waitUntil before it.
struct TimedStep {
  size_t node;
  Duration at;
  ScriptStep step;
};

std::vector<TimedStep> Flatten(const Plan& plan) {
  std::vector<TimedStep> out;
  for (size_t n = 0; n < plan.scripts.size(); ++n) {
    Duration at{};
    for (const ScriptStep& s : plan.scripts[n].steps) {
      if (s.kind == ScriptStep::Kind::kWaitUntil) {
        EXPECT_GT(s.elapsed, at) << "node " << n << ": waits must move forward";
        at = s.elapsed;
      } else {
        out.push_back({n, at, s});
      }
    }
  }
  return out;
}

std::string Fingerprint(const Plan& plan) {
  std::string f;
  for (const TimedStep& t : Flatten(plan)) {
    f += std::to_string(t.node) + "@" + std::to_string(t.at.count()) + ":" +
         std::to_string(static_cast<int>(t.step.kind)) + t.step.topic + std::to_string(t.step.message_id);
    for (uint64_t p : t.step.connect_to) f += "," + std::to_string(p);
    f += ";";
  }
  for (const Placement& p : plan.placements) f += std::to_string(p.region) + (p.super ? "s" : "f");
  return f;
}

TEST(PlanTest, TheSameSeedGivesTheSamePlanAndAnotherSeedAnother) {
  PlanOptions o;
  o.nodes = 50;
  o.duration = std::chrono::seconds(40);
  EXPECT_EQ(Fingerprint(EthereumPlan(o)), Fingerprint(EthereumPlan(o)));
  EXPECT_EQ(Fingerprint(BlobPlan(o)), Fingerprint(BlobPlan(o)));
  PlanOptions other = o;
  other.seed = 2;
  EXPECT_NE(Fingerprint(EthereumPlan(o)), Fingerprint(EthereumPlan(other)));
  EXPECT_NE(Fingerprint(BlobPlan(o)), Fingerprint(BlobPlan(other)));
}

TEST(PlanTest, BlobPlanIsTheHarnessScenario) {
  PlanOptions o;
  o.nodes = 20;
  const Plan plan = BlobPlan(o);
  ASSERT_EQ(plan.scripts.size(), 20u);
  size_t publishes = 0, subscribes = 0;
  std::set<uint64_t> ids;
  for (const TimedStep& t : Flatten(plan)) {
    if (t.step.kind == ScriptStep::Kind::kPublish) {
      ++publishes;
      ids.insert(t.step.message_id);
      EXPECT_EQ(t.step.message_size, 98304u);
      EXPECT_GE(t.at, std::chrono::seconds(30));
    }
    if (t.step.kind == ScriptStep::Kind::kSubscribe) ++subscribes;
    if (t.step.kind == ScriptStep::Kind::kConnect) {
      EXPECT_EQ(t.step.connect_to.size(), o.dials_per_node);
      EXPECT_EQ(std::count(t.step.connect_to.begin(), t.step.connect_to.end(), t.node), 0);
    }
  }
  EXPECT_EQ(publishes, 16u);
  EXPECT_EQ(ids.size(), 16u);
  EXPECT_EQ(subscribes, 20u);
  EXPECT_EQ(plan.measure_from, std::chrono::seconds(30 + 4 * 12));
}

TEST(PlanTest, EthereumSubnetsAreConnectedAndPublishersAreMembers) {
  PlanOptions o;
  o.nodes = 200;
  o.duration = std::chrono::seconds(30);
  const Plan plan = EthereumPlan(o);
  std::map<std::string, std::set<size_t>> members;
  std::vector<std::vector<uint64_t>> dials(o.nodes);
  std::vector<TimedStep> publishes;
  for (const TimedStep& t : Flatten(plan)) {
    if (t.step.kind == ScriptStep::Kind::kSubscribe) members[t.step.topic].insert(t.node);
    if (t.step.kind == ScriptStep::Kind::kConnect) dials[t.node] = t.step.connect_to;
    if (t.step.kind == ScriptStep::Kind::kPublish) publishes.push_back(t);
  }
  EXPECT_EQ(members["beacon_block"].size(), o.nodes);
  for (const auto& [topic, nodes] : members) {
    if (topic == "beacon_block") continue;
    // Union-find over the links between members: one component per subnet.
    std::map<size_t, size_t> parent;
    for (size_t n : nodes) parent[n] = n;
    std::function<size_t(size_t)> root = [&](size_t n) { return parent[n] == n ? n : parent[n] = root(parent[n]); };
    for (size_t n : nodes) {
      for (uint64_t p : dials[n]) {
        if (nodes.count(p)) parent[root(n)] = root(p);
      }
    }
    std::set<size_t> roots;
    for (size_t n : nodes) roots.insert(root(n));
    EXPECT_EQ(roots.size(), 1u) << topic << " is split";
  }
  // 10 s of publishing: 1 block and 1,000 attestations (100/s), each from a subscriber of its topic.
  size_t blocks = 0;
  for (const TimedStep& t : publishes) {
    EXPECT_TRUE(members[t.step.topic].count(t.node)) << t.step.topic;
    if (t.step.topic == "beacon_block") {
      ++blocks;
      EXPECT_EQ(t.step.message_size, 128u * 1024);
    } else {
      EXPECT_EQ(t.step.message_size, 300u);
    }
  }
  EXPECT_EQ(blocks, 1u);
  EXPECT_EQ(publishes.size(), 1001u);
}

TEST(PlanTest, TheCensorAttackAddsFourSybilsPerHonestNodeToTheSameHonestNetwork) {
  PlanOptions o;
  o.nodes = 30;
  o.duration = std::chrono::seconds(40);
  const Plan attack = CensorAttack(o, CensorMode::kColdBoot);
  const Plan baseline = CensorAttack(o, CensorMode::kBaseline);
  const Plan flash = CensorAttack(o, CensorMode::kCovertFlash);
  EXPECT_EQ(attack.attack_from, Duration::zero());
  EXPECT_EQ(flash.attack_from, std::chrono::seconds(60));
  EXPECT_EQ(flash.attackers, attack.attackers);
  // Colocated: the honest nodes each on a host of their own, 50 Sybils on each of 3 hosts (120 Sybils).
  const Plan colocated = CensorAttack(o, CensorMode::kColocated);
  EXPECT_EQ(colocated.attackers, attack.attackers);
  ASSERT_EQ(colocated.hosts.size(), 150u);
  EXPECT_EQ(HostOf(colocated, 7), 7u);
  EXPECT_EQ(HostOf(colocated, 30), 30u);
  EXPECT_EQ(HostOf(colocated, 79), 30u);
  EXPECT_EQ(HostOf(colocated, 80), 31u);
  EXPECT_EQ(HostOf(colocated, 149), 32u);
  EXPECT_EQ(HostOf(attack, 149), 149u);
  EXPECT_NE(colocated.scripts[0].gossipsub.config.score_params->ip_colocation_factor_weight, 0);
  EXPECT_EQ(attack.scripts[0].gossipsub.config.score_params->ip_colocation_factor_weight, 0);
  ASSERT_EQ(attack.scripts.size(), 150u);
  ASSERT_EQ(baseline.scripts.size(), 30u);
  EXPECT_EQ(std::count(attack.attackers.begin(), attack.attackers.end(), true), 120);
  EXPECT_EQ(std::count(baseline.attackers.begin(), baseline.attackers.end(), true), 0);
  for (size_t n = 0; n < 30; ++n) {
    EXPECT_FALSE(attack.attackers[n]);
    // The honest scripts are the same: links among honest nodes, subscriptions, publishes.
    ASSERT_EQ(attack.scripts[n].steps.size(), baseline.scripts[n].steps.size());
    for (size_t i = 0; i < attack.scripts[n].steps.size(); ++i) {
      EXPECT_EQ(attack.scripts[n].steps[i].connect_to, baseline.scripts[n].steps[i].connect_to);
      EXPECT_EQ(attack.scripts[n].steps[i].message_id, baseline.scripts[n].steps[i].message_id);
    }
    EXPECT_TRUE(attack.scripts[n].gossipsub.config.score_params.has_value());
  }
  for (const TimedStep& t : Flatten(attack)) {
    if (t.node >= 30 && t.step.kind == ScriptStep::Kind::kConnect) {
      EXPECT_EQ(t.step.connect_to.size(), 10u);
      for (uint64_t p : t.step.connect_to) EXPECT_LT(p, 30u) << "a Sybil dials honest nodes only";
    }
    if (t.step.kind == ScriptStep::Kind::kPublish) EXPECT_LT(t.node, 30u) << "only honest nodes publish";
  }
}

TEST(PlanTest, AtDawnTheSybilsAreTheFirstPeers) {
  PlanOptions o;
  o.nodes = 30;
  o.duration = std::chrono::seconds(40);
  const Plan dawn = CensorAttack(o, CensorMode::kAtDawn);
  EXPECT_EQ(dawn.attackers, CensorAttack(o, CensorMode::kColdBoot).attackers);
  size_t connects = 0;
  for (const TimedStep& t : Flatten(dawn)) {
    if (t.step.kind != ScriptStep::Kind::kConnect) continue;
    ++connects;
    if (t.node < 30) {
      EXPECT_GE(t.at, std::chrono::seconds(5)) << "honest node " << t.node << " dials before the Sybils' meshes";
    } else {
      EXPECT_LT(t.at, std::chrono::seconds(1));
    }
  }
  EXPECT_EQ(connects, 150u);
}

TEST(PlanTest, TheEclipseAimsEverySybilAtOneVictim) {
  PlanOptions o;
  o.nodes = 30;
  o.duration = std::chrono::seconds(40);
  const Plan eclipse = CensorAttack(o, CensorMode::kEclipse);
  EXPECT_EQ(eclipse.victims, std::vector<size_t>{0});
  size_t sybil_dials = 0;
  for (const TimedStep& t : Flatten(eclipse)) {
    if (t.step.kind != ScriptStep::Kind::kConnect || t.node < 30) continue;
    ++sybil_dials;
    EXPECT_EQ(t.step.connect_to, std::vector<uint64_t>{0});
    EXPECT_LT(t.at, std::chrono::seconds(5));
  }
  EXPECT_EQ(sybil_dials, 120u);
  // The victim itself dials two honest nodes, then Sybils.
  for (const TimedStep& t : Flatten(eclipse)) {
    if (t.step.kind != ScriptStep::Kind::kConnect || t.node != 0) continue;
    ASSERT_EQ(t.step.connect_to.size(), o.dials_per_node);
    EXPECT_LT(t.step.connect_to[0], 30u);
    EXPECT_LT(t.step.connect_to[1], 30u);
    for (size_t i = 2; i < t.step.connect_to.size(); ++i) EXPECT_GE(t.step.connect_to[i], 30u);
  }
}

TEST(PlanTest, ChurnKeepsRedialsAndPublishersOnline) {
  PlanOptions o;
  o.nodes = 40;
  o.duration = std::chrono::seconds(120);
  const Plan plan = ChurnPlan(o);
  EXPECT_EQ(Fingerprint(plan), Fingerprint(ChurnPlan(o)));
  ASSERT_EQ(plan.outages.size(), 40u);
  size_t outages = 0;
  for (size_t n = 0; n < 40; ++n) {
    Duration online_from{};
    for (const Outage& out : plan.outages[n]) {
      ++outages;
      EXPECT_GE(out.leave, std::chrono::seconds(20));
      EXPECT_GE(out.leave, online_from) << "node " << n << " leaves again before its redial window ended";
      EXPECT_GE(out.back - out.leave, std::chrono::seconds(5));
      EXPECT_LE(out.back - out.leave, std::chrono::seconds(30));
      // As many as are online for its first 10 s back, up to dials_per_node.
      EXPECT_GT(out.redial.size(), 0u);
      EXPECT_LE(out.redial.size(), o.dials_per_node);
      for (uint64_t peer : out.redial) {
        EXPECT_NE(peer, n);
        EXPECT_TRUE(OnlineThroughout(plan, peer, out.back, out.back + std::chrono::seconds(10)));
      }
      online_from = out.back + std::chrono::seconds(10);
    }
  }
  EXPECT_EQ(outages, 100u);  // One a second (one per 100 nodes, at least one) from 20 s to 120 s.
  size_t publishes = 0;
  for (const TimedStep& t : Flatten(plan)) {
    if (t.step.kind != ScriptStep::Kind::kPublish) continue;
    ++publishes;
    EXPECT_TRUE(OnlineThroughout(plan, t.node, t.at - plan.settle, t.at + plan.max_latency)) << t.node;
  }
  EXPECT_EQ(publishes, 900u);  // 10 a second from 30 s.
  // Away means away: at the instant it leaves and until just before it is back.
  size_t who = 0;
  while (plan.outages[who].empty()) ++who;
  const Outage& first = plan.outages[who].front();
  EXPECT_TRUE(OnlineThroughout(plan, who, Duration::zero(), first.leave - std::chrono::milliseconds(1)));
  EXPECT_FALSE(OnlineThroughout(plan, who, first.leave, first.leave));
  EXPECT_FALSE(OnlineThroughout(plan, who, first.back - std::chrono::milliseconds(1), first.back));
  EXPECT_TRUE(OnlineThroughout(plan, who, first.back, first.back));
}

TEST(PlanTest, PlacementsFollowTheWeights) {
  const std::vector<Placement> p = DrawPlacements(20000, 0.2, 9);
  const double supers = static_cast<double>(std::count_if(p.begin(), p.end(), [](auto& x) { return x.super; }));
  EXPECT_NEAR(supers / 20000, 0.2, 0.02);
  double total = 0;
  for (const Region& r : Regions()) total += r.weight;
  for (int region = 0; region < kRegionCount; ++region) {
    const double share =
        static_cast<double>(std::count_if(p.begin(), p.end(), [&](auto& x) { return x.region == region; })) / 20000;
    EXPECT_NEAR(share, Regions()[region].weight / total, 0.02) << Regions()[region].name;
  }
}

TEST(PlanTest, ParamsDocumentsAreCheckedAgainstTheNodeCount) {
  PlanOptions o;
  o.nodes = 3;
  const char* ok = R"({"script": [{"type": "connect", "connectTo": [1, 2]},
                                   {"type": "subscribeToTopic", "topicID": "t"},
                                   {"type": "waitUntil", "elapsedSeconds": 5},
                                   {"type": "ifNodeIDEquals", "nodeID": 0,
                                    "instruction": {"type": "publish", "topicID": "t", "messageID": 7,
                                                    "messageSizeBytes": 100}}]})";
  StatusOr<Plan> plan = PlanFromParams(ok, o);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->scripts.size(), 3u);
  EXPECT_EQ(plan->scripts[0].steps.size(), 4u);
  EXPECT_EQ(plan->scripts[1].steps.size(), 3u);

  o.nodes = 2;
  StatusOr<Plan> beyond = PlanFromParams(ok, o);
  EXPECT_EQ(beyond.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(beyond.status().message().find("beyond the 2 nodes"), std::string::npos) << beyond.status().message();

  const char* partial = R"({"script": [{"type": "subscribeToTopic", "topicID": "t", "partial": true}]})";
  EXPECT_NE(PlanFromParams(partial, o).status().message().find("partial messages are not simulated"),
            std::string::npos);
  EXPECT_EQ(PlanFromParams("not json", o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace libp2p::sim
