// The GossipSub router (v1.0 to v1.3): mesh maintenance on a heartbeat, fanout, gossip with IHAVE/IWANT
// from the message cache, GRAFT/PRUNE with backoff and peer exchange, flood publishing, opportunistic
// grafting, direct peers, IWANT promises, peer scoring, IDONTWANT, and v1.3's extensions with partial
// messages. It speaks /meshsub/1.3.0, /meshsub/1.2.0, /meshsub/1.1.0 and /meshsub/1.0.0, and floods to
// /floodsub/1.0.0 peers.
//
// v1.3's Extensions control message goes in the first RPC of every outbound stream we open to a v1.3 peer
// (with our subscriptions: see Router::AddHello), and nowhere else. A reopened stream (a new connection)
// carries it again, because go-libp2p-pubsub forgets a peer's extensions when that peer's stream to it
// closes, and takes the first RPC of the next stream as the peer's extensions; we close the old stream
// before opening the new one, so the repeat lands on a fresh stream, not as a second Extensions message.
// Likewise we take a peer's extensions from the first RPC of each of its inbound streams (none there means
// none), and an Extensions control message anywhere else costs the peer misplaced_extensions_penalty.
#ifndef LIBP2P_PUBSUB_GOSSIPSUB_GOSSIPSUB_ROUTER_H_
#define LIBP2P_PUBSUB_GOSSIPSUB_GOSSIPSUB_ROUTER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "libp2p/base/event_loop.h"
#include "libp2p/base/flat_set.h"
#include "libp2p/base/multiaddr.h"
#include "libp2p/base/random.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/peer_map.h"
#include "libp2p/pubsub/gossipsub/backoff.h"
#include "libp2p/pubsub/gossipsub/extensions.h"
#include "libp2p/pubsub/gossipsub/message_cache.h"
#include "libp2p/pubsub/gossipsub/params.h"
#include "libp2p/pubsub/gossipsub/partial_messages.h"
#include "libp2p/pubsub/gossipsub/peer_gater.h"
#include "libp2p/pubsub/gossipsub/peer_score.h"
#include "libp2p/pubsub/gossipsub/promise_tracker.h"
#include "libp2p/pubsub/gossipsub/px_connector.h"
#include "libp2p/pubsub/pubsub_peer.h"
#include "libp2p/pubsub/router.h"
#include "libp2p/pubsub/timed_cache.h"

