// The pubsub core: subscriptions and their handlers, publishing (signing, seqnos, message ids), the seen
// cache so that each message is handled once, validation, the per-peer state, and the router behind it.
#ifndef LIBP2P_PUBSUB_PUBSUB_H_
#define LIBP2P_PUBSUB_PUBSUB_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "libp2p/base/deferred_deleter.h"
#include "libp2p/base/event_loop.h"
#include "libp2p/base/log_rate_limiter.h"
#include "libp2p/base/memory_budget.h"
#include "libp2p/base/offload_queue.h"
#include "libp2p/base/status.h"
#include "libp2p/base/worker_pool.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/peer_map.h"
#include "libp2p/pubsub/message.h"
#include "libp2p/pubsub/message_batch.h"
#include "libp2p/pubsub/pubsub_peer.h"
#include "libp2p/pubsub/router.h"
#include "libp2p/pubsub/rpc_scheduler.h"
#include "libp2p/pubsub/subscription_filter.h"
#include "libp2p/pubsub/timed_cache.h"
#include "libp2p/pubsub/tracer.h"
#include "libp2p/pubsub/validation.h"
#include "libp2p/stream/access_list.h"
#include "libp2p/stream/host.h"

namespace libp2p::pubsub {

// PubSubOptions::validation_workers: one worker per hardware thread.
inline constexpr size_t kAutoWorkers = static_cast<size_t>(-1);

struct PubSubOptions {
  // Our identity; an observer that must outlive the core.
  const crypto::PrivateKey* identity = nullptr;
  SignPolicy sign_policy = SignPolicy::kStrictSign;
  // The seqno of our first message; each next one is one more (8 bytes, big-endian, on the wire). Unset: the
  // wall clock in nanoseconds since the Unix epoch, as go-libp2p-pubsub starts, so that a restarted node
  // continues above its earlier seqnos (go's BasicSeqnoValidator drops a peer's messages whose seqno is not
  // above the last it saw). Simulations and tests set it to make messages, and their ids, reproducible.
  std::optional<uint64_t> first_seqno;
  // js-libp2p's default, so that ids agree with js peers; GoDefaultMessageId for go networks (message.h says
  // what mixing them costs).
  MessageIdFn message_id = JsDefaultMessageId;
  Duration seen_ttl = std::chrono::minutes(2);
  // Bounds the seen cache (about 84 bytes an entry: 22 MB at this default). Above about 2,000 messages/s
  // sustained, ids leave it before their TTL; raise it for busier topics.
  size_t seen_max_entries = 1 << 18;
  // Topics a peer may be subscribed to, and their names' bytes together (js's 1 MiB per peer is more than
  // 1024 topics of Ethereum's 50-byte names need); further subscriptions from it are ignored, counted in
  // subscriptions_refused. Together they bound what all peers' topics hold: peers × 64 KiB, twice (the core's
  // and the router's index).
  size_t max_subscriptions_per_peer = 1024;
  size_t max_subscription_bytes_per_peer = 64 * 1024;
  // The topics we and our peers may subscribe to (subscription_filter.h); an observer that must outlive the
  // core. Null admits every topic. A peer's subscription entry (subscribe or unsubscribe) for a refused
  // topic is dropped before anything is recorded, counted in subscriptions_filtered, and neither reaches
  // the router nor Events::on_peer_subscribed; the rest of its RPC is handled as usual (as go's filter
  // does). An unsubscribe from a topic recorded earlier, while the filter allowed it, is still applied, so
  // a filter that tightens never strands a peer's topic. Our own Subscribe, SetTopicOptions, Publish and
  // AddToBatch on a refused topic fail with kPermissionDenied. Since we cannot join a refused topic, a
  // router keeps nothing for it either: GRAFTs, PRUNEs, IHAVEs and messages on it are dropped as for any
  // topic we are not in.
  const SubscriptionFilter* subscription_filter = nullptr;
  // Subscription entries one RPC of a peer may carry. An RPC with more is dropped whole, as go-libp2p-pubsub
  // drops one over WrapLimitSubscriptionFilter's limit (ErrTooManySubscriptions): none of its subscriptions,
  // messages or control is handled (the tracers and RPC observers still see it arrive). Counted in
  // rpcs_too_many_subscriptions and logged, limited per peer; the peer stays. The RPC decoder keeps at most
  // one entry more than this of any RPC (it replaces peer.limits.max_subscriptions for the core's peers),
  // so an RPC over the cap costs at most that many decoded entries, and the rest are skipped unread.
  //
  // The default, 1024, is max_subscriptions_per_peer's default and RpcLimits::max_subscriptions's: an
  // honest node sends all its topics in one RPC when it meets us (go, js and rust all do), and we hold at
  // most 1024 topics of a peer anyway, so only an RPC no honest peer of ours needs is dropped. It is far
  // above rust's MaxCountSubscriptionFilter (100 a request, when an application installs it) and below js's
  // decoder, which drops an RPC with more than 5000; go has no cap unless the application wraps its filter.
  // The subscriptions we send a new peer go in RPCs of at most min(this, 100) entries, so that peers with
  // rust's cap, or ours, take all of them.
  size_t max_subscriptions_per_rpc = 1024;
  // Messages waiting for an asynchronous validator (in all, and per topic, with go's defaults), and their
  // encoded bytes together; beyond any of them, new ones are dropped unvalidated and unseen (counted as
  // throttled; the router is told, for the peer gater; our own are refused with kResourceExhausted).
  size_t max_pending_validations = 8192;
  size_t max_pending_validations_per_topic = 1024;
  size_t max_pending_validation_bytes = 64 * 1024 * 1024;
  // What the send lanes of all peers together may hold (each peer's own caps are in `peer`); an RPC beyond
  // it is dropped as if its lane were full. As much as one peer's data lane: a peer that reads keeps its
  // lane near empty, so the budget fills only with what slow or hostile readers leave, and a hundred of
  // them cannot hold more than this.
  size_t max_send_bytes = 16 * 1024 * 1024;
  Duration validation_timeout = std::chrono::seconds(10);
  // Threads that check the signatures of peers' messages and run thread-safe validators
  // (AddThreadSafeValidator), off the loop thread; the verdicts come back to the loop thread in the order
  // the messages arrived, and everything else (the seen cache, the router, the handlers) stays there.
  // kAutoWorkers: one per hardware thread, but none on a virtual-time loop (EventLoop::virtual_time()), so
  // that runs on a manual loop stay deterministic. 0: everything inline on the loop thread.
  //
  // Messages whose signature is being checked on the workers are bounded by max_pending_validations and
  // max_pending_validation_bytes too, in a count of their own (beyond, they are dropped as throttled); a
  // copy of one that arrives meanwhile waits for its verdict, its bytes counted with it.
  size_t validation_workers = kAutoWorkers;
  // A pool to use instead (validation_workers is then ignored), shared with others (several cores in one
  // process, a simulation, a test that holds the workers). An observer that must outlive the core; the
  // loop must outlive the pool's jobs (destroy the pool, which waits for them, before the loop).
  WorkerPool* validation_pool = nullptr;
  // Messages of one peer being checked on the workers at once; from there on, its inbound stream is not read
  // until half of them are done, so that a peer sending faster than the workers check waits on its
  // stream's flow control instead of having its messages dropped as throttled.
  size_t max_verifying_per_peer = 256;
  PubSubPeerOptions peer;
  // Watch (or rewrite) every peer's RPCs as they arrive, before anything else reads them (duplicates and
  // messages that will fail validation included), and as they are sent (those whose ObservesSends() is true):
  // see RpcObserver. Observers that must outlive the core; they run on the loop thread in this order.
  std::vector<RpcObserver*> rpc_observers;
  // Receive every event of the core and its router (traces, metrics): see PubSubTracer. Observers that must
  // outlive the core; they run on the loop thread in this order. None: events cost a test of an empty list.
  std::vector<PubSubTracer*> tracers;
  // The access list that is the host's connection gater (HostOptions::gater), for BlacklistPeer: an
  // observer that must outlive the core; null to blacklist within pubsub only. With it, a blacklisted peer
  // is denied there and disconnected, so that its connections (and our dials to it) are refused from then
  // on. Give the host the same object, or the denial refuses nothing.
  stream::AccessList* access_list = nullptr;
};

// How we take part in one topic (PubSub::SetTopicOptions).
struct TopicOptions {
  // Fanout only (go-libp2p-pubsub's FanoutOnly): we publish to the topic but never join it on the network,
  // even while we subscribe to it. Our messages go out through the router's fanout (gossipsub: up to D
  // subscribed peers, refreshed at each heartbeat and forgotten fanout_ttl after our last publish;
  // floodsub: every subscribed peer), we never announce a subscription and never GRAFT or accept a GRAFT,
  // and messages from peers on the topic are neither delivered nor relayed. A Subscribe() is local: its
  // handler gets our own publishes to the topic (once validated), and nothing else.
  //
  // Unlike just not subscribing: a local subscription is possible (and gets our own messages, which a
  // regular subscription never does), and subscribing later never turns the topic into a mesh topic.
  bool fanout_only = false;
};

// The outcome of a Publish. status: OK when the message went to `peers` peers (zero is not an error);
// kInvalidArgument when the topic is empty or longer than peers accept; kOutOfRange when the message is
// too large for one RPC; kPermissionDenied when PubSubOptions::subscription_filter refuses the topic or a
// validator rejected it (the pattern for per-topic publish permissions: see AddValidator); kCancelled when
// one ignored it; kDeadlineExceeded when one did not answer within validation_timeout; kResourceExhausted
// when the validation queue is full (a limit of PubSubOptions).
struct PublishResult {
  Status status;
  std::string id;
  uint64_t seqno = 0;
  size_t peers = 0;
  // An asynchronous validator is still deciding: the outcome goes to Publish's `done` once it has.
  bool pending = false;
};
using PublishDone = std::function<void(const PublishResult&)>;

// The outcome of an AddToBatch. status: as PublishResult's, and kFailedPrecondition when a validator of the
// topic did not answer before AddToBatch returned (see AddToBatch). OK with `duplicate` when the batch
// holds a message with the same id already: nothing was added.
struct BatchAddResult {
  Status status;
  std::string id;
  uint64_t seqno = 0;
  bool duplicate = false;
};

// The outcome of a PublishBatch.
struct BatchPublishResult {
  size_t messages = 0;  // Messages of the batch routed (each counted in PubSubStats::published).
  size_t sent = 0;      // Copies queued for a peer.
  // Copies not queued: the peer went meanwhile, or its data lane (or PubSubOptions::max_send_bytes) had no
  // room (counted in the peer's dropped_full).
  size_t dropped = 0;
};

struct PubSubStats {
  uint64_t published = 0;
  uint64_t delivered = 0;   // Messages handed to topic handlers.
  uint64_t duplicates = 0;  // Messages already seen.
  uint64_t rejected = 0;    // Invalid signatures, policy violations, validator rejections.
  uint64_t ignored = 0;     // Validator ignores, timeouts and throttled validations.
  uint64_t throttled = 0;   // Of the ignored: dropped unvalidated, the validation queue being full.
  uint64_t subscriptions_refused = 0;  // Over a peer's subscription limits.
  // Peers' subscription entries for topics PubSubOptions::subscription_filter refuses: dropped, never stored.
  uint64_t subscriptions_filtered = 0;
  // Peers' RPCs dropped whole for carrying more than PubSubOptions::max_subscriptions_per_rpc subscription
  // entries.
  uint64_t rpcs_too_many_subscriptions = 0;
  // Inbound streams of blacklisted peers, reset as they arrived (BlacklistPeer).
  uint64_t blacklisted_streams_refused = 0;
};

// The entries of the core's state that peers can make grow (PubSub::StateCounts()), with the bound of each.
struct PubSubStateCounts {
  size_t peers = 0;                     // Pubsub peers: one per connected peer that speaks our protocols.
  size_t peer_topics = 0;               // Their subscriptions together: max_subscriptions_per_peer each.
  size_t peer_topic_bytes = 0;          // Those topics' names: max_subscription_bytes_per_peer each.
  size_t seen_entries = 0;              // Seen ids: at most seen_max_entries, each for seen_ttl.
  size_t pending_validations = 0;       // At most max_pending_validations.
  // Topics with messages being validated: at most pending_validations (each at most
  // max_pending_validations_per_topic).
  size_t pending_validation_topics = 0;
  size_t pending_validation_bytes = 0;  // At most max_pending_validation_bytes.
  // Messages whose signature the validation workers are checking: at most max_pending_validations; with
  // the copies that wait for them, at most max_pending_validation_bytes.
  size_t pending_verifications = 0;
  size_t pending_verification_bytes = 0;
  size_t send_bytes = 0;                // Queued in all peers' send lanes: at most max_send_bytes.
};

class PubSub {
 public:
  using MessageHandler = std::function<void(const pb::Message& msg, const std::string& id, const crypto::PeerId& from)>;
  struct Events {
    std::function<void(const crypto::PeerId& peer, const std::string& topic, bool subscribed)> on_peer_subscribed;
  };

