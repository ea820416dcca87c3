#include "tools/sim/simulation.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "tools/sim/regions.h"

namespace libp2p::sim {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A fresh folder under the test's temporary directory.
std::string Folder(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  EXPECT_EQ(std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str()), 0);
  return dir;
}

Plan SmallBlobPlan() {
  PlanOptions o;
  o.nodes = 8;
  o.dials_per_node = 3;
  return BlobPlan(o);
}

constexpr const char* kFiles[] = {"deliveries.csv", "expected.csv", "nodes.csv", "mesh.csv", "scores.csv"};

TEST(SimulationTest, ARunDeliversEveryMessageWithinTheScenariosBound) {
  const Plan plan = SmallBlobPlan();
  const std::string dir = Folder("bound");
  StatusOr<Summary> s = Simulate(plan, SimulationOptions{}, dir);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->messages, 12u);  // 16 published, the first 4 warm-up.
  EXPECT_EQ(s->all.expected, 12u * 7);
  EXPECT_EQ(s->all.delivered, s->all.expected);
  EXPECT_GT(s->all.p50, Duration::zero());
  EXPECT_LE(s->all.max, plan.max_latency);
  EXPECT_EQ(s->victims.expected, 0u);  // The plan has none.
  EXPECT_TRUE(CheckSummary(plan, *s).ok()) << CheckSummary(plan, *s).ToString();
  // Every message in the files: 16 in expected.csv, 16 x 7 deliveries.
  std::istringstream deliveries(Read(dir + "/deliveries.csv"));
  std::string line;
  size_t rows = 0;
  while (std::getline(deliveries, line)) ++rows;
  EXPECT_EQ(rows, 1u + 16 * 7);
  EXPECT_NE(Read(dir + "/nodes.csv").find("\n7,"), std::string::npos);
}

TEST(SimulationTest, TheSameRunGivesTheSameBytes) {
  const Plan plan = SmallBlobPlan();
  SimulationOptions options;
  options.jitter = std::chrono::milliseconds(20);
  const std::string a = Folder("a"), b = Folder("b");
  ASSERT_TRUE(Simulate(plan, options, a).ok());
  ASSERT_TRUE(Simulate(plan, options, b).ok());
  for (const char* f : kFiles) {
    EXPECT_FALSE(Read(a + "/" + f).empty()) << f;
    EXPECT_EQ(Read(a + "/" + f), Read(b + "/" + f)) << f << " differs between two runs of one plan and seed";
  }
  // The seed matters: another one draws other jitter, so other arrival times.
  options.seed = 2;
  const std::string c = Folder("c");
  ASSERT_TRUE(Simulate(plan, options, c).ok());
  EXPECT_NE(Read(a + "/deliveries.csv"), Read(c + "/deliveries.csv"));
}

// The null cipher saves CPU and changes nothing else: sizes, timing and every draw are those of the real one.
TEST(SimulationTest, TwoThreadsDeliverEveryMessageAndGiveTheSameBytesRunAfterRun) {
  // Ethereum-like for 24 s: one block and attestations. Blobs would do too, but each 128 KiB buffer they
  // allocate and free costs ThreadSanitizer a shadow mapping and, with two threads, TLB shootdowns on this
  // machine: the same run took 258 s there instead of 0.6 s.
  PlanOptions o;
  o.nodes = 24;
  o.dials_per_node = 3;
  o.duration = std::chrono::seconds(24);
  const Plan plan = EthereumPlan(o);
  // Both shards hold nodes, so that connections and dials cross between the threads.
  std::array<size_t, kRegionCount> nodes_per_region{};
  for (size_t n = 0; n < plan.scripts.size(); ++n) ++nodes_per_region[plan.placements[HostOf(plan, n)].region];
  const RegionShards split = ShardRegions(nodes_per_region, 2);
  size_t on_shard_one = 0;
  for (int r = 0; r < kRegionCount; ++r) on_shard_one += split.shard_of_region[r] == 1 ? nodes_per_region[r] : 0;
  ASSERT_GT(on_shard_one, 0u);
  ASSERT_LT(on_shard_one, plan.scripts.size());

  SimulationOptions options;
  options.shards = 2;
  const std::string a = Folder("threads_a"), b = Folder("threads_b");
  StatusOr<Summary> s = Simulate(plan, options, a);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->all.delivered, s->all.expected);
  EXPECT_TRUE(CheckSummary(plan, *s).ok()) << CheckSummary(plan, *s).ToString();
  ASSERT_TRUE(Simulate(plan, options, b).ok());
  for (const char* file : kFiles) EXPECT_EQ(Read(a + "/" + file), Read(b + "/" + file)) << file;
}

