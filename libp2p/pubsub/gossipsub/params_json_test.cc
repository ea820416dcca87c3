#include "libp2p/pubsub/gossipsub/params_json.h"

#include <cstdio>
#include <string>
#include <unistd.h>

#include "gtest/gtest.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// A document as go would write it for a tuned node: every mapped field, non-default values, one topic.
constexpr char kFullGoDocument[] = R"({
  "GossipSubParams": {
    "D": 8, "Dlo": 6, "Dhi": 12, "Dscore": 5, "Dout": 3,
    "HistoryLength": 6, "HistoryGossip": 4, "Dlazy": 7, "GossipFactor": 0.3, "GossipRetransmission": 4,
    "HeartbeatInitialDelay": 100100000, "HeartbeatInterval": 700000000,
    "FanoutTTL": 30000000000, "PrunePeers": 20, "PruneBackoff": 90000000000, "UnsubscribeBackoff": 5000000000,
    "Connectors": 4, "MaxPendingConnections": 64, "ConnectionTimeout": 20000000000,
    "DirectConnectTicks": 200, "DirectConnectInitialDelay": 2000000000,
    "OpportunisticGraftTicks": 30, "OpportunisticGraftPeers": 3, "GraftFloodThreshold": 15000000000,
    "MaxIHaveLength": 4000, "MaxIHaveMessages": 12, "MaxIDontWantMessages": 900,
    "IWantFollowupTime": 2500000000, "IDontWantMessageThreshold": 2048, "IDontWantMessageTTL": 4
  },
  "PeerScoreParams": {
    "Topics": {
      "blocks": {
        "TopicWeight": 0.8, "TimeInMeshWeight": 0.03, "TimeInMeshQuantum": 12000000000, "TimeInMeshCap": 300,
        "FirstMessageDeliveriesWeight": 1.5, "FirstMessageDeliveriesDecay": 0.9, "FirstMessageDeliveriesCap": 20,
        "MeshMessageDeliveriesWeight": -0.5, "MeshMessageDeliveriesDecay": 0.95, "MeshMessageDeliveriesCap": 40,
        "MeshMessageDeliveriesThreshold": 4, "MeshMessageDeliveriesWindow": 2000000000,
        "MeshMessageDeliveriesActivation": 64000000000,
        "MeshFailurePenaltyWeight": -0.5, "MeshFailurePenaltyDecay": 0.95,
        "InvalidMessageDeliveriesWeight": -200, "InvalidMessageDeliveriesDecay": 0.99
      }
    },
    "TopicScoreCap": 50, "AppSpecificWeight": 1,
    "IPColocationFactorWeight": -35, "IPColocationFactorThreshold": 3,
    "BehaviourPenaltyWeight": -15.5, "BehaviourPenaltyThreshold": 6, "BehaviourPenaltyDecay": 0.98,
    "DecayInterval": 12000000000, "DecayToZero": 0.01, "RetainScore": 6400000000000
  },
  "PeerScoreThresholds": {
    "GossipThreshold": -4000, "PublishThreshold": -8000, "GraylistThreshold": -16000,
    "AcceptPXThreshold": 100, "OpportunisticGraftThreshold": 5
  }
})";

GossipSubJsonResult MustParse(const std::string& json) {
  StatusOr<GossipSubJsonResult> r = ParseGossipSubJson(json);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : GossipSubJsonResult{};
}

std::string ErrorOf(const std::string& json) {
  StatusOr<GossipSubJsonResult> r = ParseGossipSubJson(json);
  EXPECT_FALSE(r.ok()) << json;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << r.status().message();
  return r.status().message();
}

