// Which connections to close when there are too many: high and low watermarks, peers protected by tags
// (gossipsub mesh and direct peers), values that rank the rest, and a grace period for new connections
// (go-libp2p's connmgr is the model).
#ifndef LIBP2P_STREAM_CONNECTION_MANAGER_H_
#define LIBP2P_STREAM_CONNECTION_MANAGER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "libp2p/base/clock.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/peer_map.h"

namespace libp2p::stream {

struct ConnectionManagerOptions {
  // Trimming starts when more than `high_water` connections are open and closes connections until at most
  // `low_water` are left (go-libp2p's defaults: 160 and 192).
  size_t low_water = 160;
  size_t high_water = 192;
  // A connection younger than this is never trimmed (go: one minute).
  Duration grace_period = std::chrono::minutes(1);
  // At most one trim per this period (go: ten seconds).
  Duration silence_period = std::chrono::seconds(10);
  // A peer marked useful (MarkUseful) within this window ranks above every peer not marked, whatever their
  // tag values.
  Duration useful_window = std::chrono::minutes(2);
};

// One open connection, as the manager sees it.
struct ConnectionSummary {
  uint64_t id = 0;
  crypto::PeerId peer;
  MonoTime opened;
};

// Bookkeeping only: it decides, the host closes. Protections and tags are kept per peer until removed (tags
// and the useful mark are also dropped by ForgetPeer() when the peer's last connection closes; protections
// stay, as the protecting layer decides when they end). Loop thread only.
class ConnectionManager {
 public:
  explicit ConnectionManager(ConnectionManagerOptions options = {});

  // Protects `peer` from trimming under `tag` (e.g. "gossipsub:mesh:<topic>") until Unprotect() of that tag.
  void Protect(const crypto::PeerId& peer, const std::string& tag);
  // Removes one protection; returns whether the peer is still protected by another tag.
  bool Unprotect(const crypto::PeerId& peer, const std::string& tag);
  bool IsProtected(const crypto::PeerId& peer) const;

  // Sets (replaces) the value of `tag` for `peer`; a peer's value is the sum of its tags. Higher is kept longer.
  void SetTag(const crypto::PeerId& peer, const std::string& tag, int value);
  void RemoveTag(const crypto::PeerId& peer, const std::string& tag);
  int Value(const crypto::PeerId& peer) const;

  // Records that `peer` did something useful now (e.g. delivered a message first).
  void MarkUseful(const crypto::PeerId& peer, MonoTime now);

  // The peer's last connection closed: drops its tags and useful mark (not its protections).
  void ForgetPeer(const crypto::PeerId& peer);

  // Whether a trim is due: more than high_water connections, and no trim within the silence period.
  bool ShouldTrim(size_t open_connections, MonoTime now) const;

  // Chooses the connections to close so that at most low_water of `open` remain, and records the trim time.
  // Never chooses a connection of a protected peer or one younger than the grace period, so fewer may be
  // chosen. Peers are closed whole (all their connections), least valuable first: peers not marked useful
  // within the useful window before those that were, then by value, then those marked useful longest ago,
  // then the newest connection first.
  std::vector<uint64_t> SelectForTrim(const std::vector<ConnectionSummary>& open, MonoTime now);

  const ConnectionManagerOptions& options() const { return options_; }
  // Peers with protections, tags or a useful mark (for tests: entries do not pile up).
  size_t tracked_peers() const { return peers_.size(); }

 private:
  struct PeerState {
    std::set<std::string> protections;
    std::map<std::string, int> tags;
    int value = 0;
    bool useful = false;
    MonoTime last_useful;
  };

  // Drops an entry that holds nothing any more.
  void EraseIfEmpty(crypto::PeerMap<PeerState>::iterator it);

  const ConnectionManagerOptions options_;
  crypto::PeerMap<PeerState> peers_;
  bool trimmed_ = false;
  MonoTime last_trim_;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_CONNECTION_MANAGER_H_