TEST(SimulationTest, TheNullCipherGivesTheSameBytesAsTheRealOne) {
  const Plan plan = SmallBlobPlan();
  SimulationOptions real, null;
  real.null_cipher = false;
  null.null_cipher = true;
  const std::string a = Folder("real"), b = Folder("null");
  ASSERT_TRUE(Simulate(plan, real, a).ok());
  ASSERT_TRUE(Simulate(plan, null, b).ok());
  for (const char* f : kFiles) EXPECT_EQ(Read(a + "/" + f), Read(b + "/" + f)) << f;
}

// Three nodes in a line, 0 - 1 - 2; node 0 publishes 5 messages. Returns how many reached node 2.
uint64_t DeliveredThroughALine(bool middle_censors) {
  PlanOptions o;
  o.nodes = 3;
  o.duration = std::chrono::seconds(20);
  StatusOr<Plan> plan = PlanFromParams(R"({"script": [
      {"type": "subscribeToTopic", "topicID": "t"},
      {"type": "ifNodeIDEquals", "nodeID": 1, "instruction": {"type": "connect", "connectTo": [0, 2]}},
      {"type": "waitUntil", "elapsedSeconds": 5},
      {"type": "ifNodeIDEquals", "nodeID": 0, "instruction":
          {"type": "publish", "topicID": "t", "messageID": 1, "messageSizeBytes": 100}},
      {"type": "ifNodeIDEquals", "nodeID": 0, "instruction":
          {"type": "publish", "topicID": "t", "messageID": 2, "messageSizeBytes": 100}},
      {"type": "waitUntil", "elapsedSeconds": 6},
      {"type": "ifNodeIDEquals", "nodeID": 0, "instruction":
          {"type": "publish", "topicID": "t", "messageID": 3, "messageSizeBytes": 5000}}]})",
                                       o);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  plan->attackers = {false, middle_censors, false};
  plan->attack_from = std::chrono::milliseconds(5900);  // Honest for the first two messages only.
  StatusOr<Summary> s = Simulate(*plan, SimulationOptions{}, Folder("line"));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->all.expected, 3u * (middle_censors ? 1 : 2));  // An attacker is not counted as a receiver.
  return s->all.delivered;
}

TEST(SimulationTest, ACensorInTheMiddleStopsEveryMessage) {
  EXPECT_EQ(DeliveredThroughALine(false), 6u);  // To nodes 1 and 2.
  // Node 2 gets the two messages sent before the censor turned (at 5.9 s), then nothing: not the third
  // message, nor gossip of it.
  EXPECT_EQ(DeliveredThroughALine(true), 2u);
}