  // Registers the router's protocols with the host and watches its connections. The loop and host are
  // observers that must outlive the core.
  PubSub(EventLoop* loop, stream::Host* host, std::unique_ptr<Router> router, PubSubOptions options);
  ~PubSub();

  // Subscribes to `topic` (replacing the handler if already subscribed) and tells every peer; for a
  // fanout-only topic (TopicOptions), subscribes locally only. kInvalidArgument for an empty topic or one
  // longer than peers accept; kPermissionDenied when PubSubOptions::subscription_filter refuses it.
  Status Subscribe(const std::string& topic, MessageHandler handler);
  // Ends the subscription (local or not); kNotFound when there is none.
  Status Unsubscribe(const std::string& topic);
  // Whether we are subscribed to `topic` on the network (local subscriptions to fanout-only topics do not
  // count): the topics whose messages we take from peers and relay.
  bool subscribed(const std::string& topic) const { return handlers_.count(topic) > 0; }
  // The topics we are subscribed to on the network.
  std::vector<std::string> topics() const;

  // Sets how we take part in `topic`; the defaults erase its entry. Only while we are not subscribed to it
  // (kFailedPrecondition otherwise: unsubscribe first); kInvalidArgument for an empty topic or one longer
  // than peers accept; kPermissionDenied when PubSubOptions::subscription_filter refuses it.
  Status SetTopicOptions(const std::string& topic, TopicOptions options);
  TopicOptions topic_options(const std::string& topic) const;

