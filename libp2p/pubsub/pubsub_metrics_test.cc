// PubSubMetrics fed events directly (no network) on a manual clock, checked against the rendered exposition.
#include "libp2p/pubsub/pubsub_metrics.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/bytes.h"
#include "libp2p/base/clock.h"
#include "libp2p/metrics/registry.h"

namespace libp2p::pubsub {
namespace {

using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

// An identity-multihash peer id holding `name`.
PeerId Id(const std::string& name) {
  std::string bytes = {'\0', static_cast<char>(name.size())};
  bytes += name;
  auto id = PeerId::FromBytes(AsBytes(bytes));
  EXPECT_TRUE(id.ok());
  return *id;
}

pb::Message Msg(const std::string& topic, const std::string& data) {
  pb::Message m;
  m.set_topic(topic);
  m.set_data(data);
  return m;
}

class PubSubMetricsTest : public ::testing::Test {
 protected:
  // Every validation timed, so that the histograms are exact (TimesOneValidationInN covers the default).
  void SetUp() override { Start(Timed()); }
  static PubSubMetricsOptions Timed() {
    PubSubMetricsOptions options;
    options.validation_timing_every = 1;
    return options;
  }

  void Start(PubSubMetricsOptions options) {
    registry_ = std::make_unique<metrics::Registry>();
    auto m = PubSubMetrics::Create(registry_.get(), &clock_, self_, std::move(options));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    m_ = std::move(m).value();
  }

  // The rendered lines that start with `prefix`, each followed by a newline.
  std::string Lines(const std::string& prefix) const {
    const std::string text = registry_->Render();
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t end = text.find('\n', pos);
      if (text.compare(pos, prefix.size(), prefix) == 0) out += text.substr(pos, end + 1 - pos);
      pos = end + 1;
    }
    return out;
  }
  // The value of the sample `series` (name and labels), or "absent".
  std::string Value(const std::string& series) const {
    const std::string line = Lines(series + " ");
    if (line.empty()) return "absent";
    return line.substr(series.size() + 1, line.size() - series.size() - 2);
  }
  size_t RenderedLines() const {
    const std::string text = registry_->Render();
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  }

  // A peer's message through validation to `outcome` ("" delivers it).
  void Validated(const PeerId& from, const pb::Message& msg, const std::string& id, Duration took,
                 std::string_view reject = "") {
    m_->ValidateMessage(TracedMessage{msg, id, from});
    clock_.Advance(took);
    if (reject.empty()) {
      m_->DeliverMessage(TracedMessage{msg, id, from});
    } else {
      m_->RejectMessage(TracedMessage{msg, id, from}, reject);
    }
  }