// Three nodes, all linked; node 0 publishes at 5, 11 and 15 s; node 2 is away from 10 to 13 s.
TEST(SimulationTest, ANodeThatLeavesMissesWhatIsSentMeanwhileAndRejoinsWhenBack) {
  PlanOptions o;
  o.nodes = 3;
  o.duration = std::chrono::seconds(20);
  StatusOr<Plan> plan = PlanFromParams(R"({"script": [
      {"type": "subscribeToTopic", "topicID": "t"},
      {"type": "ifNodeIDEquals", "nodeID": 1, "instruction": {"type": "connect", "connectTo": [0, 2]}},
      {"type": "ifNodeIDEquals", "nodeID": 2, "instruction": {"type": "connect", "connectTo": [0]}},
      {"type": "waitUntil", "elapsedSeconds": 5},
      {"type": "ifNodeIDEquals", "nodeID": 0, "instruction":
          {"type": "publish", "topicID": "t", "messageID": 1, "messageSizeBytes": 100}},
      {"type": "waitUntil", "elapsedSeconds": 11},
      {"type": "ifNodeIDEquals", "nodeID": 0, "instruction":
          {"type": "publish", "topicID": "t", "messageID": 2, "messageSizeBytes": 100}},
      {"type": "waitUntil", "elapsedSeconds": 15},
      {"type": "ifNodeIDEquals", "nodeID": 0, "instruction":
          {"type": "publish", "topicID": "t", "messageID": 3, "messageSizeBytes": 100}}]})",
                                       o);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  plan->settle = std::chrono::seconds(1);
  plan->outages = {{}, {}, {Outage{std::chrono::seconds(10), std::chrono::seconds(13), {0, 1}}}};
  const std::string dir = Folder("churn");
  StatusOr<Summary> s = Simulate(*plan, SimulationOptions{}, dir);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // Message 2 is not expected at node 2 (away), the others are, and every expected one arrived.
  EXPECT_EQ(s->all.expected, 5u);
  EXPECT_EQ(s->all.delivered, 5u);
  EXPECT_TRUE(CheckSummary(*plan, *s).ok()) << CheckSummary(*plan, *s).ToString();
  const std::string deliveries = Read(dir + "/deliveries.csv");
  EXPECT_NE(deliveries.find("\n1,t,0,5000.000,2,"), std::string::npos) << deliveries;
  EXPECT_EQ(deliveries.find("\n2,t,0,11000.000,2,"), std::string::npos) << "node 2 was away: " << deliveries;
  EXPECT_NE(deliveries.find("\n3,t,0,15000.000,2,"), std::string::npos) << deliveries;
  EXPECT_NE(Read(dir + "/expected.csv").find("\n2,t,0,11000.000,1\n"), std::string::npos);
  // Away, its mesh is empty; back, it meshes with both again.
  const std::string mesh = Read(dir + "/mesh.csv");
  EXPECT_NE(mesh.find("\n9000.000,2,t,2\n"), std::string::npos) << mesh;
  EXPECT_NE(mesh.find("\n12000.000,2,t,0\n"), std::string::npos) << mesh;
  EXPECT_NE(mesh.find("\n20000.000,2,t,2\n"), std::string::npos) << mesh;
}

// Regression: a node whose script subscribes to a topic twice is one subscriber, not two, one of them a
// delivery never made.
TEST(SimulationTest, ANodeSubscribedTwiceIsExpectedOnce) {
  PlanOptions o;
  o.nodes = 2;
  o.duration = std::chrono::seconds(10);
  StatusOr<Plan> plan = PlanFromParams(R"({"script": [
      {"type": "subscribeToTopic", "topicID": "t"},
      {"type": "subscribeToTopic", "topicID": "t"},
      {"type": "ifNodeIDEquals", "nodeID": 1, "instruction": {"type": "connect", "connectTo": [0]}},
      {"type": "waitUntil", "elapsedSeconds": 5},
      {"type": "ifNodeIDEquals", "nodeID": 0, "instruction":
          {"type": "publish", "topicID": "t", "messageID": 1, "messageSizeBytes": 100}}]})",
                                       o);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const std::string dir = Folder("twice");
  StatusOr<Summary> s = Simulate(*plan, SimulationOptions{}, dir);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->all.expected, 1u);
  EXPECT_EQ(s->all.delivered, 1u);
  EXPECT_NE(Read(dir + "/expected.csv").find("\n1,t,0,5000.000,1\n"), std::string::npos) << Read(dir + "/expected.csv");
}

