// GossipSub v1.1 peer scoring (gossipsub-v1.1.md, "Peer Scoring"): the score parameters and thresholds, their
// validation, and PeerScore, which keeps the per-peer counters the router feeds and computes
//
//   Score(p) = TopicCap(Σ tᵢ·(w₁P₁ + w₂P₂ + w₃P₃ + w₃bP₃b + w₄P₄)) + w₅P₅ + w₆P₆ + w₇P₇ + w_slow·P_slow
//
// where P_slow, not in the spec, is rust-libp2p's (0.48) penalty for a peer too slow to take what we send.
//
// The router owns a PeerScore, tells it what happens (peers coming and going, GRAFT/PRUNE, deliveries,
// rejections, misbehaviour) and asks for scores; it calls RefreshScores() every decay_interval.
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_PEER_SCORE_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_PEER_SCORE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "libp2p/base/clock.h"
#include "libp2p/base/seeded_hash.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/peer_map.h"
#include "libp2p/pubsub/router.h"

namespace libp2p::pubsub::gossipsub {

// How one topic contributes to a peer's score. The defaults are js-libp2p-gossipsub's
// (defaultTopicScoreParams); the P₃ threshold in particular must be tuned to the topic's message rate, or
// mesh peers of a quiet topic are penalised for a deficit they cannot help. A weight of 0 turns its term
// off, and the fields that shape only that term are then not validated.
struct TopicScoreParams {
  // tᵢ: how much this topic's terms count toward the score. >= 0.
  double topic_weight = 0.5;

  // P₁, time in mesh: whole quanta since the peer was grafted, capped. Weight >= 0 (small); quantum > 0;
  // cap > 0.
  double time_in_mesh_weight = 1;
  Duration time_in_mesh_quantum = std::chrono::seconds(1);
  double time_in_mesh_cap = 3600;

  // P₂, first message deliveries: a counter incremented (up to the cap) when the peer is the first to
  // deliver a valid message, decaying. Weight >= 0; decay in (0, 1); cap > 0.
  double first_message_deliveries_weight = 1;
  double first_message_deliveries_decay = 0.5;
  double first_message_deliveries_cap = 2000;

  // P₃, mesh message delivery deficit: a counter of first and near-first deliveries (within `window` of
  // the first delivery's validation, or while it was being validated) by the peer while it is in our mesh,
  // capped and decaying. Once the peer has been in the mesh longer than `activation`, a counter below
  // `threshold` gives P₃ = (threshold - counter)². Weight <= 0; decay in (0, 1); threshold > 0;
  // cap >= threshold; window >= 0; activation >= 1 s (as go and js require: a shorter one penalises every
  // fresh GRAFT before it can deliver).
  double mesh_message_deliveries_weight = -1;
  double mesh_message_deliveries_decay = 0.5;
  double mesh_message_deliveries_cap = 100;
  double mesh_message_deliveries_threshold = 20;
  Duration mesh_message_deliveries_window = std::chrono::milliseconds(10);
  Duration mesh_message_deliveries_activation = std::chrono::seconds(5);

  // P₃b, mesh failure penalty: a sticky counter to which the squared P₃ deficit is added when the peer
  // leaves the mesh (PRUNE, or disconnect) while the deficit is active. Uncapped, decaying. Weight <= 0;
  // decay in (0, 1). It uses the P₃ threshold and activation, which are validated when either weight is set.
  double mesh_failure_penalty_weight = -1;
  double mesh_failure_penalty_decay = 0.5;

  // P₄, invalid messages: a counter of invalid messages delivered by the peer; P₄ is its square. Uncapped,
  // decaying. Weight <= 0; decay in (0, 1).
  double invalid_message_deliveries_weight = -1;
  double invalid_message_deliveries_decay = 0.3;

  // OK, or kInvalidArgument naming the first field out of range (NaN is out of every range).
  Status Validate() const;
};

// The whole score function. The defaults are js-libp2p-gossipsub's (defaultPeerScoreParams), with no
// topics.
struct PeerScoreParams {
  // Per-topic parameters. Only topics listed here are scored: events in any other topic are ignored and
  // no state is kept for them.
  std::unordered_map<std::string, TopicScoreParams> topics;
  // Cap on the sum of the (weighted) topic contributions when that sum is positive; 0 for no cap. >= 0.
  // Negative sums are never capped.
  double topic_score_cap = 10;

  // P₅: the application's opinion of a peer, any real value. Called from Score() every time, so it should
  // be cheap. May be empty: P₅ is then 0.
  std::function<double(const crypto::PeerId&)> app_specific_score;
  // w₅ >= 0.
  double app_specific_weight = 10;

