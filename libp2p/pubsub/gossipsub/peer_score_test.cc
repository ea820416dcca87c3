#include "libp2p/pubsub/gossipsub/peer_score.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::PeerId;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// An identity peer id embedding the single byte `n`.
PeerId P(uint8_t n) {
  const uint8_t raw[] = {0x00, 0x01, n};
  return PeerId::FromBytes(raw).value();
}

// A topic whose every term is off, with weight 1; tests turn on the terms they look at.
TopicScoreParams TopicOff() {
  TopicScoreParams t;
  t.topic_weight = 1;
  t.time_in_mesh_weight = 0;
  t.first_message_deliveries_weight = 0;
  t.mesh_message_deliveries_weight = 0;
  t.mesh_failure_penalty_weight = 0;
  t.invalid_message_deliveries_weight = 0;
  return t;
}

// Global terms off, no cap.
PeerScoreParams GlobalOff() {
  PeerScoreParams p;
  p.topic_score_cap = 0;
  p.app_specific_weight = 0;
  p.ip_colocation_factor_weight = 0;
  p.behaviour_penalty_weight = 0;
  p.slow_peer_weight = 0;
  return p;
}

PeerScoreParams WithTopic(const TopicScoreParams& t, const std::string& name = "t") {
  PeerScoreParams p = GlobalOff();
  p.topics[name] = t;
  return p;
}

class PeerScoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<PeerScore> Make(PeerScoreParams p, DeliveryRecordLimits limits = {}) {
    const Status s = p.Validate();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::make_unique<PeerScore>(std::move(p), &clock_, limits, SeededHash(1, 2));
  }

  ManualClock clock_;
};

TEST_F(PeerScoreTest, UnknownPeersScoreZeroAndTheirEventsAreIgnored) {
  TopicScoreParams t = TopicOff();
  t.first_message_deliveries_weight = 1;
  t.invalid_message_deliveries_weight = -1;
  PeerScoreParams p = WithTopic(t);
  p.behaviour_penalty_weight = -1;
  auto s = Make(p);
  const PeerId a = P(1);
  s->Graft(a, "t");
  s->DeliverMessage(a, "m1", "t");
  s->RejectMessage(a, "m2", "t");
  s->AddPenalty(a, 3);
  s->SetIp(a, "1.2.3.4");
  s->Prune(a, "t");
  s->RemovePeer(a);
  EXPECT_EQ(s->Score(a), 0);
  EXPECT_EQ(s->peer_count(), 0u);
  EXPECT_FALSE(s->IsConnected(a));
  // Added afterwards, it starts from nothing.
  s->AddPeer(a);
  EXPECT_TRUE(s->IsConnected(a));
  EXPECT_EQ(s->Score(a), 0);
}

// P₁ = min(whole quanta in mesh, cap), weight 0.5, quantum 2 s, cap 10.
TEST_F(PeerScoreTest, P1TimeInMeshCountsWholeQuantaUpToTheCap) {
  TopicScoreParams t = TopicOff();
  t.time_in_mesh_weight = 0.5;
  t.time_in_mesh_quantum = seconds(2);
  t.time_in_mesh_cap = 10;
  auto s = Make(WithTopic(t));
  const PeerId a = P(1), b = P(2), c = P(3);
  s->AddPeer(a);
  s->AddPeer(b);
  s->AddPeer(c);
  s->Graft(a, "t");
  s->Graft(c, "unscored");
  EXPECT_EQ(s->Score(a), 0);
  clock_.Advance(milliseconds(1999));
  EXPECT_EQ(s->Score(a), 0);  // 1.999 s: no whole quantum yet.
  clock_.Advance(milliseconds(1));
  EXPECT_DOUBLE_EQ(s->Score(a), 0.5);  // 2 s: 1 quantum × 0.5.
  s->Graft(a, "t");                    // Already in the mesh: the clock does not restart.
  clock_.Advance(seconds(5));
  EXPECT_DOUBLE_EQ(s->Score(a), 1.5);  // 7 s: 3 quanta × 0.5.
  clock_.Advance(seconds(93));
  EXPECT_DOUBLE_EQ(s->Score(a), 5);  // 100 s: 50 quanta, capped at 10, × 0.5.
  EXPECT_EQ(s->Score(b), 0);         // Not in the mesh.
  EXPECT_EQ(s->Score(c), 0);         // Topic not scored.
  s->Prune(a, "t");
  EXPECT_EQ(s->Score(a), 0);  // P₁ only counts while in the mesh.
  s->Graft(a, "t");
  clock_.Advance(seconds(3));
  EXPECT_DOUBLE_EQ(s->Score(a), 0.5);  // Regrafted 3 s ago: 1 quantum.
}

// P₂ = first deliveries, capped at 3, weight 1.
TEST_F(PeerScoreTest, P2FirstMessageDeliveriesAreCapped) {
  TopicScoreParams t = TopicOff();
  t.first_message_deliveries_weight = 1;
  t.first_message_deliveries_cap = 3;
  auto s = Make(WithTopic(t));
  const PeerId a = P(1), b = P(2);
  s->AddPeer(a);
  s->AddPeer(b);
  s->DeliverMessage(a, "m1", "t");
  s->DeliverMessage(a, "m2", "t");
  EXPECT_DOUBLE_EQ(s->Score(a), 2);  // No mesh needed for P₂.
  s->DeliverMessage(a, "m1", "t");   // Same message again: not a new first delivery.
  EXPECT_DOUBLE_EQ(s->Score(a), 2);
  s->DuplicateMessage(b, "m1", "t");  // Duplicates earn no P₂.
  EXPECT_EQ(s->Score(b), 0);
  s->DeliverMessage(a, "m3", "t");
  s->DeliverMessage(a, "m4", "t");
  s->DeliverMessage(a, "m5", "t");
  EXPECT_DOUBLE_EQ(s->Score(a), 3);  // 5 deliveries, capped at 3.
  s->DeliverMessage(b, "x1", "other");
  EXPECT_EQ(s->Score(b), 0);  // Unscored topic.
}