  // Signs `data` for `topic` (per the policy), runs the topic's validators on it and, when all accept, sends
  // it. Our own message is not handed to our own handler of `topic` (as js's default; go's subscriptions
  // do get it). Our own messages wait for asynchronous validators, as go's do: when one is still deciding as
  // Publish returns, the result is `pending` and the outcome goes to `done` when the last validator answers
  // or the validation times out; otherwise the result is the outcome and `done` is never called. `done`
  // may be empty; it is dropped uncalled if the core is destroyed first. A topic the subscription filter
  // refuses fails at once with kPermissionDenied, before any seqno is used (see PublishResult for the rest).
  PublishResult Publish(const std::string& topic, ByteSpan data, PublishDone done = nullptr);

  // Batch publishing: every message out once before any goes out twice (see RoundRobinScheduler).
  //
  // Prepares a message as Publish does (signing, seqno, id, the topic's validators), and appends it to
  // `batch` (not null, owned by the caller) instead of sending it; it is not seen, routed nor counted as
  // published until PublishBatch. A message whose id `batch` holds already is skipped (`duplicate`); with
  // StrictSign every message has its own seqno, so only message id functions over the data make duplicates.
  // Validators must answer before AddToBatch returns: a batch is published at once, so it does not wait
  // for asynchronous ones. When one has not answered, the message is left out with kFailedPrecondition
  // (its validation still runs to its end, holding its place in the validation queue, and its verdict is
  // then dropped). Other failures as Publish's (kPermissionDenied for a topic the subscription filter
  // refuses), the message left out.
  BatchAddResult AddToBatch(MessageBatch* batch, const std::string& topic, ByteSpan data);

