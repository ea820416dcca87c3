// The front door: a Node owns an event loop (or uses the caller's), a TCP host (Noise, yamux or mplex,
// identify, ping) and pubsub with the router of its options. Topics are joined through handles in the
// spirit of go-libp2p-pubsub's: Join gives a Topic, which publishes, subscribes and relays.
//
// Threads: every public call may come from any thread. Work is posted to the loop thread, where all state
// lives; one-shot results come back as std::future (never wait on one from the loop thread, or from a
// handler: the loop would wait for itself), streams of results (messages, peer events) through handlers,
// which run on the loop thread or through the Executor given with them. After Stop(), calls fail with
// kUnavailable and futures are ready with that status.
#ifndef LIBP2P_PUBSUB_NODE_H_
#define LIBP2P_PUBSUB_NODE_H_

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libp2p/base/event_loop.h"
#include "libp2p/base/multiaddr.h"
#include "libp2p/base/status.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/metrics/registry.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/tcp_transport.h"

namespace libp2p::pubsub {

// Runs a handler: given the handler's call, runs it now or later on a thread of its choosing. Empty: the
// loop thread runs handlers itself.
using Executor = std::function<void(std::function<void()> run)>;

enum class RouterKind { kGossipSub, kFloodSub };

// What happens in the node, for logs, metrics and tools. Each handler runs on the loop thread, or through
// `executor` when there is one; an empty handler is not called.
struct NodeEvents {
  // A connection is up (upgraded: secured and multiplexed), or went (`why` says why).
  std::function<void(const stream::ConnectionInfo&)> on_connected;
  std::function<void(const stream::ConnectionInfo&, const Status& why)> on_disconnected;
  // An inbound connection ended before it was up: refused (the gater, a limit) or its upgrade failed (a
  // private network's key mismatch among others); see stream::Host::Events::on_inbound_failed.
  std::function<void(const Multiaddr& remote_addr, const Status& why)> on_inbound_failed;
  // A peer answered identify, or pushed an update.
  std::function<void(const crypto::PeerId&, const stream::IdentifyInfo&)> on_identified;
  // A peer subscribed to (true) or unsubscribed from (false) a topic, any topic (Topic::SetPeerHandler
  // watches one).
  std::function<void(const crypto::PeerId&, const std::string& topic, bool subscribed)> on_peer_subscribed;
  // GossipSub: our mesh of `topic` gained (graft) or lost (prune) the peer.
  std::function<void(const crypto::PeerId&, const std::string& topic)> on_graft;
  std::function<void(const crypto::PeerId&, const std::string& topic)> on_prune;
  Executor executor;
};

struct NodeOptions {
  // Our identity, of any key type: `key`, else the libp2p PrivateKey protobuf in `key_file`, else a new
  // random Ed25519 key.
  std::shared_ptr<const crypto::PrivateKey> key;
  std::string key_file;
  // Where to listen (none: the node only dials), e.g. /ip4/0.0.0.0/tcp/4001.
  std::vector<Multiaddr> listen_addrs;
  RouterKind router = RouterKind::kGossipSub;
  gossipsub::GossipSubOptions gossipsub;  // With kGossipSub.
  // Signing, message ids, limits. Its identity is the node's.
  PubSubOptions pubsub;
  // Muxers offered (yamux and mplex by default), connection limits, timeouts, and memory: the node's
  // budget of host.memory_limit covers the host's buffers and the transport's write queues. Its identity and
  // budget are the node's.
  stream::HostOptions host;
  // TCP: keepalive, backlog, the source address of dials. Its write budget is the node's.
  stream::TcpTransportOptions transport;
  NodeEvents events;
  // Where the node's metrics go (the names of PubSubMetrics: counters from its events, and the state gauges
  // it samples every metrics_interval on the loop thread: meshes, peers, queues, scores, connections). An
  // observer that must outlive the node; it renders from any thread (serve it with MetricsHttpServer, or
  // read it your own way). Null: no metrics, and nothing is counted. One node per registry: a second
  // node's Start fails with kAlreadyExists, the names being taken.
  metrics::Registry* metrics = nullptr;
  Duration metrics_interval = std::chrono::seconds(1);
};

// A message delivered to a subscription.
struct Message {
  std::string topic;
  std::string data;
  std::string id;                      // As the node's message id function computes it.
  std::optional<crypto::PeerId> from;  // The author, when the message is signed.
  std::string seqno;                   // Big-endian bytes, when signed.
  crypto::PeerId received_from;        // The peer that relayed it to us.
};

// One message of a batch (Node::PublishBatch).
struct BatchMessage {
  std::string topic;
  std::string data;
};

// The outcome of Node::PublishBatch.
struct NodeBatchResult {
  // OK when the batch was published (duplicates skipped). Otherwise nothing was published, and this is
  // the first refused message's failure ("message <index>: ..."; see `messages`), or kUnavailable when the
  // node was stopped.
  Status status;
  // Each message's preparation, in the order given (PubSub::AddToBatch: its id and seqno, `duplicate`, or
  // why it was refused); empty when the node was stopped.
  std::vector<BatchAddResult> messages;
  // What the batch's publishing sent and dropped (PubSub::PublishBatch); zeros unless status is OK.
  BatchPublishResult published;
};

// A peer subscribed to a topic (joined) or unsubscribed (left).
struct PeerEvent {
  crypto::PeerId peer;
  bool joined = false;
};

struct SubscriptionOptions {
  // Each message goes to `on_message`, run on the loop thread or through `executor`. Without it, messages
  // wait in a queue of at most `queue_size` for Next(); one that finds the queue full is dropped and counted
  // (Subscription::dropped()).
  std::function<void(const Message&)> on_message;
  Executor executor;
  size_t queue_size = 1024;
  // Decides, on the loop thread, whether a message is for this subscription (go's WithMessageFilter): false
  // drops it before the executor or the queue sees it (counted in Subscription::filtered(), never in
  // dropped()). It runs after validation, and only for this subscription: the node still forwards the
  // message to its peers (as go does: the filter only decides delivery) and other subscriptions of the
  // topic still get it. It must not block or call the node and waiting for the result (Node's file comment).
  // Empty: every message is for it.
  std::function<bool(const Message&)> filter;
};

class Node;
struct NodeShared;

// Receives a topic's messages. Destroying it (from any thread) ends it; the node leaves the topic when its
// last subscription and relay are gone.
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Without on_message: the next message, waiting at most `timeout`; nothing on timeout or once cancelled.
  std::optional<Message> Next(Duration timeout);
  // Messages dropped because the queue was full.
  uint64_t dropped() const;
  // Messages SubscriptionOptions::filter refused.
  uint64_t filtered() const;
  // Ends the subscription: no message is delivered once it returns (a handler already running finishes),
  // and Next() returns nothing.
  void Cancel();