namespace libp2p::pubsub::gossipsub {

// A set of peers (a topic's mesh, fanout or subscribers), in the order of their ids.
using PeerSet = FlatSet<crypto::PeerId>;

inline constexpr std::string_view kMeshSubV13 = "/meshsub/1.3.0";
inline constexpr std::string_view kMeshSubV12 = "/meshsub/1.2.0";
inline constexpr std::string_view kMeshSubV11 = "/meshsub/1.1.0";
inline constexpr std::string_view kMeshSubV10 = "/meshsub/1.0.0";

struct GossipSubOptions {
  GossipSubParams params;
  // Scoring is off without params; with them, the thresholds apply.
  std::optional<PeerScoreParams> score_params;
  PeerScoreThresholds thresholds;
  // Direct (explicit) peers, with the addresses to reach them: we always exchange every message with them,
  // never put them in a mesh, always accept their RPCs, and (re)connect to the ones we are not connected to
  // direct_connect_initial_delay after Attach and then every direct_connect_ticks heartbeats, trying their
  // addresses in turn (an address without /p2p/ gets the peer's id appended). No addresses: never dialed.
  std::map<crypto::PeerId, std::vector<Multiaddr>> direct_peers;
  // Peer exchange. We offer peers in our PRUNEs only with do_px (off by default, as in go: turn it on in
  // bootstrappers). Offers in PRUNEs we receive are taken only from peers whose score reaches
  // thresholds.accept_px_threshold (so never without scoring), and dialed through a bounded queue.
  bool do_px = false;
  PxConnectorOptions px_connector;
  // Random early drop of messages from peers with a poor record while validation is throttled (see
  // peer_gater.h). On by default (go has it off): it does nothing until validation runs out of room.
  std::optional<PeerGaterParams> peer_gater = PeerGaterParams{};
  // The protocols spoken, preferred first (go's WithGossipSubProtocols): kMeshSubV13 to kMeshSubV10 and
  // floodsub's. Empty: all of them, the newest first.
  std::vector<std::string> protocols;
  // v1.3: the test extension, and what a misplaced Extensions message costs.
  ExtensionOptions extensions;
  // The partial-messages extension: advertised to v1.3 peers when set, and used on the topics given a mode
  // here or with SetPartialTopic.
  std::optional<PartialMessagesOptions> partial_messages;
  std::map<std::string, PartialTopicMode> partial_topics;
  // Seed for the random choices (peer selection, gossip targets, the peer gater's drops), for reproducible
  // runs: it seeds a std::mt19937_64 that the choices read through portable_random.h, so a seed makes the
  // same choices with any standard library. The default comes from RandomU64 (libp2p/base/random.h) when the
  // options are made, so a ScopedDeterministicRandom fixes it too.
  uint64_t seed = RandomU64();
};

// Called on the loop thread, from the loop, after the call that changed the mesh has returned: a handler
// may call into the PubSub (Subscribe, Unsubscribe, Publish).
struct GossipSubEvents {
  // Our mesh for `topic` gained or lost `peer`.
  std::function<void(const crypto::PeerId& peer, const std::string& topic)> on_graft;
  std::function<void(const crypto::PeerId& peer, const std::string& topic)> on_prune;
};

// Counters for tests, fuzzing and operators.
struct GossipSubStats {
  uint64_t heartbeats = 0;
  uint64_t ihave_sent = 0, iwant_sent = 0, iwant_served = 0;
  uint64_t graft_received = 0, prune_received = 0;
  uint64_t idontwant_sent = 0, idontwant_received = 0;  // Message ids, not RPCs.
  // Copies not sent because of an IDONTWANT: skipped when forwarding, or dropped from a peer's queue.
  uint64_t sends_skipped_idontwant = 0, sends_cancelled = 0;
  uint64_t broken_promises = 0;
  uint64_t px_dials = 0;          // Dials of peers offered in PRUNEs, started.
  uint64_t px_offers_dropped = 0;  // Offers dropped: the dial queue was full.
  uint64_t direct_dials = 0;
  uint64_t rpcs_gated = 0;  // RPCs whose messages the peer gater dropped unread.
  // v1.3: Extensions control messages outside the first RPC of a stream (each penalised), and test-extension
  // messages sent and received.
  uint64_t extensions_misplaced = 0;
  uint64_t test_extension_sent = 0, test_extension_received = 0;
  // Partial messages: RPCs sent and handed to the application; RPCs dropped (from a peer that did not
  // advertise the extension, for a topic or group we take no part in, or beyond the group caps); full
  // messages not sent to peers that requested partial messages instead.
  uint64_t partial_sent = 0, partial_received = 0, partial_dropped = 0;
  uint64_t full_sends_skipped_partial = 0;
  // Heartbeats that found RPCs to a peer dropped unsent since the last one (its send lanes full, or RPCs
  // expired in them), counted once per peer: each raised that peer's slow-peer score counter.
  uint64_t slow_peer_heartbeats = 0;
};

// The entries of every collection the router grows, with the bound each obeys and what sets it (StateCounts()).
// A remote peer can make none of them grow beyond its bound: tests and the router fuzzer check it.
struct GossipSubStateCounts {
  // Pubsub peers known to the router: one per peer the core holds (bounded by the host's max_connections).
  size_t peers = 0;
  // Topics we are in (Join/Leave: our own subscriptions only; GRAFTs and PRUNEs for other topics add none),
  // and their members together: each mesh holds at most d_hi peers, plus our outbound peers (a GRAFT from an
  // outbound peer is accepted beyond d_hi, as in go, and the heartbeat grafts outbound peers for d_out), plus
  // opportunistic_graft_peers grafted opportunistically; the next heartbeat prunes back to d.
  size_t mesh_topics = 0;
  size_t mesh_members = 0;
  // Topics with at least one subscribed peer, and (peer, topic) subscriptions together: a mirror of the
  // core's peer topics, so each peer adds at most PubSubOptions::max_subscriptions_per_peer, and a topic
  // with no peer left is erased.
  size_t topic_peers_topics = 0;
  size_t topic_peers_members = 0;
  // Topics we published to without joining, in the last fanout_ttl (our own Publish calls only), their
  // peers together (at most d per topic), and their last-publish times (one per fanout topic).
  size_t fanout_topics = 0;
  size_t fanout_members = 0;
  size_t fanout_last_publish = 0;
  // (peer, topic) backoff entries: only for topics we are in; at most Backoff::max_entries() (100,000),
  // each dropped backoff + slack after its deadline, the deadline at most kMaxBackoff ahead.
  size_t backoff_entries = 0;
  // Messages in the message cache and their encoded bytes: those validated in the last mcache_len
  // heartbeats, at most MessageCache::kDefaultMaxBytes of them.
  size_t mcache_messages = 0;
  size_t mcache_bytes = 0;
  // Open IWANT promises, all peers together: at most promises_per_peer_cap per peer (one per IHAVE RPC taken,
  // max_ihave_messages a heartbeat, over the heartbeats iwant_followup_time spans, plus 2), each closed
  // within iwant_followup_time plus a heartbeat.
  size_t promises = 0;
  size_t promises_per_peer_cap = 0;
  // IDONTWANT ids held for all peers together: at most max_idontwant_entries_per_peer per peer, each kept
  // idontwant_retention_heartbeats heartbeats; dropped with the peer.
  size_t dont_send_entries = 0;
  // IDONTWANTs waiting to go out, peers and ids: filled while the loop handles one batch of input and
  // emptied when it comes back (so 0 between loop turns); at most our v1.2 mesh peers, one id per large
  // message of that batch.
  size_t idontwant_batch_peers = 0;
  size_t idontwant_batch_ids = 0;
  // (peer, topic) protections in the host's connection manager: the mesh memberships of the last heartbeat.
  size_t protected_entries = 0;
  // Peers the score tracks (connected ones, and at most PeerScoreParams::max_retained_peers that left with a
  // negative score, each for retain_score), the IPs they use (P6), and its delivery records (at most
  // DeliveryRecordLimits::max_records, 100,000). 0 without scoring.
  size_t score_peers = 0;
  size_t score_ips = 0;
  size_t score_delivery_records = 0;
  // Peer-exchange offers waiting to be dialed and dials under way: at most PxConnectorOptions::max_pending
  // and max_dialing.
  size_t px_pending = 0;
  size_t px_dialing = 0;
  // The peer gater's peers (one per connected peer) and sources (IPs): at most PeerGaterParams::max_sources
  // besides those with a connected peer, each kept retain_stats after its last peer left. 0 without it.
  size_t gater_peers = 0;
  size_t gater_sources = 0;
  // Mesh changes waiting for the event handlers: emptied when the loop comes back (0 between loop turns).
  size_t mesh_events = 0;
  // Partial messages: groups (those created by peers' RPCs at most peer_initiated_groups_per_topic per topic,
  // peer_initiated_groups_per_topic_per_peer per peer; each gone group_ttl_heartbeats after its last publish
  // or creation), and their per-peer views (connected peers only). 0 without the extension.
  size_t partial_groups = 0;
  size_t partial_views = 0;
  // (peer, topic) partial-message flags of peers' subscriptions: at most their subscriptions.
  size_t partial_peer_topics = 0;
};

// The application's verdict on a partial message (GossipSubRouter::PartialFeedback).
enum class PartialFeedback { kUseful, kInvalid };

class GossipSubRouter final : public Router {
 public:
  // A router with `options`, or kInvalidArgument naming the first parameter out of range (GossipSubParams,
  // PeerScoreParams and PeerScoreThresholds are checked, each with its own Validate()).
  static StatusOr<std::unique_ptr<GossipSubRouter>> Create(GossipSubOptions options, GossipSubEvents events = {});
  ~GossipSubRouter() override;