void ExpectFullDocumentValues(const GossipSubJsonConfig& c) {
  const GossipSubParams& p = c.params;
  EXPECT_EQ(p.d, 8);
  EXPECT_EQ(p.d_lo, 6);
  EXPECT_EQ(p.d_hi, 12);
  EXPECT_EQ(p.d_score, 5);
  EXPECT_EQ(p.d_out, 3);
  EXPECT_EQ(p.mcache_len, 6);
  EXPECT_EQ(p.mcache_gossip, 4);
  EXPECT_EQ(p.d_lazy, 7);
  EXPECT_DOUBLE_EQ(p.gossip_factor, 0.3);
  EXPECT_EQ(p.gossip_retransmission, 4);
  EXPECT_EQ(p.heartbeat_initial_delay, nanoseconds(100100000));
  EXPECT_EQ(p.heartbeat_interval, milliseconds(700));
  EXPECT_EQ(p.fanout_ttl, seconds(30));
  EXPECT_EQ(p.prune_peers, 20);
  EXPECT_EQ(p.prune_backoff, seconds(90));
  EXPECT_EQ(p.unsubscribe_backoff, seconds(5));
  EXPECT_EQ(c.px_connector.max_dialing, 4u);
  EXPECT_EQ(c.px_connector.max_pending, 64u);
  EXPECT_EQ(c.px_connector.dial_lease, seconds(20));
  EXPECT_EQ(p.direct_connect_ticks, 200);
  EXPECT_EQ(p.direct_connect_initial_delay, seconds(2));
  EXPECT_EQ(p.opportunistic_graft_ticks, 30);
  EXPECT_EQ(p.opportunistic_graft_peers, 3);
  EXPECT_EQ(p.graft_flood_threshold, seconds(15));
  EXPECT_EQ(p.max_ihave_length, 4000);
  EXPECT_EQ(p.max_ihave_messages, 12);
  EXPECT_EQ(p.max_idontwant_messages, 900);
  EXPECT_EQ(p.iwant_followup_time, milliseconds(2500));
  EXPECT_EQ(p.idontwant_message_size_threshold, 2048u);
  EXPECT_EQ(p.idontwant_retention_heartbeats, 4);

  ASSERT_TRUE(c.score_params.has_value());
  const PeerScoreParams& s = *c.score_params;
  ASSERT_EQ(s.topics.size(), 1u);
  const TopicScoreParams& t = s.topics.at("blocks");
  EXPECT_DOUBLE_EQ(t.topic_weight, 0.8);
  EXPECT_DOUBLE_EQ(t.time_in_mesh_weight, 0.03);
  EXPECT_EQ(t.time_in_mesh_quantum, seconds(12));
  EXPECT_DOUBLE_EQ(t.time_in_mesh_cap, 300);
  EXPECT_DOUBLE_EQ(t.first_message_deliveries_weight, 1.5);
  EXPECT_DOUBLE_EQ(t.first_message_deliveries_decay, 0.9);
  EXPECT_DOUBLE_EQ(t.first_message_deliveries_cap, 20);
  EXPECT_DOUBLE_EQ(t.mesh_message_deliveries_weight, -0.5);
  EXPECT_DOUBLE_EQ(t.mesh_message_deliveries_decay, 0.95);
  EXPECT_DOUBLE_EQ(t.mesh_message_deliveries_cap, 40);
  EXPECT_DOUBLE_EQ(t.mesh_message_deliveries_threshold, 4);
  EXPECT_EQ(t.mesh_message_deliveries_window, seconds(2));
  EXPECT_EQ(t.mesh_message_deliveries_activation, seconds(64));
  EXPECT_DOUBLE_EQ(t.mesh_failure_penalty_weight, -0.5);
  EXPECT_DOUBLE_EQ(t.mesh_failure_penalty_decay, 0.95);
  EXPECT_DOUBLE_EQ(t.invalid_message_deliveries_weight, -200);
  EXPECT_DOUBLE_EQ(t.invalid_message_deliveries_decay, 0.99);
  EXPECT_DOUBLE_EQ(s.topic_score_cap, 50);
  EXPECT_DOUBLE_EQ(s.app_specific_weight, 1);
  EXPECT_FALSE(s.app_specific_score);
  EXPECT_DOUBLE_EQ(s.ip_colocation_factor_weight, -35);
  EXPECT_EQ(s.ip_colocation_factor_threshold, 3);
  EXPECT_TRUE(s.ip_colocation_factor_whitelist.empty());
  EXPECT_DOUBLE_EQ(s.behaviour_penalty_weight, -15.5);
  EXPECT_DOUBLE_EQ(s.behaviour_penalty_threshold, 6);
  EXPECT_DOUBLE_EQ(s.behaviour_penalty_decay, 0.98);
  EXPECT_EQ(s.decay_interval, seconds(12));
  EXPECT_DOUBLE_EQ(s.decay_to_zero, 0.01);
  EXPECT_EQ(s.retain_score, seconds(6400));

  ASSERT_TRUE(c.thresholds.has_value());
  EXPECT_DOUBLE_EQ(c.thresholds->gossip_threshold, -4000);
  EXPECT_DOUBLE_EQ(c.thresholds->publish_threshold, -8000);
  EXPECT_DOUBLE_EQ(c.thresholds->graylist_threshold, -16000);
  EXPECT_DOUBLE_EQ(c.thresholds->accept_px_threshold, 100);
  EXPECT_DOUBLE_EQ(c.thresholds->opportunistic_graft_threshold, 5);
}

