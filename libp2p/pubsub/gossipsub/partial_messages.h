// The partial-messages extension (libp2p/specs pubsub/gossipsub/partial-messages.md): the application's
// interface, and the library's per-group state.
//
// A full message is split by the application into parts; a group id names it. Peers exchange parts
// (`partialMessage`) and descriptions of the parts they have (`partsMetadata`), both encoded by the
// application, so that each peer sends another only what it lacks. The library routes: it decides which
// peers take part (mesh, fanout, gossip, whoever wrote to us about a group), keeps a record per (topic,
// group, peer) for the application to fill in, bounds that state, and hands every partial RPC to the
// application. The application decides the content: what to send each peer, and whether what it got was
// useful or invalid (which feeds the peer's score).
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_PARTIAL_MESSAGES_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_PARTIAL_MESSAGES_H_

#include <algorithm>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libp2p/crypto/peer_id.h"
#include "libp2p/pubsub/rpc/rpc.pb.h"

namespace libp2p::pubsub::gossipsub {

// The library's record of one peer for one group, which the application reads and writes: what the peer
// has, as far as we know, and what we last told it we have. The library creates it empty and drops it with
// the group or the peer; it never reads the contents.
struct PartialPeerView {
  // The peer's parts metadata as the application last understood it (from the peer's metadata, or
  // inferred from parts exchanged); empty: nothing known yet.
  std::optional<std::string> peer_has;
  // Our parts metadata as last sent to the peer; empty: none sent yet.
  std::optional<std::string> told_peer;
};

// What to send one peer in a PublishPartial: parts and metadata, each left out when empty. Parts go only to
// peers that requested partial messages on the topic; to the others, metadata only.
struct PartialSend {
  std::string parts;
  std::string metadata;
};

// Decides what one peer gets in a PublishPartial, and updates its view. `requests_partial`: the peer wants
// parts (else only metadata reaches it).
using PartialActionFn =
    std::function<PartialSend(const crypto::PeerId& peer, PartialPeerView& view, bool requests_partial)>;

// The application's side. Called on the loop thread; may call GossipSubRouter::PublishPartial.
class PartialMessagesHandler {
 public:
  virtual ~PartialMessagesHandler() = default;
  // Every partial RPC from `from`, whether or not it is in our mesh, on a topic where we enabled partial
  // messages or for a group we published. `view` is the library's record of `from` for this group, which
  // the handler should update. The RPC's bytes are the peer's: validate them before use.
  virtual void OnPartialRpc(const crypto::PeerId& from, const pb::PartialMessagesExtension& rpc,
                            PartialPeerView& view) = 0;
  // The heartbeat's gossip: `peers` (partial-requesting peers chosen as IHAVE targets would be) have no
  // record yet for group `group_id` of `topic`, one we published; the handler may PublishPartial to them
  // (metadata, or parts eagerly).
  virtual void OnGossip(const std::string& topic, const std::string& group_id,
                        const std::vector<crypto::PeerId>& peers) = 0;
};

struct PartialMessagesOptions {
  // The application; an observer that must outlive the router.
  PartialMessagesHandler* handler = nullptr;
  // Groups that peers' RPCs may create (for groups we have not published), per topic and per peer per
  // topic; an RPC for a new group beyond either is dropped and counted (go-libp2p-pubsub's defaults).
  size_t peer_initiated_groups_per_topic = 255;
  size_t peer_initiated_groups_per_topic_per_peer = 8;
  // Heartbeats a group lives after we last published to it (at least 3), or after a peer created it.
  int group_ttl_heartbeats = 3;
};

// How we take part in partial messages on one topic (sent in our SUBSCRIBE's flags).
struct PartialTopicMode {
  bool requests = false;  // Send us parts; implies `supports`.
  bool supports = false;  // We can send parts.
};

// The per-group state: one record per (topic, group, peer), with the caps on groups that peers create.
// Memory: at most peer_initiated_groups_per_topic groups per topic come from peers, and a group holds a view
// per peer it involves (mesh, fanout, gossip and writing peers: connected ones only).
class PartialGroups {
 public:
  struct Group {
    std::map<crypto::PeerId, PartialPeerView> peers;
    int ttl = 0;  // Heartbeats left.
    // We published to it (else a peer's RPC created it, and we do not gossip it).
    bool ours = false;
    // The peer whose RPC created it, while that counts against the peer's cap (until the group goes, or the
    // peer does).
    std::optional<crypto::PeerId> counted_for;
  };

  explicit PartialGroups(const PartialMessagesOptions& options) : options_(options) {}

  // Our group (found or created); its lifetime restarts, and it is ours from now on (gossiped). A group a
  // peer created still counts against that peer's cap until it goes.
  Group& Ours(const std::string& topic, const std::string& group_id);
  // The group a peer's RPC names: found, or created within the caps (null beyond them).
  Group* ForPeer(const std::string& topic, const std::string& group_id, const crypto::PeerId& from);
  Group* Find(const std::string& topic, const std::string& group_id);
  // The groups of `topic` we published (for gossip), by id.
  std::vector<std::pair<const std::string*, Group*>> OurGroups(const std::string& topic);

  // Drops the peer's views and the count of groups it created.
  void RemovePeer(const crypto::PeerId& peer);
  // Ages every group by one heartbeat; drops those whose time is up or that involve no peer.
  void Heartbeat();

  size_t topics() const { return topics_.size(); }
  size_t groups() const;
  size_t views() const;
  size_t peer_initiated(const std::string& topic) const;
  uint64_t refused() const { return refused_; }

 private:
  struct Topic {
    std::map<std::string, Group> groups;
    size_t peer_initiated = 0;
    std::map<crypto::PeerId, size_t> initiated_by;  // Peers with groups here, and how many.
  };
  int Ttl() const { return std::max(options_.group_ttl_heartbeats, 3); }
  // A group created by a peer is no longer counted against it.
  static void Uncount(Topic& t, const crypto::PeerId& peer);

  const PartialMessagesOptions options_;
  std::map<std::string, Topic> topics_;
  uint64_t refused_ = 0;
};

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_PARTIAL_MESSAGES_H_
