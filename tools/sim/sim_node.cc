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

SimNode::SimNode(EventLoop* loop, stream::MemoryNetwork* network, SimNodeConfig config)
    : loop_(loop), network_(network), config_(std::move(config)), key_(node::InteropNodeKey(config_.index)),
      id_(crypto::PeerId::FromPublicKey(key_.public_key())), wait_(loop->CreateTimer([this] { Step(); })),
      outage_timer_(loop->CreateTimer([this] {
        if (online()) {
          Leave();
        } else {
          ComeBack();
        }
        ScheduleOutage();
      })),
      validated_(loop->CreateTimer([this] { ReleaseValidated(); })) {}

SimNode::~SimNode() { Leave(); }

Status SimNode::Start() {
  RETURN_IF_ERROR(Boot());
  Step();
  ScheduleOutage();
  return OkStatus();
}

Status SimNode::Boot() {
  const size_t host = config_.host_of(config_.index);
  transport_ = network_->CreateTransport(HostAddress(host));
  stream::HostOptions ho;
  ho.identity = &key_;
  ho.muxers = {std::string(stream::kYamuxProtocolId)};
  host_ = std::make_unique<stream::Host>(loop_, transport_.get(), ho);
  // The gossipsub-interop harness's pubsub: anonymous messages whose id is their first 8 bytes.
  pubsub::PubSubOptions po;
  po.identity = &key_;
  po.sign_policy = pubsub::SignPolicy::kStrictNoSign;
  po.message_id = [](const pubsub::pb::Message& m) { return m.data().substr(0, 8); };
  po.peer.limits.max_rpc_size = node::kMaxInteropMessageSize + 64 * 1024;
  po.validation_workers = 0;
  po.rpc_observers = {this};
  pubsub::gossipsub::GossipSubOptions go;
  const pubsub::gossipsub::GossipSubJsonConfig& c = config_.script.gossipsub.config;
  go.params = c.params;
  go.px_connector = c.px_connector;
  if (c.score_params) go.score_params = c.score_params;
  if (c.thresholds) go.thresholds = *c.thresholds;
  go.seed = config_.seed;
  std::unique_ptr<pubsub::gossipsub::GossipSubRouter> router = *pubsub::gossipsub::GossipSubRouter::Create(go);
  router_ = router.get();
  pubsub_ = std::make_unique<pubsub::PubSub>(loop_, host_.get(), std::move(router), po);
  return host_->Listen(*Multiaddr::FromString(ListenAddress(config_.index, host)));
}

void SimNode::Leave() {
  // Validations under way die with the process.
  validating_.clear();
  validated_->Cancel();
  cpu_free_ = MonoTime{};
  pubsub_.reset();
  router_ = nullptr;
  host_.reset();
  transport_.reset();
}

void SimNode::ComeBack() {
  ++next_outage_;
  if (!Boot().ok()) {
    Leave();  // Its port is taken: it stays away.
    return;
  }
  for (const auto& [topic, delay] : validation_delays_) AddValidator(topic, delay);
  const std::vector<std::string> topics = std::move(topics_);
  topics_.clear();
  for (const std::string& topic : topics) Subscribe(topic);
  for (uint64_t peer : config_.outages[next_outage_ - 1].redial) Dial(peer);
}

void SimNode::ScheduleOutage() {
  if (next_outage_ >= config_.outages.size()) return;
  const Outage& o = config_.outages[next_outage_];
  const MonoTime at = config_.start + (online() ? o.leave : o.back);
  outage_timer_->Schedule(std::max(at, loop_->Now()) - loop_->Now());
}

std::vector<std::pair<crypto::PeerId, double>> SimNode::Scores() const {
  std::vector<std::pair<crypto::PeerId, double>> out;
  if (!online() || !router_->scoring()) return out;
  for (const crypto::PeerId& peer : pubsub_->Peers()) out.emplace_back(peer, router_->Score(peer));
  return out;
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
  if (!config_.censor_from || loop_->Now() < *config_.censor_from) return;
  rpc->clear_publish();
  if (rpc->has_control()) rpc->mutable_control()->clear_ihave();
}

void SimNode::Step() {
  const node::InteropScript& script = config_.script;
  while (next_step_ < script.steps.size()) {
    const ScriptStep& step = script.steps[next_step_];
    if (step.kind == ScriptStep::Kind::kWaitUntil && config_.start + step.elapsed > loop_->Now()) {
      wait_->Schedule(config_.start + step.elapsed - loop_->Now());
      return;
    }
    ++next_step_;
    Do(step);
  }
}

void SimNode::Do(const ScriptStep& step) {
  switch (step.kind) {
    case ScriptStep::Kind::kConnect:
      for (uint64_t peer : step.connect_to) Dial(peer);
      return;
    case ScriptStep::Kind::kSubscribe:
      Subscribe(step.topic);
      return;
    case ScriptStep::Kind::kPublish: {
      publications_.push_back(Publication{step.message_id, step.topic, loop_->Now()});
      if (!online()) {
        ++failed_publishes_;
        return;
      }
      const pubsub::PublishResult r = pubsub_->Publish(step.topic, node::InteropPayload(step.message_id, step.message_size),
                                                       [this](const pubsub::PublishResult& done) {
                                                         if (!done.status.ok()) ++failed_publishes_;
                                                       });
      if (!r.pending && !r.status.ok()) ++failed_publishes_;
      return;
    }
    case ScriptStep::Kind::kSetTopicValidationDelay:
      validation_delays_.emplace_back(step.topic, step.delay);
      if (online()) AddValidator(step.topic, step.delay);
      return;
    case ScriptStep::Kind::kWaitUntil:
      return;  // Step() handles it.
    case ScriptStep::Kind::kAddPartialMessage:
    case ScriptStep::Kind::kPublishPartial:
      return;  // Plans with partial messages are refused (PlanFromParams).
  }
}

void SimNode::Dial(uint64_t peer) {
  if (!online()) {
    ++failed_dials_;
    return;
  }
  host_->Dial(config_.dial_address(peer), [this](StatusOr<crypto::PeerId> r) {
    if (!r.ok()) ++failed_dials_;
  });
}

void SimNode::Subscribe(const std::string& topic) {
  if (online() &&
      pubsub_->Subscribe(topic, [](const pubsub::pb::Message&, const std::string&, const crypto::PeerId&) {}).ok()) {
    topics_.push_back(topic);
  } else {
    ++failed_subscribes_;
  }
}

void SimNode::AddValidator(const std::string& topic, Duration delay) {
  pubsub_->AddValidator(topic, [this, delay](const pubsub::pb::Message& m,
                                             std::function<void(pubsub::ValidationResult)> done) {
    Validate(delay, m.ByteSizeLong(), std::move(done));
  });
}

void SimNode::Validate(Duration delay, size_t bytes, std::function<void(pubsub::ValidationResult)> done) {
  const CpuModel& cpu = config_.cpu;
  const Duration cost =
      delay + cpu.per_message + Duration(static_cast<int64_t>(cpu.nanos_per_byte * static_cast<double>(bytes)));
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
