#include "libp2p/pubsub/gossipsub/params.h"

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(GossipSubParamsTest, DefaultsAreTheSpecsAndGos) {
  const GossipSubParams p;
  EXPECT_EQ(p.d, 6);
  EXPECT_EQ(p.d_lo, 5);
  EXPECT_EQ(p.d_hi, 12);
  EXPECT_EQ(p.d_lazy, 6);
  EXPECT_EQ(p.d_score, 4);
  EXPECT_EQ(p.d_out, 2);
  EXPECT_EQ(p.heartbeat_interval, seconds(1));
  EXPECT_EQ(p.heartbeat_initial_delay, milliseconds(100));
  EXPECT_EQ(p.fanout_ttl, seconds(60));
  EXPECT_EQ(p.mcache_len, 5);
  EXPECT_EQ(p.mcache_gossip, 3);
  EXPECT_DOUBLE_EQ(p.gossip_factor, 0.25);
  EXPECT_EQ(p.gossip_retransmission, 3);
  EXPECT_EQ(p.prune_backoff, minutes(1));
  EXPECT_EQ(p.unsubscribe_backoff, seconds(10));
  EXPECT_EQ(p.backoff_slack_heartbeats, 1);
  EXPECT_EQ(p.prune_peers, 16);
  EXPECT_EQ(p.graft_flood_threshold, seconds(10));
  EXPECT_EQ(p.opportunistic_graft_ticks, 60);
  EXPECT_EQ(p.opportunistic_graft_peers, 2);
  EXPECT_EQ(p.direct_connect_ticks, 300);
  EXPECT_EQ(p.direct_connect_initial_delay, seconds(1));
  EXPECT_TRUE(p.flood_publish);
  EXPECT_EQ(p.iwant_followup_time, seconds(3));
  EXPECT_EQ(p.max_ihave_length, 5000);
  EXPECT_EQ(p.max_ihave_messages, 10);
  EXPECT_EQ(p.max_iwant_messages_per_heartbeat, 5000);
  EXPECT_EQ(p.idontwant_message_size_threshold, 1024u);
  EXPECT_EQ(p.max_idontwant_messages, 1000);
  EXPECT_EQ(p.idontwant_retention_heartbeats, 3);
  EXPECT_EQ(p.max_idontwant_entries_per_peer, 5000);
}

TEST(GossipSubParamsTest, DefaultsValidate) {
  const Status s = GossipSubParams().Validate();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

struct Violation {
  const char* what;
  std::function<void(GossipSubParams&)> change;
  // The whole message: one rule, naming the parameter, its value and the rule.
  std::string message;
};

// Each change breaks exactly one rule of otherwise default parameters.
std::vector<Violation> SingleViolations() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return {
      {"d_lo above d", [](auto& p) { p.d_lo = 7; }, "d_lo (7) must be <= d (6)"},
      {"d_hi below d", [](auto& p) { p.d_hi = 5; }, "d_hi (5) must be >= d (6)"},
      {"d above d_hi", [](auto& p) { p.d = 13; }, "d_hi (12) must be >= d (13)"},
      {"d_out not below d_lo", [](auto& p) { p.d = 10; p.d_lo = 4; p.d_out = 4; },
       "d_out (4) must be < d_lo (4) unless d is 0"},
      {"d_out above d / 2", [](auto& p) { p.d_out = 4; }, "d_out (4) must be <= d / 2 (3)"},
      {"d_out negative", [](auto& p) { p.d_out = -1; }, "d_out (-1) must be >= 0"},
      {"d_score above d", [](auto& p) { p.d_score = 7; }, "d_score (7) must be <= d (6)"},
      {"d_score negative", [](auto& p) { p.d_score = -1; }, "d_score (-1) must be >= 0"},
      {"d_lazy negative", [](auto& p) { p.d_lazy = -1; }, "d_lazy (-1) must be >= 0"},
      {"heartbeat_interval zero", [](auto& p) { p.heartbeat_interval = Duration::zero(); },
       "heartbeat_interval (0ns) must be > 0"},
      {"heartbeat_interval negative", [](auto& p) { p.heartbeat_interval = -milliseconds(5); },
       "heartbeat_interval (-5ms) must be > 0"},
      {"heartbeat_initial_delay negative", [](auto& p) { p.heartbeat_initial_delay = -milliseconds(1); },
       "heartbeat_initial_delay (-1ms) must be >= 0"},
      {"fanout_ttl zero", [](auto& p) { p.fanout_ttl = Duration::zero(); }, "fanout_ttl (0ns) must be > 0"},
      {"mcache_gossip zero", [](auto& p) { p.mcache_gossip = 0; }, "mcache_gossip (0) must be >= 1"},
      {"mcache_gossip above mcache_len", [](auto& p) { p.mcache_gossip = 6; },
       "mcache_gossip (6) must be <= mcache_len (5)"},
      {"gossip_factor negative", [](auto& p) { p.gossip_factor = -0.1; }, "gossip_factor (-0.1) must be in [0, 1]"},
      {"gossip_factor above one", [](auto& p) { p.gossip_factor = 1.5; }, "gossip_factor (1.5) must be in [0, 1]"},
      {"gossip_factor NaN", [nan](auto& p) { p.gossip_factor = nan; }, "gossip_factor (nan) must be in [0, 1]"},
      {"gossip_retransmission zero", [](auto& p) { p.gossip_retransmission = 0; },
       "gossip_retransmission (0) must be >= 1"},
      {"prune_backoff negative", [](auto& p) { p.prune_backoff = -seconds(1); }, "prune_backoff (-1s) must be >= 0"},
      {"unsubscribe_backoff negative", [](auto& p) { p.unsubscribe_backoff = -seconds(10); },
       "unsubscribe_backoff (-10s) must be >= 0"},
      {"backoff_slack_heartbeats negative", [](auto& p) { p.backoff_slack_heartbeats = -1; },
       "backoff_slack_heartbeats (-1) must be >= 0"},
      {"prune_peers negative", [](auto& p) { p.prune_peers = -1; }, "prune_peers (-1) must be >= 0"},
      {"graft_flood_threshold negative", [](auto& p) { p.graft_flood_threshold = -Duration(1); },
       "graft_flood_threshold (-1ns) must be >= 0"},
      {"opportunistic_graft_ticks zero", [](auto& p) { p.opportunistic_graft_ticks = 0; },
       "opportunistic_graft_ticks (0) must be >= 1"},
      {"opportunistic_graft_peers negative", [](auto& p) { p.opportunistic_graft_peers = -2; },
       "opportunistic_graft_peers (-2) must be >= 0"},
      {"direct_connect_ticks zero", [](auto& p) { p.direct_connect_ticks = 0; },
       "direct_connect_ticks (0) must be >= 1"},
      {"direct_connect_initial_delay negative", [](auto& p) { p.direct_connect_initial_delay = -seconds(1); },
       "direct_connect_initial_delay (-1s) must be >= 0"},
      {"iwant_followup_time zero", [](auto& p) { p.iwant_followup_time = Duration::zero(); },
       "iwant_followup_time (0ns) must be > 0"},
      {"max_ihave_length zero", [](auto& p) { p.max_ihave_length = 0; }, "max_ihave_length (0) must be >= 1"},
      {"max_ihave_messages zero", [](auto& p) { p.max_ihave_messages = 0; }, "max_ihave_messages (0) must be >= 1"},
      {"max_iwant_messages_per_heartbeat zero", [](auto& p) { p.max_iwant_messages_per_heartbeat = 0; },
       "max_iwant_messages_per_heartbeat (0) must be >= 1"},
      {"max_idontwant_messages negative", [](auto& p) { p.max_idontwant_messages = -1; },
       "max_idontwant_messages (-1) must be >= 0"},
      {"idontwant_retention_heartbeats zero", [](auto& p) { p.idontwant_retention_heartbeats = 0; },
       "idontwant_retention_heartbeats (0) must be >= 1"},
      {"max_idontwant_entries_per_peer zero", [](auto& p) { p.max_idontwant_entries_per_peer = 0; },
       "max_idontwant_entries_per_peer (0) must be >= 1"},
  };
}