// P₃ = (threshold - counter)² once active; weight -1, threshold 4, cap 6, activation 2 s, decay 0.5.
TEST_F(PeerScoreTest, P3MeshDeliveryDeficitIsSquaredAfterActivation) {
  TopicScoreParams t = TopicOff();
  t.mesh_message_deliveries_weight = -1;
  t.mesh_message_deliveries_threshold = 4;
  t.mesh_message_deliveries_cap = 6;
  t.mesh_message_deliveries_activation = seconds(2);
  t.mesh_message_deliveries_decay = 0.5;
  auto s = Make(WithTopic(t));
  const PeerId a = P(1), b = P(2);
  s->AddPeer(a);
  s->AddPeer(b);
  s->Graft(a, "t");
  s->DeliverMessage(a, "m1", "t");  // Counter 1.
  clock_.Advance(seconds(2));
  EXPECT_EQ(s->Score(a), 0);  // In the mesh exactly 2 s: not yet active (strictly longer is needed).
  clock_.Advance(nanoseconds(1));
  EXPECT_DOUBLE_EQ(s->Score(a), -9);  // Deficit 4 - 1 = 3, squared.
  s->DeliverMessage(a, "m2", "t");
  s->DeliverMessage(a, "m3", "t");
  EXPECT_DOUBLE_EQ(s->Score(a), -1);  // Counter 3: deficit 1.
  for (const char* id : {"m4", "m5", "m6", "m7"}) s->DeliverMessage(a, id, "t");
  EXPECT_EQ(s->Score(a), 0);  // Counter capped at 6 >= 4.
  s->RefreshScores();
  EXPECT_DOUBLE_EQ(s->Score(a), -1);  // 6 × 0.5 = 3: deficit 1.
  s->RefreshScores();
  EXPECT_DOUBLE_EQ(s->Score(a), -6.25);  // 1.5: deficit 2.5, squared.

  s->DeliverMessage(b, "m8", "t");  // Not in the mesh: no P₃ credit.
  s->Graft(b, "t");
  clock_.Advance(seconds(2) + nanoseconds(1));
  EXPECT_DOUBLE_EQ(s->Score(b), -16);  // Counter 0: deficit 4.
  EXPECT_DOUBLE_EQ(s->Score(a), -6.25);
}

// Threshold 4, weight -1, window 10 ms, activation 2 s; no decay happens (no RefreshScores).
TEST_F(PeerScoreTest, P3CountsNearFirstDuplicatesWithinTheWindowAndDuringValidation) {
  TopicScoreParams t = TopicOff();
  t.mesh_message_deliveries_weight = -1;
  t.mesh_message_deliveries_threshold = 4;
  t.mesh_message_deliveries_cap = 10;
  t.mesh_message_deliveries_window = milliseconds(10);
  t.mesh_message_deliveries_activation = seconds(2);
  auto s = Make(WithTopic(t));
  const PeerId a = P(1), b = P(2), c = P(3), d = P(4), e = P(5);
  for (const PeerId& x : {a, b, c, d, e}) s->AddPeer(x);
  for (const PeerId& x : {a, b, c, d}) s->Graft(x, "t");
  clock_.Advance(seconds(3));

  s->DeliverMessage(a, "m1", "t");  // a: 1.
  clock_.Advance(milliseconds(10));
  s->DuplicateMessage(b, "m1", "t");  // 10 ms after validation: within the window. b: 1.
  clock_.Advance(nanoseconds(1));
  s->DuplicateMessage(c, "m1", "t");  // 10 ms + 1 ns: too late. c: 0.
  s->DuplicateMessage(b, "m1", "t");  // b again: counted once.

  // m2: copies from d (mesh) and e (not mesh) arrive while the first is still being validated.
  s->DuplicateMessage(d, "m2", "t");
  clock_.Advance(seconds(1));
  s->DuplicateMessage(e, "m2", "t");
  s->DeliverMessage(a, "m2", "t");  // a: 2; d: 1 (validation time does not count against it); e: no.

  s->Graft(e, "t");
  clock_.Advance(seconds(2) + nanoseconds(1));
  EXPECT_DOUBLE_EQ(s->Score(a), -4);   // (4 - 2)²
  EXPECT_DOUBLE_EQ(s->Score(b), -9);   // (4 - 1)²
  EXPECT_DOUBLE_EQ(s->Score(c), -16);  // (4 - 0)²
  EXPECT_DOUBLE_EQ(s->Score(d), -9);   // (4 - 1)²
  EXPECT_DOUBLE_EQ(s->Score(e), -16);  // (4 - 0)²
}

// Our own messages are valid from the start: a mesh peer's copy within the window earns P₃, one after it
// earns nothing, and no record is left pending (before, each copy of our own message opened a record that
// never resolved).
TEST_F(PeerScoreTest, CopiesOfOurOwnMessagesAreCopiesOfAValidMessage) {
  TopicScoreParams t = TopicOff();
  t.mesh_message_deliveries_weight = -1;
  t.mesh_message_deliveries_threshold = 2;
  t.mesh_message_deliveries_cap = 10;
  t.mesh_message_deliveries_window = milliseconds(10);
  t.mesh_message_deliveries_activation = seconds(1);
  auto s = Make(WithTopic(t));
  const PeerId a = P(1), b = P(2);
  for (const PeerId& x : {a, b}) {
    s->AddPeer(x);
    s->Graft(x, "t");
  }
  clock_.Advance(seconds(2));
  s->PublishMessage("own", "t");
  s->PublishMessage("own", "t");  // Once is enough.
  EXPECT_EQ(s->delivery_record_count(), 1u);
  s->DuplicateMessage(a, "own", "t");  // Within the window: a gets 1.
  clock_.Advance(milliseconds(11));
  s->DuplicateMessage(b, "own", "t");  // Too late: b gets nothing.
  EXPECT_EQ(s->delivery_record_count(), 1u);
  EXPECT_DOUBLE_EQ(s->Score(a), -1);  // (2 - 1)²
  EXPECT_DOUBLE_EQ(s->Score(b), -4);  // (2 - 0)²
}

