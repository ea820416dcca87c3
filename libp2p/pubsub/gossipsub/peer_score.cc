#include "libp2p/pubsub/gossipsub/peer_score.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <iterator>

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::PeerId;

// The range checks below are written so that NaN fails every one of them. Weights, caps and thresholds
// must also be finite: an infinite weight times a zero parameter is NaN.
bool FiniteAtLeastZero(double v) { return std::isfinite(v) && v >= 0; }
bool FiniteAtMostZero(double v) { return std::isfinite(v) && v <= 0; }
bool FinitePositive(double v) { return std::isfinite(v) && v > 0; }
bool InOpenUnit(double v) { return v > 0 && v < 1; }

Status Invalid(std::string_view field, std::string_view rule) {
  return InvalidArgumentError(std::string(field) + " " + std::string(rule));
}

// Multiplies a counter by its decay factor; what falls below `to_zero` (or is NaN) becomes 0.
void Decay(double& v, double factor, double to_zero) {
  v *= factor;
  if (!(v >= to_zero)) v = 0;
}

}  // namespace

Status TopicScoreParams::Validate() const {
  if (!FiniteAtLeastZero(topic_weight)) return Invalid("topic_weight", "must be >= 0");

  if (!FiniteAtLeastZero(time_in_mesh_weight)) return Invalid("time_in_mesh_weight", "must be >= 0");
  if (time_in_mesh_weight != 0) {
    if (time_in_mesh_quantum <= Duration::zero()) return Invalid("time_in_mesh_quantum", "must be positive");
    if (!FinitePositive(time_in_mesh_cap)) return Invalid("time_in_mesh_cap", "must be positive");
  }

  if (!FiniteAtLeastZero(first_message_deliveries_weight)) {
    return Invalid("first_message_deliveries_weight", "must be >= 0");
  }
  if (first_message_deliveries_weight != 0) {
    if (!InOpenUnit(first_message_deliveries_decay)) {
      return Invalid("first_message_deliveries_decay", "must be in (0, 1)");
    }
    if (!FinitePositive(first_message_deliveries_cap)) {
      return Invalid("first_message_deliveries_cap", "must be positive");
    }
  }

  if (!FiniteAtMostZero(mesh_message_deliveries_weight)) {
    return Invalid("mesh_message_deliveries_weight", "must be <= 0");
  }
  if (!FiniteAtMostZero(mesh_failure_penalty_weight)) {
    return Invalid("mesh_failure_penalty_weight", "must be <= 0");
  }
  // P₃b reuses P₃'s threshold and activation, so they matter when either term is on.
  if (mesh_message_deliveries_weight != 0 || mesh_failure_penalty_weight != 0) {
    if (!InOpenUnit(mesh_message_deliveries_decay)) {
      return Invalid("mesh_message_deliveries_decay", "must be in (0, 1)");
    }
    if (!FinitePositive(mesh_message_deliveries_threshold)) {
      return Invalid("mesh_message_deliveries_threshold", "must be positive");
    }
    if (!std::isfinite(mesh_message_deliveries_cap) ||
        !(mesh_message_deliveries_cap >= mesh_message_deliveries_threshold)) {
      return Invalid("mesh_message_deliveries_cap", "must be >= mesh_message_deliveries_threshold");
    }
    if (mesh_message_deliveries_window < Duration::zero()) {
      return Invalid("mesh_message_deliveries_window", "must be >= 0");
    }
    if (mesh_message_deliveries_activation < std::chrono::seconds(1)) {
      return Invalid("mesh_message_deliveries_activation", "must be at least 1s");
    }
  }
  if (mesh_failure_penalty_weight != 0 && !InOpenUnit(mesh_failure_penalty_decay)) {
    return Invalid("mesh_failure_penalty_decay", "must be in (0, 1)");
  }

  if (!FiniteAtMostZero(invalid_message_deliveries_weight)) {
    return Invalid("invalid_message_deliveries_weight", "must be <= 0");
  }
  if (invalid_message_deliveries_weight != 0 && !InOpenUnit(invalid_message_deliveries_decay)) {
    return Invalid("invalid_message_deliveries_decay", "must be in (0, 1)");
  }
  return OkStatus();
}