  std::vector<std::string> Protocols() const override;
  void Attach(PubSub* core) override;
  void AddPeer(const crypto::PeerId& peer, const std::string& protocol) override;
  void RemovePeer(const crypto::PeerId& peer) override;
  void OnConnectionsChanged(const crypto::PeerId& peer) override;
  void Join(const std::string& topic) override;
  void Leave(const std::string& topic) override;
  void HandleControl(const crypto::PeerId& peer, const pb::ControlMessage& control) override;
  std::vector<PubSubPeer*> Route(const SharedMessage& msg, const std::string& id,
                                 const std::optional<crypto::PeerId>& source) override;
  RpcAcceptance AcceptRpcFrom(const crypto::PeerId& peer) override;
  void OnFirstSeen(const crypto::PeerId& from, const pb::Message& msg, const std::string& id) override;
  void OnDuplicate(const crypto::PeerId& from, const std::string& id, const std::string& topic) override;
  void OnRejected(const crypto::PeerId& from, const std::string& id, const std::string& topic,
                  RejectReason reason) override;
  void OnSubscriptionChange(const crypto::PeerId& peer, const std::string& topic, bool subscribed) override;
  bool StillWanted(const crypto::PeerId& peer, std::string_view id) override;
  void OnRpc(const crypto::PeerId& peer, const pb::RPC& rpc, bool first_on_stream, RpcAcceptance acceptance) override;
  void AddHello(const crypto::PeerId& peer, pb::RPC* first) override;
  void DescribeSubscription(pb::RPC::SubOpts* sub) override;
  std::vector<uint32_t> ExperimentalFields() const override;

