#include "tools/sim/sim_node.h"

#include <algorithm>
#include <optional>

#include "libp2p/stream/yamux.h"

namespace libp2p::sim {

using node::ScriptStep;

std::string HostAddress(size_t h) { return stream::FormatIpv4(kFirstHostAddress + static_cast<stream::Ipv4>(h)); }

namespace {

std::string ListenAddress(size_t n, size_t h) {
  return "/ip4/" + HostAddress(h) + "/tcp/" + std::to_string(9000 + n % 50000);
}

}  // namespace

Multiaddr NodeDialAddress(size_t n, size_t h) {
  const std::string id = crypto::PeerId::FromPublicKey(node::InteropNodeKey(n).public_key()).ToBase58();
  return *Multiaddr::FromString(ListenAddress(n, h) + "/p2p/" + id);
}

SimNode::SimNode(EventLoop* loop, stream::MemoryNetwork* network, size_t n, std::function<size_t(size_t)> host_of,
                 node::InteropScript script, MonoTime start, uint64_t seed, CpuModel cpu,
                 std::optional<MonoTime> censor_from)
    : loop_(loop), index_(n), host_of_(std::move(host_of)), script_(std::move(script)), start_(start), cpu_(cpu),
      censor_from_(censor_from), key_(node::InteropNodeKey(n)),
      transport_(network->CreateTransport(HostAddress(host_of_(n)))), wait_(loop->CreateTimer([this] { Step(); })),
      validated_(loop->CreateTimer([this] { ReleaseValidated(); })) {
  stream::HostOptions ho;
  ho.identity = &key_;
  ho.muxers = {std::string(stream::kYamuxProtocolId)};
  host_ = std::make_unique<stream::Host>(loop, transport_.get(), ho);
  // The gossipsub-interop harness's pubsub: anonymous messages whose id is their first 8 bytes.
  pubsub::PubSubOptions po;
  po.identity = &key_;
  po.sign_policy = pubsub::SignPolicy::kStrictNoSign;
  po.message_id = [](const pubsub::pb::Message& m) { return m.data().substr(0, 8); };
  po.peer.limits.max_rpc_size = node::kMaxInteropMessageSize + 64 * 1024;
  po.validation_workers = 0;
  po.rpc_observers = {this};
  pubsub::gossipsub::GossipSubOptions go;
  const pubsub::gossipsub::GossipSubJsonConfig& c = script_.gossipsub.config;
  go.params = c.params;
  go.px_connector = c.px_connector;
  if (c.score_params) go.score_params = c.score_params;
  if (c.thresholds) go.thresholds = *c.thresholds;
  go.seed = seed;
  std::unique_ptr<pubsub::gossipsub::GossipSubRouter> router = *pubsub::gossipsub::GossipSubRouter::Create(go);
  router_ = router.get();
  pubsub_ = std::make_unique<pubsub::PubSub>(loop, host_.get(), std::move(router), po);
}

SimNode::~SimNode() { pubsub_.reset(); }

Status SimNode::Start() {
  RETURN_IF_ERROR(host_->Listen(*Multiaddr::FromString(ListenAddress(index_, host_of_(index_)))));
  Step();
  return OkStatus();
}

void SimNode::OnReceive(const crypto::PeerId&, pubsub::pb::RPC* rpc) {
  for (const pubsub::pb::Message& m : rpc->publish()) {
    const std::optional<uint64_t> id = node::InteropMessageId(m.data());
    if (!id) continue;
    Receipt& r = receipts_[*id];
    if (r.copies++ == 0) r.first = loop_->Now();
  }
}

void SimNode::OnSend(const crypto::PeerId&, pubsub::pb::RPC* rpc) {
  if (!censor_from_ || loop_->Now() < *censor_from_) return;
  rpc->clear_publish();
  if (rpc->has_control()) rpc->mutable_control()->clear_ihave();
}

void SimNode::Step() {
  while (next_step_ < script_.steps.size()) {
    const ScriptStep& step = script_.steps[next_step_];
    if (step.kind == ScriptStep::Kind::kWaitUntil && start_ + step.elapsed > loop_->Now()) {
      wait_->Schedule(start_ + step.elapsed - loop_->Now());
      return;
    }
    ++next_step_;
    Do(step);
  }
}

void SimNode::Do(const ScriptStep& step) {
  switch (step.kind) {
    case ScriptStep::Kind::kConnect:
      for (uint64_t peer : step.connect_to) {
        host_->Dial(NodeDialAddress(peer, host_of_(peer)), [this](StatusOr<crypto::PeerId> r) {
          if (!r.ok()) ++failed_dials_;
        });
      }
      return;
    case ScriptStep::Kind::kSubscribe:
      if (pubsub_->Subscribe(step.topic, [](const pubsub::pb::Message&, const std::string&, const crypto::PeerId&) {
          }).ok()) {
        topics_.push_back(step.topic);
      } else {
        ++failed_subscribes_;
      }
      return;
    case ScriptStep::Kind::kPublish: {
      publications_.push_back(Publication{step.message_id, step.topic, loop_->Now()});
      const pubsub::PublishResult r = pubsub_->Publish(step.topic, node::InteropPayload(step.message_id, step.message_size),
                                                       [this](const pubsub::PublishResult& done) {
                                                         if (!done.status.ok()) ++failed_publishes_;
                                                       });
      if (!r.pending && !r.status.ok()) ++failed_publishes_;
      return;
    }
    case ScriptStep::Kind::kSetTopicValidationDelay: {
      const Duration delay = step.delay;
      pubsub_->AddValidator(step.topic, [this, delay](const pubsub::pb::Message& m,
                                                       std::function<void(pubsub::ValidationResult)> done) {
        Validate(delay, m.ByteSizeLong(), std::move(done));
      });
      return;
    }
    case ScriptStep::Kind::kWaitUntil:
      return;  // Step() handles it.
    case ScriptStep::Kind::kAddPartialMessage:
    case ScriptStep::Kind::kPublishPartial:
      return;  // Plans with partial messages are refused (PlanFromParams).
  }
}

void SimNode::Validate(Duration delay, size_t bytes, std::function<void(pubsub::ValidationResult)> done) {
  const Duration cost =
      delay + cpu_.per_message + Duration(static_cast<int64_t>(cpu_.nanos_per_byte * static_cast<double>(bytes)));
  cpu_free_ = std::max(cpu_free_, loop_->Now()) + cost;
  validating_.emplace_back(cpu_free_, std::move(done));
  if (!validated_->IsScheduled()) validated_->Schedule(validating_.front().first - loop_->Now());
}

void SimNode::ReleaseValidated() {
  while (!validating_.empty() && validating_.front().first <= loop_->Now()) {
    std::function<void(pubsub::ValidationResult)> done = std::move(validating_.front().second);
    validating_.pop_front();
    done(pubsub::ValidationResult::kAccept);
  }
  if (!validating_.empty()) validated_->Schedule(validating_.front().first - loop_->Now());
}

}  // namespace libp2p::sim
