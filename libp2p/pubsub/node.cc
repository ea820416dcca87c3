#include "libp2p/pubsub/node.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include <openssl/mem.h>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/base/memory_budget.h"
#include "libp2p/pubsub/floodsub.h"
#include "libp2p/pubsub/pubsub_metrics.h"
#include "libp2p/stream/tcp_transport.h"

namespace libp2p::pubsub {

using crypto::PeerId;

namespace {

Status Stopped() { return UnavailableError("the node is stopped"); }

// A one-shot result: ready with Set(), or with `if_dropped` when the last copy of the holder goes first (the
// work was dropped unrun: the node stopped).
template <typename T>
class Completion {
 public:
  explicit Completion(T if_dropped) : if_dropped_(std::move(if_dropped)) {}
  ~Completion() {
    if (!set_) promise_.set_value(std::move(if_dropped_));
  }
  std::future<T> future() { return promise_.get_future(); }
  void Set(T value) {
    if (set_) return;
    set_ = true;
    promise_.set_value(std::move(value));
  }

 private:
  std::promise<T> promise_;
  T if_dropped_;
  bool set_ = false;
};

template <typename T>
std::shared_ptr<Completion<T>> MakeCompletion(T if_dropped) {
  return std::make_shared<Completion<T>>(std::move(if_dropped));
}

PublishResult StoppedPublish() {
  PublishResult r;
  r.status = Stopped();
  return r;
}

void RunWith(const Executor& executor, std::function<void()> fn) {
  if (executor) {
    executor(std::move(fn));
  } else {
    fn();
  }
}

// `handler`, run through `executor` (with copies of its arguments) when there is one.
template <typename Handler>
Handler Through(Handler handler, const Executor& executor) {
  if (!handler || !executor) return handler;
  return [handler, executor](const auto&... args) { executor([handler, args...] { handler(args...); }); };
}

}  // namespace

struct Subscription::State {
  std::string topic;
  bool deliver = true;
  std::function<void(const Message&)> on_message;
  Executor executor;
  size_t queue_size = 0;
  std::function<bool(const Message&)> filter;
  std::weak_ptr<NodeShared> node;

  std::atomic<bool> cancelled{false};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> filtered{0};
  std::mutex mu;
  std::condition_variable ready;
  std::deque<Message> queue;  // Guarded by mu.

  // On the loop thread. The executor may run the handler after `s` is gone from its topic: it keeps `s`.
  // False when the subscription's queue was full and `m` was dropped.
  static bool Deliver(const std::shared_ptr<State>& s, const Message& m) {
    if (s->cancelled.load()) return true;
    if (s->filter && !s->filter(m)) {
      s->filtered.fetch_add(1);
      return true;
    }
    if (s->on_message) {
      if (!s->executor) {
        s->on_message(m);  // On the loop thread, now: no copy of the message.
        return true;
      }
      s->executor([s, m] {
        if (!s->cancelled.load()) s->on_message(m);
      });
      return true;
    }
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->queue.size() >= s->queue_size) {
      s->dropped.fetch_add(1);
      return false;
    }
    s->queue.push_back(m);
    s->ready.notify_one();
    return true;
  }
};

// What the node's handles share with it: the loop, and the state that lives on the loop thread.
struct NodeShared : std::enable_shared_from_this<NodeShared> {
  EventLoop* loop = nullptr;
  std::unique_ptr<LibeventLoop> own_loop;
  std::thread thread;

  // Guards `stopped` against Post: once it is set, nothing more is posted to the loop.
  std::mutex post_mu;
  bool stopped = false;

  // --- Loop thread only. ---
  std::unique_ptr<MemoryBudget> memory;
  std::unique_ptr<stream::TcpTransport> transport;
  std::unique_ptr<stream::Host> host;
  std::unique_ptr<PubSub> pubsub;
  // The router, when it is gossipsub; owned by `pubsub`.
  gossipsub::GossipSubRouter* gossipsub = nullptr;
  // With NodeOptions::metrics: the tracer counting into it (it outlives `pubsub`), and the timer sampling
  // the state gauges.
  std::unique_ptr<PubSubMetrics> metrics;
  std::unique_ptr<Timer> metrics_timer;
  struct TopicState {
    std::vector<std::shared_ptr<Subscription::State>> subscriptions;
    std::function<void(const PeerEvent&)> on_peer;
    Executor peer_executor;
  };
  std::map<std::string, TopicState> topics;