  const PeerId self_ = Id("self");
  const PeerId peer_ = Id("peer");
  ManualClock clock_;
  std::unique_ptr<metrics::Registry> registry_;
  std::unique_ptr<PubSubMetrics> m_;
};

TEST_F(PubSubMetricsTest, RegistersJsStyleNames) {
  std::string types;
  const std::string text = registry_->Render();
  for (size_t pos = text.find("# TYPE "); pos != std::string::npos; pos = text.find("# TYPE ", pos + 1)) {
    types += text.substr(pos + 7, text.find('\n', pos) - pos - 7) + "\n";
  }
  // Families with series from the start (unlabelled ones, the reasons, and the `other` topic's counters);
  // joined topics, protocols and connections add series as they appear.
  EXPECT_EQ(types,
            "gossipsub_msg_publish_count_total counter\n"
            "gossipsub_msg_publish_bytes_total counter\n"
            "gossipsub_msg_received_prevalidation_total counter\n"
            "gossipsub_accepted_messages_total counter\n"
            "gossipsub_ignored_messages_total counter\n"
            "gossipsub_rejected_messages_total counter\n"
            "gossipsub_msg_delivered_total counter\n"
            "gossipsub_msg_duplicate_total counter\n"
            "gossipsub_msg_undeliverable_total counter\n"
            "gossipsub_mesh_peer_inclusion_events_total counter\n"
            "gossipsub_mesh_peer_churn_events_total counter\n"
            "gossipsub_validation_duration_seconds histogram\n"
            "gossipsub_msg_rejected_total counter\n"
            "gossipsub_outbound_streams_closed_total counter\n"
            "gossipsub_rpc_drop_count_total counter\n"
            "gossipsub_rpc_drop_bytes_total counter\n"
            "gossipsub_iwant_promise_broken_total counter\n"
            "gossipsub_peers_throttled_total counter\n"
            "gossipsub_heartbeat_duration_seconds histogram\n"
            "gossipsub_peers gauge\n"
            "gossipsub_peer_score histogram\n"
            "gossipsub_send_queue_bytes gauge\n"
            "gossipsub_peer_send_queue_bytes_max gauge\n"
            "gossipsub_peer_queue_dropped_total counter\n"
            "gossipsub_pending_validations gauge\n"
            "gossipsub_pending_validation_bytes gauge\n"
            "gossipsub_seen_cache_entries gauge\n"
            "gossipsub_mcache_size gauge\n"
            "gossipsub_mcache_bytes gauge\n"
            "gossipsub_iwant_promises gauge\n"
            "gossipsub_backoff_entries gauge\n"
            "gossipsub_rpc_recv_count_total counter\n"
            "gossipsub_rpc_recv_bytes_total counter\n"
            "gossipsub_rpc_recv_subscription_total counter\n"
            "gossipsub_rpc_recv_message_total counter\n"
            "gossipsub_rpc_recv_control_total counter\n"
            "gossipsub_rpc_recv_ihave_total counter\n"
            "gossipsub_rpc_recv_iwant_total counter\n"
            "gossipsub_rpc_recv_idontwant_total counter\n"
            "gossipsub_rpc_recv_graft_total counter\n"
            "gossipsub_rpc_recv_prune_total counter\n"
            "gossipsub_ihave_rcv_msgids_total counter\n"
            "gossipsub_iwant_rcv_msgids_total counter\n"
            "gossipsub_idontwant_rcv_msgids_total counter\n"
            "gossipsub_rpc_sent_count_total counter\n"
            "gossipsub_rpc_sent_bytes_total counter\n"
            "gossipsub_rpc_sent_subscription_total counter\n"
            "gossipsub_rpc_sent_message_total counter\n"
            "gossipsub_rpc_sent_control_total counter\n"
            "gossipsub_rpc_sent_ihave_total counter\n"
            "gossipsub_rpc_sent_iwant_total counter\n"
            "gossipsub_rpc_sent_idontwant_total counter\n"
            "gossipsub_rpc_sent_graft_total counter\n"
            "gossipsub_rpc_sent_prune_total counter\n"
            "gossipsub_ihave_sent_msgids_total counter\n"
            "gossipsub_iwant_sent_msgids_total counter\n"
            "gossipsub_idontwant_sent_msgids_total counter\n");
}

TEST_F(PubSubMetricsTest, MessagesOfAJoinedTopic) {
  m_->Join("blocks");
  const pb::Message a = Msg("blocks", "aaaa");
  Validated(peer_, a, "id-a", milliseconds(3));
  Validated(peer_, Msg("blocks", "b"), "id-b", milliseconds(20), reject_reason::kValidationFailed);
  Validated(peer_, Msg("blocks", "c"), "id-c", milliseconds(700), reject_reason::kValidationIgnored);
  m_->DuplicateMessage(TracedMessage{a, "id-a", peer_});
  m_->UndeliverableMessage(TracedMessage{a, "id-a", peer_});
  // Our own message: published, then validated and delivered as go reports it.
  const pb::Message mine = Msg("blocks", "mine!");
  m_->PublishMessage(TracedMessage{mine, "id-m", self_});
  m_->ValidateMessage(TracedMessage{mine, "id-m", self_});
  m_->DeliverMessage(TracedMessage{mine, "id-m", self_});

  EXPECT_EQ(Lines("gossipsub_topic_subscription_status"),
            "gossipsub_topic_subscription_status{topic=\"blocks\"} 1\n");
  EXPECT_EQ(Lines("gossipsub_msg_publish_count_total{topic=\"blocks\"}"),
            "gossipsub_msg_publish_count_total{topic=\"blocks\"} 1\n");
  EXPECT_EQ(Value("gossipsub_msg_publish_bytes_total{topic=\"blocks\"}"), "5");
  EXPECT_EQ(Value("gossipsub_msg_received_prevalidation_total{topic=\"blocks\"}"), "3");
  EXPECT_EQ(Value("gossipsub_accepted_messages_total{topic=\"blocks\"}"), "1");
  EXPECT_EQ(Value("gossipsub_rejected_messages_total{topic=\"blocks\"}"), "1");
  EXPECT_EQ(Value("gossipsub_ignored_messages_total{topic=\"blocks\"}"), "1");
  EXPECT_EQ(Value("gossipsub_msg_delivered_total{topic=\"blocks\"}"), "2");
  EXPECT_EQ(Value("gossipsub_msg_duplicate_total{topic=\"blocks\"}"), "1");
  EXPECT_EQ(Value("gossipsub_msg_undeliverable_total{topic=\"blocks\"}"), "1");
  EXPECT_EQ(Value("gossipsub_msg_rejected_total{reason=\"validation failed\"}"), "1");
  EXPECT_EQ(Value("gossipsub_msg_rejected_total{reason=\"validation ignored\"}"), "1");
  // 3 ms, 20 ms and 700 ms; our own message is not timed.
  EXPECT_EQ(Lines("gossipsub_validation_duration_seconds_bucket{topic=\"blocks\""),
            "gossipsub_validation_duration_seconds_bucket{topic=\"blocks\",le=\"0.0001\"} 0\n"
            "gossipsub_validation_duration_seconds_bucket{topic=\"blocks\",le=\"0.0005\"} 0\n"
            "gossipsub_validation_duration_seconds_bucket{topic=\"blocks\",le=\"0.001\"} 0\n"
            "gossipsub_validation_duration_seconds_bucket{topic=\"blocks\",le=\"0.005\"} 1\n"
            "gossipsub_validation_duration_seconds_bucket{topic=\"blocks\",le=\"0.01\"} 1\n"
            "gossipsub_validation_duration_seconds_bucket{topic=\"blocks\",le=\"0.05\"} 2\n"
            "gossipsub_validation_duration_seconds_bucket{topic=\"blocks\",le=\"0.1\"} 2\n"
            "gossipsub_validation_duration_seconds_bucket{topic=\"blocks\",le=\"0.5\"} 2\n"
            "gossipsub_validation_duration_seconds_bucket{topic=\"blocks\",le=\"1\"} 3\n"
            "gossipsub_validation_duration_seconds_bucket{topic=\"blocks\",le=\"5\"} 3\n"
            "gossipsub_validation_duration_seconds_bucket{topic=\"blocks\",le=\"10\"} 3\n"
            "gossipsub_validation_duration_seconds_bucket{topic=\"blocks\",le=\"+Inf\"} 3\n");
  EXPECT_EQ(Value("gossipsub_validation_duration_seconds_count{topic=\"blocks\"}"), "3");
  // Nothing went to the other topics.
  EXPECT_EQ(Value("gossipsub_msg_received_prevalidation_total{topic=\"other\"}"), "0");
  EXPECT_EQ(m_->timed_validations(), 0u);
}

TEST_F(PubSubMetricsTest, TopicsNotJoinedShareTheOtherLabel) {
  Validated(peer_, Msg("spam-1", "x"), "1", milliseconds(1));
  Validated(peer_, Msg("spam-2", "x"), "2", milliseconds(1));
  m_->PublishMessage(TracedMessage{Msg("fanout", "xyz"), "3", self_});
  m_->DuplicateMessage(TracedMessage{Msg("", "x"), "4", peer_});  // No topic at all.
  EXPECT_EQ(Lines("gossipsub_msg_delivered_total"), "gossipsub_msg_delivered_total{topic=\"other\"} 2\n");
  EXPECT_EQ(Value("gossipsub_msg_publish_count_total{topic=\"other\"}"), "1");
  EXPECT_EQ(Value("gossipsub_msg_publish_bytes_total{topic=\"other\"}"), "3");
  EXPECT_EQ(Value("gossipsub_msg_duplicate_total{topic=\"other\"}"), "1");
  EXPECT_EQ(Value("gossipsub_validation_duration_seconds_count{topic=\"other\"}"), "2");
  EXPECT_EQ(Lines("gossipsub_topic_subscription_status"), "");
}

TEST_F(PubSubMetricsTest, RejectReasons) {
  const pb::Message msg = Msg("t", "x");
  for (std::string_view reason :
       {reject_reason::kBlacklistedPeer, reject_reason::kBlacklistedSource, reject_reason::kMissingSignature,
        reject_reason::kUnexpectedSignature, reject_reason::kUnexpectedAuthInfo,
        reject_reason::kInvalidSignature, reject_reason::kValidationQueueFull,
        reject_reason::kValidationThrottled, reject_reason::kValidationFailed,
        reject_reason::kValidationIgnored, reject_reason::kSelfOrigin, std::string_view("made up"),
        std::string_view("also made up"), reject_reason::kInvalidSignature}) {
    m_->RejectMessage(TracedMessage{msg, "id", peer_}, reason);
  }
  m_->RejectMessage(TracedMessage{msg, "own", self_}, reject_reason::kValidationFailed);  // Our validator.
  EXPECT_EQ(Lines("gossipsub_msg_rejected_total{"),
            "gossipsub_msg_rejected_total{reason=\"blacklisted peer\"} 1\n"
            "gossipsub_msg_rejected_total{reason=\"blacklisted source\"} 1\n"
            "gossipsub_msg_rejected_total{reason=\"invalid signature\"} 2\n"
            "gossipsub_msg_rejected_total{reason=\"missing signature\"} 1\n"
            "gossipsub_msg_rejected_total{reason=\"other\"} 2\n"
            "gossipsub_msg_rejected_total{reason=\"self originated message\"} 1\n"
            "gossipsub_msg_rejected_total{reason=\"unexpected auth info\"} 1\n"
            "gossipsub_msg_rejected_total{reason=\"unexpected signature\"} 1\n"
            "gossipsub_msg_rejected_total{reason=\"validation failed\"} 2\n"
            "gossipsub_msg_rejected_total{reason=\"validation ignored\"} 1\n"
            "gossipsub_msg_rejected_total{reason=\"validation queue full\"} 1\n"
            "gossipsub_msg_rejected_total{reason=\"validation throttled\"} 1\n");
  // Only validation's own outcomes of peers' messages count as rejected or ignored.
  EXPECT_EQ(Value("gossipsub_rejected_messages_total{topic=\"other\"}"), "1");
  EXPECT_EQ(Value("gossipsub_ignored_messages_total{topic=\"other\"}"), "2");
}

TEST_F(PubSubMetricsTest, RpcsCountedByPart) {
  pb::RPC rpc;
  rpc.add_subscriptions()->set_topicid("a");
  rpc.add_subscriptions()->set_topicid("b");
  *rpc.add_publish() = Msg("a", "payload");
  pb::ControlMessage* c = rpc.mutable_control();
  auto* ihave = c->add_ihave();
  ihave->add_messageids("1");
  ihave->add_messageids("2");
  ihave->add_messageids("3");
  c->add_ihave()->add_messageids("4");
  auto* iwant = c->add_iwant();
  for (const char* id : {"5", "6", "7", "8"}) iwant->add_messageids(id);
  c->add_idontwant()->add_messageids("9");
  c->add_graft()->set_topicid("a");
  c->add_prune()->set_topicid("a");
  c->add_prune()->set_topicid("b");
  m_->RecvRpc(peer_, rpc);
  const std::string bytes = std::to_string(rpc.ByteSizeLong());

  EXPECT_EQ(Lines("gossipsub_rpc_recv_"),
            "gossipsub_rpc_recv_count_total 1\n"
            "gossipsub_rpc_recv_bytes_total " +
                bytes +
                "\n"
                "gossipsub_rpc_recv_subscription_total 2\n"
                "gossipsub_rpc_recv_message_total 1\n"
                "gossipsub_rpc_recv_control_total 1\n"
                "gossipsub_rpc_recv_ihave_total 2\n"
                "gossipsub_rpc_recv_iwant_total 1\n"
                "gossipsub_rpc_recv_idontwant_total 1\n"
                "gossipsub_rpc_recv_graft_total 1\n"
                "gossipsub_rpc_recv_prune_total 2\n");
  EXPECT_EQ(Value("gossipsub_ihave_rcv_msgids_total"), "4");
  EXPECT_EQ(Value("gossipsub_iwant_rcv_msgids_total"), "4");
  EXPECT_EQ(Value("gossipsub_idontwant_rcv_msgids_total"), "1");
  EXPECT_EQ(Value("gossipsub_rpc_sent_count_total"), "0");

  pb::RPC data;
  *data.add_publish() = Msg("a", "x");
  m_->SendRpc(peer_, data);
  m_->SendRpc(peer_, data);
  m_->DropRpc(peer_, data);
  EXPECT_EQ(Value("gossipsub_rpc_sent_count_total"), "2");
  EXPECT_EQ(Value("gossipsub_rpc_sent_message_total"), "2");
  EXPECT_EQ(Value("gossipsub_rpc_sent_control_total"), "0");
  EXPECT_EQ(Value("gossipsub_rpc_sent_bytes_total"), std::to_string(2 * data.ByteSizeLong()));
  EXPECT_EQ(Value("gossipsub_rpc_drop_count_total"), "1");
  EXPECT_EQ(Value("gossipsub_rpc_drop_bytes_total"), std::to_string(data.ByteSizeLong()));
}

TEST_F(PubSubMetricsTest, OtherEvents) {
  m_->Heartbeat(milliseconds(2));
  m_->Heartbeat(seconds(3));
  m_->BrokenPromise(peer_);
  m_->ThrottlePeer(peer_);
  m_->ThrottlePeer(peer_);
  m_->OnNewOutboundStream(peer_, "/meshsub/1.2.0");
  m_->OnNewOutboundStream(peer_, "/meshsub/1.2.0");
  m_->OnNewOutboundStream(peer_, "/floodsub/1.0.0");
  m_->OnClosedOutboundStream(peer_);
  EXPECT_EQ(Value("gossipsub_heartbeat_duration_seconds_bucket{le=\"0.001\"}"), "0");
  EXPECT_EQ(Value("gossipsub_heartbeat_duration_seconds_bucket{le=\"0.0025\"}"), "1");
  EXPECT_EQ(Value("gossipsub_heartbeat_duration_seconds_bucket{le=\"1\"}"), "1");
  EXPECT_EQ(Value("gossipsub_heartbeat_duration_seconds_bucket{le=\"+Inf\"}"), "2");
  EXPECT_EQ(Value("gossipsub_heartbeat_duration_seconds_sum"), "3.002");
  EXPECT_EQ(Value("gossipsub_iwant_promise_broken_total"), "1");
  EXPECT_EQ(Value("gossipsub_peers_throttled_total"), "2");
  EXPECT_EQ(Lines("gossipsub_outbound_streams_"),
            "gossipsub_outbound_streams_opened_total{protocol=\"/floodsub/1.0.0\"} 1\n"
            "gossipsub_outbound_streams_opened_total{protocol=\"/meshsub/1.2.0\"} 2\n"
            "gossipsub_outbound_streams_closed_total 1\n");
}

TEST_F(PubSubMetricsTest, OverlappingValidationsAreTimedEach) {
  const pb::Message msg = Msg("t", "x");
  m_->ValidateMessage(TracedMessage{msg, "a", peer_});
  clock_.Advance(milliseconds(1));
  m_->ValidateMessage(TracedMessage{msg, "b", peer_});
  clock_.Advance(milliseconds(2));
  m_->ValidateMessage(TracedMessage{msg, "c", peer_});
  EXPECT_EQ(m_->timed_validations(), 3u);
  m_->DeliverMessage(TracedMessage{msg, "b", peer_});  // 2 ms.
  clock_.Advance(milliseconds(7));
  m_->RejectMessage(TracedMessage{msg, "a", peer_}, reject_reason::kValidationFailed);  // 10 ms.
  m_->DeliverMessage(TracedMessage{msg, "c", peer_});                                   // 7 ms.
  m_->DeliverMessage(TracedMessage{msg, "never validated", peer_});                     // Not timed.
  EXPECT_EQ(m_->timed_validations(), 0u);
  EXPECT_EQ(Value("gossipsub_validation_duration_seconds_bucket{topic=\"other\",le=\"0.005\"}"), "1");
  EXPECT_EQ(Value("gossipsub_validation_duration_seconds_bucket{topic=\"other\",le=\"0.01\"}"), "3");
  EXPECT_EQ(Value("gossipsub_validation_duration_seconds_count{topic=\"other\"}"), "3");
}

// By default one validation in 16 is timed: the first, the 17th, ... (the others cost no clock reading).
TEST_F(PubSubMetricsTest, TimesOneValidationInN) {
  Start(PubSubMetricsOptions{});
  const pb::Message msg = Msg("t", "x");
  for (int i = 0; i < 40; ++i) {
    const std::string id = "m" + std::to_string(i);
    m_->ValidateMessage(TracedMessage{msg, id, peer_});
    clock_.Advance(milliseconds(1));
    m_->DeliverMessage(TracedMessage{msg, id, peer_});
  }
  EXPECT_EQ(Value("gossipsub_validation_duration_seconds_count{topic=\"other\"}"), "3");
  EXPECT_EQ(Value("gossipsub_accepted_messages_total{topic=\"other\"}"), "40");
}

TEST_F(PubSubMetricsTest, TimedValidationsAreBounded) {
  PubSubMetricsOptions options = Timed();
  options.max_timed_validations = 4;
  options.max_validation_time = seconds(30);
  Start(options);
  const pb::Message msg = Msg("t", "x");
  for (int i = 0; i < 1000; ++i) m_->ValidateMessage(TracedMessage{msg, std::to_string(i), peer_});
  EXPECT_EQ(m_->timed_validations(), 5u);  // The map's 4 and the last one.
  // The newest are kept, the oldest forgotten.
  m_->DeliverMessage(TracedMessage{msg, "0", peer_});
  m_->DeliverMessage(TracedMessage{msg, "996", peer_});
  m_->DeliverMessage(TracedMessage{msg, "999", peer_});
  EXPECT_EQ(Value("gossipsub_validation_duration_seconds_count{topic=\"other\"}"), "2");
  // Those waited for longer than max_validation_time are forgotten as new ones start.
  clock_.Advance(seconds(31));
  m_->ValidateMessage(TracedMessage{msg, "new-1", peer_});
  m_->ValidateMessage(TracedMessage{msg, "new-2", peer_});
  EXPECT_EQ(m_->timed_validations(), 2u);
}

TEST_F(PubSubMetricsTest, JoinSampleLeave) {
  m_->Join("t");
  m_->Graft(peer_, "t");
  PubSubMetricsSample sample;
  sample.topics = {{"t", 3, 5}, {"not-joined", 7, 9}};
  m_->Sample(sample);
  EXPECT_EQ(Lines("gossipsub_mesh_peers"), "gossipsub_mesh_peers{topic=\"t\"} 3\n");
  EXPECT_EQ(Lines("gossipsub_topic_peers"), "gossipsub_topic_peers{topic=\"t\"} 5\n");
  EXPECT_EQ(Value("gossipsub_mesh_peer_inclusion_events_total{topic=\"t\"}"), "1");

  // go reports a leave's PRUNEs after the Leave: they still count for the topic...
  m_->Leave("t");
  m_->Prune(peer_, "t");
  EXPECT_EQ(Value("gossipsub_topic_subscription_status{topic=\"t\"}"), "0");
  EXPECT_EQ(Value("gossipsub_mesh_peer_churn_events_total{topic=\"t\"}"), "1");
  EXPECT_EQ(m_->labelled_topics(), 1u);
  // ...and the next sample removes every series of the topic.
  m_->Sample(sample);
  EXPECT_EQ(m_->labelled_topics(), 0u);
  EXPECT_EQ(registry_->Render().find("topic=\"t\""), std::string::npos);
  m_->Prune(peer_, "t");
  EXPECT_EQ(Value("gossipsub_mesh_peer_churn_events_total{topic=\"other\"}"), "1");
}

TEST_F(PubSubMetricsTest, GraftsBeforeTheJoinCountForTheTopic) {
  // Our core reports the GRAFTs of a join before the Join itself.
  m_->Graft(peer_, "t");
  m_->Graft(Id("peer2"), "t");
  m_->Join("t");
  EXPECT_EQ(Value("gossipsub_mesh_peer_inclusion_events_total{topic=\"t\"}"), "2");
  EXPECT_EQ(Value("gossipsub_topic_subscription_status{topic=\"t\"}"), "1");
  // Left and joined again before a sample: the series go on.
  m_->Leave("t");
  m_->Join("t");
  m_->Sample({});
  EXPECT_EQ(Value("gossipsub_mesh_peer_inclusion_events_total{topic=\"t\"}"), "2");
  EXPECT_EQ(Value("gossipsub_topic_subscription_status{topic=\"t\"}"), "1");
}

TEST_F(PubSubMetricsTest, ATopicNamedLikeTheOtherLabelSharesIt) {
  m_->Join("other");
  Validated(peer_, Msg("other", "x"), "1", milliseconds(1));
  m_->Leave("other");
  m_->Sample({});
  // The shared series survive the leave.
  EXPECT_EQ(Value("gossipsub_msg_delivered_total{topic=\"other\"}"), "1");
  Validated(peer_, Msg("other", "x"), "2", milliseconds(1));
  EXPECT_EQ(Value("gossipsub_msg_delivered_total{topic=\"other\"}"), "2");
}

TEST_F(PubSubMetricsTest, SampleSetsTheStateGauges) {
  const PeerId a = Id("a"), b = Id("b"), c = Id("c");
  PubSubMetricsSample s;
  s.peers = {{a, "/meshsub/1.2.0", -20.0, 100, 1, 2},
             {b, "/meshsub/1.2.0", 5.0, 4000, 0, 0},
             {c, "/floodsub/1.0.0", std::nullopt, 0, 3, 0}};
  s.connections = {
      {true, "/yamux/1.0.0"}, {false, "/yamux/1.0.0"}, {false, "/yamux/1.0.0"}, {true, "/mplex/6.7.0"}};
  s.send_queue_bytes = 4100;
  s.pending_validations = 7;
  s.pending_validation_bytes = 7000;
  s.seen_entries = 123;
  s.mcache_messages = 10;
  s.mcache_bytes = 10240;
  s.promises = 2;
  s.backoff_entries = 1;
  m_->Sample(s);
  EXPECT_EQ(Value("gossipsub_peers"), "3");
  EXPECT_EQ(Lines("gossipsub_peers_per_protocol{"),
            "gossipsub_peers_per_protocol{protocol=\"/floodsub/1.0.0\"} 1\n"
            "gossipsub_peers_per_protocol{protocol=\"/meshsub/1.2.0\"} 2\n");
  EXPECT_EQ(Lines("libp2p_host_connections{"),
            "libp2p_host_connections{direction=\"inbound\",muxer=\"/mplex/6.7.0\"} 1\n"
            "libp2p_host_connections{direction=\"inbound\",muxer=\"/yamux/1.0.0\"} 1\n"
            "libp2p_host_connections{direction=\"outbound\",muxer=\"/yamux/1.0.0\"} 2\n");
  EXPECT_EQ(Value("gossipsub_peer_score_bucket{le=\"-50\"}"), "0");
  EXPECT_EQ(Value("gossipsub_peer_score_bucket{le=\"-10\"}"), "1");
  EXPECT_EQ(Value("gossipsub_peer_score_bucket{le=\"10\"}"), "2");
  EXPECT_EQ(Value("gossipsub_peer_score_count"), "2");  // c has no score.
  EXPECT_EQ(Value("gossipsub_send_queue_bytes"), "4100");
  EXPECT_EQ(Value("gossipsub_peer_send_queue_bytes_max"), "4000");
  EXPECT_EQ(Value("gossipsub_peer_queue_dropped_total{reason=\"timeout\"}"), "4");
  EXPECT_EQ(Value("gossipsub_peer_queue_dropped_total{reason=\"unwanted\"}"), "2");
  EXPECT_EQ(Value("gossipsub_pending_validations"), "7");
  EXPECT_EQ(Value("gossipsub_pending_validation_bytes"), "7000");
  EXPECT_EQ(Value("gossipsub_seen_cache_entries"), "123");
  EXPECT_EQ(Value("gossipsub_mcache_size"), "10");
  EXPECT_EQ(Value("gossipsub_mcache_bytes"), "10240");
  EXPECT_EQ(Value("gossipsub_iwant_promises"), "2");
  EXPECT_EQ(Value("gossipsub_backoff_entries"), "1");

  // Next sample: a's counts grew, b left, c reconnected (a new peer object: its counts restarted), floodsub
  // and mplex are gone.
  s.peers = {{a, "/meshsub/1.2.0", -20.0, 0, 5, 2}, {c, "/meshsub/1.2.0", 1.0, 0, 1, 1}};
  s.connections = {{false, "/yamux/1.0.0"}};
  m_->Sample(s);
  EXPECT_EQ(Value("gossipsub_peer_queue_dropped_total{reason=\"timeout\"}"), "9");  // +4 (a), +1 (c).
  EXPECT_EQ(Value("gossipsub_peer_queue_dropped_total{reason=\"unwanted\"}"), "3");
  EXPECT_EQ(Lines("gossipsub_peers_per_protocol{"),
            "gossipsub_peers_per_protocol{protocol=\"/floodsub/1.0.0\"} 0\n"
            "gossipsub_peers_per_protocol{protocol=\"/meshsub/1.2.0\"} 2\n");
  EXPECT_EQ(Lines("libp2p_host_connections{"),
            "libp2p_host_connections{direction=\"inbound\",muxer=\"/mplex/6.7.0\"} 0\n"
            "libp2p_host_connections{direction=\"inbound\",muxer=\"/yamux/1.0.0\"} 0\n"
            "libp2p_host_connections{direction=\"outbound\",muxer=\"/yamux/1.0.0\"} 1\n");
  EXPECT_EQ(Value("gossipsub_peer_score_count"), "4");
  EXPECT_EQ(Value("gossipsub_peer_send_queue_bytes_max"), "0");
}

// However many topic names peers use, and in whatever event, the registry holds the same series: only topics
// we joined get labels, at most max_topics of them.
TEST_F(PubSubMetricsTest, HostileTopicNamesCannotGrowTheRegistry) {
  PubSubMetricsOptions options = Timed();
  options.max_topics = 4;
  Start(options);
  m_->Join("mine");
  m_->Sample({});
  const size_t lines_before = RenderedLines();

  for (int i = 0; i < 10000; ++i) {
    const std::string topic = "hostile-" + std::to_string(i) + std::string(i % 7 == 0 ? 300 : 0, 'x');
    const pb::Message msg = Msg(topic, "x");
    const std::string id = "id-" + std::to_string(i);
    Validated(peer_, msg, id, milliseconds(1), i % 3 == 0 ? reject_reason::kValidationFailed : "");
    m_->DuplicateMessage(TracedMessage{msg, id, peer_});
    m_->UndeliverableMessage(TracedMessage{msg, id, peer_});
    m_->RejectMessage(TracedMessage{msg, id, peer_}, topic);  // Not one of go's reasons.
    m_->Prune(peer_, topic);
    m_->Leave(topic);
    pb::RPC rpc;
    rpc.add_subscriptions()->set_topicid(topic);
    rpc.mutable_control()->add_ihave()->set_topicid(topic);
    rpc.mutable_control()->add_graft()->set_topicid(topic);
    m_->RecvRpc(peer_, rpc);
    PubSubMetricsSample sample;
    sample.topics = {{topic, 1, 1}};
    if (i % 100 == 0) m_->Sample(sample);
  }
  EXPECT_EQ(RenderedLines(), lines_before);
  EXPECT_EQ(m_->labelled_topics(), 1u);
  EXPECT_EQ(registry_->dropped_series().size(), 0u);
  EXPECT_EQ(Value("gossipsub_msg_received_prevalidation_total{topic=\"other\"}"), "10000");

  // Even grafts and joins (which only our own subscriptions cause) stop at max_topics.
  for (int i = 0; i < 1000; ++i) {
    m_->Graft(peer_, "g-" + std::to_string(i));
    m_->Join("j-" + std::to_string(i));
  }
  EXPECT_EQ(m_->labelled_topics(), 4u);
  EXPECT_EQ(registry_->dropped_series().size(), 0u);
  // "mine", g-0, j-0 and g-1 took the four places; the other 998 grafts went to other.
  EXPECT_EQ(Value("gossipsub_mesh_peer_inclusion_events_total{topic=\"other\"}"), "998");
}

// Every family with series, through promtool's linter (Debian's prometheus package; tools/setup.sh installs
// it): the exposition parses, and names, suffixes and help texts are as Prometheus wants them.
TEST_F(PubSubMetricsTest, ExpositionPassesPromtoolLint) {
  constexpr const char* kPromtool = "/usr/bin/promtool";
  if (::access(kPromtool, X_OK) != 0) GTEST_SKIP() << "no " << kPromtool;
  m_->Join("t");
  Validated(peer_, Msg("t", "x"), "1", milliseconds(2));
  m_->OnNewOutboundStream(peer_, "/meshsub/1.2.0");
  m_->Heartbeat(milliseconds(1));
  PubSubMetricsSample sample;
  sample.topics = {{"t", 2, 3}};
  sample.peers = {{peer_, "/meshsub/1.2.0", 1.5, 10, 1, 1}};
  sample.connections = {{true, "/yamux/1.0.0"}};
  m_->Sample(sample);
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/pubsub_metrics_exposition.txt";
  std::ofstream(path) << registry_->Render();

  const std::string command = std::string(kPromtool) + " check metrics < " + path + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), pipe) != nullptr) output += buf;
  EXPECT_EQ(::pclose(pipe), 0) << output;
  EXPECT_EQ(output, "");
}

TEST_F(PubSubMetricsTest, CreateFailures) {
  EXPECT_EQ(PubSubMetrics::Create(registry_.get(), &clock_, self_).status().code(),
            StatusCode::kAlreadyExists);
  metrics::Registry fresh;
  PubSubMetricsOptions options = Timed();
  options.max_topics = 0;
  EXPECT_EQ(PubSubMetrics::Create(&fresh, &clock_, self_, options).status().code(),
            StatusCode::kInvalidArgument);
  options = {};
  options.other_topic = "";
  EXPECT_EQ(PubSubMetrics::Create(&fresh, &clock_, self_, options).status().code(),
            StatusCode::kInvalidArgument);
  options = {};
  options.validation_timing_every = 0;
  EXPECT_EQ(PubSubMetrics::Create(&fresh, &clock_, self_, options).status().code(),
            StatusCode::kInvalidArgument);
  options = {};
  options.heartbeat_buckets = {2, 1};
  EXPECT_EQ(PubSubMetrics::Create(&fresh, &clock_, self_, options).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace libp2p::pubsub