// P₃b += deficit² at PRUNE (or disconnect) while the deficit is active; weight -2, threshold 5,
// activation 1 s, decay 0.5. P₃ itself is off to isolate P₃b.
TEST_F(PeerScoreTest, P3bMeshFailurePenaltyOnPruneAndDisconnect) {
  TopicScoreParams t = TopicOff();
  t.mesh_failure_penalty_weight = -2;
  t.mesh_failure_penalty_decay = 0.5;
  t.mesh_message_deliveries_threshold = 5;
  t.mesh_message_deliveries_cap = 10;
  t.mesh_message_deliveries_activation = seconds(1);
  t.mesh_message_deliveries_decay = 0.5;
  PeerScoreParams p = WithTopic(t);
  p.retain_score = minutes(1);
  auto s = Make(p);
  const PeerId a = P(1), b = P(2), c = P(3);
  for (const PeerId& x : {a, b, c}) s->AddPeer(x);

  s->Graft(a, "t");
  s->DeliverMessage(a, "m1", "t");
  s->DeliverMessage(a, "m2", "t");  // Counter 2.
  clock_.Advance(seconds(1));
  s->Prune(a, "t");  // Exactly 1 s in the mesh: not active, no penalty.
  EXPECT_EQ(s->Score(a), 0);
  s->Graft(a, "t");
  clock_.Advance(milliseconds(1500));
  s->Prune(a, "t");  // Active, deficit 5 - 2 = 3: P₃b = 9.
  EXPECT_DOUBLE_EQ(s->Score(a), -18);  // 9 × -2.
  s->RefreshScores();
  EXPECT_DOUBLE_EQ(s->Score(a), -9);  // 4.5 × -2.

  s->Graft(b, "t");
  for (const char* id : {"n1", "n2", "n3", "n4", "n5"}) s->DeliverMessage(b, id, "t");
  clock_.Advance(seconds(2));
  s->Prune(b, "t");  // Counter 5 reaches the threshold: no deficit, no penalty.
  EXPECT_EQ(s->Score(b), 0);

  s->Graft(c, "t");
  clock_.Advance(seconds(2));
  s->RemovePeer(c);  // Leaving the mesh by disconnecting: deficit 5, P₃b = 25.
  EXPECT_DOUBLE_EQ(s->Score(c), -50);  // Negative, so retained.
}

// P₄ = invalid², weight -1.
TEST_F(PeerScoreTest, P4InvalidMessagesAreSquaredAndIgnoredOnesAreFree) {
  TopicScoreParams t = TopicOff();
  t.invalid_message_deliveries_weight = -1;
  t.invalid_message_deliveries_decay = 0.5;
  auto s = Make(WithTopic(t));
  const PeerId a = P(1), b = P(2), c = P(3), d = P(4), e = P(5), f = P(6), g = P(7), h = P(8);
  for (const PeerId& x : {a, b, c, d, e, f, g, h}) s->AddPeer(x);

  s->RejectMessage(a, "m1", "t");
  EXPECT_DOUBLE_EQ(s->Score(a), -1);
  s->RejectMessage(a, "m2", "t", RejectReason::kInvalid);
  s->RejectMessage(a, "m3", "t", RejectReason::kInvalid);
  EXPECT_DOUBLE_EQ(s->Score(a), -9);  // 3².

  s->RejectMessage(b, "m4", "t", RejectReason::kIgnored);
  s->DuplicateMessage(c, "m4", "t");  // A copy of an ignored message costs nothing either.
  s->RejectMessage(b, "m5", "t", RejectReason::kThrottled);
  EXPECT_EQ(s->Score(b), 0);
  EXPECT_EQ(s->Score(c), 0);

  // A bad signature costs the sender, but the id is not marked invalid: a valid copy may follow.
  s->RejectMessage(c, "m6", "t", RejectReason::kInvalidSignature);
  s->DeliverMessage(d, "m6", "t");
  s->DuplicateMessage(e, "m6", "t");
  EXPECT_DOUBLE_EQ(s->Score(c), -1);
  EXPECT_EQ(s->Score(d), 0);
  EXPECT_EQ(s->Score(e), 0);
  s->RejectMessage(d, "m7", "t", RejectReason::kSelfOrigin);
  EXPECT_DOUBLE_EQ(s->Score(d), -1);

  // Copies of an invalid message cost their senders too, once per message.
  s->DuplicateMessage(f, "m1", "t");
  s->DuplicateMessage(f, "m1", "t");
  EXPECT_DOUBLE_EQ(s->Score(f), -1);
  // So do copies that arrived while it was being validated.
  s->DuplicateMessage(g, "m8", "t");
  s->RejectMessage(a, "m8", "t");
  EXPECT_DOUBLE_EQ(s->Score(g), -1);
  EXPECT_DOUBLE_EQ(s->Score(a), -16);  // 4².
  // A verdict comes once: a later delivery or rejection of the same id changes nothing.
  s->DeliverMessage(h, "m8", "t");
  s->RejectMessage(h, "m8", "t");
  EXPECT_EQ(s->Score(h), 0);

  s->RejectMessage(h, "x", "unscored");
  EXPECT_EQ(s->Score(h), 0);
}