Status PeerScoreParams::Validate() const {
  // In name order, so the error does not depend on hash order.
  std::vector<const std::string*> names;
  names.reserve(topics.size());
  for (const auto& [name, unused] : topics) names.push_back(&name);
  std::sort(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  for (const std::string* name : names) {
    Status s = topics.at(*name).Validate();
    if (!s.ok()) return InvalidArgumentError("topic \"" + *name + "\": " + s.message());
  }

  if (!FiniteAtLeastZero(topic_score_cap)) return Invalid("topic_score_cap", "must be >= 0 (0 for no cap)");
  if (!FiniteAtLeastZero(app_specific_weight)) return Invalid("app_specific_weight", "must be >= 0");

  if (!FiniteAtMostZero(ip_colocation_factor_weight)) {
    return Invalid("ip_colocation_factor_weight", "must be <= 0");
  }
  if (ip_colocation_factor_weight != 0 && ip_colocation_factor_threshold < 1) {
    return Invalid("ip_colocation_factor_threshold", "must be at least 1");
  }

  if (!FiniteAtMostZero(behaviour_penalty_weight)) return Invalid("behaviour_penalty_weight", "must be <= 0");
  if (behaviour_penalty_weight != 0) {
    if (!FiniteAtLeastZero(behaviour_penalty_threshold)) {
      return Invalid("behaviour_penalty_threshold", "must be >= 0");
    }
    if (!InOpenUnit(behaviour_penalty_decay)) return Invalid("behaviour_penalty_decay", "must be in (0, 1)");
  }

  if (!FiniteAtMostZero(slow_peer_weight)) return Invalid("slow_peer_weight", "must be <= 0");
  if (slow_peer_weight != 0) {
    if (!FiniteAtLeastZero(slow_peer_threshold)) return Invalid("slow_peer_threshold", "must be >= 0");
    if (!InOpenUnit(slow_peer_decay)) return Invalid("slow_peer_decay", "must be in (0, 1)");
  }

  if (decay_interval <= Duration::zero()) return Invalid("decay_interval", "must be positive");
  if (!InOpenUnit(decay_to_zero)) return Invalid("decay_to_zero", "must be in (0, 1)");
  if (retain_score < Duration::zero()) return Invalid("retain_score", "must be >= 0");
  return OkStatus();
}

Status PeerScoreThresholds::Validate() const {
  if (!(gossip_threshold <= 0)) return Invalid("gossip_threshold", "must be <= 0");
  if (!(publish_threshold <= gossip_threshold)) return Invalid("publish_threshold", "must be <= gossip_threshold");
  if (!(graylist_threshold <= publish_threshold)) {
    return Invalid("graylist_threshold", "must be <= publish_threshold");
  }
  if (!(accept_px_threshold >= 0)) return Invalid("accept_px_threshold", "must be >= 0");
  if (!(opportunistic_graft_threshold >= 0)) return Invalid("opportunistic_graft_threshold", "must be >= 0");
  return OkStatus();
}

PeerScore::PeerScore(PeerScoreParams params, const Clock* clock, DeliveryRecordLimits limits, SeededHash hash)
    : params_(std::move(params)), clock_(clock), limits_(limits), records_(0, IdHash{hash}) {
  assert(clock_ != nullptr);
  assert(params_.Validate().ok());
  assert(limits_.max_records >= 1);
}

// --- Peers ---

void PeerScore::AddPeer(const PeerId& peer) {
  auto it = peers_.find(peer);
  if (it != peers_.end()) {
    PeerStats& ps = it->second;
    if (ps.connected) return;
    if (clock_->Now() < ps.expire) {
      ps.connected = true;  // Back with the counters it left with.
      --retained_;
      return;
    }
    ForgetPeer(it);  // Retention over: start afresh.
  }
  peers_.try_emplace(peer);
}

void PeerScore::RemovePeer(const PeerId& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || !it->second.connected) return;
  PeerStats& ps = it->second;
  const MonoTime now = clock_->Now();
  // Leaving drops the first-delivery credit, and leaving a mesh with an active deficit counts as a mesh
  // failure, as a PRUNE would: otherwise an under-delivering peer could disconnect to dodge P₃b.
  for (auto& [topic, ts] : ps.topics) {
    ts.first_message_deliveries = 0;
    if (ts.in_mesh) {
      const double deficit = ActiveDeficit(ts, now);
      ts.mesh_failure_penalty += deficit * deficit;
      ts.in_mesh = false;
    }
  }
  // Decided on the score the peer leaves with (after the adjustments above): a peer whose positive P₂
  // masked penalties keeps the penalties.
  if (params_.retain_score > Duration::zero() && ComputeScore(peer, ps, now) < 0) {
    ps.connected = false;
    ps.expire = now + params_.retain_score;
    ps.retained_order = retentions_++;
    if (++retained_ > params_.max_retained_peers) ForgetLongestRetained();
    return;
  }
  ForgetPeer(it);
}