  // Runs `fn` on the loop thread while the core lives; otherwise `fn` is destroyed unrun (so the
  // Completions it holds report the stop).
  void Post(std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(post_mu);
    if (stopped) return;
    // The closure keeps this state alive: a caller's loop may run it after the node is gone.
    loop->Post([self = shared_from_this(), fn = std::move(fn)] {
      if (self->pubsub != nullptr) fn();
    });
  }

  // On the loop thread: the core's handler of `topic`, fanning out to its subscriptions.
  void Deliver(const std::string& topic, const pb::Message& m, const std::string& id, const PeerId& via) {
    auto it = topics.find(topic);
    if (it == topics.end()) return;
    std::optional<Message> message;
    auto deliver_to = [&](const std::shared_ptr<Subscription::State>& s) {
      if (!s->deliver) return;
      if (!message) {
        std::optional<PeerId> author;
        if (m.has_from()) {
          if (StatusOr<PeerId> from = PeerId::FromBytes(AsBytes(m.from())); from.ok()) author = *from;
        }
        message.emplace(Message{m.topic(), m.data(), id, std::move(author), m.seqno(), via});
      }
      if (!Subscription::State::Deliver(s, *message)) {
        pubsub->tracer().UndeliverableMessage(TracedMessage{m, id, via});
      }
    };
    // A handler may cancel, which changes the list: deliver from a copy (for the usual single subscription,
    // a copy of its pointer rather than of the list).
    if (it->second.subscriptions.size() == 1) {
      const std::shared_ptr<Subscription::State> only = it->second.subscriptions.front();
      deliver_to(only);
      return;
    }
    const auto subscriptions = it->second.subscriptions;
    for (const auto& s : subscriptions) deliver_to(s);
  }

  // On the loop thread: the state gauges of `metrics` from the parts' state now.
  void SampleMetrics() {
    PubSubMetricsSample sample;
    std::map<std::string, size_t> topic_index;
    for (const std::string& t : pubsub->topics()) {
      topic_index[t] = sample.topics.size();
      sample.topics.push_back({t, gossipsub ? gossipsub->Mesh(t).size() : 0, 0});
    }
    const bool scored = gossipsub != nullptr && gossipsub->scoring();
    for (const PeerId& id : pubsub->Peers()) {
      PubSubMetricsSample::Peer peer{id, pubsub->PeerProtocol(id)};
      if (scored) peer.score = gossipsub->Score(id);
      if (const PubSubPeer* p = pubsub->FindPeer(id)) {
        peer.queued_bytes = p->queued_bytes();
        peer.dropped_timeout = p->stats().dropped_timeout;
        peer.dropped_unwanted = p->stats().dropped_unwanted;
      }
      for (const std::string& t : pubsub->PeerTopics(id)) {
        auto it = topic_index.find(t);
        if (it != topic_index.end()) ++sample.topics[it->second].topic_peers;
      }
      sample.peers.push_back(std::move(peer));
    }
    for (const PeerId& id : host->connected_peers()) {
      for (const stream::ConnectionInfo& c : host->connections_of(id)) sample.connections.push_back({c.inbound, c.muxer});
    }
    const PubSubStateCounts counts = pubsub->StateCounts();
    sample.send_queue_bytes = counts.send_bytes;
    sample.pending_validations = counts.pending_validations;
    sample.pending_validation_bytes = counts.pending_validation_bytes;
    sample.seen_entries = counts.seen_entries;
    if (gossipsub) {
      const gossipsub::GossipSubStateCounts g = gossipsub->StateCounts();
      sample.mcache_messages = g.mcache_messages;
      sample.mcache_bytes = g.mcache_bytes;
      sample.promises = g.promises;
      sample.backoff_entries = g.backoff_entries;
    }
    metrics->Sample(sample);
  }

  // On the loop thread.
  void AddSubscription(const std::shared_ptr<Subscription::State>& s) {
    if (s->cancelled.load()) return;
    TopicState& t = topics[s->topic];
    t.subscriptions.push_back(s);
    if (t.subscriptions.size() > 1) return;
    const std::string topic = s->topic;
    (void)pubsub->Subscribe(topic, [this, topic](const pb::Message& m, const std::string& id, const PeerId& via) {
      Deliver(topic, m, id, via);
    });
  }
  void RemoveSubscription(const std::shared_ptr<Subscription::State>& s) {
    auto it = topics.find(s->topic);
    if (it == topics.end()) return;
    std::erase(it->second.subscriptions, s);
    if (!it->second.subscriptions.empty()) return;
    (void)pubsub->Unsubscribe(s->topic);
    if (!it->second.on_peer) topics.erase(it);
  }
};