// P₅ through the callback, weight 2.
TEST_F(PeerScoreTest, P5ApplicationSpecificScore) {
  const PeerId a = P(1), b = P(2), c = P(3);
  std::map<PeerId, double> app = {{a, 3}, {b, -4}};
  int calls = 0;
  PeerScoreParams p = GlobalOff();
  p.app_specific_weight = 2;
  p.app_specific_score = [&](const PeerId& peer) {
    ++calls;
    auto it = app.find(peer);
    return it == app.end() ? 0.0 : it->second;
  };
  auto s = Make(p);
  s->AddPeer(a);
  s->AddPeer(b);
  EXPECT_DOUBLE_EQ(s->Score(a), 6);   // 2 × 3
  EXPECT_DOUBLE_EQ(s->Score(b), -8);  // 2 × -4
  app[a] = 0.5;                       // Read at every call.
  EXPECT_DOUBLE_EQ(s->Score(a), 1);
  const int before = calls;
  EXPECT_EQ(s->Score(c), 0);  // Unknown: the callback is not asked.
  EXPECT_EQ(calls, before);
}

// P₆ = (peers on the IP - threshold)² when positive; weight -3, threshold 2.
TEST_F(PeerScoreTest, P6IpColocationCountsPeersPerIpExceptWhitelisted) {
  PeerScoreParams p = GlobalOff();
  p.ip_colocation_factor_weight = -3;
  p.ip_colocation_factor_threshold = 2;
  p.ip_colocation_factor_whitelist = {"10.0.0.1"};
  p.retain_score = seconds(10);
  auto s = Make(p);
  const PeerId a = P(1), b = P(2), c = P(3), d = P(4), e = P(5);
  const PeerId f = P(6), g = P(7), h = P(8), i = P(9);
  for (const PeerId& x : {a, b, c, d, e, f, g, h, i}) s->AddPeer(x);
  for (const PeerId& x : {a, b, c, d}) s->SetIp(x, "1.2.3.4");
  s->SetIp(e, "5.6.7.8");
  for (const PeerId& x : {f, g, h, i}) s->SetIp(x, "10.0.0.1");

  for (const PeerId& x : {a, b, c, d}) EXPECT_DOUBLE_EQ(s->Score(x), -12);  // 4 peers: surplus 2, 2² × -3.
  EXPECT_EQ(s->Score(e), 0);                                                // Alone.
  for (const PeerId& x : {f, g, h, i}) EXPECT_EQ(s->Score(x), 0);           // Whitelisted.

  s->SetIp(d, "5.6.7.8");  // Moves: 3 on 1.2.3.4, 2 on 5.6.7.8.
  EXPECT_DOUBLE_EQ(s->Score(a), -3);  // Surplus 1.
  EXPECT_EQ(s->Score(d), 0);          // 2 is not above the threshold.
  EXPECT_EQ(s->Score(e), 0);

  // c leaves with -3, so it is retained, and its IP still counts against the others until it is forgotten.
  s->RemovePeer(c);
  EXPECT_DOUBLE_EQ(s->Score(c), -3);
  EXPECT_DOUBLE_EQ(s->Score(a), -3);
  clock_.Advance(seconds(10));
  s->RefreshScores();
  EXPECT_EQ(s->Score(a), 0);  // 2 left on 1.2.3.4.

  s->SetIp(d, "1.2.3.4");
  EXPECT_DOUBLE_EQ(s->Score(a), -3);
  s->SetIp(d, "");  // Cleared.
  EXPECT_EQ(s->Score(a), 0);
  EXPECT_EQ(s->Score(d), 0);
}

// P₇ = (counter - threshold)² when positive; weight -2, threshold 1, decay 0.5, decay_to_zero 0.1.
TEST_F(PeerScoreTest, P7BehaviourPenaltyIsTheSquaredExcessOverTheThreshold) {
  PeerScoreParams p = GlobalOff();
  p.behaviour_penalty_weight = -2;
  p.behaviour_penalty_threshold = 1;
  p.behaviour_penalty_decay = 0.5;
  p.decay_to_zero = 0.1;
  auto s = Make(p);
  const PeerId a = P(1), z = P(26);
  s->AddPeer(a);
  s->AddPenalty(a, 1);
  EXPECT_EQ(s->Score(a), 0);  // 1 is not above the threshold.
  s->AddPenalty(a, 2);
  EXPECT_DOUBLE_EQ(s->Score(a), -8);  // 3: excess 2, 2² × -2.
  s->RefreshScores();
  EXPECT_DOUBLE_EQ(s->Score(a), -0.5);  // 1.5: excess 0.5, 0.25 × -2.
  s->RefreshScores();
  EXPECT_EQ(s->Score(a), 0);  // 0.75: below the threshold.
  s->AddPenalty(z, 5);        // Unknown peer: ignored.
  EXPECT_EQ(s->Score(z), 0);
  EXPECT_EQ(s->peer_count(), 1u);
}

// P_slow = counter - threshold when positive (linear); weight -0.5, threshold 1, decay 0.5, decay_to_zero 0.1.
TEST_F(PeerScoreTest, SlowPeerPenaltyIsTheLinearExcessOverTheThreshold) {
  PeerScoreParams p = GlobalOff();
  p.slow_peer_weight = -0.5;
  p.slow_peer_threshold = 1;
  p.slow_peer_decay = 0.5;
  p.decay_to_zero = 0.1;
  auto s = Make(p);
  const PeerId a = P(1), b = P(2), z = P(26);
  s->AddPeer(a);
  s->AddPeer(b);
  s->SlowPeer(a);
  EXPECT_EQ(s->Score(a), 0);  // 1 is not above the threshold.
  s->SlowPeer(a);
  s->SlowPeer(a);
  EXPECT_DOUBLE_EQ(s->Score(a), -1);  // 3: excess 2, × -0.5.
  s->RefreshScores();
  EXPECT_DOUBLE_EQ(s->Score(a), -0.25);  // 1.5: excess 0.5.
  s->RefreshScores();
  EXPECT_EQ(s->Score(a), 0);  // 0.75.
  EXPECT_EQ(s->Score(b), 0);  // Never slow.
  s->SlowPeer(z);             // Unknown peer: ignored.
  EXPECT_EQ(s->peer_count(), 2u);
}