  // P₆, IP colocation: with n peers sharing a peer's IP and n > threshold, P₆ = (n - threshold)².
  // Weight <= 0; threshold >= 1 when the weight is not 0. Peers whose IP is in the whitelist are exempt.
  // IPs are compared as the exact strings given to SetIp (the router picks the form, e.g. it may pass an
  // IPv6 /64 prefix to group a host's addresses).
  double ip_colocation_factor_weight = -5;
  int ip_colocation_factor_threshold = 10;
  std::unordered_set<std::string> ip_colocation_factor_whitelist;

  // P₇, behaviour penalty: a counter the router raises with AddPenalty (broken IWANT promises, GRAFT
  // during backoff, ...); P₇ = (counter - threshold)² when the counter exceeds the threshold, else 0.
  // Weight <= 0; when it is not 0, threshold >= 0 and decay in (0, 1).
  double behaviour_penalty_weight = -10;
  double behaviour_penalty_threshold = 0;
  double behaviour_penalty_decay = 0.2;

  // P_slow, slow peer: a counter the router raises by 1 at each heartbeat after which RPCs to the peer were
  // dropped unsent (its send lanes or its share of the node's send budget full, or RPCs expired in them; not
  // drops for room other peers hold in the budget); P_slow = counter - threshold when the
  // counter exceeds the threshold (linear, unlike P₇), else 0. Weight <= 0; when it is not 0, threshold >= 0
  // and decay in (0, 1). The defaults are rust-libp2p's (-0.2, 0, 0.2; not in the spec, nor in go, which
  // has no such term, so no JSON name either). With a decay of 0.2 the counter stays below 1.25 however long
  // the peer is slow: the default costs a slow peer at most 0.25, which takes it below 0 (out of our meshes,
  // not grafted again) but not below any gossip threshold; a larger weight or a slower decay makes it
  // reach one.
  double slow_peer_weight = -0.2;
  double slow_peer_threshold = 0;
  double slow_peer_decay = 0.2;

  // How often the router calls RefreshScores(). > 0. (PeerScore itself never reads it.)
  Duration decay_interval = std::chrono::seconds(1);
  // A decayed counter below this becomes 0. In (0, 1).
  double decay_to_zero = 0.1;
  // How long the counters of a peer that left with a negative score are kept. >= 0.
  Duration retain_score = std::chrono::hours(1);
  // At most this many peers are retained at once: retaining one more forgets the one that left first. A
  // remote can mint a new identity per connection, so retention must be bounded in count, not only in time.
  // (go has no such bound.) The cost: a peer whose record is pushed out comes back with a fresh score, which
  // takes this many other negative peers leaving after it.
  size_t max_retained_peers = 10000;

  // OK, or kInvalidArgument naming the first field out of range; a topic's error is prefixed with
  // `topic "<name>": `.
  Status Validate() const;
};

// Score thresholds the router compares scores against (the spec's "Score Thresholds"). The defaults are
// js-libp2p-gossipsub's (defaultPeerScoreThresholds).
struct PeerScoreThresholds {
  // Below it, no gossip is emitted to the peer and its gossip is ignored. <= 0.
  double gossip_threshold = -10;
  // Below it, our own messages are not (flood) published to the peer. <= gossip_threshold.
  double publish_threshold = -50;
  // Below it, all the peer's RPCs are ignored. <= publish_threshold.
  double graylist_threshold = -80;
  // PX in a PRUNE is followed only from peers scoring at least this. >= 0; meant to be reachable only by
  // bootstrappers and other trusted peers (through P₅).
  double accept_px_threshold = 10;
  // When the median mesh score is below it, the router opportunistically grafts better peers. >= 0.
  double opportunistic_graft_threshold = 20;