// --- Subscription. ---

Subscription::~Subscription() { Cancel(); }

std::optional<Message> Subscription::Next(Duration timeout) {
  std::unique_lock<std::mutex> lock(state_->mu);
  state_->ready.wait_for(lock, timeout, [&] { return state_->cancelled.load() || !state_->queue.empty(); });
  if (state_->cancelled.load() || state_->queue.empty()) return std::nullopt;
  Message m = std::move(state_->queue.front());
  state_->queue.pop_front();
  return m;
}

uint64_t Subscription::dropped() const { return state_->dropped.load(); }

uint64_t Subscription::filtered() const { return state_->filtered.load(); }

void Subscription::Cancel() {
  if (state_->cancelled.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->queue.clear();
  }
  state_->ready.notify_all();
  if (std::shared_ptr<NodeShared> node = state_->node.lock()) {
    NodeShared* n = node.get();
    node->Post([n, s = state_] { n->RemoveSubscription(s); });
  }
}

// --- Topic. ---

Topic::~Topic() = default;

std::future<PublishResult> Topic::Publish(ByteSpan data) {
  auto done = MakeCompletion(StoppedPublish());
  std::future<PublishResult> f = done->future();
  NodeShared* n = shared_.get();
  shared_->Post([n, done, topic = name_, data = std::string(AsStringView(data))] {
    PublishResult r = n->pubsub->Publish(topic, AsBytes(data), [done](const PublishResult& later) { done->Set(later); });
    if (!r.pending) done->Set(std::move(r));
  });
  return f;
}

std::unique_ptr<Subscription> Topic::Add(SubscriptionOptions options, bool deliver) {
  auto state = std::make_shared<Subscription::State>();
  state->topic = name_;
  state->deliver = deliver;
  state->on_message = std::move(options.on_message);
  state->executor = std::move(options.executor);
  state->queue_size = options.queue_size;
  state->filter = std::move(options.filter);
  state->node = shared_;
  NodeShared* n = shared_.get();
  shared_->Post([n, state] { n->AddSubscription(state); });
  return std::unique_ptr<Subscription>(new Subscription(std::move(state)));
}

std::unique_ptr<Subscription> Topic::Subscribe(SubscriptionOptions options) { return Add(std::move(options), true); }

std::unique_ptr<Subscription> Topic::Relay() { return Add({}, false); }

void Topic::SetPeerHandler(std::function<void(const PeerEvent&)> handler, Executor executor) {
  NodeShared* n = shared_.get();
  shared_->Post([n, topic = name_, handler = std::move(handler), executor = std::move(executor)] {
    NodeShared::TopicState& t = n->topics[topic];
    t.on_peer = handler;
    t.peer_executor = executor;
    if (!t.on_peer && t.subscriptions.empty()) n->topics.erase(topic);
  });
}

std::future<std::vector<PeerId>> Topic::ListPeers() {
  auto done = MakeCompletion(std::vector<PeerId>{});
  std::future<std::vector<PeerId>> f = done->future();
  NodeShared* n = shared_.get();
  shared_->Post([n, done, topic = name_] {
    std::vector<PeerId> out;
    for (const PeerId& p : n->pubsub->Peers()) {
      if (n->pubsub->PeerTopics(p).count(topic)) out.push_back(p);
    }
    done->Set(std::move(out));
  });
  return f;
}

// --- Node. ---

StatusOr<std::unique_ptr<crypto::PrivateKey>> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("key file " + path + " cannot be read");
  // Read no more than the largest key protobuf and one byte.
  constexpr size_t kMaxKeyFile = crypto::kMaxPrivateKeyProtobufSize;
  std::string bytes(kMaxKeyFile + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  if (bytes.size() > kMaxKeyFile) return InvalidArgumentError("key file " + path + ": longer than a private key");
  StatusOr<std::unique_ptr<crypto::PrivateKey>> key = crypto::PrivateKey::FromProtobuf(AsBytes(bytes));
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!key.ok()) return InvalidArgumentError("key file " + path + ": " + key.status().message());
  return key;
}