// rust's defaults (-0.2, threshold 0, decay 0.2): a peer slow at every heartbeat stays between -0.2 and
// -0.25, below 0 but far above the default gossip threshold.
TEST_F(PeerScoreTest, TheDefaultSlowPeerPenaltyIsSmallAndBounded) {
  PeerScoreParams p = GlobalOff();
  const PeerScoreParams defaults;
  p.slow_peer_weight = defaults.slow_peer_weight;
  p.slow_peer_threshold = defaults.slow_peer_threshold;
  p.slow_peer_decay = defaults.slow_peer_decay;
  auto s = Make(p);
  const PeerId a = P(1);
  s->AddPeer(a);
  for (int i = 0; i < 50; ++i) {
    s->SlowPeer(a);
    EXPECT_LE(s->Score(a), -0.2);
    EXPECT_GE(s->Score(a), -0.25);
    s->RefreshScores();
  }
  EXPECT_LT(s->Score(a), 0);
}

// Topic "a" weight 2 and "b" weight 0.5, P₂ weight 1 (cap 100) and P₄ weight -1 in both.
TEST_F(PeerScoreTest, TopicWeightsAndTheTopicScoreCap) {
  TopicScoreParams ta = TopicOff();
  ta.topic_weight = 2;
  ta.first_message_deliveries_weight = 1;
  ta.first_message_deliveries_cap = 100;
  ta.invalid_message_deliveries_weight = -1;
  TopicScoreParams tb = ta;
  tb.topic_weight = 0.5;
  PeerScoreParams p = GlobalOff();
  p.topics = {{"a", ta}, {"b", tb}};

  const PeerId x = P(1), y = P(2);
  auto feed = [&](PeerScore& s) {
    s.AddPeer(x);
    s.AddPeer(y);
    for (const char* id : {"a1", "a2", "a3"}) s.DeliverMessage(x, id, "a");
    for (const char* id : {"b1", "b2", "b3", "b4"}) s.DeliverMessage(x, id, "b");
    for (const char* id : {"c1", "c2"}) s.DeliverMessage(x, id, "c");  // Unscored.
    for (const char* id : {"b5", "b6", "b7"}) s.RejectMessage(y, id, "b");
  };

  auto uncapped = Make(p);
  feed(*uncapped);
  EXPECT_DOUBLE_EQ(uncapped->Score(x), 8);     // 2 × 3 + 0.5 × 4
  EXPECT_DOUBLE_EQ(uncapped->Score(y), -4.5);  // 0.5 × -(3²)

  p.topic_score_cap = 5;
  p.app_specific_weight = 1;
  p.app_specific_score = [](const PeerId&) { return 1.0; };
  auto capped = Make(p);
  feed(*capped);
  EXPECT_DOUBLE_EQ(capped->Score(x), 6);     // min(8, 5) + P₅ 1: the cap bounds the topic part only.
  EXPECT_DOUBLE_EQ(capped->Score(y), -3.5);  // -4.5 is not capped, + 1.
}

TEST_F(PeerScoreTest, DecayAndDecayToZeroOverSeveralRefreshes) {
  TopicScoreParams t = TopicOff();
  t.first_message_deliveries_weight = 1;
  t.first_message_deliveries_decay = 0.5;
  t.first_message_deliveries_cap = 100;
  t.invalid_message_deliveries_weight = -1;
  t.invalid_message_deliveries_decay = 0.5;
  PeerScoreParams p = WithTopic(t);
  p.decay_to_zero = 0.2;
  auto s = Make(p);
  const PeerId a = P(1), b = P(2);
  s->AddPeer(a);
  s->AddPeer(b);
  for (const char* id : {"m1", "m2", "m3"}) s->DeliverMessage(a, id, "t");
  s->RejectMessage(b, "x1", "t");
  s->RejectMessage(b, "x2", "t");
  EXPECT_DOUBLE_EQ(s->Score(a), 3);
  EXPECT_DOUBLE_EQ(s->Score(b), -4);  // 2².
  s->RefreshScores();
  EXPECT_DOUBLE_EQ(s->Score(a), 1.5);
  EXPECT_DOUBLE_EQ(s->Score(b), -1);  // 1².
  s->RefreshScores();
  EXPECT_DOUBLE_EQ(s->Score(a), 0.75);
  EXPECT_DOUBLE_EQ(s->Score(b), -0.25);  // 0.5².
  s->RefreshScores();
  EXPECT_DOUBLE_EQ(s->Score(a), 0.375);
  EXPECT_DOUBLE_EQ(s->Score(b), -0.0625);  // 0.25² (0.25 >= 0.2 survives).
  s->RefreshScores();
  EXPECT_EQ(s->Score(b), 0);  // 0.125 < 0.2: zero.
  EXPECT_EQ(s->Score(a), 0);  // 0.1875 < 0.2: zero.
}

// At most max_retained_peers are retained: one more leaving negative forgets the one that left first; a
// retained peer that reconnects frees its place.
TEST_F(PeerScoreTest, RetainedPeersAreBoundedInNumber) {
  TopicScoreParams t = TopicOff();
  t.invalid_message_deliveries_weight = -1;
  t.invalid_message_deliveries_decay = 0.5;
  PeerScoreParams p = WithTopic(t);
  p.max_retained_peers = 2;
  auto s = Make(p);
  const PeerId a = P(1), b = P(2), c = P(3), d = P(4);
  for (const PeerId& x : {a, b, c, d}) {
    s->AddPeer(x);
    s->SetIp(x, "192.0.2.1");
    s->RejectMessage(x, "x" + x.ToBase58(), "t");
  }
  s->RemovePeer(a);
  clock_.Advance(seconds(1));
  s->RemovePeer(b);
  EXPECT_EQ(s->peer_count(), 4u);
  clock_.Advance(seconds(1));
  s->RemovePeer(c);  // The third: a, the first to leave, is forgotten.
  EXPECT_EQ(s->peer_count(), 3u);
  EXPECT_EQ(s->Score(a), 0);
  EXPECT_DOUBLE_EQ(s->Score(b), -1);
  EXPECT_DOUBLE_EQ(s->Score(c), -1);
  s->AddPeer(b);  // Back: retained no more, so d's leaving forgets no one.
  s->RemovePeer(d);
  EXPECT_EQ(s->peer_count(), 3u);
  EXPECT_DOUBLE_EQ(s->Score(c), -1);
  EXPECT_DOUBLE_EQ(s->Score(d), -1);
  s->RemovePeer(b);  // Now three would be retained: c goes.
  EXPECT_EQ(s->peer_count(), 2u);
  EXPECT_EQ(s->Score(c), 0);
  EXPECT_DOUBLE_EQ(s->Score(b), -1);
}

