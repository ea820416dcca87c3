// PubSubMetrics as the tracer of a real core and gossipsub router (in-memory network, virtual time): the
// counts a scripted run leaves in the registry, with the events in the order the core reports them.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/metrics/registry.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/testing/scenario.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/pubsub/pubsub_metrics.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::PeerId;
using std::chrono::seconds;

class PubSubMetricsEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Node 0's id, known before the node exists (scenario.h derives its key from "0").
    PubSubMetricsOptions every;  // Every validation timed, so that the histogram counts them all.
    every.validation_timing_every = 1;
    auto m = PubSubMetrics::Create(&registry_, &loop_.clock(), PeerId::FromPublicKey(KeyOf("0").public_key()),
                                   every);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    metrics_ = std::move(m).value();
  }

  std::string Value(const std::string& series) const {
    const std::string text = "\n" + registry_.Render();
    const std::string key = "\n" + series + " ";
    const size_t pos = text.find(key);
    if (pos == std::string::npos) return "absent";
    return text.substr(pos + key.size(), text.find('\n', pos + 1) - pos - key.size());
  }

  metrics::Registry registry_;
  ManualEventLoop loop_;
  std::unique_ptr<PubSubMetrics> metrics_;  // Declared before the nodes: it outlives their cores.
  stream::MemoryNetwork net_{&loop_};
};

TEST_F(PubSubMetricsEventsTest, AScriptedRun) {
  PubSubOptions po;
  po.tracers = {metrics_.get()};
  Node a(&loop_, &net_, 0, {}, po);
  Node b(&loop_, &net_, 1);
  RawPeer raw(&loop_, &net_, "raw");
  ASSERT_EQ(a.id(), PeerId::FromPublicKey(KeyOf("0").public_key()));
  a.pubsub->AddValidator("t", [](const pb::Message& m, std::function<void(ValidationResult)> done) {
    done(m.data() == "bad" ? ValidationResult::kReject : ValidationResult::kAccept);
  });

  a.Join("t");
  b.Join("t");
  a.host->Dial(b.host->listen_addrs()[0], [](auto) {});
  loop_.RunUntilIdle();
  loop_.AdvanceTime(seconds(2));  // Heartbeats graft.
  EXPECT_EQ(Value("gossipsub_topic_subscription_status{topic=\"t\"}"), "1");
  EXPECT_EQ(Value("gossipsub_mesh_peer_inclusion_events_total{topic=\"t\"}"), "1");
  EXPECT_EQ(Value("gossipsub_outbound_streams_opened_total{protocol=\"/meshsub/1.3.0\"}"), "1");
  EXPECT_NE(Value("gossipsub_heartbeat_duration_seconds_count"), "0");

  ASSERT_TRUE(a.pubsub->Publish("t", AsBytes("mine")).status.ok());
  ASSERT_TRUE(b.pubsub->Publish("t", AsBytes("hers")).status.ok());
  loop_.RunUntilIdle();
  raw.ConnectTo(a);
  raw.Send(SubscriptionRpc({"t"}));
  const pb::Message bad = SignedMessage(raw.key, "t", "bad", 1);
  raw.Send(PublishRpc(bad));
  raw.Send(PublishRpc(bad));
  loop_.RunUntilIdle();

  EXPECT_EQ(Value("gossipsub_msg_publish_count_total{topic=\"t\"}"), "1");
  EXPECT_EQ(Value("gossipsub_msg_publish_bytes_total{topic=\"t\"}"), "4");
  EXPECT_EQ(Value("gossipsub_msg_received_prevalidation_total{topic=\"t\"}"), "2");  // hers and bad.
  EXPECT_EQ(Value("gossipsub_accepted_messages_total{topic=\"t\"}"), "1");
  EXPECT_EQ(Value("gossipsub_rejected_messages_total{topic=\"t\"}"), "1");
  EXPECT_EQ(Value("gossipsub_msg_delivered_total{topic=\"t\"}"), "2");  // mine and hers.
  EXPECT_EQ(Value("gossipsub_msg_duplicate_total{topic=\"t\"}"), "1");
  EXPECT_EQ(Value("gossipsub_msg_rejected_total{reason=\"validation failed\"}"), "1");
  EXPECT_EQ(Value("gossipsub_validation_duration_seconds_count{topic=\"t\"}"), "2");
  EXPECT_EQ(metrics_->timed_validations(), 0u);
  EXPECT_NE(Value("gossipsub_rpc_recv_count_total"), "0");
  EXPECT_NE(Value("gossipsub_rpc_sent_count_total"), "0");
  EXPECT_EQ(Value("gossipsub_rpc_recv_message_total"), "3");  // hers, and bad twice.

  PubSubMetricsSample sample;
  sample.topics = {{"t", a.router->Mesh("t").size(), 2}};
  metrics_->Sample(sample);
  EXPECT_EQ(Value("gossipsub_mesh_peers{topic=\"t\"}"), "1");

  // Leaving prunes b (reported before the Leave); the next sample drops the topic's series.
  ASSERT_TRUE(a.pubsub->Unsubscribe("t").ok());
  EXPECT_EQ(Value("gossipsub_mesh_peer_churn_events_total{topic=\"t\"}"), "1");
  EXPECT_EQ(Value("gossipsub_topic_subscription_status{topic=\"t\"}"), "0");
  metrics_->Sample(sample);
  EXPECT_EQ(registry_.Render().find("topic=\"t\""), std::string::npos);
  EXPECT_EQ(registry_.dropped_series().size(), 0u);
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