namespace {

StatusOr<std::shared_ptr<const crypto::PrivateKey>> LoadKey(const NodeOptions& options) {
  if (options.key) return options.key;
  if (options.key_file.empty()) return std::make_shared<crypto::Ed25519PrivateKey>(crypto::Ed25519PrivateKey::Generate());
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::PrivateKey> key, ReadKeyFile(options.key_file));
  return std::shared_ptr<const crypto::PrivateKey>(std::move(key));
}

}  // namespace

StatusOr<std::unique_ptr<Node>> Node::Create(NodeOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<LibeventLoop> loop, LibeventLoop::Create());
  EventLoop* raw = loop.get();
  ASSIGN_OR_RETURN(std::unique_ptr<Node> node, Create(std::move(options), raw));
  node->shared_->own_loop = std::move(loop);
  return node;
}

StatusOr<std::unique_ptr<Node>> Node::Create(NodeOptions options, EventLoop* loop) {
  if (options.router == RouterKind::kGossipSub) {
    RETURN_IF_ERROR(options.gossipsub.params.Validate());
    RETURN_IF_ERROR(options.gossipsub.thresholds.Validate());
    if (options.gossipsub.score_params) RETURN_IF_ERROR(options.gossipsub.score_params->Validate());
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const crypto::PrivateKey> key, LoadKey(options));
  return std::unique_ptr<Node>(new Node(std::move(options), std::move(key), loop));
}

Node::Node(NodeOptions options, std::shared_ptr<const crypto::PrivateKey> key, EventLoop* loop)
    : options_(std::move(options)), key_(std::move(key)), id_(PeerId::FromPublicKey(key_->public_key())),
      shared_(std::make_shared<NodeShared>()) {
  shared_->loop = loop;
}

Node::~Node() { Stop(); }

Status Node::Start() {
  if (started_) return FailedPreconditionError("the node was started already");
  started_ = true;
  if (!shared_->own_loop) return StartOnLoop();
  std::promise<Status> started;
  std::future<Status> result = started.get_future();
  shared_->loop->Post([this, &started] { started.set_value(StartOnLoop()); });
  LibeventLoop* loop = shared_->own_loop.get();
  shared_->thread = std::thread([loop] { loop->Run(); });
  Status s = result.get();
  if (!s.ok()) Stop();
  return s;
}

Status Node::StartOnLoop() {
  NodeShared& n = *shared_;
  const NodeEvents& events = options_.events;
  n.memory = std::make_unique<MemoryBudget>(options_.host.memory_limit);
  stream::TcpTransportOptions transport_options = options_.transport;
  transport_options.write_budget = n.memory.get();
  n.transport = std::make_unique<stream::TcpTransport>(n.loop, transport_options);
  stream::HostOptions host_options = options_.host;
  host_options.identity = key_.get();
  host_options.memory_budget = n.memory.get();
  n.host = std::make_unique<stream::Host>(n.loop, n.transport.get(), host_options);
  n.host->AddEvents(stream::Host::Events{Through(events.on_connected, events.executor),
                                         Through(events.on_identified, events.executor),
                                         Through(events.on_disconnected, events.executor),
                                         Through(events.on_inbound_failed, events.executor)});
  for (const Multiaddr& a : options_.listen_addrs) {
    if (Status s = n.host->Listen(a); !s.ok()) {
      n.host.reset();
      n.transport.reset();
      return UnavailableError("listen on " + a.ToString() + ": " + s.ToString());
    }
  }
  std::unique_ptr<Router> router;
  if (options_.router == RouterKind::kFloodSub) {
    router = std::make_unique<FloodSubRouter>();
  } else {
    ASSIGN_OR_RETURN(std::unique_ptr<gossipsub::GossipSubRouter> gossipsub,
                     gossipsub::GossipSubRouter::Create(
                         options_.gossipsub, gossipsub::GossipSubEvents{Through(events.on_graft, events.executor),
                                                                        Through(events.on_prune, events.executor)}));
    n.gossipsub = gossipsub.get();
    router = std::move(gossipsub);
  }
  PubSubOptions pubsub_options = options_.pubsub;
  pubsub_options.identity = key_.get();
  if (options_.metrics != nullptr) {
    StatusOr<std::unique_ptr<PubSubMetrics>> metrics = PubSubMetrics::Create(options_.metrics, &n.loop->clock(), id_);
    if (!metrics.ok()) {
      n.host.reset();
      n.transport.reset();
      return metrics.status();
    }
    n.metrics = std::move(metrics).value();
    pubsub_options.tracers.push_back(n.metrics.get());
  }
  n.pubsub = std::make_unique<PubSub>(n.loop, n.host.get(), std::move(router), pubsub_options);
  if (n.metrics) {
    NodeShared* s = shared_.get();
    n.metrics_timer = n.loop->CreateTimer([s] { s->SampleMetrics(); });
    n.metrics_timer->ScheduleRepeating(options_.metrics_interval);
  }
  NodeShared* shared = shared_.get();
  auto on_peer_subscribed = Through(events.on_peer_subscribed, events.executor);
  n.pubsub->SetEvents(PubSub::Events{[shared, on_peer_subscribed](const PeerId& peer, const std::string& topic,
                                                                  bool joined) {
    if (on_peer_subscribed) on_peer_subscribed(peer, topic, joined);
    auto it = shared->topics.find(topic);
    if (it == shared->topics.end() || !it->second.on_peer) return;
    auto handler = it->second.on_peer;
    RunWith(it->second.peer_executor, [handler, ev = PeerEvent{peer, joined}] { handler(ev); });
  }});
  for (Multiaddr a : n.host->listen_addrs()) {
    listen_addrs_.push_back(*Multiaddr::FromString(a.ToString() + "/p2p/" + id_.ToBase58()));
  }
  return OkStatus();
}

