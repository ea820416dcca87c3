#include "libp2p/pubsub/pubsub.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "libp2p/base/varint.h"
#include "libp2p/pubsub/round_robin_scheduler.h"

namespace libp2p::pubsub {

using crypto::PeerId;

namespace {

const std::set<std::string>& EmptyTopics() {
  static const std::set<std::string> empty;
  return empty;
}

// `options` as the core uses them: the router's experimental fields kept by the RPC decoder, and the
// decoder keeping one subscription entry more than max_subscriptions_per_rpc, so that an RPC over the cap
// shows it (the decoder would cut it to the cap otherwise) while the rest of it is skipped unread.
PubSubOptions WithDecoderLimits(PubSubOptions options, const Router& router) {
  std::vector<uint32_t>& fields = options.peer.limits.experimental_fields;
  for (uint32_t f : router.ExperimentalFields()) {
    if (std::find(fields.begin(), fields.end(), f) == fields.end()) fields.push_back(f);
  }
  const size_t cap = options.max_subscriptions_per_rpc;
  options.peer.limits.max_subscriptions = cap == SIZE_MAX ? cap : cap + 1;
  return options;
}

// Subscription entries in one RPC we send: within our own cap, and within rust's MaxCountSubscriptionFilter
// default (100 a request), which drops the subscriptions of an RPC with more.
size_t SubscriptionsPerRpcSent(const PubSubOptions& options) {
  return std::max<size_t>(1, std::min<size_t>(options.max_subscriptions_per_rpc, 100));
}


// Why a validator's verdict other than kAccept refused our own message.
Status RefusalStatus(Verdict verdict) {
  assert(verdict != Verdict::kAccept);
  switch (verdict) {
    case Verdict::kAccept: break;
    case Verdict::kReject: return PermissionDeniedError("a validator rejected the message");
    case Verdict::kIgnore: return CancelledError("a validator ignored the message");
    case Verdict::kTimedOut: return DeadlineExceededError("a validator did not answer in time");
  }
  return InternalError("an accepted message was refused");
}

// Go's reason for a validator's verdict other than kAccept (a timeout counts as an ignore, as go's).
std::string_view VerdictReason(Verdict verdict) {
  return verdict == Verdict::kReject ? reject_reason::kValidationFailed : reject_reason::kValidationIgnored;
}

// Go's reason for a message that VerifyMessage refused under `policy`.
std::string_view SignatureReason(const pb::Message& msg, SignPolicy policy) {
  if (policy == SignPolicy::kStrictNoSign) {
    return msg.has_signature() ? reject_reason::kUnexpectedSignature : reject_reason::kUnexpectedAuthInfo;
  }
  return msg.has_signature() ? reject_reason::kInvalidSignature : reject_reason::kMissingSignature;
}

// The validation workers `requested` asks for on `loop` (see PubSubOptions::validation_workers); null for none.
std::unique_ptr<WorkerPool> MakeWorkers(const EventLoop& loop, size_t requested) {
  size_t n = requested;
  if (n == kAutoWorkers) n = loop.virtual_time() ? 0 : WorkerPool::HardwareThreads();
  return n == 0 ? nullptr : std::make_unique<WorkerPool>(n);
}

// The wall clock in nanoseconds since the Unix epoch: where seqnos start by default, so a restarted node
// does not repeat them.
uint64_t WallClockSeqno() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

PubSub::PubSub(EventLoop* loop, stream::Host* host, std::unique_ptr<Router> router, PubSubOptions options)
    : loop_(loop), host_(host), router_(std::move(router)), options_(WithDecoderLimits(std::move(options), *router_)),
      self_(PeerId::FromPublicKey(options_.identity->public_key())),
      send_budget_(options_.max_send_bytes),
      peer_logs_(loop->clock()),
      seen_(&loop->clock(), options_.seen_ttl, options_.seen_max_entries),
      next_seqno_(options_.first_seqno ? *options_.first_seqno : WallClockSeqno()),
      own_workers_(options_.validation_pool ? nullptr : MakeWorkers(*loop, options_.validation_workers)),
      offload_(loop, options_.validation_pool ? options_.validation_pool : own_workers_.get()),
      validation_(loop, &offload_, ValidationLimits{options_.max_pending_validations, options_.max_pending_validations_per_topic,
                                         options_.max_pending_validation_bytes, options_.validation_timeout}),
      send_room_task_(loop->CreateTask([this] {
        if (send_room_) send_room_();
      })),
      tracer_(options_.tracers),
      deleter_(loop) {
  router_->Attach(this);
  for (const std::string& protocol : router_->Protocols()) {
    host_->SetStreamHandler(protocol, [this](std::unique_ptr<stream::Stream> s, const PeerId& peer,
                                             const std::string& proto) {
      if (!host_->IsConnected(peer)) return;  // Gone meanwhile: the stream is dropped (reset).
      if (IsBlacklisted(peer)) {
        ++stats_.blacklisted_streams_refused;
        return;  // Reset, as above.
      }
      EnsurePeer(peer, proto).peer->AttachInbound(std::move(s));
    });
  }
  host_events_ = host_->AddEvents(stream::Host::Events{
      [this](const stream::ConnectionInfo& c) {
        auto it = peers_.find(c.peer);
        if (it == peers_.end()) return;
        // Another connection to a known peer: streams move to it, and its direction may count now.
        it->second.peer->OnNewConnection();
        router_->OnConnectionsChanged(c.peer);
      },
      [this](const PeerId& peer, const stream::IdentifyInfo& info) {
        if (IsBlacklisted(peer)) return;
        for (const std::string& p : router_->Protocols()) {
          if (std::find(info.protocols.begin(), info.protocols.end(), p) == info.protocols.end()) continue;
          EnsurePeer(peer, p);
          return;
        }
      },
      [this](const stream::ConnectionInfo& c, const Status&) {
        // The peer goes with its last connection; while another remains, the streams follow it (they are
        // reopened on the newest connection) and the router learns the new direction.
        if (!host_->IsConnected(c.peer)) return DropPeer(c.peer);
        if (peers_.count(c.peer)) router_->OnConnectionsChanged(c.peer);
      }});
}

PubSub::~PubSub() {
  host_->RemoveEvents(host_events_);
  for (const std::string& protocol : router_->Protocols()) host_->RemoveStreamHandler(protocol);
  peers_.clear();
}

PubSub::PeerState& PubSub::EnsurePeer(const PeerId& id, const std::string& protocol) {
  auto it = peers_.find(id);
  if (it != peers_.end()) return it->second;
  stream::Host* host = host_;
  const std::vector<std::string> protocols = router_->Protocols();
  TracerList* tracer = &tracer_;
  auto opener = [host, id, protocols, tracer](std::function<void(StatusOr<std::unique_ptr<stream::Stream>>)> done) {
    const uint64_t request = host->NewStream(
        id, protocols, [id, tracer, done](StatusOr<std::unique_ptr<stream::Stream>> s, const std::string& protocol) {
          if (s.ok()) tracer->OnNewOutboundStream(id, protocol);
          done(std::move(s));
        });
    return std::function<void()>([host, request] { host->CancelNewStream(request); });
  };
  PeerState& state = peers_[id];
  // A peer dropped (DropPeer) reads no more, so each RPC comes from a peer in peers_, whose entry (`state`,
  // which stays where it is until erased) it passes on.
  PubSubPeer::Callbacks callbacks{[this, state = &state](PubSubPeer& p, pb::RPC rpc) {
                                    OnRpc(p.id(), state, std::move(rpc), p.first_rpc_on_stream());
                                  },
                                  nullptr,
                                  [this, id](std::string_view tag) { return router_->StillWanted(id, tag); },
                                  [this, id](PubSubPeer&) {
                                    std::vector<pb::RPC> hello = HelloRpcs(id);
                                    for (const pb::RPC& rpc : hello) tracer_.SendRpc(id, rpc);
                                    return hello;
                                  },
                                  [this, id](PubSubPeer&) { tracer_.OnClosedOutboundStream(id); },
                                  [this](PubSubPeer&) {
                                    if (send_room_) send_room_task_->Post();
                                  }};
  PubSubPeerOptions peer_options = options_.peer;
  peer_options.send_budget = &send_budget_;
  peer_options.log_limiter = &peer_logs_;
  state.peer = std::make_unique<PubSubPeer>(loop_, id, opener, peer_options, std::move(callbacks));
  for (RpcObserver* observer : options_.rpc_observers) state.peer->AddObserver(observer);
  state.protocol = protocol;
  router_->AddPeer(id, protocol);
  // Tell a new peer what we subscribe to, whichever came first (its stream or its identify): the hello
  // goes out first on the stream this opens (and again on any later one).
  state.peer->Open();
  return state;
}

void PubSub::DropPeer(const PeerId& id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  // The entry stays where it is while the router's and the tracer's observers run; an iterator would not,
  // should they drop another peer.
  PeerState& state = it->second;
  router_->RemovePeer(id);
  if (state.peer->ready()) tracer_.OnClosedOutboundStream(id);
  // The peer may be inside its own callback (a stream failing): destroy it from the loop. It stops reading
  // now, so that the rest of a chunk it is reading is not delivered.
  state.peer->StopReading();
  deleter_.Delete(std::move(state.peer));
  peers_.erase(id);
  ++peers_dropped_;
  if (send_room_) send_room_task_->Post();
}

std::vector<std::string> PubSub::topics() const {
  std::vector<std::string> out;
  for (const auto& [t, h] : handlers_) out.push_back(t);
  return out;
}

std::vector<pb::RPC> PubSub::SubscriptionsRpcs() const {
  // At most kMaxControlBytesPerRpc of subscriptions in each, and at most SubscriptionsPerRpcSent entries.
  std::vector<pb::RPC> rpcs;
  size_t used = 0;
  const size_t per_rpc = SubscriptionsPerRpcSent(options_);
  for (const auto& [topic, handler] : handlers_) {
    const size_t bytes = 8 + topic.size();  // The SubOpts with its headers and its subscribe flag.
    if (rpcs.empty() || used + bytes > kMaxControlBytesPerRpc ||
        static_cast<size_t>(rpcs.back().subscriptions_size()) >= per_rpc) {
      rpcs.emplace_back();
      used = 0;
    }
    auto* s = rpcs.back().add_subscriptions();
    s->set_subscribe(true);
    s->set_topicid(topic);
    router_->DescribeSubscription(s);
    used += bytes;
  }
  return rpcs;
}

std::vector<pb::RPC> PubSub::HelloRpcs(const PeerId& peer) const {
  std::vector<pb::RPC> rpcs = SubscriptionsRpcs();
  if (rpcs.empty()) rpcs.emplace_back();
  router_->AddHello(peer, &rpcs.front());
  if (rpcs.front().ByteSizeLong() == 0) return {};
  return rpcs;
}

Status PubSub::CheckOwnTopic(const std::string& topic) const {
  if (topic.empty() || topic.size() > options_.peer.limits.max_topic_length) {
    return InvalidArgumentError("topic must be 1.." + std::to_string(options_.peer.limits.max_topic_length) + " bytes");
  }
  if (!TopicAllowed(topic)) {
    return PermissionDeniedError("topic " + topic + " is not allowed by the subscription filter");
  }
  return OkStatus();
}

Status PubSub::SetTopicOptions(const std::string& topic, TopicOptions options) {
  RETURN_IF_ERROR(CheckOwnTopic(topic));
  if (handlers_.count(topic) || local_handlers_.count(topic)) {
    return FailedPreconditionError("subscribed to " + topic + ": unsubscribe before changing its options");
  }
  if (!options.fanout_only) {
    topic_options_.erase(topic);
  } else {
    topic_options_[topic] = options;
  }
  return OkStatus();
}

TopicOptions PubSub::topic_options(const std::string& topic) const {
  auto it = topic_options_.find(topic);
  return it == topic_options_.end() ? TopicOptions{} : it->second;
}

Status PubSub::Subscribe(const std::string& topic, MessageHandler handler) {
  RETURN_IF_ERROR(CheckOwnTopic(topic));
  if (topic_options(topic).fanout_only) {
    // Never announced, never joined: the router keeps publishing through its fanout.
    local_handlers_[topic] = std::make_shared<const MessageHandler>(std::move(handler));
    return OkStatus();
  }
  const bool is_new = handlers_.count(topic) == 0;
  handlers_[topic] = std::make_shared<const MessageHandler>(std::move(handler));
  if (!is_new) return OkStatus();
  // Announced first, then joined (as go does): a peer hears of our subscription before our GRAFT.
  pb::RPC rpc;
  auto* s = rpc.add_subscriptions();
  s->set_subscribe(true);
  s->set_topicid(topic);
  router_->DescribeSubscription(s);
  // By id: a send may drop another peer (an RpcObserver that blacklists it), which moves entries of peers_.
  for (const PeerId& id : Peers()) SendRpc(id, rpc, SendLane::kControl);
  // Reported before the router grafts (as go's): a trace shows the join ahead of its grafts.
  tracer_.Join(topic);
  router_->Join(topic);
  return OkStatus();
}

Status PubSub::Unsubscribe(const std::string& topic) {
  if (local_handlers_.erase(topic) > 0) return OkStatus();
  if (handlers_.erase(topic) == 0) return NotFoundError("not subscribed to " + topic);
  tracer_.Leave(topic);
  router_->Leave(topic);
  pb::RPC rpc;
  auto* s = rpc.add_subscriptions();
  s->set_subscribe(false);
  s->set_topicid(topic);
  for (const PeerId& id : Peers()) SendRpc(id, rpc, SendLane::kControl);  // By id, as in Subscribe.
  return OkStatus();
}

void PubSub::AddValidator(const std::string& topic, Validator validator) {
  validation_.Add(topic, std::move(validator));
}

void PubSub::AddThreadSafeValidator(const std::string& topic, ThreadSafeValidator validator) {
  validation_.AddThreadSafe(topic, std::move(validator));
}

Status PubSub::MakeOwn(const std::string& topic, ByteSpan data, pb::Message* msg, PublishResult* result) {
  // A topic our peers would leave out of the RPC (see RpcLimits), or that the filter refuses, is refused
  // here, before a seqno is used.
  RETURN_IF_ERROR(CheckOwnTopic(topic));
  msg->set_topic(topic);
  msg->set_data(std::string(AsStringView(data)));
  result->seqno = next_seqno_++;
  SignMessage(*options_.identity, result->seqno, options_.sign_policy, msg);
  // The message must fit in an RPC of its own: field 2's tag byte, the length varint, the message.
  const size_t msg_size = msg->ByteSizeLong();
  if (1 + UvarintLength(msg_size) + msg_size > options_.peer.limits.max_rpc_size) {
    return OutOfRangeError("message of " + std::to_string(data.size()) + " bytes is too large");
  }
  result->id = options_.message_id(*msg);
  return OkStatus();
}

PublishResult PubSub::Publish(const std::string& topic, ByteSpan data, PublishDone done) {
  PublishResult result;
  pb::Message msg;
  if (Status s = MakeOwn(topic, data, &msg, &result); !s.ok()) {
    result.status = std::move(s);
    return result;
  }
  // The seen cache's slot for the id is a cache miss: start it now, to be there when RouteOwn inserts the id.
  seen_.Prefetch(result.id);
  tracer_.PublishMessage(TracedMessage{msg, result.id, self_});
  if (!validation_.HasValidators(topic)) {
    return SendOwn(std::make_shared<const pb::Message>(std::move(msg)), std::move(result));
  }
  if (Status room = validation_.CheckRoom(topic, msg.ByteSizeLong()); !room.ok()) {
    tracer_.RejectMessage(TracedMessage{msg, result.id, self_}, reject_reason::kValidationQueueFull);
    result.status = std::move(room);
    return result;
  }
  // An outcome reached while Publish runs (every validator answered at once) is returned; a later one goes
  // to `done`.
  struct Outcome {
    bool in_publish = true;
    std::optional<PublishResult> result;
  };
  auto outcome = std::make_shared<Outcome>();
  validation_.Run(std::move(msg), [this, outcome, result, done = std::move(done)](pb::Message& m, Verdict verdict) {
    PublishResult out = result;
    if (verdict == Verdict::kAccept) {
      out = SendOwn(std::make_shared<const pb::Message>(std::move(m)), std::move(out));
    } else {
      tracer_.RejectMessage(TracedMessage{m, out.id, self_}, VerdictReason(verdict));
      out.status = RefusalStatus(verdict);
    }
    if (outcome->in_publish) {
      outcome->result = std::move(out);
    } else if (done) {
      done(out);
    }
  });
  outcome->in_publish = false;
  if (outcome->result.has_value()) return std::move(*outcome->result);
  result.pending = true;
  return result;
}

BatchAddResult PubSub::AddToBatch(MessageBatch* batch, const std::string& topic, ByteSpan data) {
  BatchAddResult out;
  PublishResult made;
  pb::Message msg;
  Status s = MakeOwn(topic, data, &msg, &made);
  out.id = std::move(made.id);
  out.seqno = made.seqno;
  if (!s.ok()) {
    out.status = std::move(s);
    return out;
  }
  if (batch->Contains(out.id)) {
    out.duplicate = true;
    return out;
  }
  tracer_.PublishMessage(TracedMessage{msg, out.id, self_});
  if (validation_.HasValidators(topic)) {
    if (Status room = validation_.CheckRoom(topic, msg.ByteSizeLong()); !room.ok()) {
      out.status = std::move(room);
      return out;
    }
    // Only a verdict reached inside Run counts; a later one (an asynchronous validator) finds the batch
    // call gone and is dropped.
    struct Outcome {
      bool in_call = true;
      std::optional<Verdict> verdict;
      pb::Message accepted;
    };
    auto outcome = std::make_shared<Outcome>();
    validation_.Run(std::move(msg), [outcome](pb::Message& m, Verdict verdict) {
      if (!outcome->in_call) return;
      outcome->verdict = verdict;
      if (verdict == Verdict::kAccept) outcome->accepted = std::move(m);
    });
    outcome->in_call = false;
    if (!outcome->verdict.has_value()) {
      out.status = FailedPreconditionError("a validator of " + topic +
                                           " did not answer at once: a batch cannot wait for asynchronous validators");
      return out;
    }
    if (*outcome->verdict != Verdict::kAccept) {
      out.status = RefusalStatus(*outcome->verdict);
      return out;
    }
    msg = std::move(outcome->accepted);
  }
  batch->Add(std::make_shared<const pb::Message>(std::move(msg)), out.id, out.seqno);
  out.status = OkStatus();
  return out;
}

BatchPublishResult PubSub::PublishBatch(MessageBatch batch, RpcScheduler* scheduler) {
  BatchPublishResult result;
  RoundRobinScheduler round_robin;
  if (scheduler == nullptr) scheduler = &round_robin;
  // Each message encoded once, whatever the number of its copies; found by the RPC the scheduler hands back.
  std::unordered_map<const pb::RPC*, OutgoingMessage> outgoing;
  for (const MessageBatch::Entry& e : batch.entries()) {
    const std::vector<PubSubPeer*> peers = RouteOwn(e.msg, e.id);
    ++result.messages;
    if (peers.empty()) continue;
    auto rpc = std::make_shared<pb::RPC>();
    *rpc->add_publish() = *e.msg;
    outgoing.emplace(rpc.get(), OutgoingMessage{e.msg.get()});
    for (const PubSubPeer* peer : peers) scheduler->Add(peer->id(), e.id, rpc);
  }
  for (ScheduledRpc& send : scheduler->Take()) {
    auto out = outgoing.find(send.rpc.get());
    assert(out != outgoing.end());
    PubSubPeer* peer = FindPeer(send.peer);
    if (peer != nullptr && SendMessage(*peer, &out->second, SendLane::kPublish, send.id)) {
      ++result.sent;
    } else {
      ++result.dropped;
    }
  }
  return result;
}

void PubSub::DeliverLocally(const pb::Message& msg, const std::string& id) {
  auto it = local_handlers_.find(msg.topic());
  if (it == local_handlers_.end()) return;
  ++stats_.delivered;
  const std::shared_ptr<const MessageHandler> handler = it->second;  // The handler may unsubscribe.
  (*handler)(msg, id, self_);
}

std::vector<PubSubPeer*> PubSub::RouteOwn(const SharedMessage& msg, const std::string& id) {
  DeliverLocally(*msg, id);
  seen_.Insert(id);
  ++stats_.published;
  if (tracer_.active()) {
    // As go's: our own message is validated and delivered too (its subscribers are ours).
    tracer_.ValidateMessage(TracedMessage{*msg, id, self_});
    tracer_.DeliverMessage(TracedMessage{*msg, id, self_});
  }
  return router_->Route(msg, id, std::nullopt);
}

PublishResult PubSub::SendOwn(SharedMessage msg, PublishResult result) {
  result.peers = SendToPeers(*msg, result.id, RouteOwn(msg, result.id), SendLane::kPublish);
  result.status = OkStatus();
  return result;
}

bool PubSub::SendRpc(const PeerId& peer, pb::RPC rpc, SendLane lane, std::string tag) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return false;
  const bool queued = it->second.peer->SendInPlace(&rpc, lane, std::move(tag)) == SendResult::kQueued;
  if (!tracer_.active()) return queued;
  if (queued) {
    tracer_.SendRpc(peer, rpc);
  } else {
    tracer_.DropRpc(peer, rpc);
  }
  return queued;
}

bool PubSub::HasSeen(const std::string& id) { return seen_.Contains(id); }

const std::string& PubSub::PeerProtocol(const PeerId& peer) const {
  static const std::string empty;
  auto it = peers_.find(peer);
  return it == peers_.end() ? empty : it->second.protocol;
}

const std::set<std::string>& PubSub::PeerTopics(const PeerId& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? EmptyTopics() : it->second.topics;
}

std::vector<PeerId> PubSub::Peers() const {
  std::vector<PeerId> out;
  for (const auto& [id, state] : peers_) out.push_back(id);
  return out;
}

PubSubPeer* PubSub::FindPeer(const PeerId& peer) {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : it->second.peer.get();
}

void PubSub::OnRpc(const PeerId& from, PeerState* state, pb::RPC rpc, bool first_on_stream) {
  uint64_t drops = peers_dropped_;
  tracer_.RecvRpc(from, rpc);
  // Too many subscription entries: the whole RPC goes, as go drops one its limit filter refuses. The decoder
  // kept at most one entry over the cap, so the count here says whether there were more.
  if (static_cast<size_t>(rpc.subscriptions_size()) > options_.max_subscriptions_per_rpc) {
    ++stats_.rpcs_too_many_subscriptions;
    LIBP2P_LOG_LIMITED(&peer_logs_, AsStringView(from.bytes()), LogLevel::kWarn, "pubsub",
                       "RPC dropped: too many subscriptions",
                       {{"peer", from.ToBase58()}, {"limit", options_.max_subscriptions_per_rpc}});
    return;
  }
  // Whether the sender is still a peer after a callback, which may have dropped it. DropPeer is the one way
  // out of peers_ and counts its drops, so while none happened `state` stands without a lookup.
  auto still_peer = [&] {
    if (peers_dropped_ == drops) return true;
    auto it = peers_.find(from);
    if (it == peers_.end()) return false;
    state = &it->second;
    drops = peers_dropped_;
    return true;
  };
  // Subscriptions first, even from a peer whose RPCs the router refuses (as go): an unsubscribe still lands.
  for (const auto& sub : rpc.subscriptions()) {
    if (!still_peer()) return;
    std::set<std::string>& topics = state->topics;
    const std::string& topic = sub.topicid();
    if (topic.empty()) continue;
    // A refused topic is dropped before anything is looked up or kept: it costs the filter's call only. An
    // unsubscribe from a topic recorded while the filter allowed it still lands (the state only shrinks).
    if (!TopicAllowed(topic) && (sub.subscribe() || topics.count(topic) == 0)) {
      ++stats_.subscriptions_filtered;
      continue;
    }
    if (sub.subscribe()) {
      if (topics.count(topic)) continue;
      if (topics.size() >= options_.max_subscriptions_per_peer ||
          state->topic_bytes + topic.size() > options_.max_subscription_bytes_per_peer) {
        ++stats_.subscriptions_refused;
        continue;
      }
      topics.insert(topic);
      state->topic_bytes += topic.size();
    } else if (topics.erase(topic) == 0) {
      continue;
    } else {
      state->topic_bytes -= topic.size();
    }
    router_->OnSubscriptionChange(from, topic, sub.subscribe());
    if (events_.on_peer_subscribed) events_.on_peer_subscribed(from, topic, sub.subscribe());
  }
  if (!still_peer()) return;
  const RpcAcceptance acceptance = router_->AcceptRpcFrom(from);
  router_->OnRpc(from, rpc, first_on_stream, acceptance);
  if (acceptance == RpcAcceptance::kNone || !still_peer()) return;
  if (acceptance == RpcAcceptance::kAll) {
    for (pb::Message& msg : *rpc.mutable_publish()) OnMessage(from, std::move(msg));
  }
  if (rpc.has_control() && still_peer()) router_->HandleControl(from, rpc.control());
}

void PubSub::OnMessage(const PeerId& from, pb::Message msg) {
  if (!subscribed(msg.topic())) return;  // Only topics we are in are relayed.
  const std::string id = options_.message_id(msg);
  // Before anything else, as go: a blacklisted sender's or author's message is neither verified nor seen.
  if (RejectIfBlacklisted(from, id, msg)) return;
  // Our own messages reach us only as replays: honest routers never send a message back to its author.
  if (msg.has_from() && msg.from() == AsStringView(self_.bytes())) {
    ++stats_.rejected;
    Reject(from, id, msg, RejectReason::kSelfOrigin, reject_reason::kSelfOrigin);
    return;
  }
  // A copy of a message already seen is not verified again (in a mesh most arrivals are such copies).
  const TimedCache::Lookup seen = seen_.Find(id);
  if (seen.found) {
    ++stats_.duplicates;
    tracer_.DuplicateMessage(TracedMessage{msg, id, from});
    router_->OnDuplicate(from, id, msg.topic());
    return;
  }
  Verify(from, id, std::move(msg), seen);
}

void PubSub::Verify(const PeerId& from, const std::string& id, pb::Message msg, const TimedCache::Lookup& seen) {
  // StrictNoSign's check looks at four fields: not worth a trip to the workers.
  if (!offload_.offloads() || options_.sign_policy == SignPolicy::kStrictNoSign) {
    const Status s = VerifyMessage(msg, options_.sign_policy);
    return OnVerified(from, id, std::move(msg), s, seen);
  }
  const size_t size = msg.ByteSizeLong();
  const bool bytes_full = verifying_bytes_ + size > options_.max_pending_validation_bytes;
  if (auto v = verifying_.find(id); v != verifying_.end()) {
    // A copy of a message being checked waits for its verdict: then a duplicate if it holds, or checked in
    // turn if it does not, so that a forged first copy cannot shadow the genuine message.
    if (v->second.copies.size() >= kMaxHeldCopies || bytes_full) {
      ++stats_.duplicates;
      return;
    }
    v->second.bytes += size;
    verifying_bytes_ += size;
    v->second.copies.emplace_back(from, std::move(msg));
    return;
  }
  if (verifying_.size() >= options_.max_pending_validations || bytes_full) {
    ++stats_.ignored;
    ++stats_.throttled;
    Reject(from, id, msg, RejectReason::kThrottled, reject_reason::kValidationQueueFull);
    return;
  }
  verifying_.emplace(id, Verifying{size, {}});
  verifying_bytes_ += size;
  if (auto p = peers_.find(from); p != peers_.end()) {
    if (++p->second.verifying >= options_.max_verifying_per_peer) p->second.peer->PauseInbound(true);
  }
  // Init-captures, not plain ones: copies of the const references would be const, and the moves into the
  // continuation would copy them a second time.
  offload_.Submit([this, from = PeerId(from), id = std::string(id), msg = std::move(msg),
                   policy = options_.sign_policy]() mutable {
    Status s = VerifyMessage(msg, policy);
    return OffloadQueue::Continuation(
        [this, from = std::move(from), id = std::move(id), msg = std::move(msg), s = std::move(s)]() mutable {
          OnVerifiedOffloaded(from, id, std::move(msg), s);
        });
  });
}

void PubSub::OnVerifiedOffloaded(const PeerId& from, const std::string& id, pb::Message msg, const Status& status) {
  auto v = verifying_.find(id);
  assert(v != verifying_.end());
  std::vector<std::pair<PeerId, pb::Message>> copies = std::move(v->second.copies);
  verifying_bytes_ -= v->second.bytes;
  verifying_.erase(v);
  if (auto p = peers_.find(from); p != peers_.end() && p->second.verifying > 0) {
    PeerState& peer = p->second;
    if (--peer.verifying <= options_.max_verifying_per_peer / 2 && peer.peer->inbound_paused()) {
      peer.peer->PauseInbound(false);
    }
  }
  const TimedCache::Lookup seen = seen_.Find(id);
  if (seen.found) {
    OnMessage(from, std::move(msg));  // Seen meanwhile by another way: a duplicate.
  } else {
    OnVerified(from, id, std::move(msg), status, seen);
  }
  for (auto& [peer, copy] : copies) OnMessage(peer, std::move(copy));
}

void PubSub::OnVerified(const PeerId& from, const std::string& id, pb::Message msg, const Status& status,
                        const TimedCache::Lookup& seen) {
  // The sender or the author may have been blacklisted while the workers checked the signature.
  if (RejectIfBlacklisted(from, id, msg)) return;
  // Only a copy that verifies marks the id seen, so a forged copy cannot shadow the genuine message.
  if (!status.ok()) {
    ++stats_.rejected;
    Reject(from, id, msg, RejectReason::kInvalidSignature, SignatureReason(msg, options_.sign_policy));
    return;
  }
  const bool validated = validation_.HasValidators(msg.topic());
  // No room to validate: dropped before it is marked seen or announced (IDONTWANT), so that a later copy
  // still gets its chance, and the router does not hold the sender to a promise for it.
  if (validated && !validation_.CheckRoom(msg.topic(), msg.ByteSizeLong()).ok()) {
    ++stats_.ignored;
    ++stats_.throttled;
    Reject(from, id, msg, RejectReason::kThrottled, reject_reason::kValidationQueueFull);
    return;
  }
  seen_.Insert(seen);
  tracer_.ValidateMessage(TracedMessage{msg, id, from});
  router_->OnFirstSeen(from, msg, id);
  if (!validated) return Accept(from, std::move(msg), id);
  validation_.Run(
      std::move(msg), [this, from, id](pb::Message& m, Verdict verdict) { OnValidated(from, id, m, verdict); },
      /*offload=*/true);
}

void PubSub::OnValidated(const PeerId& from, const std::string& id, pb::Message& msg, Verdict verdict) {
  switch (verdict) {
    case Verdict::kAccept:
      // Blacklisted while its validators decided: not delivered, not relayed.
      if (RejectIfBlacklisted(from, id, msg)) return;
      return Accept(from, std::move(msg), id);
    case Verdict::kReject:
      ++stats_.rejected;
      Reject(from, id, msg, RejectReason::kInvalid, reject_reason::kValidationFailed);
      return;
    case Verdict::kIgnore:
    case Verdict::kTimedOut:
      ++stats_.ignored;
      Reject(from, id, msg, RejectReason::kIgnored, reject_reason::kValidationIgnored);
      return;
  }
}

void PubSub::Reject(const PeerId& from, const std::string& id, const pb::Message& msg, RejectReason reason,
                    std::string_view why, bool tell_router) {
  tracer_.RejectMessage(TracedMessage{msg, id, from}, why);
  LIBP2P_LOG_LIMITED(&peer_logs_, AsStringView(from.bytes()), LogLevel::kDebug, "pubsub", "message not accepted",
                     {{"peer", from.ToBase58()}, {"topic", msg.topic()}, {"reason", why},
                      {"id", HexEncode(AsBytes(id))}});
  if (tell_router) router_->OnRejected(from, id, msg.topic(), reason);
}

bool PubSub::RejectIfBlacklisted(const PeerId& from, const std::string& id, const pb::Message& msg) {
  if (blacklist_.empty()) return false;
  if (IsBlacklisted(from)) {
    // The router forgot the sender when it was blacklisted: nothing to tell it.
    ++stats_.rejected;
    Reject(from, id, msg, RejectReason::kIgnored, reject_reason::kBlacklistedPeer, /*tell_router=*/false);
    return true;
  }
  if (!msg.has_from()) return false;
  StatusOr<PeerId> author = PeerId::FromBytes(AsBytes(msg.from()));
  if (!author.ok() || !IsBlacklisted(*author)) return false;  // A malformed author fails the signature check.
  // The peer that relayed it is not at fault (go's score ignores such rejections too), but it delivered:
  // an ignore keeps its IWANT promise without crediting it.
  ++stats_.rejected;
  Reject(from, id, msg, RejectReason::kIgnored, reject_reason::kBlacklistedSource);
  return true;
}

Status PubSub::BlacklistPeer(const PeerId& peer) {
  if (peer == self_) return InvalidArgumentError("cannot blacklist our own peer id");
  if (!blacklist_.insert(peer).second) return OkStatus();
  LIBP2P_LOG(LogLevel::kInfo, "pubsub", "peer blacklisted", {{"peer", peer.ToBase58()}});
  DropPeer(peer);
  if (stream::AccessList* access = options_.access_list; access != nullptr) {
    // A denial the application made already stays its own: UnblacklistPeer leaves it.
    if (!access->IsDenied(peer)) {
      denied_by_blacklist_.insert(peer);
      access->DenyPeer(peer);
    }
    host_->Disconnect(peer, PermissionDeniedError("blacklisted by pubsub"));
  }
  return OkStatus();
}

Status PubSub::UnblacklistPeer(const PeerId& peer) {
  if (blacklist_.erase(peer) == 0) return NotFoundError("peer " + peer.ToBase58() + " is not blacklisted");
  if (denied_by_blacklist_.erase(peer) > 0 && options_.access_list != nullptr) {
    options_.access_list->RemoveDeniedPeer(peer);
  }
  LIBP2P_LOG(LogLevel::kInfo, "pubsub", "peer taken off the blacklist", {{"peer", peer.ToBase58()}});
  // Still connected: a pubsub peer again now, if its identify said it speaks one of our protocols.
  if (!host_->IsConnected(peer)) return OkStatus();
  const stream::PeerStoreEntry* known = host_->peer_store().Find(peer);
  if (known == nullptr) return OkStatus();
  for (const std::string& p : router_->Protocols()) {
    if (std::find(known->protocols.begin(), known->protocols.end(), p) == known->protocols.end()) continue;
    EnsurePeer(peer, p);
    break;
  }
  return OkStatus();
}

void PubSub::Accept(const PeerId& from, pb::Message msg, const std::string& id) {
  // Moved, not copied: the router may keep the message (gossipsub's cache) for as long as it needs.
  const SharedMessage shared = std::make_shared<const pb::Message>(std::move(msg));
  tracer_.DeliverMessage(TracedMessage{*shared, id, from});
  auto h = handlers_.find(shared->topic());
  if (h != handlers_.end()) {
    ++stats_.delivered;
    const std::shared_ptr<const MessageHandler> handler = h->second;  // The handler may unsubscribe.
    (*handler)(*shared, id, from);
  }
  SendToPeers(*shared, id, router_->Route(shared, id, from), SendLane::kForward);
}

size_t PubSub::SendToPeers(const pb::Message& msg, const std::string& id, const std::vector<PubSubPeer*>& peers,
                           SendLane lane) {
  OutgoingMessage out{&msg};  // A message with no one to send to costs no encoding.
  size_t sent = 0;
  const uint64_t drops = peers_dropped_;
  for (PubSubPeer* peer : peers) {
    // A send may drop peers (DropPeer destroys them from the loop, so the pointer still reads), and even
    // add one back: once one went, each peer still to come is looked up by its id.
    if (peers_dropped_ != drops && (peer = FindPeer(peer->id())) == nullptr) continue;
    if (SendMessage(*peer, &out, lane, id)) ++sent;
  }
  return sent;
}

bool PubSub::SendMessage(PubSubPeer& p, OutgoingMessage* out, SendLane lane, const std::string& id) {
  if (tracer_.active() || p.sends_observed()) {
    if (!out->rpc.has_value()) *out->rpc.emplace().add_publish() = *out->msg;
    return SendRpc(p.id(), *out->rpc, lane, id);
  }
  if (out->frame == nullptr) {
    auto frame = std::make_shared<Bytes>();
    out->rpc_size = AppendPublishFrame(*out->msg, frame.get());
    out->frame = std::move(frame);
  }
  return p.SendFrame(out->frame, out->rpc_size, lane, id) == SendResult::kQueued;
}

size_t PubSub::queued_send_bytes() const { return send_budget_.bytes().used(); }

PubSubStateCounts PubSub::StateCounts() const {
  PubSubStateCounts c;
  c.peers = peers_.size();
  for (const auto& [id, state] : peers_) {
    c.peer_topics += state.topics.size();
    c.peer_topic_bytes += state.topic_bytes;
  }
  c.seen_entries = seen_.held();
  c.pending_validations = validation_.pending();
  c.pending_validation_topics = validation_.pending_topics();
  c.pending_validation_bytes = validation_.pending_bytes();
  c.pending_verifications = verifying_.size();
  c.pending_verification_bytes = verifying_bytes_;
  c.send_bytes = queued_send_bytes();
  return c;
}

}  // namespace libp2p::pubsub