// P₂ weight 1 (decay 0.5), P₄ weight -1 (decay 0.5), retain_score 10 s.
TEST_F(PeerScoreTest, NegativePeersAreRetainedPositiveOnesStartFresh) {
  TopicScoreParams t = TopicOff();
  t.first_message_deliveries_weight = 1;
  t.first_message_deliveries_decay = 0.5;
  t.first_message_deliveries_cap = 100;
  t.invalid_message_deliveries_weight = -1;
  t.invalid_message_deliveries_decay = 0.5;
  PeerScoreParams p = WithTopic(t);
  p.retain_score = seconds(10);
  auto s = Make(p);
  const PeerId a = P(1), b = P(2), c = P(3), d = P(4);
  for (const PeerId& x : {a, b, c, d}) s->AddPeer(x);

  s->RejectMessage(a, "x1", "t");
  s->RejectMessage(a, "x2", "t");
  s->RemovePeer(a);
  EXPECT_FALSE(s->IsConnected(a));
  EXPECT_DOUBLE_EQ(s->Score(a), -4);  // Retained.
  s->RefreshScores();
  EXPECT_DOUBLE_EQ(s->Score(a), -4);  // Frozen while away.
  clock_.Advance(seconds(5));
  s->AddPeer(a);  // Back within the retention: the score comes back.
  EXPECT_TRUE(s->IsConnected(a));
  EXPECT_DOUBLE_EQ(s->Score(a), -4);
  s->RefreshScores();
  EXPECT_DOUBLE_EQ(s->Score(a), -1);  // Connected again, it decays: 1².
  s->RemovePeer(a);                   // Retained until 10 s from now.
  clock_.Advance(milliseconds(9999));
  EXPECT_DOUBLE_EQ(s->Score(a), -1);
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(s->Score(a), 0);  // Retention over.
  s->AddPeer(a);              // Before any RefreshScores: still a fresh start.
  EXPECT_EQ(s->Score(a), 0);
  s->RefreshScores();
  EXPECT_DOUBLE_EQ(s->Score(a), 0);

  // A positive peer is forgotten at once and comes back with nothing.
  for (const char* id : {"m1", "m2", "m3"}) s->DeliverMessage(b, id, "t");
  EXPECT_DOUBLE_EQ(s->Score(b), 3);
  const size_t known = s->peer_count();
  s->RemovePeer(b);
  EXPECT_EQ(s->peer_count(), known - 1);
  EXPECT_EQ(s->Score(b), 0);
  s->AddPeer(b);
  EXPECT_EQ(s->Score(b), 0);

  // First deliveries do not outlive a disconnect, so they cannot mask penalties: 5 - 1 = 4 while
  // connected, -1 once gone, hence retained.
  for (const char* id : {"n1", "n2", "n3", "n4", "n5"}) s->DeliverMessage(c, id, "t");
  s->RejectMessage(c, "x3", "t");
  EXPECT_DOUBLE_EQ(s->Score(c), 4);
  s->RemovePeer(c);
  EXPECT_DOUBLE_EQ(s->Score(c), -1);
  s->AddPeer(c);
  EXPECT_DOUBLE_EQ(s->Score(c), -1);

  // Retained peers are swept by RefreshScores once their time is up.
  s->RejectMessage(d, "x4", "t");
  s->RemovePeer(d);
  const size_t with_d = s->peer_count();
  clock_.Advance(seconds(9));
  s->RefreshScores();
  EXPECT_EQ(s->peer_count(), with_d);
  clock_.Advance(seconds(1));
  s->RefreshScores();
  EXPECT_EQ(s->peer_count(), with_d - 1);
  EXPECT_EQ(s->Score(d), 0);
}

TEST_F(PeerScoreTest, ZeroRetentionForgetsEveryone) {
  TopicScoreParams t = TopicOff();
  t.invalid_message_deliveries_weight = -1;
  PeerScoreParams p = WithTopic(t);
  p.retain_score = Duration::zero();
  auto s = Make(p);
  const PeerId a = P(1);
  s->AddPeer(a);
  s->RejectMessage(a, "x", "t");
  s->RemovePeer(a);
  EXPECT_EQ(s->peer_count(), 0u);
  s->AddPeer(a);
  EXPECT_EQ(s->Score(a), 0);
}

// Threshold 2, weight -1, window 1 s (wide, so that only the records' bounds decide), activation 1 s.
TEST_F(PeerScoreTest, DeliveryRecordsAreBoundedByCountAndAge) {
  TopicScoreParams t = TopicOff();
  t.mesh_message_deliveries_weight = -1;
  t.mesh_message_deliveries_threshold = 2;
  t.mesh_message_deliveries_cap = 10;
  t.mesh_message_deliveries_window = seconds(1);
  t.mesh_message_deliveries_activation = seconds(1);
  DeliveryRecordLimits limits;
  limits.ttl = minutes(2);
  limits.max_records = 3;
  auto s = Make(WithTopic(t), limits);
  const PeerId a = P(1), b = P(2);
  s->AddPeer(a);
  s->AddPeer(b);
  s->Graft(a, "t");
  s->Graft(b, "t");
  clock_.Advance(seconds(2));

  for (const char* id : {"m1", "m2", "m3", "m4"}) s->DeliverMessage(a, id, "t");
  EXPECT_EQ(s->delivery_record_count(), 3u);  // m1 was dropped to make room for m4.
  s->DuplicateMessage(b, "m4", "t");          // Known: b earns 1.
  s->DuplicateMessage(b, "m1", "t");          // Forgotten: no credit (a pending record replaces m2's).
  EXPECT_EQ(s->delivery_record_count(), 3u);
  EXPECT_DOUBLE_EQ(s->Score(b), -1);  // (2 - 1)²; it would be 0 had m1 been remembered.
  EXPECT_EQ(s->Score(a), 0);          // 4 deliveries >= 2.

  clock_.Advance(minutes(2) - nanoseconds(1));
  s->RefreshScores();
  EXPECT_EQ(s->delivery_record_count(), 3u);
  clock_.Advance(nanoseconds(1));
  s->RefreshScores();
  EXPECT_EQ(s->delivery_record_count(), 0u);  // All 2 minutes old.
}