TEST(SimulationTest, TheVictimsDeliveriesAreSummedUpOnTheirOwn) {
  PlanOptions o;
  o.nodes = 6;
  o.dials_per_node = 3;
  o.duration = std::chrono::seconds(40);
  const Plan plan = CensorAttack(o, CensorMode::kEclipse);
  StatusOr<Summary> s = Simulate(plan, SimulationOptions{}, Folder("eclipse"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_GT(s->messages, 0u);
  // Node 0 is expected to receive every measured message but its own.
  size_t own = 0;
  Duration at{};
  for (const node::ScriptStep& step : plan.scripts[0].steps) {
    if (step.kind == node::ScriptStep::Kind::kWaitUntil) at = step.elapsed;
    if (step.kind == node::ScriptStep::Kind::kPublish && at >= plan.measure_from && at + plan.max_latency <= plan.duration) ++own;
  }
  EXPECT_EQ(s->victims.expected, s->messages - own);
  EXPECT_LE(s->victims.delivered, s->victims.expected);
  EXPECT_LT(s->victims.expected, s->all.expected);
}

// Peer scoring at work, as scores.csv shows it: honest nodes score silent Sybils below zero (P3 and its
// failure penalty), and by the end of a censorship attack below their honest peers on average.
TEST(SimulationTest, ScoresShowTheSybilsFallingBehind) {
  PlanOptions o;
  o.nodes = 6;
  o.dials_per_node = 3;
  o.duration = std::chrono::seconds(80);
  const Plan plan = CensorAttack(o, CensorMode::kColdBoot);
  const std::string dir = Folder("scores");
  ASSERT_TRUE(Simulate(plan, SimulationOptions{}, dir).ok());
  std::istringstream rows(Read(dir + "/scores.csv"));
  std::string line;
  std::getline(rows, line);
  EXPECT_EQ(line, "time_ms,node,peer,peer_class,score");
  double sum[2] = {0, 0};
  size_t count[2] = {0, 0};
  double lowest_sybil = 0;
  while (std::getline(rows, line)) {
    std::istringstream fields(line);
    std::string time, node, peer, peer_class, score;
    std::getline(fields, time, ',');
    std::getline(fields, node, ',');
    std::getline(fields, peer, ',');
    std::getline(fields, peer_class, ',');
    std::getline(fields, score, ',');
    if (std::stoul(node) >= 6) continue;  // Honest nodes' views.
    const int sybil = peer_class == "sybil" ? 1 : 0;
    EXPECT_EQ(sybil == 1, std::stoul(peer) >= 6) << line;
    if (sybil == 1) lowest_sybil = std::min(lowest_sybil, std::stod(score));
    if (time != "80000.000") continue;  // The mean at the end.
    sum[sybil] += std::stod(score);
    ++count[sybil];
  }
  ASSERT_GT(count[0], 0u);
  ASSERT_GT(count[1], 0u);
  EXPECT_LT(sum[1] / static_cast<double>(count[1]), sum[0] / static_cast<double>(count[0]));
  EXPECT_LT(lowest_sybil, 0) << "no honest node ever scored a silent Sybil below zero";
}

TEST(SimulationTest, AMissingFolderIsAnError) {
  const StatusOr<Summary> s = Simulate(SmallBlobPlan(), SimulationOptions{}, "/nonexistent/folder");
  EXPECT_EQ(s.status().code(), StatusCode::kInternal);
}

TEST(ResultsTest, MillisecondsArePrintedFromIntegers) {
  EXPECT_EQ(Millis(std::chrono::microseconds(12345)), "12.345");
  EXPECT_EQ(Millis(std::chrono::nanoseconds(999)), "0.000");
  EXPECT_EQ(Millis(std::chrono::seconds(3)), "3000.000");
  EXPECT_EQ(Millis(-std::chrono::microseconds(1500)), "-1.500");
}

TEST(ResultsTest, TheCheckSaysWhatWasMissed) {
  Plan plan;
  plan.max_latency = std::chrono::seconds(1);
  Summary s;
  EXPECT_FALSE(CheckSummary(plan, s).ok());  // Nothing measured.
  s.messages = 2;
  s.all.expected = 10;
  s.all.delivered = 9;
  EXPECT_NE(CheckSummary(plan, s).message().find("1 of 10 deliveries missing"), std::string::npos);
  s.all.delivered = 10;
  s.all.max = std::chrono::milliseconds(1500);
  EXPECT_NE(CheckSummary(plan, s).message().find("1500.000 ms"), std::string::npos);
  s.all.max = std::chrono::milliseconds(900);
  EXPECT_TRUE(CheckSummary(plan, s).ok());
  s.failed_dials = 1;
  EXPECT_FALSE(CheckSummary(plan, s).ok());
  s.failed_dials = 0;
  s.failed_subscribes = 1;
  EXPECT_NE(CheckSummary(plan, s).message().find("1 subscriptions failed"), std::string::npos);
}

}  // namespace
}  // namespace libp2p::sim