TEST(ParamsJsonTest, FullGoDocumentGivesEveryField) {
  const GossipSubJsonResult r = MustParse(kFullGoDocument);
  EXPECT_TRUE(r.warnings.empty());
  ExpectFullDocumentValues(r.config);
}

TEST(ParamsJsonTest, WrittenDocumentReadsBackToTheSameValues) {
  const GossipSubJsonResult first = MustParse(kFullGoDocument);
  const std::string written = WriteGossipSubJson(first.config);
  const GossipSubJsonResult second = MustParse(written);
  EXPECT_TRUE(second.warnings.empty());
  ExpectFullDocumentValues(second.config);
  EXPECT_EQ(WriteGossipSubJson(second.config), written);
}

TEST(ParamsJsonTest, DefaultsWriteAndReadBack) {
  GossipSubJsonConfig defaults;
  defaults.score_params.emplace();
  defaults.thresholds.emplace();
  const std::string written = WriteGossipSubJson(defaults);
  EXPECT_NE(written.find("\"HeartbeatInterval\": 1000000000"), std::string::npos) << written;
  EXPECT_EQ(WriteGossipSubJson(MustParse(written).config), written);
}

TEST(ParamsJsonTest, BareGossipSubParamsAsTestPlansWritesThem) {
  const GossipSubJsonResult r = MustParse(R"({"D": 1, "Dlo": 1, "Dhi": 1, "Dout": 0, "Dscore": 1,
                                               "HeartbeatInitialDelay": 100200000})");
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(r.config.params.d, 1);
  EXPECT_EQ(r.config.params.d_lo, 1);
  EXPECT_EQ(r.config.params.d_hi, 1);
  EXPECT_EQ(r.config.params.d_out, 0);
  EXPECT_EQ(r.config.params.heartbeat_initial_delay, nanoseconds(100200000));
  // Everything else keeps the defaults (go's), and scoring stays off.
  EXPECT_EQ(r.config.params.heartbeat_interval, seconds(1));
  EXPECT_EQ(r.config.params.d_lazy, 6);
  EXPECT_FALSE(r.config.score_params.has_value());
  EXPECT_FALSE(r.config.thresholds.has_value());
}

TEST(ParamsJsonTest, EmptyObjectAndNullsKeepTheDefaults) {
  EXPECT_EQ(MustParse("{}").config.params.d, 6);
  const GossipSubJsonResult r = MustParse(R"({"GossipSubParams": {"D": null}, "PeerScoreParams": null})");
  EXPECT_EQ(r.config.params.d, 6);
  EXPECT_FALSE(r.config.score_params.has_value());
}

TEST(ParamsJsonTest, WholeNumbersMayBeWrittenAsFloats) {
  const GossipSubJsonResult r = MustParse(R"({"HeartbeatInterval": 7e8, "D": 6.0})");
  EXPECT_EQ(r.config.params.heartbeat_interval, milliseconds(700));
  EXPECT_EQ(r.config.params.d, 6);
}

TEST(ParamsJsonTest, UnknownFieldsAreErrorsNamingThem) {
  EXPECT_EQ(ErrorOf(R"({"GossipSubParams": {"Dhigh": 3}})"), "GossipSubParams.Dhigh: unknown field");
  EXPECT_EQ(ErrorOf(R"({"Dhigh": 3})"), "Dhigh: unknown field");
  EXPECT_EQ(ErrorOf(R"({"PeerScoreParams": {"Topics": {"t": {"Weight": 1}}}})"),
            "PeerScoreParams.Topics[\"t\"].Weight: unknown field");
  EXPECT_EQ(ErrorOf(R"({"PeerScoreThresholds": {"GossipThreshold": -1, "Foo": 1}})"),
            "PeerScoreThresholds.Foo: unknown field");
  EXPECT_EQ(ErrorOf(R"({"GossipSubParams": {}, "D": 6})"),
            "D: unknown field (a document with GossipSubParams, PeerScoreParams or PeerScoreThresholds at the "
            "top holds only those)");
  // Another letter case is pointed out (go's decoder would take it).
  EXPECT_EQ(ErrorOf(R"({"dlo": 3})"), "dlo: unknown field (names are case-sensitive: did you mean Dlo?)");
  EXPECT_EQ(ErrorOf(R"({"gossipSubParams": {}})"),
            "gossipSubParams: unknown field (names are case-sensitive: did you mean GossipSubParams?)");
  // A key that is not an identifier is quoted, control characters escaped, so the message stays one line.
  EXPECT_EQ(ErrorOf("{\"a\\nb\": 1}"), "[\"a\\nb\"]: unknown field");
}