void PeerScore::ForgetLongestRetained() {
  // A scan, only when the bound is exceeded: at most once per peer leaving with a negative score.
  auto oldest = peers_.end();
  for (auto it = peers_.begin(); it != peers_.end(); ++it) {
    if (!it->second.connected && (oldest == peers_.end() || it->second.retained_order < oldest->second.retained_order)) {
      oldest = it;
    }
  }
  if (oldest != peers_.end()) ForgetPeer(oldest);
}

void PeerScore::SetIp(const PeerId& peer, std::string ip) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.ip == ip) return;
  SetIpTracking(it->second.ip, ip);
  it->second.ip = std::move(ip);
}

bool PeerScore::IsConnected(const PeerId& peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.connected;
}

crypto::PeerMap<PeerScore::PeerStats>::iterator PeerScore::ForgetPeer(
    crypto::PeerMap<PeerStats>::iterator it) {
  if (!it->second.connected) --retained_;
  SetIpTracking(it->second.ip, std::string());
  return peers_.erase(it);
}

void PeerScore::SetIpTracking(const std::string& old_ip, const std::string& new_ip) {
  if (!old_ip.empty()) {
    auto it = peers_per_ip_.find(old_ip);
    assert(it != peers_per_ip_.end() && it->second > 0);
    if (it != peers_per_ip_.end() && --it->second == 0) peers_per_ip_.erase(it);
  }
  if (!new_ip.empty()) ++peers_per_ip_[new_ip];
}

PeerScore::TopicStats* PeerScore::GetTopicStats(const PeerId& peer, const std::string& topic) {
  auto tp = params_.topics.find(topic);
  if (tp == params_.topics.end()) return nullptr;
  auto pit = peers_.find(peer);
  if (pit == peers_.end()) return nullptr;
  auto [tit, inserted] = pit->second.topics.try_emplace(topic);
  if (inserted) tit->second.params = &tp->second;
  return &tit->second;
}

PeerScore::TopicStats* PeerScore::FindTopicStats(const PeerId& peer, const std::string& topic) {
  auto pit = peers_.find(peer);
  if (pit == peers_.end()) return nullptr;
  auto tit = pit->second.topics.find(topic);
  return tit == pit->second.topics.end() ? nullptr : &tit->second;
}

// --- Mesh ---

void PeerScore::Graft(const PeerId& peer, const std::string& topic) {
  if (!IsConnected(peer)) return;
  TopicStats* ts = GetTopicStats(peer, topic);
  if (ts == nullptr || ts->in_mesh) return;
  ts->in_mesh = true;
  ts->graft_time = clock_->Now();
}