  // Publishes the messages of `batch`, in its order: each is marked seen, routed by the router (its
  // bookkeeping as for Publish) and counted as published; then every copy (peer, message) is handed to
  // `scheduler` and sent in the order it gives, each in one data RPC tagged with its id. `scheduler` is an
  // observer used during the call only; null: a RoundRobinScheduler. Our own messages are not delivered to
  // our own handlers (as Publish).
  //
  // Every copy is queued at once: each peer's data lane must have room for the batch's copies for that
  // peer (PubSubPeerOptions::max_data_bytes, and this peer's share of PubSubOptions::max_send_bytes), or the
  // copies beyond it are dropped, as any send to a full lane is (counted in `dropped` and the peer's
  // dropped_full); the message still reaches that peer through the others (and gossip). An empty batch
  // does nothing.
  BatchPublishResult PublishBatch(MessageBatch batch, RpcScheduler* scheduler = nullptr);

  // Validators of `topic`; all must accept. They judge peers' messages (after the signature policy) and our
  // own (Publish, AddToBatch: a reject fails them with kPermissionDenied).
  //
  // Per-topic publish permissions are a validator: one that accepts a topic's
  // messages only when their author, PeerId::FromBytes(msg.from()), is on the application's list, and
  // rejects the others. Under kStrictSign the author is authenticated before validators run. A rejected
  // message is neither delivered nor relayed, and its sender is charged as for any invalid message
  // (gossipsub's P4); our own Publish under an identity not on the list fails with kPermissionDenied. It
  // limits who may publish, not who may read: every subscriber still gets the permitted messages.
  void AddValidator(const std::string& topic, Validator validator);
  // A validator of `topic` that may run on any thread (see ThreadSafeValidator): peers' messages go to the
  // validation workers (PubSubOptions::validation_workers), ours are validated inline by Publish.
  void AddThreadSafeValidator(const std::string& topic, ThreadSafeValidator validator);

