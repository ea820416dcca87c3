#include "libp2p/pubsub/gossipsub/peer_gater.h"

#include <cmath>
#include <optional>
#include <utility>

namespace libp2p::pubsub::gossipsub {

namespace {

// Counters below this become zero as they decay.
constexpr double kDecayToZero = 0.01;

// The factor that takes a counter to 1% over `decay`, applied for `elapsed`.
double DecayFactor(Duration elapsed, Duration decay) {
  return std::pow(0.01, std::chrono::duration<double>(elapsed) / std::chrono::duration<double>(decay));
}

void Decay(double* value, double factor) {
  *value *= factor;
  if (*value < kDecayToZero) *value = 0;
}

}  // namespace

Status PeerGaterParams::Validate() const {
  if (!(threshold > 0 && threshold <= 1)) return InvalidArgumentError("peer gater threshold must be in (0, 1]");
  if (quiet <= Duration::zero()) return InvalidArgumentError("peer gater quiet must be positive");
  if (global_decay <= Duration::zero()) return InvalidArgumentError("peer gater global_decay must be positive");
  if (source_decay <= Duration::zero()) return InvalidArgumentError("peer gater source_decay must be positive");
  if (retain_stats < Duration::zero()) return InvalidArgumentError("peer gater retain_stats must be >= 0");
  if (!(duplicate_weight >= 0)) return InvalidArgumentError("peer gater duplicate_weight must be >= 0");
  if (!(ignore_weight >= 0)) return InvalidArgumentError("peer gater ignore_weight must be >= 0");
  if (!(reject_weight >= 0)) return InvalidArgumentError("peer gater reject_weight must be >= 0");
  for (const auto& [topic, weight] : topic_delivery_weights) {
    if (!(weight >= 0)) return InvalidArgumentError("peer gater delivery weight of " + topic + " must be >= 0");
  }
  if (max_sources == 0) return InvalidArgumentError("peer gater max_sources must be positive");
  return OkStatus();
}

PeerGater::PeerGater(const Clock* clock, PeerGaterParams params)
    : clock_(clock), params_(std::move(params)), last_refresh_(clock->Now()) {}

void PeerGater::AddPeer(const crypto::PeerId& peer, const std::string& source) {
  auto known = peer_source_.find(peer);
  if (known != peer_source_.end()) {
    if (sources_[known->second].name == source) return;
    RemovePeer(peer);
  }
  auto it = source_index_.find(source);
  if (it == source_index_.end()) {
    if (sources_.size() >= params_.max_sources) EvictForNewSource();
    it = source_index_.emplace(source, sources_.size()).first;
    sources_.push_back(Source{.name = source});
  }
  ++sources_[it->second].peers;
  peer_source_.try_emplace(peer, it->second);
}

void PeerGater::RemovePeer(const crypto::PeerId& peer) {
  auto known = peer_source_.find(peer);
  if (known == peer_source_.end()) return;
  Source& s = sources_[known->second];
  if (--s.peers == 0) s.last_left = clock_->Now();
  peer_source_.erase(known);
}

void PeerGater::EvictForNewSource() {
  std::optional<size_t> oldest;
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i].peers > 0) continue;
    if (!oldest.has_value() || sources_[i].last_left < sources_[*oldest].last_left) oldest = i;
  }
  if (oldest.has_value()) EraseSource(*oldest);
}

void PeerGater::EraseSource(size_t i) {
  source_index_.erase(sources_[i].name);
  const size_t last = sources_.size() - 1;
  if (i != last) {
    sources_[i] = std::move(sources_[last]);
    source_index_[sources_[i].name] = i;
    if (sources_[i].peers > 0) {
      for (auto& [peer, at] : peer_source_) {
        if (at == last) at = i;
      }
    }
  }
  sources_.pop_back();
}

PeerGater::Source* PeerGater::SourceOf(const crypto::PeerId& peer) {
  auto known = peer_source_.find(peer);
  return known == peer_source_.end() ? nullptr : &sources_[known->second];
}

void PeerGater::Validated() { validated_ += 1; }

void PeerGater::Throttled() {
  throttled_ += 1;
  last_throttle_ = clock_->Now();
}

void PeerGater::Delivered(const crypto::PeerId& peer, const std::string& topic) {
  Source* s = SourceOf(peer);
  if (s == nullptr) return;
  auto w = params_.topic_delivery_weights.find(topic);
  s->delivered += w == params_.topic_delivery_weights.end() ? 1.0 : w->second;
}

void PeerGater::Duplicate(const crypto::PeerId& peer) {
  if (Source* s = SourceOf(peer)) s->duplicates += 1;
}

void PeerGater::Ignored(const crypto::PeerId& peer) {
  if (Source* s = SourceOf(peer)) s->ignored += 1;
}

void PeerGater::Rejected(const crypto::PeerId& peer) {
  if (Source* s = SourceOf(peer)) s->rejected += 1;
}

bool PeerGater::Active() const {
  if (throttled_ == 0) return false;
  if (clock_->Now() - last_throttle_ > params_.quiet) return false;
  // Every throttle counts a validation that did not happen: against validations, not against zero.
  return validated_ == 0 || throttled_ / validated_ >= params_.threshold;
}

bool PeerGater::AcceptMessages(const crypto::PeerId& peer, double uniform) const {
  if (!Active()) return true;
  auto known = peer_source_.find(peer);
  if (known == peer_source_.end()) return true;
  const Source& s = sources_[known->second];
  const double total = s.delivered + params_.duplicate_weight * s.duplicates + params_.ignore_weight * s.ignored +
                       params_.reject_weight * s.rejected;
  if (total == 0) return true;
  return uniform < (1 + s.delivered) / (1 + total);
}

void PeerGater::Refresh() {
  const MonoTime now = clock_->Now();
  const Duration elapsed = now - last_refresh_;
  last_refresh_ = now;
  if (elapsed <= Duration::zero()) return;
  const double global = DecayFactor(elapsed, params_.global_decay);
  Decay(&validated_, global);
  Decay(&throttled_, global);
  const double per_source = DecayFactor(elapsed, params_.source_decay);
  for (size_t i = 0; i < sources_.size();) {
    Source& s = sources_[i];
    if (s.peers == 0 && now - s.last_left > params_.retain_stats) {
      EraseSource(i);  // The last record moves to i: look at i again.
      continue;
    }
    Decay(&s.delivered, per_source);
    Decay(&s.duplicates, per_source);
    Decay(&s.ignored, per_source);
    Decay(&s.rejected, per_source);
    ++i;
  }
}

}  // namespace libp2p::pubsub::gossipsub