// Weight -1, threshold 4, window 10 ms: only 2 deliverers per message are remembered.
TEST_F(PeerScoreTest, DeliverersPerMessageAreBounded) {
  TopicScoreParams t = TopicOff();
  t.mesh_message_deliveries_weight = -1;
  t.mesh_message_deliveries_threshold = 4;
  t.mesh_message_deliveries_cap = 10;
  t.mesh_message_deliveries_activation = seconds(1);
  DeliveryRecordLimits limits;
  limits.max_deliverers_per_message = 2;
  auto s = Make(WithTopic(t), limits);
  const PeerId a = P(1), b = P(2), c = P(3), d = P(4);
  for (const PeerId& x : {a, b, c, d}) {
    s->AddPeer(x);
    s->Graft(x, "t");
  }
  clock_.Advance(seconds(2));
  s->DuplicateMessage(b, "m", "t");  // During validation: remembered.
  s->DuplicateMessage(c, "m", "t");  // Remembered (2 of 2).
  s->DuplicateMessage(d, "m", "t");  // Record full: not remembered.
  s->DeliverMessage(a, "m", "t");
  EXPECT_DOUBLE_EQ(s->Score(a), -9);   // (4 - 1)²
  EXPECT_DOUBLE_EQ(s->Score(b), -9);   // (4 - 1)²
  EXPECT_DOUBLE_EQ(s->Score(c), -9);   // (4 - 1)²
  EXPECT_DOUBLE_EQ(s->Score(d), -16);  // (4 - 0)²
}

TEST_F(PeerScoreTest, DefaultsAreValid) {
  EXPECT_TRUE(TopicScoreParams{}.Validate().ok());
  EXPECT_TRUE(PeerScoreParams{}.Validate().ok());
  EXPECT_TRUE(PeerScoreThresholds{}.Validate().ok());
  const PeerScoreThresholds th;
  EXPECT_EQ(th.gossip_threshold, -10);
  EXPECT_EQ(th.publish_threshold, -50);
  EXPECT_EQ(th.graylist_threshold, -80);
  EXPECT_EQ(th.accept_px_threshold, 10);
  EXPECT_EQ(th.opportunistic_graft_threshold, 20);
}

std::string TopicError(const std::function<void(TopicScoreParams&)>& edit) {
  TopicScoreParams t;
  edit(t);
  const Status s = t.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  return s.message();
}

TEST_F(PeerScoreTest, TopicParamsValidationNamesTheField) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(TopicError([](auto& t) { t.topic_weight = -1; }), "topic_weight must be >= 0");
  EXPECT_EQ(TopicError([](auto& t) { t.time_in_mesh_weight = -0.1; }), "time_in_mesh_weight must be >= 0");
  EXPECT_EQ(TopicError([](auto& t) { t.time_in_mesh_quantum = Duration::zero(); }),
            "time_in_mesh_quantum must be positive");
  EXPECT_EQ(TopicError([](auto& t) { t.time_in_mesh_cap = 0; }), "time_in_mesh_cap must be positive");
  EXPECT_EQ(TopicError([](auto& t) { t.first_message_deliveries_weight = -1; }),
            "first_message_deliveries_weight must be >= 0");
  EXPECT_EQ(TopicError([](auto& t) { t.first_message_deliveries_decay = 1; }),
            "first_message_deliveries_decay must be in (0, 1)");
  EXPECT_EQ(TopicError([](auto& t) { t.first_message_deliveries_cap = -5; }),
            "first_message_deliveries_cap must be positive");
  EXPECT_EQ(TopicError([](auto& t) { t.mesh_message_deliveries_weight = 1; }),
            "mesh_message_deliveries_weight must be <= 0");
  EXPECT_EQ(TopicError([](auto& t) { t.mesh_message_deliveries_decay = 0; }),
            "mesh_message_deliveries_decay must be in (0, 1)");
  EXPECT_EQ(TopicError([](auto& t) { t.mesh_message_deliveries_threshold = 0; }),
            "mesh_message_deliveries_threshold must be positive");
  EXPECT_EQ(TopicError([](auto& t) { t.mesh_message_deliveries_cap = 19; }),
            "mesh_message_deliveries_cap must be >= mesh_message_deliveries_threshold");
  EXPECT_EQ(TopicError([](auto& t) { t.mesh_message_deliveries_window = milliseconds(-1); }),
            "mesh_message_deliveries_window must be >= 0");
  EXPECT_EQ(TopicError([](auto& t) { t.mesh_message_deliveries_activation = milliseconds(999); }),
            "mesh_message_deliveries_activation must be at least 1s");
  EXPECT_EQ(TopicError([](auto& t) { t.mesh_failure_penalty_weight = 2; }),
            "mesh_failure_penalty_weight must be <= 0");
  EXPECT_EQ(TopicError([](auto& t) { t.mesh_failure_penalty_decay = 1.5; }),
            "mesh_failure_penalty_decay must be in (0, 1)");
  EXPECT_EQ(TopicError([](auto& t) { t.invalid_message_deliveries_weight = 0.5; }),
            "invalid_message_deliveries_weight must be <= 0");
  EXPECT_EQ(TopicError([](auto& t) { t.invalid_message_deliveries_decay = 0; }),
            "invalid_message_deliveries_decay must be in (0, 1)");
  // NaN and infinities are out of range.
  EXPECT_EQ(TopicError([&](auto& t) { t.topic_weight = nan; }), "topic_weight must be >= 0");
  EXPECT_EQ(TopicError([&](auto& t) { t.invalid_message_deliveries_weight = -inf; }),
            "invalid_message_deliveries_weight must be <= 0");
  EXPECT_EQ(TopicError([&](auto& t) { t.first_message_deliveries_decay = nan; }),
            "first_message_deliveries_decay must be in (0, 1)");

  // A term with weight 0 is off, and its shaping fields are not checked.
  TopicScoreParams off = TopicOff();
  off.time_in_mesh_quantum = Duration::zero();
  off.first_message_deliveries_decay = 7;
  off.mesh_message_deliveries_activation = Duration::zero();
  off.invalid_message_deliveries_decay = -1;
  EXPECT_TRUE(off.Validate().ok());
  // P₃b alone still needs P₃'s threshold and activation.
  off.mesh_failure_penalty_weight = -1;
  EXPECT_EQ(off.Validate().message(), "mesh_message_deliveries_activation must be at least 1s");
}