  void SetEvents(Events events) { events_ = std::move(events); }

  // --- Blacklisting (go-libp2p-pubsub's BlacklistPeer). ---
  // Blacklists `peer` (our own id: kInvalidArgument; a peer blacklisted already: OK, nothing changes). At
  // once, its pubsub state goes: its subscriptions and send lanes, its streams (reset), and the router's
  // view of it (RemovePeer), as when it disconnects. From then on its inbound streams are reset as they
  // arrive (counted in blacklisted_streams_refused), it is never added as a peer again (not by its
  // identify, nor by a new connection), and every message it sends or authors is rejected wherever it comes
  // from: its own ("blacklisted peer"), or relayed by another peer with it as `from` ("blacklisted source";
  // the relaying peer is not blamed: the router is told RejectReason::kIgnored). Messages of its already in
  // validation are rejected when their verdict comes.
  //
  // With PubSubOptions::access_list, the peer is also denied there (unless it is denied there already),
  // and disconnected (Host::Disconnect): its connections are then refused at the gater. Without
  // one, its connections stay up for the host's other protocols (as go's blacklist does).
  //
  // The blacklist is the application's own set: it grows only by these calls and holds each peer until
  // UnblacklistPeer, so its size is the application's to bound (peers do not add to it).
  Status BlacklistPeer(const crypto::PeerId& peer);
  // Takes `peer` off the blacklist (kNotFound when it is not on it). Its denial at the access list goes
  // only if BlacklistPeer made it; a denial the application made itself stays. When the peer is still connected and its
  // identify lists one of our protocols, it becomes a pubsub peer again at once; otherwise when it next
  // connects or opens a stream to us.
  Status UnblacklistPeer(const crypto::PeerId& peer);
  // Whether `peer` is on the blacklist.
  bool IsBlacklisted(const crypto::PeerId& peer) const { return blacklist_.count(peer) > 0; }
  // Runs `fn` from the loop (once for all that happened in one loop turn) after a peer's send lanes became
  // empty, having held RPCs (PubSubPeer::Callbacks::on_drained), and after a peer was dropped: the moments
  // when a publisher that paces itself by the peers' queued_bytes() (FindPeer) may find room again. One
  // receiver, replacing any earlier one; empty stops it.
  void SetSendRoomCallback(std::function<void()> fn) { send_room_ = std::move(fn); }
  const PubSubStats& stats() const { return stats_; }
  Router* router() const { return router_.get(); }
  // The tracers of PubSubOptions::tracers, as one: routers report their events (graft, prune, throttle) here.
  TracerList& tracer() { return tracer_; }

  // --- For routers. ---
  // Sends `rpc` to `peer`; false when the peer is unknown or the RPC was dropped. A data RPC carrying one
  // message may be tagged with its id, so that an IDONTWANT can cancel it while queued.
  bool SendRpc(const crypto::PeerId& peer, pb::RPC rpc, SendLane lane, std::string tag = "");
  // Whether the seen cache holds `id`.
  bool HasSeen(const std::string& id);
  stream::Host* host() const { return host_; }
  // The protocol `peer` speaks with us (see PeerState::protocol); empty if unknown.
  const std::string& PeerProtocol(const crypto::PeerId& peer) const;
  // The topics `peer` subscribed to (empty if unknown).
  const std::set<std::string>& PeerTopics(const crypto::PeerId& peer) const;
  std::vector<crypto::PeerId> Peers() const;
  PubSubPeer* FindPeer(const crypto::PeerId& peer);
  const crypto::PeerId& self() const { return self_; }
  EventLoop* loop() const { return loop_; }
  // Limits, per peer, the log lines that peers' behaviour causes: ours, our peers' and the router's share it.
  LogRateLimiter* peer_log_limiter() { return &peer_logs_; }