  // --- Partial messages (partial_messages.h). Each fails with kFailedPrecondition without the extension. ---
  // Sets how we take part on `topic`. Call it before subscribing: the flags travel in our SUBSCRIBE.
  Status SetPartialTopic(const std::string& topic, PartialTopicMode mode);
  // Publishes group `group_id` of `topic`: `action` decides what each peer gets. The peers are `to` when
  // given (those connected that advertised the extension), else the group's: our mesh's partial peers of the
  // topic (its fanout's when we are not in it, chosen now if there is none), and every peer that has a view
  // in the group (it wrote to us about it, or was sent something). Parts go only to peers that requested
  // partial messages on the topic. Returns the number of peers an RPC was queued for; kInvalidArgument for
  // an empty topic or group id.
  StatusOr<size_t> PublishPartial(const std::string& topic, const std::string& group_id, const PartialActionFn& action,
                                  const std::vector<crypto::PeerId>& to = {});
  // The application's verdict on a partial message from `peer` on `topic`, for its score: useful counts as
  // a first delivery (P₂, and P₃ while in our mesh), invalid as an invalid message (P₄). Nothing without
  // scoring.
  void ReportPartial(const crypto::PeerId& peer, const std::string& topic, PartialFeedback feedback);
  // The extensions `peer` advertised on its current stream; nothing before its first RPC, or when unknown.
  std::optional<PeerExtensions> ExtensionsOf(const crypto::PeerId& peer) const;
  // Whether `peer` asked us for partial messages on `topic` (having advertised the extension).
  bool PeerRequestsPartial(const crypto::PeerId& peer, const std::string& topic) const;

  // Replaces the event handlers given to Create.
  void SetEvents(GossipSubEvents events) { events_ = std::move(events); }

  // Makes `peer` a direct peer from now on, reached at `addrs` (see GossipSubOptions::direct_peers), or
  // replaces the addresses of one that is already. A connected peer leaves our meshes at once (PRUNEd
  // without peer exchange, with the prune backoff) and from then on gets every message we forward in its
  // topics, has all its RPCs accepted and its connection protected. One we are not connected to is dialed
  // direct_connect_initial_delay from now (unless a dial round is due sooner), and then on the
  // direct-connect schedule (every direct_connect_ticks heartbeats), as the direct peers of the options are.
  // Before Attach it only joins the options' list. kInvalidArgument for our own id.
  Status AddDirectPeer(const crypto::PeerId& peer, std::vector<Multiaddr> addrs);
  // Makes a direct peer an ordinary one: no longer dialed or protected, its RPCs judged as anyone's, and
  // grafted by a heartbeat like any other peer once its backoff ends. kNotFound when it is not a direct peer.
  Status RemoveDirectPeer(const crypto::PeerId& peer);
  // Whether `peer` is a direct peer.
  bool IsDirect(const crypto::PeerId& peer) const { return options_.direct_peers.count(peer) > 0; }

  // Runs one heartbeat now (the timer runs them every heartbeat_interval).
  void Heartbeat();