void Node::StopOnLoop() {
  NodeShared& n = *shared_;
  for (auto& [topic, t] : n.topics) {
    for (auto& s : t.subscriptions) s->cancelled.store(true);
  }
  n.topics.clear();
  if (n.host) {
    for (const PeerId& p : n.host->connected_peers()) n.host->Disconnect(p);
  }
  n.gossipsub = nullptr;
  n.metrics_timer.reset();
  n.pubsub.reset();
  n.metrics.reset();  // After the core, whose tracer it is.
  n.host.reset();
  n.transport.reset();
  n.memory.reset();
}

void Node::Stop() {
  {
    std::lock_guard<std::mutex> lock(shared_->post_mu);
    if (shared_->stopped) return;
    shared_->stopped = true;
  }
  if (!shared_->own_loop) {
    StopOnLoop();
    return;
  }
  if (shared_->thread.joinable()) {
    LibeventLoop* loop = shared_->own_loop.get();
    loop->Post([this, loop] {
      StopOnLoop();
      loop->Stop();
    });
    shared_->thread.join();
  } else {
    StopOnLoop();  // Never started, or its start failed: nothing runs the loop.
  }
  // What was posted and not run is dropped now, reporting the stop to whoever waits for it.
  shared_->own_loop.reset();
  shared_->loop = nullptr;
}

std::future<StatusOr<PeerId>> Node::Connect(Multiaddr addr) {
  auto done = MakeCompletion(StatusOr<PeerId>(Stopped()));
  std::future<StatusOr<PeerId>> f = done->future();
  NodeShared* n = shared_.get();
  shared_->Post([n, done, addr = std::move(addr)] {
    n->host->Dial(addr, [done](StatusOr<PeerId> peer) { done->Set(std::move(peer)); });
  });
  return f;
}

StatusOr<std::shared_ptr<Topic>> Node::Join(const std::string& topic) {
  if (topic.empty() || topic.size() > options_.pubsub.peer.limits.max_topic_length) {
    return InvalidArgumentError("topic must be 1.." + std::to_string(options_.pubsub.peer.limits.max_topic_length) +
                                " bytes");
  }
  return std::shared_ptr<Topic>(new Topic(shared_, topic));
}

std::future<std::vector<std::string>> Node::GetTopics() {
  auto done = MakeCompletion(std::vector<std::string>{});
  std::future<std::vector<std::string>> f = done->future();
  NodeShared* n = shared_.get();
  shared_->Post([n, done] { done->Set(n->pubsub->topics()); });
  return f;
}

std::future<std::vector<PeerId>> Node::ListPeers(const std::string& topic) {
  auto done = MakeCompletion(std::vector<PeerId>{});
  std::future<std::vector<PeerId>> f = done->future();
  NodeShared* n = shared_.get();
  shared_->Post([n, done, topic] {
    std::vector<PeerId> out;
    for (const PeerId& p : n->pubsub->Peers()) {
      if (topic.empty() || n->pubsub->PeerTopics(p).count(topic)) out.push_back(p);
    }
    done->Set(std::move(out));
  });
  return f;
}