  // The entries of the state peers can make grow, for tests, fuzzers and metrics. O(peers).
  PubSubStateCounts StateCounts() const;
  // Bytes queued in all peers' send lanes together (StateCounts().send_bytes), in O(1).
  size_t queued_send_bytes() const;
  // The sends all peers ever dropped for their own slowness (SendBudget::own_drops), in O(1).
  uint64_t own_send_drops() const { return send_budget_.own_drops(); }

 private:
  struct PeerState {
    std::unique_ptr<PubSubPeer> peer;
    // The protocol of the peer's first inbound stream (the version it chose), or the first of ours that its
    // identify lists, whichever came first; kept for the peer's lifetime even if our outbound stream later
    // settles on another version (both sides speak every version they list).
    std::string protocol;
    std::set<std::string> topics;
    size_t topic_bytes = 0;  // Of the names in `topics`.
    size_t verifying = 0;    // Its messages on the workers (PubSubOptions::max_verifying_per_peer).
  };
  PeerState& EnsurePeer(const crypto::PeerId& id, const std::string& protocol);
  void DropPeer(const crypto::PeerId& id);
  // An RPC from `from`, whose entry in peers_ is `state`.
  void OnRpc(const crypto::PeerId& from, PeerState* state, pb::RPC rpc, bool first_on_stream);
  void OnMessage(const crypto::PeerId& from, pb::Message msg);
  // Checks the signature of a message not seen before: on the workers, or inline.
  void Verify(const crypto::PeerId& from, const std::string& id, pb::Message msg, const TimedCache::Lookup& seen);
  // The rest of OnMessage once `msg`'s signature was checked (`status`): marks it seen (at `seen`, a lookup
  // of its id in the seen cache made since the last change to it) and validates it, or rejects it.
  void OnVerified(const crypto::PeerId& from, const std::string& id, pb::Message msg, const Status& status,
                  const TimedCache::Lookup& seen);
  // A message whose signature the workers checked: the verdict comes back, then the copies that waited.
  void OnVerifiedOffloaded(const crypto::PeerId& from, const std::string& id, pb::Message msg, const Status& status);
  // Acts on the verdict on a message from `from` (moves it away when accepted).
  void OnValidated(const crypto::PeerId& from, const std::string& id, pb::Message& msg, Verdict verdict);
  // A message from `from` was not accepted, for `reason` (`why`: go's words, one of reject_reason): tells the
  // tracers, logs it (at debug, limited per peer) and, unless `tell_router` is false, tells the router.
  void Reject(const crypto::PeerId& from, const std::string& id, const pb::Message& msg, RejectReason reason,
              std::string_view why, bool tell_router = true);
  // Whether `msg` from `from` is to be dropped for the blacklist (its sender or its author is on it); if
  // so, counts and rejects it.
  bool RejectIfBlacklisted(const crypto::PeerId& from, const std::string& id, const pb::Message& msg);
  // Whether the subscription filter admits `topic` (true without a filter).
  bool TopicAllowed(std::string_view topic) const {
    return options_.subscription_filter == nullptr || options_.subscription_filter->CanSubscribe(topic);
  }
  // kInvalidArgument for a topic peers would not accept, kPermissionDenied for one the filter refuses.
  Status CheckOwnTopic(const std::string& topic) const;
  // Our message on `topic` with `data`: signed per the policy, with the next seqno and its id in `result`;
  // kInvalidArgument or kOutOfRange as Publish.
  Status MakeOwn(const std::string& topic, ByteSpan data, pb::Message* msg, PublishResult* result);
  // Records our own validated message as seen and hands it to the router.
  PublishResult SendOwn(SharedMessage msg, PublishResult result);
  // What every publish of ours does before sending (Publish's and a batch's alike): the local fanout-only
  // subscription gets it, the seen cache and the statistics count it, and the router routes it. Returns the
  // peers it goes to.
  std::vector<PubSubPeer*> RouteOwn(const SharedMessage& msg, const std::string& id);
  // Hands our own validated message to the local subscription of its topic, if that topic is fanout-only.
  void DeliverLocally(const pb::Message& msg, const std::string& id);
  // Sends `msg` to each of `peers` (as the router routed it), in one RPC each in `lane` (kPublish for ours,
  // kForward for others'), tagged with `id`; returns how many were queued. A peer dropped by an earlier
  // send of the loop is skipped (or, if it came back meanwhile, sent to as it is now).
  size_t SendToPeers(const pb::Message& msg, const std::string& id, const std::vector<PubSubPeer*>& peers,
                     SendLane lane);
  // The data RPC of one message (an observer that must outlive it), encoded at most once however many peers
  // it goes to: as a frame, written at the first send to a peer whose sends are not observed and shared by
  // every such peer's queue, and as a pb::RPC, built at the first send that needs one (while a tracer is
  // active, or to a peer whose sends are observed: both read it).
  struct OutgoingMessage {
    const pb::Message* msg;
    std::shared_ptr<const Bytes> frame;
    size_t rpc_size = 0;
    std::optional<pb::RPC> rpc;
  };
  // Sends `out` to `peer` (one of peers_) in `lane`, tagged with `id`. False when the RPC was dropped.
  bool SendMessage(PubSubPeer& peer, OutgoingMessage* out, SendLane lane, const std::string& id);
  // Delivers a validated message to our handler and has the router route it (it may keep it).
  void Accept(const crypto::PeerId& from, pb::Message msg, const std::string& id);
  // Our subscriptions, for a new peer: in as many RPCs as keep each within kMaxControlBytesPerRpc.
  std::vector<pb::RPC> SubscriptionsRpcs() const;
  // The RPCs that go first on each new outbound stream to `peer`: our subscriptions, with the router's
  // part (gossipsub v1.3's extensions) in the first; none when both are empty.
  std::vector<pb::RPC> HelloRpcs(const crypto::PeerId& peer) const;