TEST(ParamsJsonTest, WrongTypesAreErrorsNamingTheField) {
  EXPECT_EQ(ErrorOf(R"({"D": "six"})"), "D: expected a whole number, got string");
  EXPECT_EQ(ErrorOf(R"({"GossipSubParams": {"HeartbeatInterval": "1s"}})"),
            "GossipSubParams.HeartbeatInterval: expected a whole number (nanoseconds), got string");
  EXPECT_EQ(ErrorOf(R"({"GossipSubParams": {"D": 6.5}})"), "GossipSubParams.D: expected a whole number, got 6.5");
  EXPECT_EQ(ErrorOf(R"({"GossipFactor": true})"), "GossipFactor: expected a number, got true");
  EXPECT_EQ(ErrorOf(R"({"PeerScoreParams": {"SkipAtomicValidation": 1}})"),
            "PeerScoreParams.SkipAtomicValidation: expected true or false, got 1");
  EXPECT_EQ(ErrorOf(R"({"PeerScoreParams": {"Topics": []}})"),
            "PeerScoreParams.Topics: expected an object of topics, got array");
  EXPECT_EQ(ErrorOf(R"({"PeerScoreParams": {"Topics": {"t": 3}}})"),
            "PeerScoreParams.Topics[\"t\"]: expected an object, got 3");
  EXPECT_EQ(ErrorOf(R"({"GossipSubParams": 3})"), "GossipSubParams: expected an object, got 3");
  EXPECT_EQ(ErrorOf("[1]"), "the document must be a JSON object, not array");
}

TEST(ParamsJsonTest, ValuesOutOfTheFieldsRangeAreErrorsNamingTheField) {
  EXPECT_EQ(ErrorOf(R"({"D": 4294967296})"), "D: 4294967296 is out of range (at most 2147483647 in magnitude)");
  EXPECT_EQ(ErrorOf(R"({"DirectConnectTicks": -1})"),
            "DirectConnectTicks: expected a whole number >= 0 (a go uint64), got -1");
  EXPECT_EQ(ErrorOf(R"({"IDontWantMessageThreshold": -1})"),
            "IDontWantMessageThreshold: expected a whole number >= 0, got -1");
  EXPECT_EQ(ErrorOf(R"({"HeartbeatInterval": 18446744073709551615})"),
            "HeartbeatInterval: 18446744073709551615 is out of range");
  EXPECT_EQ(ErrorOf(R"({"HeartbeatInterval": 1e300})"), "HeartbeatInterval: 1e+300 is out of range");
}

TEST(ParamsJsonTest, UnimplementedGoFieldsAreAcceptedWithAWarningEach) {
  const GossipSubJsonResult r = MustParse(R"({
    "GossipSubParams": {"SlowHeartbeatWarning": 0.1, "MaxIDontWantLength": 10, "D": 7, "Dhi": 12},
    "PeerScoreParams": {"SkipAtomicValidation": false, "SeenMsgTTL": 120000000000,
                        "Topics": {"t": {"SkipAtomicValidation": true}},
                        "AppSpecificScore": null, "IPColocationFactorWhitelist": []},
    "PeerScoreThresholds": {"SkipAtomicValidation": false}})");
  EXPECT_EQ(r.config.params.d, 7);
  ASSERT_EQ(r.warnings.size(), 6u);
  EXPECT_EQ(r.warnings[0].rfind("GossipSubParams.SlowHeartbeatWarning: a go field this project does not implement; "
                                "ignored (",
                                0),
            0u)
      << r.warnings[0];
  EXPECT_EQ(r.warnings[1].rfind("GossipSubParams.MaxIDontWantLength: ", 0), 0u) << r.warnings[1];
  EXPECT_EQ(r.warnings[2].rfind("PeerScoreParams.SkipAtomicValidation: ", 0), 0u) << r.warnings[2];
  // In the document's order.
  EXPECT_EQ(r.warnings[3].rfind("PeerScoreParams.SeenMsgTTL: ", 0), 0u) << r.warnings[3];
  EXPECT_EQ(r.warnings[4].rfind("PeerScoreParams.Topics[\"t\"].SkipAtomicValidation: ", 0), 0u) << r.warnings[4];
  EXPECT_EQ(r.warnings[5].rfind("PeerScoreThresholds.SkipAtomicValidation: ", 0), 0u) << r.warnings[5];
  for (const std::string& w : r.warnings) EXPECT_EQ(w.find('\n'), std::string::npos) << w;
}