void PeerScore::Prune(const PeerId& peer, const std::string& topic) {
  TopicStats* ts = FindTopicStats(peer, topic);
  if (ts == nullptr || !ts->in_mesh) return;
  const double deficit = ActiveDeficit(*ts, clock_->Now());
  ts->mesh_failure_penalty += deficit * deficit;
  ts->in_mesh = false;
}

double PeerScore::ActiveDeficit(const TopicStats& ts, MonoTime now) {
  const TopicScoreParams& tp = *ts.params;
  if (!ts.in_mesh || now - ts.graft_time <= tp.mesh_message_deliveries_activation) return 0;
  if (ts.mesh_message_deliveries >= tp.mesh_message_deliveries_threshold) return 0;
  return tp.mesh_message_deliveries_threshold - ts.mesh_message_deliveries;
}

// --- Messages ---

void PeerScore::CreditMeshDelivery(const PeerId& peer, const std::string& topic) {
  TopicStats* ts = FindTopicStats(peer, topic);
  if (ts == nullptr || !ts->in_mesh) return;
  ts->mesh_message_deliveries =
      std::min(ts->mesh_message_deliveries + 1, ts->params->mesh_message_deliveries_cap);
}

void PeerScore::PenaliseInvalid(const PeerId& peer, const std::string& topic) {
  if (TopicStats* ts = GetTopicStats(peer, topic)) ts->invalid_message_deliveries += 1;
}

bool PeerScore::AddDeliverer(DeliveryRecord& rec, const PeerId& peer) const {
  // A linear scan over at most max_deliverers_per_message (a few in practice: the mesh degree plus gossip).
  if (std::find(rec.deliverers.begin(), rec.deliverers.end(), peer) != rec.deliverers.end()) return false;
  if (rec.deliverers.size() >= limits_.max_deliverers_per_message) return false;
  rec.deliverers.push_back(peer);
  return true;
}

PeerScore::DeliveryRecord& PeerScore::GetOrCreateRecord(const std::string& msg_id, MonoTime now) {
  auto it = records_.find(msg_id);
  if (it != records_.end()) return it->second;
  while (records_.size() >= std::max<size_t>(limits_.max_records, 1) && !record_queue_.empty()) {
    PopOldestRecord();
  }
  auto [created, unused] = records_.try_emplace(msg_id);
  record_queue_.emplace_back(now + limits_.ttl, &created->first);
  return created->second;
}

void PeerScore::PopOldestRecord() {
  auto it = records_.find(*record_queue_.front().second);
  assert(it != records_.end());  // The queue and the map hold the same ids.
  if (it != records_.end()) records_.erase(it);
  record_queue_.pop_front();
}

void PeerScore::ExpireRecords(MonoTime now) {
  while (!record_queue_.empty() && record_queue_.front().first <= now) {
    PopOldestRecord();
  }
}

PeerScore::DeliveryRecord* PeerScore::MarkValid(const std::string& msg_id, const std::string& topic) {
  if (params_.topics.count(topic) == 0) return nullptr;
  const MonoTime now = clock_->Now();
  ExpireRecords(now);
  DeliveryRecord& rec = GetOrCreateRecord(msg_id, now);
  if (rec.status != DeliveryStatus::kPending) return nullptr;
  rec.status = DeliveryStatus::kValid;
  rec.validated = now;
  return &rec;
}

void PeerScore::DeliverMessage(const PeerId& from, const std::string& msg_id, const std::string& topic) {
  DeliveryRecord* valid = MarkValid(msg_id, topic);
  if (valid == nullptr) return;
  DeliveryRecord& rec = *valid;
  if (TopicStats* ts = GetTopicStats(from, topic)) {
    ts->first_message_deliveries =
        std::min(ts->first_message_deliveries + 1, ts->params->first_message_deliveries_cap);
  }
  CreditMeshDelivery(from, topic);
  // Copies that arrived while the first was being validated are near-first, whatever the window.
  for (const PeerId& p : rec.deliverers) {
    if (!(p == from)) CreditMeshDelivery(p, topic);
  }
  AddDeliverer(rec, from);
}

