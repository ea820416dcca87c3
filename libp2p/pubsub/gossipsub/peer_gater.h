// The peer gater: random early drop of a peer's messages while validation is overloaded. It watches how
// often messages are dropped unvalidated for want of room (throttled) against how many start validation;
// while that ratio is high and the last throttle is recent, each RPC's messages are read with the
// probability that the sender's source is useful: (1 + deliveries) / (1 + deliveries + weighted
// duplicates, ignores and rejects). Dropped RPCs still have their control handled. Sources are IPs, so that
// identities made up by one host share one record, kept a while after its last peer leaves.
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_PEER_GATER_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_PEER_GATER_H_

#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "libp2p/base/clock.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/peer_map.h"

namespace libp2p::pubsub::gossipsub {

struct PeerGaterParams {
  // Gating is on while throttled / validated reaches this (in (0, 1]) and the last throttle is no older
  // than `quiet`.
  double threshold = 0.33;
  Duration quiet = std::chrono::minutes(1);
  // Times in which counters decay to 1% of their value: the global ones (validated, throttled) and each
  // source's.
  Duration global_decay = std::chrono::minutes(2);
  Duration source_decay = std::chrono::hours(1);
  // How long a source's record is kept after its last peer left.
  Duration retain_stats = std::chrono::hours(6);
  // Weights against deliveries (>= 0).
  double duplicate_weight = 0.125;
  double ignore_weight = 1.0;
  double reject_weight = 16.0;
  // A delivery's worth per topic (>= 0); topics not listed count 1.
  std::map<std::string, double> topic_delivery_weights;
  // Records kept: beyond it, adding a source forgets the retained one whose last peer left first (sources
  // with connected peers are never forgotten, so there may be more of those while they stay).
  size_t max_sources = 8192;

  // OK, or kInvalidArgument naming the first field out of range.
  Status Validate() const;
};

// Used on the loop thread. The clock is an observer that must outlive the gater.
class PeerGater {
 public:
  PeerGater(const Clock* clock, PeerGaterParams params);

  // `peer` is connected from `source` (its IP, or any string unique to it when it has none); calling it
  // again moves the peer to another source.
  void AddPeer(const crypto::PeerId& peer, const std::string& source);
  // `peer` left; its source's record is kept for retain_stats after its last peer.
  void RemovePeer(const crypto::PeerId& peer);

  // A message started validation.
  void Validated();
  // A message was dropped unvalidated, validation having no room.
  void Throttled();
  // Outcomes of `peer`'s messages (unknown peers are ignored).
  void Delivered(const crypto::PeerId& peer, const std::string& topic);
  void Duplicate(const crypto::PeerId& peer);
  void Ignored(const crypto::PeerId& peer);
  void Rejected(const crypto::PeerId& peer);

  // Whether to read the messages of an RPC from `peer`; `uniform` is a random number in [0, 1).
  bool AcceptMessages(const crypto::PeerId& peer, double uniform) const;
  // Whether gating is on now.
  bool Active() const;

  // Decays the counters by the time since the last call and forgets records kept past retain_stats. The
  // router calls it every heartbeat.
  void Refresh();

  // --- Introspection. ---
  size_t source_count() const { return sources_.size(); }
  size_t peer_count() const { return peer_source_.size(); }

 private:
  struct Source {
    std::string name;  // Its IP, or whatever AddPeer was given.
    double delivered = 0, duplicates = 0, ignored = 0, rejected = 0;
    size_t peers = 0;  // Connected peers from it.
    MonoTime last_left{};
  };
  Source* SourceOf(const crypto::PeerId& peer);
  // Makes room for one more record (see max_sources).
  void EvictForNewSource();
  // Forgets sources_[i]: the last record takes its place, and its index entry and its peers follow it.
  void EraseSource(size_t i);

  const Clock* const clock_;
  const PeerGaterParams params_;
  double validated_ = 0, throttled_ = 0;
  MonoTime last_throttle_{};
  MonoTime last_refresh_;
  // The records side by side, in no order: Refresh walks them all every heartbeat, which in a hash table's
  // nodes cost a cache miss each.
  std::vector<Source> sources_;
  std::unordered_map<std::string, size_t> source_index_;  // Each record's place in sources_, by name.
  crypto::PeerMap<size_t> peer_source_;  // Each connected peer's record's place.
};

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_PEER_GATER_H_
