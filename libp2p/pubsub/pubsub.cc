#include "libp2p/pubsub/pubsub.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include "libp2p/base/varint.h"

namespace libp2p::pubsub {

using crypto::PeerId;

struct PubSub::PendingValidation {
  PendingValidation(PeerId from, pb::Message msg, std::string id)
      : from(std::move(from)), msg(std::move(msg)), id(std::move(id)) {}

  PeerId from;
  pb::Message msg;
  std::string id;
  size_t outstanding = 0;  // Validators yet to answer.
  size_t size = 0;         // The message's encoded bytes, counted in validation_bytes_.
  ValidationResult result = ValidationResult::kAccept;
  std::unique_ptr<Timer> timeout;
  // Our own message: the outcome goes to `on_published` instead of the router's verdict hooks.
  bool own = false;
  PublishResult publish;
  std::function<void(const PublishResult&)> on_published;
};

namespace {

const std::set<std::string>& EmptyTopics() {
  static const std::set<std::string> empty;
  return empty;
}

}  // namespace

PubSub::PubSub(EventLoop* loop, stream::Host* host, std::unique_ptr<Router> router, PubSubOptions options)
    : loop_(loop), host_(host), router_(std::move(router)), options_(std::move(options)),
      self_(PeerId::FromPublicKey(options_.identity->public_key())),
      seen_(&loop->clock(), options_.seen_ttl, options_.seen_max_entries),
      // Seqnos start at the wall clock in nanoseconds, so a restarted node does not repeat them.
      next_seqno_(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count())),
      send_budget_(options_.max_send_bytes),
      deleter_(loop) {
  router_->Attach(this);
  for (const std::string& protocol : router_->Protocols()) {
    host_->SetStreamHandler(protocol, [this](std::unique_ptr<stream::Stream> s, const PeerId& peer,
                                             const std::string& proto) {
      if (!host_->IsConnected(peer)) return;  // Gone meanwhile: the stream is dropped (reset).
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
  validations_.clear();
  peers_.clear();
}

PubSub::PeerState& PubSub::EnsurePeer(const PeerId& id, const std::string& protocol) {
  auto it = peers_.find(id);
  if (it != peers_.end()) return it->second;
  stream::Host* host = host_;
  const std::vector<std::string> protocols = router_->Protocols();
  auto opener = [host, id, protocols](std::function<void(StatusOr<std::unique_ptr<stream::Stream>>)> done) {
    const uint64_t request = host->NewStream(
        id, protocols, [done](StatusOr<std::unique_ptr<stream::Stream>> s, const std::string&) { done(std::move(s)); });
    return std::function<void()>([host, request] { host->CancelNewStream(request); });
  };
  PubSubPeer::Callbacks callbacks{[this](PubSubPeer& p, pb::RPC rpc) {
                                    // A peer already dropped (waiting in the deleter) reads on to the end
                                    // of its chunk: ignore what it still delivers.
                                    auto it = peers_.find(p.id());
                                    if (it == peers_.end() || it->second.peer.get() != &p) return;
                                    OnRpc(p.id(), std::move(rpc));
                                  },
                                  nullptr,
                                  [this, id](std::string_view tag) { return router_->StillWanted(id, tag); }};
  PubSubPeerOptions peer_options = options_.peer;
  peer_options.send_budget = &send_budget_;
  PeerState& state = peers_[id];
  state.peer = std::make_unique<PubSubPeer>(loop_, id, opener, peer_options, std::move(callbacks));
  state.protocol = protocol;
  router_->AddPeer(id, protocol);
  // Tell a new peer what we subscribe to, whichever came first (its stream or its identify); that also
  // opens our stream to it.
  for (pb::RPC& rpc : SubscriptionsRpcs()) state.peer->Send(std::move(rpc), SendLane::kControl);
  return state;
}

void PubSub::DropPeer(const PeerId& id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  router_->RemovePeer(id);
  // The peer may be inside its own callback (a stream failing): destroy it from the loop.
  deleter_.Delete(std::move(it->second.peer));
  peers_.erase(it);
}

std::vector<std::string> PubSub::topics() const {
  std::vector<std::string> out;
  for (const auto& [t, h] : handlers_) out.push_back(t);
  return out;
}

std::vector<pb::RPC> PubSub::SubscriptionsRpcs() const {
  // At most kMaxControlBytesPerRpc of subscriptions in each.
  std::vector<pb::RPC> rpcs;
  size_t used = 0;
  for (const auto& [topic, handler] : handlers_) {
    const size_t bytes = 8 + topic.size();  // The SubOpts with its headers and its subscribe flag.
    if (rpcs.empty() || used + bytes > kMaxControlBytesPerRpc) {
      rpcs.emplace_back();
      used = 0;
    }
    auto* s = rpcs.back().add_subscriptions();
    s->set_subscribe(true);
    s->set_topicid(topic);
    used += bytes;
  }
  return rpcs;
}

Status PubSub::Subscribe(const std::string& topic, MessageHandler handler) {
  if (topic.empty() || topic.size() > options_.peer.limits.max_topic_length) {
    return InvalidArgumentError("topic must be 1.." + std::to_string(options_.peer.limits.max_topic_length) + " bytes");
  }
  const bool is_new = handlers_.count(topic) == 0;
  handlers_[topic] = std::move(handler);
  if (!is_new) return OkStatus();
  router_->Join(topic);
  pb::RPC rpc;
  auto* s = rpc.add_subscriptions();
  s->set_subscribe(true);
  s->set_topicid(topic);
  for (auto& [id, state] : peers_) state.peer->Send(rpc, SendLane::kControl);
  return OkStatus();
}

Status PubSub::Unsubscribe(const std::string& topic) {
  if (handlers_.erase(topic) == 0) return NotFoundError("not subscribed to " + topic);
  router_->Leave(topic);
  pb::RPC rpc;
  auto* s = rpc.add_subscriptions();
  s->set_subscribe(false);
  s->set_topicid(topic);
  for (auto& [id, state] : peers_) state.peer->Send(rpc, SendLane::kControl);
  return OkStatus();
}

void PubSub::AddValidator(const std::string& topic, Validator validator) {
  validators_[topic].push_back(std::move(validator));
}

PublishResult PubSub::Publish(const std::string& topic, ByteSpan data, PublishDone done) {
  PublishResult result;
  pb::Message msg;
  msg.set_topic(topic);
  msg.set_data(std::string(AsStringView(data)));
  result.seqno = next_seqno_++;
  SignMessage(*options_.identity, result.seqno, options_.sign_policy, &msg);
  // The message must fit in an RPC of its own: field 2's tag byte, the length varint, the message.
  const size_t msg_size = msg.ByteSizeLong();
  if (1 + UvarintLength(msg_size) + msg_size > options_.peer.limits.max_rpc_size) {
    result.status = OutOfRangeError("message of " + std::to_string(data.size()) + " bytes is too large");
    return result;
  }
  result.id = options_.message_id(msg);
  auto vit = validators_.find(topic);
  if (vit == validators_.end() || vit->second.empty()) {
    return SendOwn(std::make_shared<const pb::Message>(std::move(msg)), std::move(result));
  }
  if (!ValidationRoomFor(msg_size)) {
    result.status = ResourceExhaustedError("validation queue full: " + std::to_string(validations_.size()) +
                                           " messages, " + std::to_string(validation_bytes_) + " bytes");
    return result;
  }
  // An outcome reached while Publish runs (every validator answered at once) is returned; a later one goes
  // to `done`.
  struct Outcome {
    bool in_publish = true;
    std::optional<PublishResult> result;
  };
  auto outcome = std::make_shared<Outcome>();
  auto pending = std::make_unique<PendingValidation>(self_, std::move(msg), result.id);
  pending->own = true;
  pending->publish = result;
  pending->on_published = [outcome, done = std::move(done)](const PublishResult& r) {
    if (outcome->in_publish) {
      outcome->result = r;
    } else if (done) {
      done(r);
    }
  };
  StartValidation(std::move(pending), vit->second);
  outcome->in_publish = false;
  if (outcome->result.has_value()) return std::move(*outcome->result);
  result.pending = true;
  return result;
}

PublishResult PubSub::SendOwn(SharedMessage msg, PublishResult result) {
  seen_.Insert(result.id);
  result.peers = router_->Forward(msg, result.id, std::nullopt);
  ++stats_.published;
  result.status = OkStatus();
  return result;
}

bool PubSub::ValidationRoomFor(size_t message_size) const {
  return validations_.size() < options_.max_pending_validations &&
         validation_bytes_ + message_size <= options_.max_pending_validation_bytes;
}

bool PubSub::SendRpc(const PeerId& peer, pb::RPC rpc, SendLane lane, std::string tag) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return false;
  return it->second.peer->Send(std::move(rpc), lane, std::move(tag)) == SendResult::kQueued;
}

bool PubSub::HasSeen(const std::string& id) { return seen_.Contains(id); }

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

void PubSub::OnRpc(const PeerId& from, pb::RPC rpc) {
  // Subscriptions first, even from a peer whose RPCs the router refuses (as go): an unsubscribe still lands.
  for (const auto& sub : rpc.subscriptions()) {
    auto it = peers_.find(from);
    if (it == peers_.end()) return;
    std::set<std::string>& topics = it->second.topics;
    const std::string& topic = sub.topicid();
    if (topic.empty()) continue;
    if (sub.subscribe()) {
      if (topics.count(topic) == 0 && topics.size() >= options_.max_subscriptions_per_peer) continue;
      topics.insert(topic);
    } else if (topics.erase(topic) == 0) {
      continue;
    }
    router_->OnSubscriptionChange(from, topic, sub.subscribe());
    if (events_.on_peer_subscribed) events_.on_peer_subscribed(from, topic, sub.subscribe());
  }
  if (!router_->AcceptRpcFrom(from)) return;
  for (pb::Message& msg : *rpc.mutable_publish()) OnMessage(from, std::move(msg));
  if (rpc.has_control() && peers_.count(from)) router_->HandleControl(from, rpc.control());
}

void PubSub::OnMessage(const PeerId& from, pb::Message msg) {
  if (!subscribed(msg.topic())) return;  // Only topics we are in are relayed.
  const std::string id = options_.message_id(msg);
  // Our own messages reach us only as replays: honest routers never send a message back to its author.
  if (msg.has_from() && msg.from() == AsStringView(self_.bytes())) {
    ++stats_.rejected;
    router_->OnRejected(from, id, msg.topic(), RejectKind::kSelfOrigin);
    return;
  }
  // A copy of a message already seen is not verified again (in a mesh most arrivals are such copies).
  if (seen_.Contains(id)) {
    ++stats_.duplicates;
    router_->OnDuplicate(from, id, msg.topic());
    return;
  }
  // Only a copy that verifies marks the id seen, so a forged copy cannot shadow the genuine message.
  if (Status s = VerifyMessage(msg, options_.sign_policy); !s.ok()) {
    ++stats_.rejected;
    router_->OnRejected(from, id, msg.topic(), RejectKind::kSignature);
    return;
  }
  auto vit = validators_.find(msg.topic());
  const bool validated = vit != validators_.end() && !vit->second.empty();
  // No room to validate: dropped before it is marked seen or announced (IDONTWANT), so that a later copy
  // still gets its chance, and the router does not hold the sender to a promise for it.
  if (validated && !ValidationRoomFor(msg.ByteSizeLong())) {
    ++stats_.ignored;
    router_->OnRejected(from, id, msg.topic(), RejectKind::kThrottled);
    return;
  }
  seen_.Insert(id);
  router_->OnFirstSeen(from, msg, id);
  if (!validated) return Accept(from, std::move(msg), id);
  StartValidation(std::make_unique<PendingValidation>(from, std::move(msg), id), vit->second);
}

void PubSub::StartValidation(std::unique_ptr<PendingValidation> pending,
                             const std::vector<Validator>& topic_validators) {
  const std::vector<Validator> validators = topic_validators;  // A validator may add validators.
  const uint64_t vid = next_validation_++;
  pending->outstanding = validators.size();
  pending->size = pending->msg.ByteSizeLong();
  validation_bytes_ += pending->size;
  pending->timeout = loop_->CreateTimer([this, vid] { FinishValidation(vid, ValidationResult::kIgnore, true); });
  pending->timeout->Schedule(options_.validation_timeout);
  // Stays valid through this loop: a decided validation is destroyed from the loop (see FinishValidation).
  const pb::Message& msg = pending->msg;
  validations_[vid] = std::move(pending);
  const auto done = [this, vid](ValidationResult r) { FinishValidation(vid, r, /*timed_out=*/false); };
  for (const Validator& v : validators) {
    if (validations_.count(vid) == 0) break;  // Decided: an earlier validator rejected it.
    v(msg, done);
  }
}

void PubSub::FinishValidation(uint64_t vid, ValidationResult r, bool timed_out) {
  auto it = validations_.find(vid);
  if (it == validations_.end()) return;  // Already decided, or timed out.
  PendingValidation& p = *it->second;
  // A reject decides at once and wins over any ignore; an ignore waits for the others, which may reject.
  if (r == ValidationResult::kReject || (r == ValidationResult::kIgnore && p.result == ValidationResult::kAccept)) {
    p.result = r;
  }
  if (!timed_out && p.result != ValidationResult::kReject && --p.outstanding > 0) return;
  p.timeout->Cancel();
  validation_bytes_ -= p.size;
  // The timer or a validator still running may be the caller, and a validator may still hold `msg`:
  // destroyed from the loop.
  deleter_.Delete(std::move(it->second));
  validations_.erase(it);
  if (p.own) {
    PublishResult out = std::move(p.publish);
    switch (p.result) {
      case ValidationResult::kAccept:
        out = SendOwn(std::make_shared<const pb::Message>(std::move(p.msg)), std::move(out));
        break;
      case ValidationResult::kReject: out.status = PermissionDeniedError("a validator rejected the message"); break;
      case ValidationResult::kIgnore:
        out.status = timed_out ? DeadlineExceededError("a validator did not answer in time")
                               : CancelledError("a validator ignored the message");
        break;
    }
    p.on_published(out);
    return;
  }
  switch (p.result) {
    case ValidationResult::kAccept: Accept(p.from, std::move(p.msg), p.id); break;
    case ValidationResult::kReject:
      ++stats_.rejected;
      router_->OnRejected(p.from, p.id, p.msg.topic(), RejectKind::kValidator);
      break;
    case ValidationResult::kIgnore:
      ++stats_.ignored;
      router_->OnRejected(p.from, p.id, p.msg.topic(), RejectKind::kIgnored);
      break;
  }
}

void PubSub::Accept(const PeerId& from, pb::Message msg, const std::string& id) {
  // Moved, not copied: the router may keep the message (gossipsub's cache) for as long as it needs.
  const SharedMessage shared = std::make_shared<const pb::Message>(std::move(msg));
  auto h = handlers_.find(shared->topic());
  if (h != handlers_.end()) {
    ++stats_.delivered;
    MessageHandler handler = h->second;  // The handler may unsubscribe.
    handler(*shared, id, from);
  }
  router_->Forward(shared, id, from);
}

PubSubStateCounts PubSub::StateCounts() const {
  PubSubStateCounts c;
  c.peers = peers_.size();
  for (const auto& [id, state] : peers_) c.peer_topics += state.topics.size();
  c.seen_entries = seen_.held();
  c.pending_validations = validations_.size();
  c.pending_validation_bytes = validation_bytes_;
  c.send_bytes = send_budget_.used();
  return c;
}

}  // namespace libp2p::pubsub