void PeerScore::PublishMessage(const std::string& msg_id, const std::string& topic) { MarkValid(msg_id, topic); }

void PeerScore::DuplicateMessage(const PeerId& from, const std::string& msg_id, const std::string& topic) {
  auto tp = params_.topics.find(topic);
  if (tp == params_.topics.end()) return;
  const MonoTime now = clock_->Now();
  ExpireRecords(now);
  // An unknown id is a copy of a message still being validated (or of one whose record is gone, which
  // then simply never resolves).
  DeliveryRecord& rec = GetOrCreateRecord(msg_id, now);
  if (rec.status == DeliveryStatus::kIgnored) return;
  if (!AddDeliverer(rec, from)) return;
  switch (rec.status) {
    case DeliveryStatus::kPending:
      break;  // Settled by DeliverMessage or RejectMessage.
    case DeliveryStatus::kValid:
      if (now - rec.validated <= tp->second.mesh_message_deliveries_window) CreditMeshDelivery(from, topic);
      break;
    case DeliveryStatus::kInvalid:
      PenaliseInvalid(from, topic);
      break;
    case DeliveryStatus::kIgnored:
      break;
  }
}

void PeerScore::RejectMessage(const PeerId& from, const std::string& msg_id, const std::string& topic,
                              RejectReason reason) {
  if (params_.topics.count(topic) == 0) return;
  switch (reason) {
    case RejectReason::kThrottled:
      return;
    case RejectReason::kInvalidSignature:
    case RejectReason::kSelfOrigin:
      PenaliseInvalid(from, topic);
      return;
    case RejectReason::kInvalid:
    case RejectReason::kIgnored:
      break;
  }
  const MonoTime now = clock_->Now();
  ExpireRecords(now);
  DeliveryRecord& rec = GetOrCreateRecord(msg_id, now);
  if (rec.status != DeliveryStatus::kPending) return;
  if (reason == RejectReason::kIgnored) {
    rec.status = DeliveryStatus::kIgnored;
    rec.deliverers = {};  // Nothing more to settle: release the memory.
    return;
  }
  rec.status = DeliveryStatus::kInvalid;
  PenaliseInvalid(from, topic);
  for (const PeerId& p : rec.deliverers) {
    if (!(p == from)) PenaliseInvalid(p, topic);
  }
  AddDeliverer(rec, from);
}

void PeerScore::UsefulPartial(const PeerId& peer, const std::string& topic) {
  if (TopicStats* ts = GetTopicStats(peer, topic)) {
    ts->first_message_deliveries =
        std::min(ts->first_message_deliveries + 1, ts->params->first_message_deliveries_cap);
  }
  CreditMeshDelivery(peer, topic);
}

void PeerScore::InvalidPartial(const PeerId& peer, const std::string& topic) { PenaliseInvalid(peer, topic); }

void PeerScore::AddPenalty(const PeerId& peer, double count) {
  assert(count >= 0);
  if (!(count > 0) || !std::isfinite(count)) return;
  auto it = peers_.find(peer);
  if (it != peers_.end()) it->second.behaviour_penalty += count;
}

void PeerScore::SlowPeer(const PeerId& peer) {
  auto it = peers_.find(peer);
  if (it != peers_.end()) it->second.slow_peer_penalty += 1;
}

// --- Scores ---

double PeerScore::Score(const PeerId& peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return 0;
  const MonoTime now = clock_->Now();
  if (!it->second.connected && now >= it->second.expire) return 0;
  return ComputeScore(peer, it->second, now);
}