  // OK, or kInvalidArgument naming the first threshold out of order (the spec asks for gossip < 0 and
  // graylist < publish; equality is accepted here, as go and js do).
  Status Validate() const;
};

// Bounds on the per-message delivery records PeerScore keeps to credit near-first deliveries (P₃) and to
// penalise copies of invalid messages (P₄).
struct DeliveryRecordLimits {
  // A record is dropped this long after it was created: a little longer than the P₃ window and any
  // validation takes, and as long as the seen cache (2 min), so late duplicates are still recognised.
  Duration ttl = std::chrono::minutes(2);
  // At most this many records (about 200 B each with a 44-byte id, plus 45 B per deliverer): creating one
  // more drops the oldest.
  // A dropped record only means its later copies earn no P₃ and cost no P₄.
  size_t max_records = 100000;
  // At most this many distinct deliverers are remembered per message (45 B each); further peers'
  // copies of that message earn no P₃ and cost no P₄. Keeps every call O(1).
  size_t max_deliverers_per_message = 64;
};

// The scores of the peers, kept by the router on its loop thread. Not thread-safe.
//
// Events about a peer that was not added (AddPeer) are ignored, as are events about topics not in
// params.topics. A peer that leaves (RemovePeer) with a negative score keeps its counters, frozen (not
// decayed), for params.retain_score (at most params.max_retained_peers such peers at once), so that
// reconnecting does not reset it; other peers are forgotten at once.
//
// Costs: every call is O(1) amortised except Score(), which is O(scored topics of the peer),
// RefreshScores(), which is O(peers × their scored topics), and a RemovePeer() that goes over
// max_retained_peers, which is O(peers). Memory: one entry per known peer and scored
// topic it was active in, plus the delivery records bounded by DeliveryRecordLimits.
class PeerScore {
 public:
  // `params` must be valid (PeerScoreParams::Validate; asserted). `clock` is an observer and must outlive
  // this object. Message ids are hashed with `hash`, so remote peers cannot choose colliding ids.
  PeerScore(PeerScoreParams params, const Clock* clock, DeliveryRecordLimits limits = {},
            SeededHash hash = SeededHash::Random());

  PeerScore(const PeerScore&) = delete;
  PeerScore& operator=(const PeerScore&) = delete;

  // A peer connected. A peer still retained from an earlier connection gets its counters back (unless its
  // retention has expired); anyone else starts at 0. Adding a connected peer again does nothing.
  void AddPeer(const crypto::PeerId& peer);
  // A peer disconnected. Its first-delivery counters (P₂) are reset and it leaves every mesh, taking the
  // P₃b penalty where its P₃ deficit is active. Then, if its score is negative it is retained (counters and
  // IP kept, frozen) until retain_score has passed; otherwise it is forgotten. Two deliberate differences
  // from go: a score of exactly 0 is not retained (there is nothing to hold against the peer), and the
  // decision comes after P₂'s reset and P₃b's penalty (a peer leaving with a delivery deficit is kept).
  void RemovePeer(const crypto::PeerId& peer);
  // Sets the IP the peer is connected from (P₆), replacing any earlier one; "" clears it. Ignored for
  // unknown peers, so call it after AddPeer.
  void SetIp(const crypto::PeerId& peer, std::string ip);

  // The peer joined our mesh for `topic`: P₁'s time and P₃'s activation delay start now. Grafting a peer
  // that is already in the mesh does nothing (neither clock restarts).
  void Graft(const crypto::PeerId& peer, const std::string& topic);
  // The peer left our mesh for `topic`. If its P₃ deficit was active, the deficit squared is added to P₃b.
  void Prune(const crypto::PeerId& peer, const std::string& topic);

  // `from` delivered `msg_id` first and it validated: P₂ for `from`; P₃ for `from` and for each peer that
  // delivered a copy while it was being validated, if they are in our mesh for `topic`. Copies arriving
  // within the topic's window from now still earn P₃ (DuplicateMessage). A second call for the same id,
  // or one after it was rejected, does nothing.
  void DeliverMessage(const crypto::PeerId& from, const std::string& msg_id, const std::string& topic);
  // We published `msg_id`: valid from now, so copies of it are duplicates of a valid message (P₃ within the
  // window) rather than records that never resolve.
  void PublishMessage(const std::string& msg_id, const std::string& topic);
  // `from` delivered a copy of a message we already have (or are validating). Each peer counts once per
  // message: while it is validated it is remembered; once valid, a mesh peer earns P₃ if the copy came
  // within the window; once invalid (kInvalid), the copy costs P₄.
  void DuplicateMessage(const crypto::PeerId& from, const std::string& msg_id, const std::string& topic);
  // The message `from` delivered first was rejected; `reason` says what that costs (see RejectReason).
  void RejectMessage(const crypto::PeerId& from, const std::string& msg_id, const std::string& topic,
                     RejectReason reason = RejectReason::kInvalid);

  // Raises the peer's P₇ counter by `count` (> 0; a negative count is a programming error, asserted and
  // ignored).
  void AddPenalty(const crypto::PeerId& peer, double count);
  // The application judged a partial message from `peer` on `topic` (partial messages have no id, so the
  // router cannot): useful counts as a first delivery (P₂, and P₃ while in the mesh), invalid as an invalid
  // message (P₄).
  void UsefulPartial(const crypto::PeerId& peer, const std::string& topic);
  void InvalidPartial(const crypto::PeerId& peer, const std::string& topic);
  // Raises the peer's P_slow counter by 1: RPCs to it were dropped unsent since the last call. Ignored for
  // unknown peers.
  void SlowPeer(const crypto::PeerId& peer);

  // The peer's score: 0 for unknown peers and for retained peers whose retention has expired.
  double Score(const crypto::PeerId& peer) const;