TEST(ParamsJsonTest, ThresholdsWithoutScoreParamsWarn) {
  const GossipSubJsonResult r = MustParse(R"({"PeerScoreThresholds": {"AcceptPXThreshold": 0}})");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0], "PeerScoreThresholds: scoring is off without PeerScoreParams, so every peer scores 0 "
                          "against them");
  EXPECT_DOUBLE_EQ(r.config.thresholds->accept_px_threshold, 0);
}

TEST(ParamsJsonTest, CodeOnlyFieldsAreErrors) {
  EXPECT_EQ(ErrorOf(R"({"PeerScoreParams": {"AppSpecificScore": 1}})"),
            "PeerScoreParams.AppSpecificScore: a function, which JSON cannot carry: set "
            "PeerScoreParams::app_specific_score in code (only null is accepted here)");
  EXPECT_EQ(ErrorOf(R"({"PeerScoreParams": {"IPColocationFactorWhitelist": [{"IP": "10.0.0.0", "Mask": "/wAAAA=="}]}})"),
            "PeerScoreParams.IPColocationFactorWhitelist: set PeerScoreParams::ip_colocation_factor_whitelist in "
            "code (only null or [] is accepted here)");
}

TEST(ParamsJsonTest, InvalidValuesGiveTheValidateErrorInGoNames) {
  EXPECT_EQ(ErrorOf(R"({"D": 6, "Dlo": 7})"), "GossipSubParams: Dlo (7) must be <= D (6)");
  EXPECT_EQ(ErrorOf(R"({"GossipSubParams": {"HeartbeatInterval": 0}})"),
            "GossipSubParams: HeartbeatInterval (0ns) must be > 0");
  EXPECT_EQ(ErrorOf(R"({"GossipSubParams": {"HistoryGossip": 6, "HistoryLength": 5}})"),
            "GossipSubParams: HistoryGossip (6) must be <= HistoryLength (5)");
  EXPECT_EQ(ErrorOf(R"({"GossipSubParams": {"ConnectionTimeout": 0}})"),
            "GossipSubParams: ConnectionTimeout (0ns) must be > 0");
  EXPECT_EQ(ErrorOf(R"({"PeerScoreParams": {"Topics": {"d": {"TopicWeight": -1}}}})"),
            "PeerScoreParams.Topics[\"d\"]: TopicWeight must be >= 0");
  EXPECT_EQ(ErrorOf(R"({"PeerScoreParams": {"DecayToZero": 1.5}})"), "PeerScoreParams: DecayToZero must be in (0, 1)");
  EXPECT_EQ(ErrorOf(R"({"PeerScoreThresholds": {"GossipThreshold": -10, "PublishThreshold": -5}})"),
            "PeerScoreThresholds: PublishThreshold must be <= GossipThreshold");
}

TEST(ParamsJsonTest, MalformedDocumentsAndDuplicateKeysAreErrors) {
  EXPECT_EQ(ErrorOf("{\"D\": 6,").rfind("not valid JSON: parse error at line 1", 0), 0u);
  EXPECT_EQ(ErrorOf(""), ErrorOf(""));  // One line, no crash.
  EXPECT_EQ(ErrorOf(R"({"GossipSubParams": {"D": 6, "D": 7}})"), "GossipSubParams.D: appears twice in one object");
}

TEST(ParamsJsonTest, ReadsFiles) {
  char path[] = "/tmp/params_json_testXXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string doc = R"({"D": 4, "Dlo": 3, "Dhi": 5})";
  ASSERT_EQ(::write(fd, doc.data(), doc.size()), static_cast<ssize_t>(doc.size()));
  ::close(fd);
  StatusOr<GossipSubJsonResult> r = ReadGossipSubJsonFile(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.params.d, 4);

  // Parse errors name the file too.
  std::FILE* f = std::fopen(path, "w");
  ASSERT_NE(f, nullptr);
  std::fputs(R"({"D": "x"})", f);
  std::fclose(f);
  StatusOr<GossipSubJsonResult> bad = ReadGossipSubJsonFile(path);
  ::unlink(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), std::string(path) + ": D: expected a whole number, got string");

  StatusOr<GossipSubJsonResult> missing = ReadGossipSubJsonFile("/nonexistent/params.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "cannot read /nonexistent/params.json: No such file or directory");
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