  // --- Introspection, for tests, the fuzzer and the node's events. ---
  const PeerSet& Mesh(const std::string& topic) const;
  // Whether the router counts `peer` as outbound (toward D_out): one of its live connections is one we
  // dialed.
  bool IsOutbound(const crypto::PeerId& peer) const;
  const PeerSet& Fanout(const std::string& topic) const;
  // The peer's score; 0 without scoring.
  double Score(const crypto::PeerId& peer) const;
  // Whether peer scoring is on (GossipSubOptions::score_params).
  bool scoring() const { return score_ != nullptr; }
  size_t promise_count() const;
  // Pubsub peers whose stream negotiated `protocol`.
  size_t PeersWithProtocol(std::string_view protocol) const;
  size_t dont_send_entries(const crypto::PeerId& peer) const;
  const GossipSubStats& stats() const { return stats_; }
  const Backoff& backoff() const { return *backoff_; }
  // Null when the peer gater is off.
  const PeerGater* peer_gater() const { return gater_.get(); }
  // Null without the partial-messages extension.
  const PartialGroups* partial_groups() const { return partial_.get(); }
  // The entries of every collection the router grows (see GossipSubStateCounts for their bounds). O(peers +
  // topics). Only after Attach.
  GossipSubStateCounts StateCounts() const;

 private:
  // Options already validated (Create).
  GossipSubRouter(GossipSubOptions options, GossipSubEvents events);

  struct GossipPeer {
    std::string protocol;
    bool direct = false;
    bool outbound = false;  // We dialed it (counts toward D_out).
    // Per heartbeat, reset by it.
    int ihaves_received = 0;  // RPCs with IHAVEs, this heartbeat.
    int iwanted_ids = 0;
    int idontwant_messages_received = 0;
    int idontwant_ids_received = 0;
    int iwant_served = 0;
    // v1.3: what the peer advertised in the first RPC of its current stream (unset before it), and whether
    // our test-extension message went to it.
    std::optional<PeerExtensions> extensions;
    bool test_extension_sent = false;
    // The partial-message flags of its subscriptions (topics with a flag set, among those it subscribes
    // to), kept only while it advertises the extension.
    std::map<std::string, PartialTopicMode> partial_topics;
    // Its sender, for the drop counts and as Route()'s answer; an observer that PubSub owns and destroys
    // only after RemovePeer() (null only if the core had none when it added the peer: FilterTargets then
    // leaves the peer out before any of its counts).
    PubSubPeer* sender = nullptr;
    // The peer's RPCs dropped unsent (full lanes, expired), as of the last heartbeat.
    uint64_t send_drops_seen = 0;
    // Ids the peer told us it does not want, pruned by TTL.
    std::unique_ptr<TimedCache> dont_send;
    // Whether the peer said IDONTWANT for `id` (the size check spares the hash when it never did).
    bool DoesNotWant(std::string_view id) const { return dont_send && dont_send->size() > 0 && dont_send->Contains(id); }
  };
  using ControlBatch = std::map<crypto::PeerId, pb::ControlMessage>;