  // Decays every connected peer's counters (values below decay_to_zero become 0), forgets retained peers
  // whose retention has expired, and drops expired delivery records. Call every decay_interval.
  void RefreshScores();

  // --- Introspection, for tests and metrics. ---
  const PeerScoreParams& params() const { return params_; }
  // Peers known, connected or retained.
  size_t peer_count() const { return peers_.size(); }
  // Whether `peer` is known and connected.
  bool IsConnected(const crypto::PeerId& peer) const;
  // Distinct IPs of the known peers (P₆), at most peer_count().
  size_t ip_count() const { return peers_per_ip_.size(); }
  // Delivery records held (expired ones may linger until the next call that modifies state).
  size_t delivery_record_count() const { return records_.size(); }

 private:
  struct TopicStats {
    const TopicScoreParams* params = nullptr;  // Points into params_.topics.
    bool in_mesh = false;
    MonoTime graft_time{};
    double first_message_deliveries = 0;  // P₂
    double mesh_message_deliveries = 0;   // P₃'s counter
    double mesh_failure_penalty = 0;      // P₃b
    double invalid_message_deliveries = 0;  // P₄'s counter
  };
  struct PeerStats {
    bool connected = true;
    MonoTime expire{};  // When a retained (disconnected) peer is forgotten.
    uint64_t retained_order = 0;  // Of a retained peer: how many peers were retained before it.
    std::string ip;
    double behaviour_penalty = 0;  // P₇'s counter
    double slow_peer_penalty = 0;  // P_slow's counter
    std::unordered_map<std::string, TopicStats> topics;
  };
  enum class DeliveryStatus : uint8_t { kPending, kValid, kInvalid, kIgnored };
  struct DeliveryRecord {
    DeliveryStatus status = DeliveryStatus::kPending;
    MonoTime validated{};  // When DeliverMessage accepted it (P₃'s window starts here).
    std::vector<crypto::PeerId> deliverers;  // Distinct, at most max_deliverers_per_message.
  };
  struct IdHash {
    SeededHash hash;
    size_t operator()(const std::string& id) const { return static_cast<size_t>(hash(std::string_view(id))); }
  };

  // The peer's stats for `topic`, created on first use; null for unknown peers and unscored topics.
  TopicStats* GetTopicStats(const crypto::PeerId& peer, const std::string& topic);
  // The peer's stats for `topic` if they exist, else null.
  TopicStats* FindTopicStats(const crypto::PeerId& peer, const std::string& topic);
  // P₃'s deficit (threshold - counter) when it applies at `now`, else 0.
  static double ActiveDeficit(const TopicStats& ts, MonoTime now);
  double ComputeScore(const crypto::PeerId& peer, const PeerStats& ps, MonoTime now) const;
  void CreditMeshDelivery(const crypto::PeerId& peer, const std::string& topic);
  void PenaliseInvalid(const crypto::PeerId& peer, const std::string& topic);
  // Records `peer` as a deliverer of `rec`; false if it already was one or the record is full.
  bool AddDeliverer(DeliveryRecord& rec, const crypto::PeerId& peer) const;
  // The record for `msg_id`, created (pending) when missing.
  DeliveryRecord& GetOrCreateRecord(const std::string& msg_id, MonoTime now);
  // The record of `msg_id`, made valid now if it was pending; null when the topic is not scored or the
  // message was settled already.
  DeliveryRecord* MarkValid(const std::string& msg_id, const std::string& topic);
  void ExpireRecords(MonoTime now);
  void PopOldestRecord();
  void SetIpTracking(const std::string& old_ip, const std::string& new_ip);
  // Forgets the retained peer that left first.
  void ForgetLongestRetained();
  // Erases a peer and its IP tracking; returns the next iterator.
  crypto::PeerMap<PeerStats>::iterator ForgetPeer(crypto::PeerMap<PeerStats>::iterator it);

  const PeerScoreParams params_;
  const Clock* const clock_;
  const DeliveryRecordLimits limits_;
  crypto::PeerMap<PeerStats> peers_;
  size_t retained_ = 0;  // Peers in peers_ that are not connected.
  uint64_t retentions_ = 0;  // Peers retained so far (the next PeerStats::retained_order).
  // IP -> number of known peers (connected or retained) using it.
  std::unordered_map<std::string, size_t> peers_per_ip_;
  std::unordered_map<std::string, DeliveryRecord, IdHash> records_;
  // (expiry, id) in creation order, one per record: records are only ever erased from the front, so each
  // pointer (to the key inside records_, which rehashing does not move) stays valid while it is queued.
  std::deque<std::pair<MonoTime, const std::string*>> record_queue_;
};

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_PEER_SCORE_H_
