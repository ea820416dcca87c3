#include "tools/sim/simulation.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

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

constexpr const char* kFiles[] = {"deliveries.csv", "expected.csv", "nodes.csv", "mesh.csv"};

TEST(SimulationTest, ARunDeliversEveryMessageWithinTheScenariosBound) {
  const Plan plan = SmallBlobPlan();
  const std::string dir = Folder("bound");
  StatusOr<Summary> s = Simulate(plan, SimulationOptions{}, dir);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->messages, 12u);  // 16 published, the first 4 warm-up.
  EXPECT_EQ(s->expected, 12u * 7);
  EXPECT_EQ(s->delivered, s->expected);
  EXPECT_GT(s->p50, Duration::zero());
  EXPECT_LE(s->max, plan.max_latency);
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
  EXPECT_EQ(s->expected, 3u * (middle_censors ? 1 : 2));  // An attacker is not counted as a receiver.
  return s->delivered;
}

TEST(SimulationTest, ACensorInTheMiddleStopsEveryMessage) {
  EXPECT_EQ(DeliveredThroughALine(false), 6u);  // To nodes 1 and 2.
  // Node 2 gets the two messages sent before the censor turned (at 5.9 s), then nothing: not the third
  // message, nor gossip of it.
  EXPECT_EQ(DeliveredThroughALine(true), 2u);
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
  s.expected = 10;
  s.delivered = 9;
  EXPECT_NE(CheckSummary(plan, s).message().find("1 of 10 deliveries missing"), std::string::npos);
  s.delivered = 10;
  s.max = std::chrono::milliseconds(1500);
  EXPECT_NE(CheckSummary(plan, s).message().find("1500.000 ms"), std::string::npos);
  s.max = std::chrono::milliseconds(900);
  EXPECT_TRUE(CheckSummary(plan, s).ok());
  s.failed_dials = 1;
  EXPECT_FALSE(CheckSummary(plan, s).ok());
  s.failed_dials = 0;
  s.failed_subscribes = 1;
  EXPECT_NE(CheckSummary(plan, s).message().find("1 subscriptions failed"), std::string::npos);
}

}  // namespace
}  // namespace libp2p::sim