  // Protects the mesh peers in the host's connection manager (tag kMeshTagPrefix + topic), and lifts the
  // protection of those that left, once per heartbeat.
  void SyncProtections();
  // The peers subscribed to `topic` (topic_peers_'s entry; empty if none).
  const PeerSet& TopicPeers(const std::string& topic) const;
  // Whether the peer speaks a meshsub protocol (not floodsub), so may be in a mesh.
  bool SpeaksMeshSub(const GossipPeer& p) const;
  // Whether the peer gets messages outside the mesh: a direct peer, or a floodsub one (counted in
  // meshless_peers_).
  bool Meshless(const GossipPeer& p) const;
  // Sets the peer's direct flag, keeping meshless_peers_.
  void SetDirect(GossipPeer* p, bool direct);
  // Whether `peer` may be grafted to our mesh for `topic`: not in it, not in backoff, score >= 0.
  bool CanGraft(const std::string& topic, const crypto::PeerId& peer) const;
  bool SupportsPx(const GossipPeer& p) const;
  // v1.2 and later: IDONTWANT.
  bool SpeaksIDontWant(const GossipPeer& p) const;
  // Partial messages: our mode on `topic` (none without the extension); whether the peer advertised the
  // extension; requests parts on `topic`; can send them; takes part on `topic` with us at all.
  PartialTopicMode OurPartialMode(const std::string& topic) const;
  bool AdvertisedPartial(const GossipPeer& p) const;
  bool RequestsPartial(const GossipPeer& p, const std::string& topic) const;
  bool SupportsPartial(const GossipPeer& p, const std::string& topic) const;
  bool IsPartialPeer(const GossipPeer& p, const std::string& topic) const;
  // The peers a PublishPartial without `to` involves besides the group's: mesh, or fanout.
  std::vector<crypto::PeerId> PartialRouteTargets(const std::string& topic);
  void HandleExtensions(const crypto::PeerId& peer, GossipPeer& info, const pb::RPC& rpc, bool first_on_stream);
  void HandlePartial(const crypto::PeerId& peer, const GossipPeer& info, const pb::PartialMessagesExtension& partial);
  // Heartbeat gossip of our groups of `topic` to the partial-requesting `peers`.
  void EmitPartialGossip(const std::string& topic, const std::vector<crypto::PeerId>& peers);
  // Up to `count` of `topic`'s subscribers that speak meshsub, are not direct, are not in `outside` (when
  // given; checked before the peer's entry is read) and pass `filter`, in random order.
  std::vector<crypto::PeerId> SelectPeers(const std::string& topic, size_t count,
                                          const std::function<bool(const crypto::PeerId&, const GossipPeer&)>& filter,
                                          const PeerSet* outside = nullptr);
  // Puts `peer` in `topic`'s mesh (scored and reported as grafted); false when it was there already.
  bool EnterMesh(const std::string& topic, const crypto::PeerId& peer);
  // EnterMesh, and a GRAFT to the peer in `batch`.
  void AddToMesh(const std::string& topic, const crypto::PeerId& peer, ControlBatch* batch);
  void RemoveFromMesh(const std::string& topic, const crypto::PeerId& peer, ControlBatch* batch, bool px,
                      Duration backoff);
  void MakePrune(const std::string& topic, const crypto::PeerId& to, bool px, Duration backoff, ControlBatch* batch);
  void SendBatch(ControlBatch* batch);
  // Route(), in three steps. The message's bookkeeping: the message cache, promises kept, scores (P₂/P₃ for
  // `source`, or our own message), the peer gater.
  void RecordRouted(const pb::Message& msg, const std::string& id, const std::optional<crypto::PeerId>& source);
  // The peers the message may go to, unfiltered and possibly repeated: direct and floodsub peers of the
  // topic, then with flood publishing (our own message) every subscriber over the publish threshold, else
  // the mesh, else (our own message, a topic we are not in) the fanout, chosen now when there is none.
  std::vector<crypto::PeerId> CandidateTargets(const std::string& topic, const std::optional<crypto::PeerId>& source);
  // The one place that drops candidates: sorts and deduplicates them, then leaves out `source`, the author,
  // peers that sent IDONTWANT for `id` (counted in sends_skipped_idontwant), and, when we send partial
  // messages on the topic, peers that asked for them (counted in full_sends_skipped_partial). A new reason
  // not to send a message to a peer belongs here. Returns the senders of those left (see Route()).
  std::vector<PubSubPeer*> FilterTargets(std::vector<crypto::PeerId> candidates, const pb::Message& msg,
                                         const std::string& id, const std::optional<crypto::PeerId>& source);
  // The IHAVEs of one RPC, taken together as go takes them: they count as one IHAVE message against
  // max_ihave_messages, and the ids asked for (each once) go out in one IWANT with one promise.
  // Tells the score (P6) and the peer gater the IP of the peer's newest connection.
  void RefreshSource(const crypto::PeerId& peer);
  void HandleIHaves(const crypto::PeerId& peer, GossipPeer& info,
                    const google::protobuf::RepeatedPtrField<pb::ControlIHave>& ihaves, pb::ControlMessage* reply);
  void HandleIWant(const crypto::PeerId& peer, const pb::ControlIWant& iwant);
  void HandleGraft(const crypto::PeerId& peer, GossipPeer& info, const pb::ControlGraft& graft, ControlBatch* batch);
  void HandlePrune(const crypto::PeerId& peer, GossipPeer& info, const pb::ControlPrune& prune);
  void HandleIDontWant(const crypto::PeerId& peer, GossipPeer& info, const pb::ControlIDontWant& idontwant);
  void MaintainMesh(const std::string& topic, ControlBatch* batch);
  void MaintainFanout();
  void EmitGossip(ControlBatch* batch);
  void CheckPromises();
  // Raises the slow-peer score counter of each peer whose RPCs were dropped unsent since the last heartbeat.
  void NoteSlowPeers();
  // Dials the direct peers we are not connected to.
  void ConnectDirectPeers();
  // Creates the timer of the first dial round, scheduled `delay` from now unless it is due sooner.
  void ScheduleDirectConnect(Duration delay);
  // Sends the IDONTWANTs batched since the loop last came back.
  void FlushIDontWants();
  // Queues a mesh change for the event handlers, which run from the loop (FlushMeshEvents), never inside
  // the router's own loops over its mesh.
  void ReportMesh(bool grafted, const crypto::PeerId& peer, const std::string& topic);
  void FlushMeshEvents();