TEST(GossipSubParamsTest, EachRuleAloneIsReportedByName) {
  for (const Violation& v : SingleViolations()) {
    SCOPED_TRACE(v.what);
    GossipSubParams p;
    v.change(p);
    const Status s = p.Validate();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), v.message);
  }
}

TEST(GossipSubParamsTest, EveryViolationIsReportedAtOnce) {
  GossipSubParams p;
  p.d_lo = 7;
  p.mcache_gossip = 9;
  p.gossip_factor = 2;
  const Status s = p.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "d_lo (7) must be <= d (6); mcache_gossip (9) must be <= mcache_len (5); "
            "gossip_factor (2) must be in [0, 1]");
}

TEST(GossipSubParamsTest, RulesThatCannotBreakAlone) {
  // A d_lo of 0 with a mesh also breaks d_out < d_lo (d_out >= 0); both are reported.
  GossipSubParams p;
  p.d_lo = 0;
  p.d_out = 0;
  EXPECT_EQ(p.Validate().message(), "d_lo (0) must be >= 1 unless d is 0; d_out (0) must be < d_lo (0) unless d is 0");

  // A negative d breaks d_lo <= d and d_out <= d / 2 as well; an mcache_len of 0 breaks mcache_gossip's bound.
  p = GossipSubParams();
  p.d = -1;
  Status s = p.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("d (-1) must be >= 0"), std::string::npos) << s.message();

  p = GossipSubParams();
  p.mcache_len = 0;
  s = p.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("mcache_len (0) must be >= 1"), std::string::npos) << s.message();
}

TEST(GossipSubParamsTest, BoundariesAreValid) {
  GossipSubParams p;
  p.d_lo = p.d = p.d_hi = 6;  // d_lo == d == d_hi.
  p.d_score = 6;              // d_score == d.
  p.d_out = 3;                // d_out == d / 2, and < d_lo.
  p.d_lazy = 0;
  p.mcache_gossip = p.mcache_len = 1;
  p.gossip_factor = 0;
  p.prune_backoff = p.unsubscribe_backoff = Duration::zero();
  p.heartbeat_initial_delay = Duration::zero();
  p.heartbeat_interval = Duration(1);
  p.idontwant_message_size_threshold = 0;
  p.max_idontwant_messages = 0;
  Status s = p.Validate();
  EXPECT_TRUE(s.ok()) << s.ToString();
  p.gossip_factor = 1;
  s = p.Validate();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(GossipSubParamsTest, MeshlessBootstrapperIsValid) {
  // gossipsub-v1.1.md "Recommendations for Network Operators": D = D_lo = D_hi = D_out = 0.
  GossipSubParams p;
  p.d = p.d_lo = p.d_hi = p.d_out = p.d_score = 0;
  const Status s = p.Validate();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