double PeerScore::ComputeScore(const PeerId& peer, const PeerStats& ps, MonoTime now) const {
  double topic_score = 0;
  for (const auto& [topic, ts] : ps.topics) {
    const TopicScoreParams& tp = *ts.params;
    double s = 0;
    // Zero weights are skipped, not multiplied: the fields of a disabled term are not validated.
    if (tp.time_in_mesh_weight != 0 && ts.in_mesh) {
      // Whole quanta, as the spec's integer duration division; computed from the clock rather than at
      // the last refresh, so P₁ is exact at every call.
      const double p1 = static_cast<double>((now - ts.graft_time) / tp.time_in_mesh_quantum);
      s += tp.time_in_mesh_weight * std::min(p1, tp.time_in_mesh_cap);
    }
    if (tp.first_message_deliveries_weight != 0) {
      s += tp.first_message_deliveries_weight * ts.first_message_deliveries;
    }
    if (tp.mesh_message_deliveries_weight != 0) {
      const double deficit = ActiveDeficit(ts, now);
      s += tp.mesh_message_deliveries_weight * deficit * deficit;
    }
    if (tp.mesh_failure_penalty_weight != 0) s += tp.mesh_failure_penalty_weight * ts.mesh_failure_penalty;
    if (tp.invalid_message_deliveries_weight != 0) {
      s += tp.invalid_message_deliveries_weight * ts.invalid_message_deliveries * ts.invalid_message_deliveries;
    }
    topic_score += tp.topic_weight * s;
  }
  if (params_.topic_score_cap > 0 && topic_score > params_.topic_score_cap) topic_score = params_.topic_score_cap;

  double score = topic_score;
  if (params_.app_specific_weight != 0 && params_.app_specific_score) {
    score += params_.app_specific_weight * params_.app_specific_score(peer);
  }
  if (params_.ip_colocation_factor_weight != 0 && !ps.ip.empty() &&
      params_.ip_colocation_factor_whitelist.count(ps.ip) == 0) {
    auto it = peers_per_ip_.find(ps.ip);
    const double peers_on_ip = it == peers_per_ip_.end() ? 0 : static_cast<double>(it->second);
    const double surplus = peers_on_ip - params_.ip_colocation_factor_threshold;
    if (surplus > 0) score += params_.ip_colocation_factor_weight * surplus * surplus;
  }
  if (params_.behaviour_penalty_weight != 0) {
    const double excess = ps.behaviour_penalty - params_.behaviour_penalty_threshold;
    if (excess > 0) score += params_.behaviour_penalty_weight * excess * excess;
  }
  if (params_.slow_peer_weight != 0) {
    const double excess = ps.slow_peer_penalty - params_.slow_peer_threshold;
    if (excess > 0) score += params_.slow_peer_weight * excess;
  }
  return score;
}

void PeerScore::RefreshScores() {
  const MonoTime now = clock_->Now();
  const double to_zero = params_.decay_to_zero;
  for (auto it = peers_.begin(); it != peers_.end();) {
    PeerStats& ps = it->second;
    if (!ps.connected) {
      // Retained counters are frozen: a peer that is away earns no decay, so it comes back as it left, and
      // disconnecting is never a way to shed a penalty sooner.
      it = now >= ps.expire ? ForgetPeer(it) : std::next(it);
      continue;
    }
    for (auto& [topic, ts] : ps.topics) {
      const TopicScoreParams& tp = *ts.params;
      Decay(ts.first_message_deliveries, tp.first_message_deliveries_decay, to_zero);
      Decay(ts.mesh_message_deliveries, tp.mesh_message_deliveries_decay, to_zero);
      Decay(ts.mesh_failure_penalty, tp.mesh_failure_penalty_decay, to_zero);
      Decay(ts.invalid_message_deliveries, tp.invalid_message_deliveries_decay, to_zero);
    }
    Decay(ps.behaviour_penalty, params_.behaviour_penalty_decay, to_zero);
    Decay(ps.slow_peer_penalty, params_.slow_peer_decay, to_zero);
    ++it;
  }
  ExpireRecords(now);
}

}  // namespace libp2p::pubsub::gossipsub