  EventLoop* const loop_;
  stream::Host* const host_;
  uint64_t host_events_ = 0;  // Our receiver of the host's events.
  std::unique_ptr<Router> router_;
  const PubSubOptions options_;
  const crypto::PeerId self_;
  // Shared, so that a call holds its handler by a reference count while the handler may unsubscribe.
  std::map<std::string, std::shared_ptr<const MessageHandler>> handlers_;
  // Local subscriptions to fanout-only topics (never in handlers_).
  std::map<std::string, std::shared_ptr<const MessageHandler>> local_handlers_;
  // Topics with options other than the defaults (set by us only).
  std::map<std::string, TopicOptions> topic_options_;
  // All peers' send lanes together; declared before the peers, which give their bytes back when they go.
  SendBudget send_budget_;
  LogRateLimiter peer_logs_;  // Declared before the peers, which use it.
  crypto::PeerMap<PeerState> peers_;
  uint64_t peers_dropped_ = 0;  // Peers DropPeer took out of peers_, ever.
  TimedCache seen_;
  uint64_t next_seqno_;
  // Our own validation workers (null without, or with PubSubOptions::validation_pool), and the queue that
  // brings the results back in order. The queue's continuations run only while it lives, and never while
  // we are being destroyed.
  std::unique_ptr<WorkerPool> own_workers_;
  OffloadQueue offload_;
  // Messages whose signature the workers are checking, by id, with the copies that arrived meanwhile (at
  // most kMaxHeldCopies each; later ones count as duplicates and are dropped).
  struct Verifying {
    size_t bytes = 0;  // Of the message and its copies, counted in verifying_bytes_.
    std::vector<std::pair<crypto::PeerId, pb::Message>> copies;
  };
  static constexpr size_t kMaxHeldCopies = 16;
  std::unordered_map<std::string, Verifying> verifying_;
  size_t verifying_bytes_ = 0;  // Of the messages in verifying_ and their copies.
  Validation validation_;
  Events events_;
  std::function<void()> send_room_;
  std::unique_ptr<Task> send_room_task_;  // Runs send_room_.
  TracerList tracer_;
  PubSubStats stats_;
  // BlacklistPeer's peers, and of them those it denied at options_.access_list (UnblacklistPeer undoes
  // only those denials).
  std::unordered_set<crypto::PeerId> blacklist_;
  std::unordered_set<crypto::PeerId> denied_by_blacklist_;
  // Peers and timers that ended inside their own call stacks. Declared last: what still waits is destroyed
  // first when we go, while the host and the router still exist.
  DeferredDeleter deleter_;
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_PUBSUB_H_