std::string ParamsError(const std::function<void(PeerScoreParams&)>& edit) {
  PeerScoreParams p;
  edit(p);
  const Status s = p.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  return s.message();
}

TEST_F(PeerScoreTest, PeerScoreParamsValidationNamesTheField) {
  EXPECT_EQ(ParamsError([](auto& p) {
              p.topics["ok"] = TopicScoreParams{};
              p.topics["bad"].first_message_deliveries_decay = 0;
            }),
            "topic \"bad\": first_message_deliveries_decay must be in (0, 1)");
  EXPECT_EQ(ParamsError([](auto& p) { p.topic_score_cap = -1; }), "topic_score_cap must be >= 0 (0 for no cap)");
  EXPECT_EQ(ParamsError([](auto& p) { p.app_specific_weight = -1; }), "app_specific_weight must be >= 0");
  EXPECT_EQ(ParamsError([](auto& p) { p.ip_colocation_factor_weight = 1; }),
            "ip_colocation_factor_weight must be <= 0");
  EXPECT_EQ(ParamsError([](auto& p) { p.ip_colocation_factor_threshold = 0; }),
            "ip_colocation_factor_threshold must be at least 1");
  EXPECT_EQ(ParamsError([](auto& p) { p.behaviour_penalty_weight = 1; }), "behaviour_penalty_weight must be <= 0");
  EXPECT_EQ(ParamsError([](auto& p) { p.behaviour_penalty_threshold = -1; }),
            "behaviour_penalty_threshold must be >= 0");
  EXPECT_EQ(ParamsError([](auto& p) { p.behaviour_penalty_decay = 1; }),
            "behaviour_penalty_decay must be in (0, 1)");
  EXPECT_EQ(ParamsError([](auto& p) { p.slow_peer_weight = 0.1; }), "slow_peer_weight must be <= 0");
  EXPECT_EQ(ParamsError([](auto& p) { p.slow_peer_threshold = -1; }), "slow_peer_threshold must be >= 0");
  EXPECT_EQ(ParamsError([](auto& p) { p.slow_peer_decay = 0; }), "slow_peer_decay must be in (0, 1)");
  EXPECT_EQ(ParamsError([](auto& p) { p.decay_interval = Duration::zero(); }), "decay_interval must be positive");
  EXPECT_EQ(ParamsError([](auto& p) { p.decay_to_zero = 0; }), "decay_to_zero must be in (0, 1)");
  EXPECT_EQ(ParamsError([](auto& p) { p.retain_score = seconds(-1); }), "retain_score must be >= 0");

  PeerScoreParams off = GlobalOff();
  off.ip_colocation_factor_threshold = 0;  // Weight 0: not checked.
  off.behaviour_penalty_decay = 0;
  off.slow_peer_decay = 0;  // Weight 0: not checked.
  EXPECT_TRUE(off.Validate().ok());
}

std::string ThresholdsError(const std::function<void(PeerScoreThresholds&)>& edit) {
  PeerScoreThresholds th;
  edit(th);
  const Status s = th.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  return s.message();
}

TEST_F(PeerScoreTest, ThresholdsValidation) {
  EXPECT_EQ(ThresholdsError([](auto& t) { t.gossip_threshold = 1; }), "gossip_threshold must be <= 0");
  EXPECT_EQ(ThresholdsError([](auto& t) { t.publish_threshold = -5; }),
            "publish_threshold must be <= gossip_threshold");
  EXPECT_EQ(ThresholdsError([](auto& t) { t.graylist_threshold = -40; }),
            "graylist_threshold must be <= publish_threshold");
  EXPECT_EQ(ThresholdsError([](auto& t) { t.accept_px_threshold = -1; }), "accept_px_threshold must be >= 0");
  EXPECT_EQ(ThresholdsError([](auto& t) { t.opportunistic_graft_threshold = -1; }),
            "opportunistic_graft_threshold must be >= 0");
  EXPECT_EQ(ThresholdsError([](auto& t) { t.gossip_threshold = std::numeric_limits<double>::quiet_NaN(); }),
            "gossip_threshold must be <= 0");
  // Equal thresholds are accepted, and so is an infinite graylist threshold (never graylist).
  PeerScoreThresholds equal{0, 0, 0, 0, 0};
  EXPECT_TRUE(equal.Validate().ok());
  equal.graylist_threshold = -std::numeric_limits<double>::infinity();
  EXPECT_TRUE(equal.Validate().ok());
}

}  // namespace
}  // namespace libp2p::pubsub::gossipsub