  GossipSubOptions options_;
  GossipSubEvents events_;
  PubSub* core_ = nullptr;
  std::mt19937_64 rng_;
  crypto::PeerMap<GossipPeer> peers_;
  size_t meshless_peers_ = 0;  // Peers of peers_ that are Meshless().
  std::map<std::string, PeerSet> mesh_;
  // The peers subscribed to each topic, so that selection looks at a topic's peers only.
  std::unordered_map<std::string, PeerSet> topic_peers_;
  // Topics whose mesh may hold a peer not subscribed to them: one of its subscribers left it, or a peer
  // joined the mesh unsubscribed. Every other mesh holds subscribers only, so the heartbeat checks the
  // members' subscriptions of these topics alone (MaintainMesh).
  std::unordered_set<std::string> mesh_to_check_;
  std::map<std::string, PeerSet> fanout_;
  std::map<std::string, MonoTime> fanout_last_publish_;
  std::unique_ptr<Backoff> backoff_;
  std::unique_ptr<MessageCache> mcache_;
  std::unique_ptr<PxConnector> px_;
  std::unique_ptr<PeerScore> score_;
  std::unique_ptr<PeerGater> gater_;  // Null when options_.peer_gater is empty.
  std::unique_ptr<PartialGroups> partial_;  // Null without the partial-messages extension.
  // IWANT promises, at most promises_per_peer_ per peer.
  std::unique_ptr<PromiseTracker> promises_;
  size_t promises_per_peer_ = 0;
  uint64_t heartbeat_ticks_ = 0;
  // The core's own_send_drops() when NoteSlowPeers last looked at each peer's drops.
  uint64_t own_send_drops_seen_ = 0;
  std::unique_ptr<Timer> heartbeat_timer_;
  std::unique_ptr<Timer> score_decay_timer_;  // Every decay_interval, with scoring on.
  std::unique_ptr<Timer> direct_connect_timer_;
  // IDONTWANT ids per mesh peer, gathered while the loop handles one batch of input and sent right after.
  // go-libp2p reads at most 10 ids from one RPC (its MaxIDontWantLength), so each RPC carries at most that.
  static constexpr size_t kMaxIdsPerIDontWant = 10;
  std::unordered_map<crypto::PeerId, std::vector<std::string>> idontwant_batch_;
  std::unique_ptr<Task> idontwant_task_;
  struct MeshEvent {
    bool grafted;
    crypto::PeerId peer;
    std::string topic;
  };
  std::vector<MeshEvent> mesh_events_;
  std::unique_ptr<Task> mesh_events_task_;
  // The (peer, topic) mesh memberships protected in the host's connection manager...
  std::set<std::pair<crypto::PeerId, std::string>> protected_;
  // ...unless a mesh changed since (ReportMesh sees every change): SyncProtections has work to do.
  bool protections_stale_ = false;
  // Reconnection rounds so far: round k dials each direct peer's address k modulo its address count.
  size_t direct_connect_rounds_ = 0;
  GossipSubStats stats_;
};

}  // namespace libp2p::pubsub::gossipsub

#endif  // LIBP2P_PUBSUB_GOSSIPSUB_GOSSIPSUB_ROUTER_H_
