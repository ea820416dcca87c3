#include "tools/node/interop_script.h"

#include "gtest/gtest.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/sha256.h"

namespace libp2p::node {
namespace {

constexpr char kScript[] = R"({"script": [
  {"type": "ifNodeIDEquals", "nodeID": 1, "instruction":
    {"type": "initGossipSub", "gossipSubParams": {"D": 4, "Dlo": 3, "HeartbeatInitialDelay": 100200000}}},
  {"type": "ifNodeIDEquals", "nodeID": 0, "instruction": {"type": "initGossipSub", "gossipSubParams": {}}},
  {"type": "setTopicValidationDelay", "topicID": "a-subnet", "delaySeconds": 0.005},
  {"type": "ifNodeIDEquals", "nodeID": 1, "instruction": {"type": "connect", "connectTo": [0, 2]}},
  {"type": "subscribeToTopic", "topicID": "a-subnet"},
  {"type": "waitUntil", "elapsedSeconds": 120},
  {"type": "ifNodeIDEquals", "nodeID": 1, "instruction":
    {"type": "publish", "messageID": 31, "messageSizeBytes": 98304, "topicID": "a-subnet"}}
]})";

TEST(InteropScriptTest, EachNodeGetsItsOwnSteps) {
  StatusOr<InteropScript> one = ParseInteropScript(kScript, 1);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->gossipsub.config.params.d, 4);
  EXPECT_EQ(one->gossipsub.config.params.heartbeat_initial_delay, std::chrono::microseconds(100200));
  ASSERT_EQ(one->steps.size(), 5u);
  EXPECT_EQ(one->steps[0].kind, ScriptStep::Kind::kSetTopicValidationDelay);
  EXPECT_EQ(one->steps[0].delay, std::chrono::milliseconds(5));
  EXPECT_EQ(one->steps[1].connect_to, (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(one->steps[2].kind, ScriptStep::Kind::kSubscribe);
  EXPECT_EQ(one->steps[3].elapsed, std::chrono::seconds(120));
  EXPECT_EQ(one->steps[4].message_id, 31u);
  EXPECT_EQ(one->steps[4].message_size, 98304u);

  StatusOr<InteropScript> zero = ParseInteropScript(kScript, 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->gossipsub.config.params.d, pubsub::gossipsub::GossipSubParams{}.d);
  EXPECT_EQ(zero->steps.size(), 3u);  // No connect, no publish.
}

TEST(InteropScriptTest, MistakesNameTheirPath) {
  auto error = [](const std::string& json) { return ParseInteropScript(json, 0).status().message(); };
  EXPECT_EQ(error("[]"), "expected an object with \"script\"");
  EXPECT_EQ(error(R"({"script": [{"type": "connect", "connectTo": [-1]}]})"),
            "script[0].connectTo: expected an array of node ids");
  EXPECT_EQ(error(R"({"script": [{"type": "jump"}]})"), "script[0].type: unknown instruction jump");
  EXPECT_EQ(error(R"({"script": [{"type": "publish", "topicID": "t", "messageID": 1, "messageSizeBytes": 4}]})"),
            "script[0].messageSizeBytes: at least 8 (the message id's bytes)");
  EXPECT_EQ(error(R"({"script": [{"type": "ifNodeIDEquals", "nodeID": 0, "instruction":
                   {"type": "initGossipSub", "gossipSubParams": {"Dhigh": 3}}}]})"),
            "script[0].instruction.gossipSubParams: Dhigh: unknown field");
  EXPECT_EQ(error(R"({"script": [{"type": "waitUntil"}]})"), "script[0].elapsedSeconds: missing");
  EXPECT_EQ(error(R"({"script": [{"type": "addPartialMessage", "topicID": "t", "groupID": 1, "parts": 256}]})"),
            "script[0].parts: expected a whole number from 0 to 255");
  EXPECT_EQ(error(R"({"script": [{"type": "publishPartial", "topicID": "t", "groupID": 1, "publishToNodeIDs": 3}]})"),
            "script[0].publishToNodeIDs: expected an array of node ids");
  EXPECT_EQ(error(R"({"script": [{"type": "subscribeToTopic", "topicID": "t", "partial": 1}]})"),
            "script[0].partial: expected true or false");
}

// The partial-messages instructions of test-plans' partial-messages scenarios.
TEST(InteropScriptTest, PartialMessageInstructions) {
  StatusOr<InteropScript> s = ParseInteropScript(R"({"script": [
    {"type": "subscribeToTopic", "topicID": "a-subnet", "partial": true},
    {"type": "ifNodeIDEquals", "nodeID": 0,
     "instruction": {"type": "addPartialMessage", "topicID": "a-subnet", "groupID": 200, "parts": 165}},
    {"type": "publishPartial", "topicID": "a-subnet", "groupID": 200, "publishToNodeIDs": [1, 2]},
    {"type": "publishPartial", "topicID": "a-subnet", "groupID": 200}]})", 0);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->steps.size(), 4u);
  EXPECT_EQ(s->steps[0].kind, ScriptStep::Kind::kSubscribe);
  EXPECT_TRUE(s->steps[0].partial);
  EXPECT_EQ(s->steps[1].kind, ScriptStep::Kind::kAddPartialMessage);
  EXPECT_EQ(s->steps[1].group_id, 200u);
  EXPECT_EQ(s->steps[1].parts, 165);
  EXPECT_EQ(s->steps[2].kind, ScriptStep::Kind::kPublishPartial);
  EXPECT_EQ(s->steps[2].publish_to, (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(s->steps[3].publish_to.empty());
}

// The harness's own check of its key derivation (test-plans' go, rust and jvm nodes test the same hash):
// SHA-256 over ">{node id}:{peer id}\n" for the node ids 0 to 9999.
TEST(InteropScriptTest, NodeKeysMatchTheHarnessFingerprint) {
  EXPECT_EQ(crypto::PeerId::FromPublicKey(InteropNodeKey(0).public_key()).ToBase58(),
            "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN");
  std::string all;
  for (uint64_t id = 0; id < 10000; ++id) {
    all += ">" + std::to_string(id) + ":" + crypto::PeerId::FromPublicKey(InteropNodeKey(id).public_key()).ToBase58() + "\n";
  }
  EXPECT_EQ(HexEncode(crypto::Sha256(AsBytes(all))), "11395ea896d00ca25f7f648ebb336488ee092096a5498d90d76b92eaec27867a");
}

TEST(InteropScriptTest, PayloadsCarryTheirIdBigEndian) {
  const Bytes p = InteropPayload(0x0102030405060708, 12);
  EXPECT_EQ(p, (Bytes{1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0}));
  EXPECT_EQ(InteropMessageId(AsStringView(p)), 0x0102030405060708u);
  EXPECT_FALSE(InteropMessageId("short").has_value());
}

}  // namespace
}  // namespace libp2p::node