std::future<NodeBatchResult> Node::PublishBatch(std::vector<BatchMessage> messages,
                                                std::unique_ptr<RpcScheduler> scheduler) {
  NodeBatchResult stopped;
  stopped.status = Stopped();
  auto done = MakeCompletion(std::move(stopped));
  std::future<NodeBatchResult> f = done->future();
  NodeShared* n = shared_.get();
  // Shared, as the posted function must be copyable; only the loop thread uses it.
  std::shared_ptr<RpcScheduler> order(std::move(scheduler));
  shared_->Post([n, done, messages = std::move(messages), order] {
    NodeBatchResult r;
    MessageBatch batch;
    // Every message is prepared, so that the result names every refusal, not only the first.
    for (size_t i = 0; i < messages.size(); ++i) {
      BatchAddResult added = n->pubsub->AddToBatch(&batch, messages[i].topic, AsBytes(messages[i].data));
      if (!added.status.ok() && r.status.ok()) {
        r.status = Status(added.status.code(), "message " + std::to_string(i) + ": " + added.status.message());
      }
      r.messages.push_back(std::move(added));
    }
    if (r.status.ok()) r.published = n->pubsub->PublishBatch(std::move(batch), order.get());
    done->Set(std::move(r));
  });
  return f;
}

void Node::AddValidator(const std::string& topic, Validator validator) {
  NodeShared* n = shared_.get();
  std::weak_ptr<NodeShared> weak = shared_;
  shared_->Post([n, weak, topic, validator = std::move(validator)] {
    n->pubsub->AddValidator(topic, [weak, validator](const pb::Message& m, std::function<void(ValidationResult)> done) {
      // An answer given inside the call, on this (the loop) thread, is synchronous: it counts at once, so
      // that a batch can use it. Any other goes back through the loop, from whatever thread gives it, and
      // only while the core lives.
      auto in_call = std::make_shared<std::atomic<bool>>(true);
      const std::thread::id loop_thread = std::this_thread::get_id();
      validator(m, [weak, done, in_call, loop_thread](ValidationResult r) {
        if (in_call->load() && std::this_thread::get_id() == loop_thread) return done(r);
        if (std::shared_ptr<NodeShared> node = weak.lock()) node->Post([done, r] { done(r); });
      });
      in_call->store(false);
    });
  });
}

void Node::AddThreadSafeValidator(const std::string& topic, ThreadSafeValidator validator) {
  NodeShared* n = shared_.get();
  shared_->Post([n, topic, validator = std::move(validator)] { n->pubsub->AddThreadSafeValidator(topic, validator); });
}

std::future<StatusOr<Duration>> Node::Ping(const PeerId& peer) {
  auto done = MakeCompletion(StatusOr<Duration>(Stopped()));
  std::future<StatusOr<Duration>> f = done->future();
  NodeShared* n = shared_.get();
  shared_->Post([n, done, peer] { n->host->Ping(peer, [done](StatusOr<Duration> rtt) { done->Set(std::move(rtt)); }); });
  return f;
}

std::future<Status> Node::AddDirectPeer(const PeerId& peer, std::vector<Multiaddr> addrs) {
  auto done = MakeCompletion(Stopped());
  std::future<Status> f = done->future();
  NodeShared* n = shared_.get();
  shared_->Post([n, done, peer, addrs = std::move(addrs)]() mutable {
    if (n->gossipsub == nullptr) return done->Set(FailedPreconditionError("direct peers need gossipsub"));
    done->Set(n->gossipsub->AddDirectPeer(peer, std::move(addrs)));
  });
  return f;
}

std::future<Status> Node::RemoveDirectPeer(const PeerId& peer) {
  auto done = MakeCompletion(Stopped());
  std::future<Status> f = done->future();
  NodeShared* n = shared_.get();
  shared_->Post([n, done, peer] {
    if (n->gossipsub == nullptr) return done->Set(FailedPreconditionError("direct peers need gossipsub"));
    done->Set(n->gossipsub->RemoveDirectPeer(peer));
  });
  return f;
}

void Node::Post(std::function<void()> fn) { shared_->Post(std::move(fn)); }

stream::Host& Node::host() const { return *shared_->host; }

PubSub& Node::pubsub() const { return *shared_->pubsub; }

}  // namespace libp2p::pubsub