  struct State;  // Shared with the loop thread.

 private:
  friend class Topic;
  explicit Subscription(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

// A handle on a topic. The node is in the topic (subscribed, in its mesh) while a subscription or relay of
// it lives; handles may outlive the node (their calls then fail as after Stop).
class Topic {
 public:
  ~Topic();
  Topic(const Topic&) = delete;
  Topic& operator=(const Topic&) = delete;

  const std::string& name() const { return name_; }

  // Signs and sends a copy of `data` (see PubSub::Publish): the result once the topic's validators have
  // decided.
  std::future<PublishResult> Publish(ByteSpan data);
  // Delivers the topic's messages (see SubscriptionOptions) from when the loop takes the subscription in:
  // after whatever was posted to it before (a round trip such as GetTopics().get() makes sure of it).
  std::unique_ptr<Subscription> Subscribe(SubscriptionOptions options = {});
  // Takes part in the topic's routing (mesh, gossip, forwarding) without delivering; until the returned
  // relay is destroyed.
  std::unique_ptr<Subscription> Relay();
  // Peers joining and leaving the topic, from now on, run on the loop thread or through `executor`.
  // Replaces an earlier handler; an empty one removes it.
  void SetPeerHandler(std::function<void(const PeerEvent&)> handler, Executor executor = nullptr);
  // The connected peers subscribed to the topic.
  std::future<std::vector<crypto::PeerId>> ListPeers();

 private:
  friend class Node;
  Topic(std::shared_ptr<NodeShared> shared, std::string name) : shared_(std::move(shared)), name_(std::move(name)) {}
  std::unique_ptr<Subscription> Add(SubscriptionOptions options, bool deliver);

  std::shared_ptr<NodeShared> shared_;
  const std::string name_;
};

// Reads an identity from `path`: a libp2p PrivateKey protobuf of any key type (see
// PrivateKey::FromProtobuf). kNotFound when the file cannot be read, kInvalidArgument for anything else in
// it.
StatusOr<std::unique_ptr<crypto::PrivateKey>> ReadKeyFile(const std::string& path);

class Node {
 public:
  // A node that runs its own loop on a thread of its own (Start). Fails with kInvalidArgument for options
  // out of range (router parameters, a key file that is not a PrivateKey) and kNotFound for a
  // missing key file.
  static StatusOr<std::unique_ptr<Node>> Create(NodeOptions options);
  // A node on the caller's loop (an observer that must outlive it): Start, Stop and the destructor are called
  // on the loop's thread; everything else from any thread.
  static StatusOr<std::unique_ptr<Node>> Create(NodeOptions options, EventLoop* loop);
  // Stops the node.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Builds the host and pubsub, listens and (with its own loop) starts the loop thread; returns once the
  // node listens, or the error (kUnavailable for an address that cannot be bound). Once only.
  Status Start();
  // Closes every connection, tears the host and pubsub down and (with its own loop) joins the loop thread,
  // so it must not be called from a handler (nor the node destroyed there). Idempotent; the destructor
  // calls it.
  void Stop();

  const crypto::PeerId& id() const { return id_; }
  // The addresses we listen on (a port 0 resolved), with /p2p/<our id>; empty before Start.
  std::vector<Multiaddr> listen_addrs() const { return listen_addrs_; }

  // Dials `addr` (with /p2p/<id>, the remote identity is checked).
  std::future<StatusOr<crypto::PeerId>> Connect(Multiaddr addr);
  // Pings a connected peer: the round trip, or why it failed (kNotFound when not connected, an error of the
  // stream or kDeadlineExceeded after host.ping_timeout).
  std::future<StatusOr<Duration>> Ping(const crypto::PeerId& peer);
  // A handle on `topic` (joined when its first subscription or relay starts); kInvalidArgument for an empty
  // topic or one longer than peers accept.
  StatusOr<std::shared_ptr<Topic>> Join(const std::string& topic);
  // Signs, validates and publishes `messages` as one batch (PubSub::AddToBatch, PubSub::PublishBatch):
  // every message's first copy goes out before any message's second copy, or in the order `scheduler`
  // gives. The messages may be on different topics; the node need not be in them. All or nothing: when any
  // message is refused (an empty or overlong topic, a message too large, a validator's refusal), none is
  // published and the result says which. Validators must answer at once (before they return, on the loop
  // thread): a batch does not wait for asynchronous ones, and their messages are refused with
  // kFailedPrecondition. The node owns `scheduler` (null: round-robin by message id) and uses it on the
  // loop thread, for this batch only. Each peer's data lane must hold the batch's copies for it (see
  // PubSub::PublishBatch: copies beyond are dropped and counted in the result). After Stop: kUnavailable.
  std::future<NodeBatchResult> PublishBatch(std::vector<BatchMessage> messages,
                                            std::unique_ptr<RpcScheduler> scheduler = nullptr);
  // The topics we are subscribed to or relay.
  std::future<std::vector<std::string>> GetTopics();
  // The connected pubsub peers, or those subscribed to `topic` when it is not empty.
  std::future<std::vector<crypto::PeerId>> ListPeers(const std::string& topic = "");
  // Adds a validator for `topic` (see Validator; it runs on the loop thread and its `done` may be called
  // from any thread). An answer given before the validator returns counts at once (as PubSub's own
  // validators; PublishBatch needs such answers); a later one goes back through the loop. Our own messages
  // pass through it too.
  void AddValidator(const std::string& topic, Validator validator);
  // Adds a thread-safe validator for `topic` (see ThreadSafeValidator): peers' messages are checked on the
  // node's validation workers (PubSubOptions::validation_workers), several at once, and ours inline on the
  // loop thread by Publish. It answers by returning and must not block for long: it holds a worker.
  void AddThreadSafeValidator(const std::string& topic, ThreadSafeValidator validator);

  // GossipSub: makes `peer` a direct peer from now on, reached at `addrs` (GossipSubRouter::AddDirectPeer:
  // out of our meshes, sent every message of its topics, dialed when not connected), or an ordinary peer
  // again (RemoveDirectPeer). The status once the loop has done it: kFailedPrecondition with floodsub,
  // kInvalidArgument for our own id, kNotFound when removing a peer that is not direct, kUnavailable after
  // Stop.
  std::future<Status> AddDirectPeer(const crypto::PeerId& peer, std::vector<Multiaddr> addrs);
  std::future<Status> RemoveDirectPeer(const crypto::PeerId& peer);

  // Runs `fn` on the loop thread while the node runs (after Start, before Stop); dropped unrun otherwise.
  void Post(std::function<void()> fn);
  // The parts, for what the handles do not offer (statistics, the router's mesh, streams of other
  // protocols): on the loop thread only (in a Post, a handler, or the caller's loop code), between Start and
  // Stop. The node owns them.
  stream::Host& host() const;
  PubSub& pubsub() const;

 private:
  Node(NodeOptions options, std::shared_ptr<const crypto::PrivateKey> key, EventLoop* loop);
  // Builds and listens (on the loop thread).
  Status StartOnLoop();
  void StopOnLoop();

  const NodeOptions options_;
  const std::shared_ptr<const crypto::PrivateKey> key_;
  const crypto::PeerId id_;
  std::shared_ptr<NodeShared> shared_;
  std::vector<Multiaddr> listen_addrs_;
  bool started_ = false;
};

}  // namespace libp2p::pubsub

#endif  // LIBP2P_PUBSUB_NODE_H_
