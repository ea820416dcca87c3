#include "libp2p/pubsub/gossipsub/gossipsub_router.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cassert>
#include <string_view>
#include <unordered_set>

#include "libp2p/base/log_rate_limiter.h"
#include "libp2p/base/portable_random.h"
#include "libp2p/pubsub/floodsub.h"
#include "libp2p/pubsub/gossipsub/peer_exchange.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/pubsub/rpc/rpc_codec.h"
#include "libp2p/stream/host.h"

namespace libp2p::pubsub::gossipsub {

using crypto::PeerId;

// A log line about `peer`'s doings, limited per peer by the core's limiter (nothing evaluated when off).
#define GOSSIPSUB_PEER_LOG(level, peer, message, ...)                                                 \
  LIBP2P_LOG_LIMITED(core_->peer_log_limiter(), AsStringView((peer).bytes()), level, "gossipsub", message, \
                     __VA_ARGS__)

namespace {

// Connection-manager protection tags: direct peers, and mesh peers per topic.
constexpr std::string_view kDirectTag = "gossipsub:direct";
constexpr std::string_view kMeshTagPrefix = "gossipsub:mesh:";

// RPCs with IHAVEs a peer hears from us per heartbeat: go's default (and ours) for max_ihave_messages.
constexpr size_t kPeerMaxIHaveRpcs = 10;

// The IP by which P6 groups peers: the IPv4 address, or the /64 of an IPv6 one (a host gets a whole /64 as
// easily as one address), as text ("192.0.2.1", "2001:db8:1:2::/64"); "" for an address that is not IP.
std::string ColocationIp(const Multiaddr& addr) {
  for (const Multiaddr::Component& c : addr.Components()) {
    if (c.code == multiaddr_protocol::kIp6Zone) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (c.code == multiaddr_protocol::kIp4 && c.value.size() == 4) {
      return inet_ntop(AF_INET, c.value.data(), text, sizeof(text)) != nullptr ? std::string(text) : "";
    }
    if (c.code == multiaddr_protocol::kIp6 && c.value.size() == 16) {
      uint8_t prefix[16] = {};
      std::copy(c.value.begin(), c.value.begin() + 8, prefix);
      return inet_ntop(AF_INET6, prefix, text, sizeof(text)) != nullptr ? std::string(text) + "/64" : "";
    }
    return "";
  }
  return "";
}

const PeerSet& EmptySet() {
  static const PeerSet empty;
  return empty;
}

}  // namespace

StatusOr<std::unique_ptr<GossipSubRouter>> GossipSubRouter::Create(GossipSubOptions options,
                                                                   GossipSubEvents events) {
  RETURN_IF_ERROR(options.params.Validate());
  RETURN_IF_ERROR(options.thresholds.Validate());
  if (options.score_params) RETURN_IF_ERROR(options.score_params->Validate());
  if (options.peer_gater) RETURN_IF_ERROR(options.peer_gater->Validate());
  for (const std::string& p : options.protocols) {
    if (p != kMeshSubV13 && p != kMeshSubV12 && p != kMeshSubV11 && p != kMeshSubV10 && p != kFloodSubProtocolId) {
      return InvalidArgumentError("protocols: " + p + " is not a gossipsub or floodsub protocol");
    }
  }
  if (options.partial_messages && options.partial_messages->handler == nullptr) {
    return InvalidArgumentError("partial_messages.handler must be set");
  }
  if (!options.partial_messages && !options.partial_topics.empty()) {
    return InvalidArgumentError("partial_topics need partial_messages");
  }
  if (options.extensions.test_extension && options.extensions.test_extension_field < 0x200000) {
    return InvalidArgumentError("extensions.test_extension_field must be an experimental number (0x200000 or more)");
  }
  if (!(options.extensions.misplaced_extensions_penalty >= 0)) {
    return InvalidArgumentError("extensions.misplaced_extensions_penalty must be >= 0");
  }
  return std::unique_ptr<GossipSubRouter>(new GossipSubRouter(std::move(options), std::move(events)));
}

GossipSubRouter::GossipSubRouter(GossipSubOptions options, GossipSubEvents events)
    : options_(std::move(options)), events_(std::move(events)), rng_(options_.seed) {}

GossipSubRouter::~GossipSubRouter() {
  if (core_ == nullptr) return;
  // Our protections end with us.
  stream::ConnectionManager& cm = core_->host()->connection_manager();
  for (const auto& [peer, topic] : protected_) cm.Unprotect(peer, std::string(kMeshTagPrefix) + topic);
  for (const auto& [peer, addrs] : options_.direct_peers) cm.Unprotect(peer, std::string(kDirectTag));
}

std::vector<std::string> GossipSubRouter::Protocols() const {
  if (!options_.protocols.empty()) return options_.protocols;
  return {std::string(kMeshSubV13), std::string(kMeshSubV12), std::string(kMeshSubV11), std::string(kMeshSubV10),
          std::string(kFloodSubProtocolId)};
}

void GossipSubRouter::Attach(PubSub* core) {
  core_ = core;
  const Clock* clock = &core->loop()->clock();
  backoff_ = std::make_unique<Backoff>(clock, options_.params.heartbeat_interval * options_.params.backoff_slack_heartbeats);
  mcache_ = std::make_unique<MessageCache>(options_.params.mcache_len, options_.params.mcache_gossip);
  // A peer is asked with one IWANT per IHAVE RPC, max_ihave_messages a heartbeat, each promise open for
  // iwant_followup_time: room for the promises of the heartbeats that time spans, and one more.
  const auto heartbeats =
      static_cast<size_t>(options_.params.iwant_followup_time / options_.params.heartbeat_interval) + 2;
  promises_per_peer_ = static_cast<size_t>(options_.params.max_ihave_messages) * heartbeats;
  promises_ = std::make_unique<PromiseTracker>(clock, options_.params.iwant_followup_time, promises_per_peer_);
  px_ = std::make_unique<PxConnector>(
      clock, options_.px_connector,
      [this](const Multiaddr& addr) {
        core_->host()->Dial(addr, [](StatusOr<PeerId>) {});  // Success shows up as AddPeer.
        ++stats_.px_dials;
      },
      [this](const PeerId& peer) { return core_->host()->IsConnected(peer); });
  if (options_.score_params) score_ = std::make_unique<PeerScore>(*options_.score_params, clock);
  if (options_.peer_gater) gater_ = std::make_unique<PeerGater>(clock, *options_.peer_gater);
  if (options_.partial_messages) partial_ = std::make_unique<PartialGroups>(*options_.partial_messages);
  if (score_) {
    score_decay_timer_ = core->loop()->CreateTimer([this] { score_->RefreshScores(); });
    score_decay_timer_->ScheduleRepeating(options_.score_params->decay_interval);
  }
  heartbeat_timer_ = core->loop()->CreateTimer([this] {
    const MonoTime start = core_->loop()->Now();
    Heartbeat();
    core_->tracer().Heartbeat(core_->loop()->Now() - start);
    heartbeat_timer_->Schedule(options_.params.heartbeat_interval);
  });
  heartbeat_timer_->Schedule(options_.params.heartbeat_initial_delay);
  idontwant_task_ = core->loop()->CreateTask([this] { FlushIDontWants(); });
  mesh_events_task_ = core->loop()->CreateTask([this] { FlushMeshEvents(); });
  // Direct peers are never trimmed by the host's connection manager; mesh peers are protected while in a
  // mesh (SyncProtections).
  for (const auto& [peer, addrs] : options_.direct_peers) core->host()->connection_manager().Protect(peer, std::string(kDirectTag));
  if (!options_.direct_peers.empty()) ScheduleDirectConnect(options_.params.direct_connect_initial_delay);
}

void GossipSubRouter::ScheduleDirectConnect(Duration delay) {
  if (direct_connect_timer_ == nullptr) {
    direct_connect_timer_ = core_->loop()->CreateTimer([this] { ConnectDirectPeers(); });
  }
  if (!direct_connect_timer_->IsScheduled()) direct_connect_timer_->Schedule(delay);
}

Status GossipSubRouter::AddDirectPeer(const PeerId& peer, std::vector<Multiaddr> addrs) {
  if (core_ != nullptr && peer == core_->self()) return InvalidArgumentError("we cannot be our own direct peer");
  const bool added = options_.direct_peers.count(peer) == 0;
  options_.direct_peers[peer] = std::move(addrs);
  if (core_ == nullptr || !added) return OkStatus();
  core_->host()->connection_manager().Protect(peer, std::string(kDirectTag));
  if (auto it = peers_.find(peer); it != peers_.end()) {
    SetDirect(&it->second, true);
    ControlBatch batch;
    for (auto& [topic, members] : mesh_) {
      if (members.count(peer)) RemoveFromMesh(topic, peer, &batch, /*px=*/false, options_.params.prune_backoff);
    }
    for (auto& [topic, members] : fanout_) members.erase(peer);  // It gets every message anyway.
    SendBatch(&batch);
  }
  if (!core_->host()->IsConnected(peer)) ScheduleDirectConnect(options_.params.direct_connect_initial_delay);
  return OkStatus();
}

Status GossipSubRouter::RemoveDirectPeer(const PeerId& peer) {
  if (options_.direct_peers.erase(peer) == 0) return NotFoundError("not a direct peer");
  if (core_ == nullptr) return OkStatus();
  core_->host()->connection_manager().Unprotect(peer, std::string(kDirectTag));
  if (auto it = peers_.find(peer); it != peers_.end()) SetDirect(&it->second, false);
  return OkStatus();
}

void GossipSubRouter::ConnectDirectPeers() {
  const size_t round = direct_connect_rounds_++;
  for (const auto& [peer, addrs] : options_.direct_peers) {
    if (addrs.empty() || peer == core_->self() || core_->host()->IsConnected(peer)) continue;
    StatusOr<Multiaddr> target = DialAddressOf(addrs[round % addrs.size()], peer);
    if (!target.ok()) continue;
    core_->host()->Dial(*target, [](StatusOr<PeerId>) {});  // Success shows up as AddPeer; failure: next round.
    ++stats_.direct_dials;
  }
}

bool GossipSubRouter::SpeaksMeshSub(const GossipPeer& p) const { return p.protocol != kFloodSubProtocolId; }

bool GossipSubRouter::Meshless(const GossipPeer& p) const { return p.direct || !SpeaksMeshSub(p); }

void GossipSubRouter::SetDirect(GossipPeer* p, bool direct) {
  meshless_peers_ -= Meshless(*p) ? 1 : 0;
  p->direct = direct;
  meshless_peers_ += Meshless(*p) ? 1 : 0;
}

bool GossipSubRouter::CanGraft(const std::string& topic, const PeerId& peer) const {
  auto mesh = mesh_.find(topic);
  if (mesh != mesh_.end() && mesh->second.count(peer)) return false;
  return !backoff_->InBackoffWithSlack(peer, topic) && Score(peer) >= 0;
}

bool GossipSubRouter::SupportsPx(const GossipPeer& p) const {
  return p.protocol == kMeshSubV11 || SpeaksIDontWant(p);
}

bool GossipSubRouter::SpeaksIDontWant(const GossipPeer& p) const {
  return p.protocol == kMeshSubV12 || p.protocol == kMeshSubV13;
}

double GossipSubRouter::Score(const PeerId& peer) const { return score_ ? score_->Score(peer) : 0.0; }

void GossipSubRouter::AddPeer(const PeerId& peer, const std::string& protocol) {
  auto [entry, added] = peers_.try_emplace(peer);
  GossipPeer& info = entry->second;
  if (!added && Meshless(info)) --meshless_peers_;  // Added again: counted anew below.
  info.protocol = protocol;
  info.direct = options_.direct_peers.count(peer) > 0;
  if (Meshless(info)) ++meshless_peers_;
  info.outbound = core_->host()->IsOutbound(peer);
  info.sender = core_->FindPeer(peer);
  const Duration retention = options_.params.heartbeat_interval * options_.params.idontwant_retention_heartbeats;
  info.dont_send = std::make_unique<TimedCache>(&core_->loop()->clock(), retention,
                                                options_.params.max_idontwant_entries_per_peer);
  if (score_) score_->AddPeer(peer);
  RefreshSource(peer);
}

void GossipSubRouter::RefreshSource(const PeerId& peer) {
  if (!score_ && !gater_) return;
  // The newest connection's address: the one the peer's streams use.
  const std::vector<stream::ConnectionInfo> conns = core_->host()->connections_of(peer);
  const std::string ip = conns.empty() ? "" : ColocationIp(conns.back().remote_addr);
  if (score_) score_->SetIp(peer, ip);
  // A peer without an IP is a source of its own.
  if (gater_) gater_->AddPeer(peer, ip.empty() ? "peer:" + peer.ToBase58() : ip);
}

void GossipSubRouter::OnSubscriptionChange(const PeerId& peer, const std::string& topic, bool subscribed) {
  if (subscribed) {
    topic_peers_[topic].insert(peer);
    return;
  }
  if (auto info = peers_.find(peer); info != peers_.end()) info->second.partial_topics.erase(topic);
  auto it = topic_peers_.find(topic);
  if (it == topic_peers_.end()) return;
  if (it->second.erase(peer) > 0 && Mesh(topic).count(peer) > 0) mesh_to_check_.insert(topic);
  if (it->second.empty()) topic_peers_.erase(it);
}

void GossipSubRouter::OnConnectionsChanged(const PeerId& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  it->second.outbound = core_->host()->IsOutbound(peer);
  RefreshSource(peer);
}

void GossipSubRouter::SyncProtections() {
  if (!protections_stale_) return;
  protections_stale_ = false;
  std::set<std::pair<PeerId, std::string>> now;
  for (const auto& [topic, members] : mesh_) {
    for (const PeerId& p : members) now.emplace(p, topic);
  }
  stream::ConnectionManager& cm = core_->host()->connection_manager();
  for (const auto& [peer, topic] : protected_) {
    if (now.count({peer, topic}) == 0) cm.Unprotect(peer, std::string(kMeshTagPrefix) + topic);
  }
  for (const auto& [peer, topic] : now) {
    if (protected_.count({peer, topic}) == 0) cm.Protect(peer, std::string(kMeshTagPrefix) + topic);
  }
  protected_ = std::move(now);
}

void GossipSubRouter::RemovePeer(const PeerId& peer) {
  for (const std::string& topic : core_->PeerTopics(peer)) OnSubscriptionChange(peer, topic, false);
  for (auto& [topic, members] : mesh_) {
    if (members.erase(peer) > 0) ReportMesh(/*grafted=*/false, peer, topic);
  }
  for (auto& [topic, members] : fanout_) members.erase(peer);
  promises_->RemovePeer(peer);
  if (partial_) partial_->RemovePeer(peer);
  idontwant_batch_.erase(peer);
  if (auto it = peers_.find(peer); it != peers_.end()) {
    if (Meshless(it->second)) --meshless_peers_;
    peers_.erase(it);
  }
  if (score_) score_->RemovePeer(peer);
  if (gater_) gater_->RemovePeer(peer);
}

RpcAcceptance GossipSubRouter::AcceptRpcFrom(const PeerId& peer) {
  if (options_.direct_peers.count(peer)) return RpcAcceptance::kAll;
  if (score_ && Score(peer) < options_.thresholds.graylist_threshold) {
    GOSSIPSUB_PEER_LOG(LogLevel::kWarn, peer, "rpc ignored: peer graylisted",
                       {{"peer", peer.ToBase58()}, {"score", Score(peer)}});
    return RpcAcceptance::kNone;
  }
  if (gater_ && !gater_->AcceptMessages(peer, UniformReal01(rng_))) {
    ++stats_.rpcs_gated;
    core_->tracer().ThrottlePeer(peer);
    return RpcAcceptance::kControlOnly;
  }
  return RpcAcceptance::kAll;
}

std::vector<PeerId> GossipSubRouter::SelectPeers(const std::string& topic, size_t count,
                                                 const std::function<bool(const PeerId&, const GossipPeer&)>& filter,
                                                 const PeerSet* outside) {
  std::vector<PeerId> candidates;
  auto subscribed = topic_peers_.find(topic);
  if (subscribed == topic_peers_.end()) return candidates;
  for (const PeerId& id : subscribed->second) {
    if (outside != nullptr && outside->count(id) > 0) continue;
    auto it = peers_.find(id);
    if (it == peers_.end()) continue;
    const GossipPeer& info = it->second;
    if (!SpeaksMeshSub(info) || info.direct) continue;
    if (filter && !filter(id, info)) continue;
    candidates.push_back(id);
  }
  Shuffle(rng_, &candidates);
  if (candidates.size() > count) candidates.erase(candidates.begin() + count, candidates.end());
  return candidates;
}

bool GossipSubRouter::EnterMesh(const std::string& topic, const PeerId& peer) {
  if (!mesh_[topic].insert(peer).second) return false;
  if (TopicPeers(topic).count(peer) == 0) mesh_to_check_.insert(topic);
  if (score_) score_->Graft(peer, topic);
  ReportMesh(/*grafted=*/true, peer, topic);
  return true;
}

void GossipSubRouter::AddToMesh(const std::string& topic, const PeerId& peer, ControlBatch* batch) {
  if (EnterMesh(topic, peer)) (*batch)[peer].add_graft()->set_topicid(topic);
}

void GossipSubRouter::MakePrune(const std::string& topic, const PeerId& to, bool px, Duration backoff,
                                ControlBatch* batch) {
  pb::ControlPrune* prune = (*batch)[to].add_prune();
  prune->set_topicid(topic);
  prune->set_backoff(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(backoff).count()));
  auto it = peers_.find(to);
  if (!px || !options_.do_px || it == peers_.end() || !SupportsPx(it->second)) return;
  // Offer other peers of the topic in good standing (not only mesh members: a peer leaving the topic
  // prunes all of them), with their signed records from identify.
  const std::vector<PeerId> offers =
      SelectPeers(topic, options_.params.prune_peers, [&](const PeerId& id, const GossipPeer&) {
        return id != to && Score(id) >= 0;
      });
  AddPxOffers(offers, core_->host()->peer_store(), prune);
}

void GossipSubRouter::RemoveFromMesh(const std::string& topic, const PeerId& peer, ControlBatch* batch, bool px,
                                     Duration backoff) {
  if (mesh_[topic].erase(peer) == 0) return;
  MakePrune(topic, peer, px, backoff, batch);
  backoff_->Add(peer, topic, backoff);
  if (score_) score_->Prune(peer, topic);
  ReportMesh(/*grafted=*/false, peer, topic);
}

void GossipSubRouter::SendBatch(ControlBatch* batch) {
  for (auto& [peer, control] : *batch) {
    // In RPCs of at most kMaxControlBytesPerRpc of control each, as rust-libp2p accepts them.
    for (pb::ControlMessage& part : SplitControl(std::move(control))) {
      pb::RPC rpc;
      *rpc.mutable_control() = std::move(part);
      core_->SendRpc(peer, std::move(rpc), SendLane::kControl);
    }
  }
  batch->clear();
}

void GossipSubRouter::Join(const std::string& topic) {
  ControlBatch batch;
  const size_t d = static_cast<size_t>(options_.params.d);
  auto fanout = fanout_.find(topic);
  if (fanout != fanout_.end()) {
    for (const PeerId& p : fanout->second) {
      if (mesh_[topic].size() >= d) break;
      if (CanGraft(topic, p)) AddToMesh(topic, p, &batch);
    }
    fanout_.erase(fanout);
    fanout_last_publish_.erase(topic);
  }
  mesh_[topic];  // Joined, even with no peers yet.
  if (mesh_[topic].size() < d) {
    for (const PeerId& p : SelectPeers(topic, d - mesh_[topic].size(),
                                       [&](const PeerId& id, const GossipPeer&) { return CanGraft(topic, id); })) {
      AddToMesh(topic, p, &batch);
    }
  }
  SendBatch(&batch);
}

void GossipSubRouter::Leave(const std::string& topic) {
  auto it = mesh_.find(topic);
  if (it == mesh_.end()) return;
  ControlBatch batch;
  const PeerSet members = it->second;
  for (const PeerId& p : members) {
    RemoveFromMesh(topic, p, &batch, /*px=*/true, options_.params.unsubscribe_backoff);
  }
  mesh_.erase(topic);
  mesh_to_check_.erase(topic);
  SendBatch(&batch);
}

void GossipSubRouter::HandleControl(const PeerId& peer, const pb::ControlMessage& control) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  GossipPeer& info = it->second;
  ControlBatch batch;
  pb::ControlMessage reply;
  HandleIHaves(peer, info, control.ihave(), &reply);
  for (const auto& iwant : control.iwant()) HandleIWant(peer, iwant);
  for (const auto& graft : control.graft()) HandleGraft(peer, info, graft, &batch);
  for (const auto& prune : control.prune()) HandlePrune(peer, info, prune);
  for (const auto& idw : control.idontwant()) HandleIDontWant(peer, info, idw);
  if (reply.iwant_size() > 0) {
    *batch[peer].mutable_iwant() = std::move(*reply.mutable_iwant());
  }
  SendBatch(&batch);
}

void GossipSubRouter::HandleIHaves(const PeerId& peer, GossipPeer& info,
                                   const google::protobuf::RepeatedPtrField<pb::ControlIHave>& ihaves,
                                   pb::ControlMessage* reply) {
  if (ihaves.empty() || Score(peer) < options_.thresholds.gossip_threshold) return;
  // Bounded: IHAVE messages per heartbeat, and ids asked per heartbeat.
  if (info.ihaves_received >= options_.params.max_ihave_messages) return;
  ++info.ihaves_received;
  if (info.iwanted_ids >= options_.params.max_ihave_length) return;
  const auto max_ids = static_cast<size_t>(options_.params.max_ihave_length);
  std::vector<std::string> wanted;
  std::unordered_set<std::string_view> taken;  // Views of ids in `ihaves`, which outlives it.
  for (const pb::ControlIHave& ihave : ihaves) {
    if (!core_->subscribed(ihave.topicid())) continue;
    // Ids of one entry beyond max_ihave_length are not looked at (go's bound per IHAVE).
    const size_t n = std::min(static_cast<size_t>(ihave.messageids_size()), max_ids);
    for (size_t i = 0; i < n; ++i) {
      const std::string& id = ihave.messageids(static_cast<int>(i));
      if (core_->HasSeen(id) || promises_->Has(id) || !taken.insert(id).second) continue;
      wanted.push_back(id);
    }
  }
  const size_t room = max_ids - static_cast<size_t>(info.iwanted_ids);
  if (wanted.size() > room) {
    Shuffle(rng_, &wanted);
    wanted.resize(room);
  }
  if (wanted.empty()) return;
  info.iwanted_ids += static_cast<int>(wanted.size());
  pb::ControlIWant* iwant = reply->add_iwant();
  for (const std::string& id : wanted) iwant->add_messageids(id);
  // Promise tracking: the peer must deliver one of them (we track one at random, as go does) in time.
  const std::string& tracked = wanted[UniformIndex(rng_, wanted.size())];
  promises_->Add(peer, tracked);
  ++stats_.iwant_sent;
}

void GossipSubRouter::HandleIWant(const PeerId& peer, const pb::ControlIWant& iwant) {
  if (Score(peer) < options_.thresholds.gossip_threshold) return;
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  // A reference, not the iterator: a send may drop another peer, which moves entries of peers_.
  GossipPeer& info = it->second;
  for (const std::string& id : iwant.messageids()) {
    if (info.iwant_served >= options_.params.max_iwant_messages_per_heartbeat) return;
    std::optional<pb::Message> msg = mcache_->GetForPeer(id, peer, options_.params.gossip_retransmission);
    if (!msg) continue;
    pb::RPC rpc;
    *rpc.add_publish() = std::move(*msg);
    core_->SendRpc(peer, std::move(rpc), SendLane::kForward, id);
    ++info.iwant_served;
    ++stats_.iwant_served;
  }
}

void GossipSubRouter::HandleGraft(const PeerId& peer, GossipPeer& info, const pb::ControlGraft& graft,
                                  ControlBatch* batch) {
  ++stats_.graft_received;
  const std::string& topic = graft.topicid();
  if (!core_->subscribed(topic)) return;  // Spam hardening: no reply for topics we are not in.
  auto& members = mesh_[topic];
  if (members.count(peer)) return;
  if (info.direct) {
    MakePrune(topic, peer, /*px=*/false, options_.params.prune_backoff, batch);
    return;
  }
  if (backoff_->InBackoff(peer, topic)) {
    GOSSIPSUB_PEER_LOG(LogLevel::kInfo, peer, "graft during backoff: pruned",
                       {{"peer", peer.ToBase58()}, {"topic", topic}, {"penalized", score_ != nullptr}});
    // Grafting during backoff is a protocol violation; flooding grafts right after a prune is worse.
    if (score_) {
      score_->AddPenalty(peer, 1);
      const std::optional<Duration> left = backoff_->Remaining(peer, topic);
      if (left && *left + options_.params.graft_flood_threshold > options_.params.prune_backoff) {
        score_->AddPenalty(peer, 1);
      }
    }
    MakePrune(topic, peer, /*px=*/false, options_.params.prune_backoff, batch);
    backoff_->Add(peer, topic, options_.params.prune_backoff);
    return;
  }
  if (Score(peer) < 0 || (!info.outbound && members.size() >= static_cast<size_t>(options_.params.d_hi))) {
    GOSSIPSUB_PEER_LOG(LogLevel::kDebug, peer, "graft refused: pruned",
                       {{"peer", peer.ToBase58()}, {"topic", topic},
                        {"reason", Score(peer) < 0 ? "negative score" : "mesh full"}});
    MakePrune(topic, peer, /*px=*/Score(peer) >= 0, options_.params.prune_backoff, batch);
    backoff_->Add(peer, topic, options_.params.prune_backoff);
    return;
  }
  EnterMesh(topic, peer);
}

void GossipSubRouter::HandlePrune(const PeerId& peer, GossipPeer& info, const pb::ControlPrune& prune) {
  ++stats_.prune_received;
  const std::string& topic = prune.topicid();
  // PRUNEs for topics we are not in change nothing (and must not fill the backoff table).
  if (!core_->subscribed(topic)) return;
  auto it = mesh_.find(topic);
  if (it != mesh_.end() && it->second.erase(peer) > 0) {
    if (score_) score_->Prune(peer, topic);
    ReportMesh(/*grafted=*/false, peer, topic);
  }
  // No backoff, or 0, means the default (as go reads it).
  const Duration backoff = prune.backoff() > 0 ? BackoffFromSeconds(prune.backoff()) : options_.params.prune_backoff;
  backoff_->Add(peer, topic, backoff);
  // Peer exchange: only from peers we trust enough, only signed records, a bounded number.
  if (prune.peers_size() == 0 || !SupportsPx(info)) return;
  // Without scoring every score is 0, below any accept_px_threshold worth the name: no PX from strangers.
  if (Score(peer) < options_.thresholds.accept_px_threshold) return;
  const auto connected = [this](const PeerId& id) { return peers_.count(id) > 0 || core_->host()->IsConnected(id); };
  const auto dialable = [this](const Multiaddr& addr) { return core_->host()->CanDial(addr); };
  for (const Multiaddr& addr : PxDialTargets(prune, core_->self(), connected, dialable, options_.params.prune_peers)) {
    px_->Offer(addr);
  }
  px_->Pump();
  stats_.px_offers_dropped = px_->offers_dropped();
}

void GossipSubRouter::HandleIDontWant(const PeerId& peer, GossipPeer& info, const pb::ControlIDontWant& idw) {
  if (!SpeaksIDontWant(info)) return;
  if (++info.idontwant_messages_received > options_.params.max_idontwant_messages) return;
  // Copies already queued for the peer are dropped when their turn comes (StillWanted).
  for (const std::string& id : idw.messageids()) {
    if (++info.idontwant_ids_received > options_.params.max_idontwant_entries_per_peer) return;
    ++stats_.idontwant_received;
    info.dont_send->Insert(id);
  }
}

bool GossipSubRouter::StillWanted(const PeerId& peer, std::string_view id) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || !it->second.DoesNotWant(id)) return true;
  ++stats_.sends_cancelled;
  return false;
}

void GossipSubRouter::OnFirstSeen(const PeerId& from, const pb::Message& msg, const std::string& id) {
  // The message arrived and its validation starts: promises for it are kept, however long validation takes.
  promises_->Keep(id);
  if (gater_) gater_->Validated();
  // A peer that delivers first is worth its connection.
  core_->host()->connection_manager().MarkUseful(from, core_->loop()->Now());
  // v1.2: tell mesh peers at once that we have a large message, before validating it.
  if (msg.data().size() < options_.params.idontwant_message_size_threshold) return;
  auto it = mesh_.find(msg.topic());
  if (it == mesh_.end()) return;
  // Not to peers that send us partial messages of the topic: they do not send us full ones.
  const bool we_request = OurPartialMode(msg.topic()).requests;
  for (const PeerId& p : it->second) {
    if (p == from) continue;
    auto info = peers_.find(p);
    if (info == peers_.end() || !SpeaksIDontWant(info->second)) continue;
    if (we_request && SupportsPartial(info->second, msg.topic())) continue;
    idontwant_batch_[p].push_back(id);
    ++stats_.idontwant_sent;
  }
  // Sent when the loop comes back: at once on the wire, but one RPC for the messages of one read.
  if (!idontwant_batch_.empty()) idontwant_task_->Post();
}

void GossipSubRouter::ReportMesh(bool grafted, const PeerId& peer, const std::string& topic) {
  protections_stale_ = true;
  if (grafted) {
    core_->tracer().Graft(peer, topic);
  } else {
    core_->tracer().Prune(peer, topic);
  }
  GOSSIPSUB_PEER_LOG(LogLevel::kDebug, peer, grafted ? "mesh: grafted" : "mesh: pruned",
                     {{"peer", peer.ToBase58()}, {"topic", topic}});
  if (!(grafted ? events_.on_graft : events_.on_prune)) return;
  mesh_events_.push_back(MeshEvent{grafted, peer, topic});
  mesh_events_task_->Post();
}

void GossipSubRouter::FlushMeshEvents() {
  // A handler may call back into the core (and so add events): take the list first.
  std::vector<MeshEvent> events = std::move(mesh_events_);
  mesh_events_.clear();
  for (const MeshEvent& e : events) {
    const auto& handler = e.grafted ? events_.on_graft : events_.on_prune;
    if (handler) handler(e.peer, e.topic);
  }
}

void GossipSubRouter::FlushIDontWants() {
  for (auto& [peer, ids] : idontwant_batch_) {
    for (size_t start = 0; start < ids.size(); start += kMaxIdsPerIDontWant) {
      pb::RPC rpc;
      pb::ControlIDontWant* idw = rpc.mutable_control()->add_idontwant();
      const size_t end = std::min(ids.size(), start + kMaxIdsPerIDontWant);
      for (size_t i = start; i < end; ++i) idw->add_messageids(std::move(ids[i]));
      // Ahead of queued control and data: it is worth something only if it arrives before the copies.
      core_->SendRpc(peer, std::move(rpc), SendLane::kUrgent);
    }
  }
  idontwant_batch_.clear();
}

void GossipSubRouter::OnDuplicate(const PeerId& from, const std::string& id, const std::string& topic) {
  if (score_) score_->DuplicateMessage(from, id, topic);
  if (gater_) gater_->Duplicate(from);
  // A duplicate still fulfils the sender's promise.
  promises_->KeepBy(from, id);
}

void GossipSubRouter::OnRejected(const PeerId& from, const std::string& id, const std::string& topic,
                                 RejectReason reason) {
  if (score_) score_->RejectMessage(from, id, topic, reason);
  if (gater_) {
    switch (reason) {
      case RejectReason::kThrottled: gater_->Throttled(); break;
      case RejectReason::kIgnored: gater_->Ignored(from); break;
      case RejectReason::kInvalid:
      case RejectReason::kInvalidSignature:
      case RejectReason::kSelfOrigin: gater_->Rejected(from); break;
    }
  }
  // A forged copy or a replay of our own message does not fulfil a promise.
  if (reason == RejectReason::kInvalidSignature || reason == RejectReason::kSelfOrigin) return;
  // The peer delivered, even if badly (P4 covers that) or when we had no room to validate (not its fault):
  // no broken promise.
  promises_->Keep(id);
}

std::vector<PubSubPeer*> GossipSubRouter::Route(const SharedMessage& shared, const std::string& id,
                                                const std::optional<PeerId>& source) {
  RecordRouted(*shared, id, source);
  return FilterTargets(CandidateTargets(shared->topic(), source), *shared, id, source);
}

void GossipSubRouter::RecordRouted(const pb::Message& msg, const std::string& id, const std::optional<PeerId>& source) {
  const std::string& topic = msg.topic();
  mcache_->Put(id, msg);
  promises_->Keep(id);
  if (score_) {
    // Our own message is valid from the start: copies of it are duplicates of a valid message.
    if (source) {
      score_->DeliverMessage(*source, id, topic);
    } else {
      score_->PublishMessage(id, topic);
    }
  }
  if (source && gater_) gater_->Delivered(*source, topic);
}

std::vector<PeerId> GossipSubRouter::CandidateTargets(const std::string& topic, const std::optional<PeerId>& source) {
  // Usually a handful of peers: a vector, sorted and deduplicated by FilterTargets, costs less than a set.
  std::vector<PeerId> targets;
  // Only the topic's subscribers can be targets: look at them, not at every peer, and only when some may be
  // a target outside the mesh (usually none is direct or floodsub, and our own messages are few).
  const bool flood = !source && options_.params.flood_publish;
  auto subscribers = flood || meshless_peers_ > 0 ? topic_peers_.find(topic) : topic_peers_.end();
  if (subscribers != topic_peers_.end()) {
    for (const PeerId& p : subscribers->second) {
      auto info = peers_.find(p);
      if (info == peers_.end()) continue;
      // Direct peers always get it; floodsub peers (which have no mesh) when their score reaches the
      // publish threshold, as in go; and our own message, with flood publishing, every subscriber that does.
      if (info->second.direct ||
          ((!SpeaksMeshSub(info->second) || flood) && Score(p) >= options_.thresholds.publish_threshold)) {
        targets.push_back(p);
      }
    }
  }
  if (flood) {
    // Every eligible subscriber is a target already.
  } else if (auto m = mesh_.find(topic); m != mesh_.end()) {
    targets.insert(targets.end(), m->second.begin(), m->second.end());
  } else if (!source) {
    // Not in the topic: publish through the fanout, chosen now if there is none.
    auto& fanout = fanout_[topic];
    if (fanout.empty()) {
      for (const PeerId& p : SelectPeers(topic, options_.params.d, [&](const PeerId& id2, const GossipPeer&) {
             return Score(id2) >= options_.thresholds.publish_threshold;
           })) {
        fanout.insert(p);
      }
    }
    fanout_last_publish_[topic] = core_->loop()->Now();
    targets.insert(targets.end(), fanout.begin(), fanout.end());
  }
  return targets;
}

std::vector<PubSubPeer*> GossipSubRouter::FilterTargets(std::vector<PeerId> candidates, const pb::Message& msg,
                                                        const std::string& id, const std::optional<PeerId>& source) {
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  std::vector<PubSubPeer*> targets;
  targets.reserve(candidates.size());
  const bool we_send_partial = OurPartialMode(msg.topic()).supports;
  for (const PeerId& p : candidates) {
    if (source && p == *source) continue;
    if (AsStringView(p.bytes()) == msg.from()) continue;
    auto info = peers_.find(p);
    // Not a peer of ours (any more), or not the core's: nothing to send it through.
    if (info == peers_.end() || info->second.sender == nullptr) continue;
    if (info->second.DoesNotWant(id)) {
      ++stats_.sends_skipped_idontwant;
      continue;
    }
    // A peer that asked for partial messages of the topic gets them, from the application, instead.
    if (we_send_partial && RequestsPartial(info->second, msg.topic())) {
      ++stats_.full_sends_skipped_partial;
      continue;
    }
    targets.push_back(info->second.sender);
  }
  return targets;
}

void GossipSubRouter::MaintainMesh(const std::string& topic, ControlBatch* batch) {
  const auto& p = options_.params;
  PeerSet& members = mesh_[topic];
  // Drop peers with a negative score, and peers gone from the topic (only a mesh to check may hold any).
  const PeerSet* subscribed = mesh_to_check_.erase(topic) > 0 ? &TopicPeers(topic) : nullptr;
  // By place, as removal closes the gap: the next member moves into the removed one's place.
  for (size_t i = 0; i < members.size();) {
    const PeerId peer = *(members.begin() + i);
    if (Score(peer) < 0 || (subscribed != nullptr && subscribed->count(peer) == 0)) {
      RemoveFromMesh(topic, peer, batch, /*px=*/false, p.prune_backoff);
    } else {
      ++i;
    }
  }
  auto eligible = [&](const PeerId& id, const GossipPeer&) { return CanGraft(topic, id); };
  if (members.size() < static_cast<size_t>(p.d_lo)) {
    for (const PeerId& peer : SelectPeers(topic, p.d - members.size(), eligible, &members)) {
      AddToMesh(topic, peer, batch);
    }
  }
  if (members.size() > static_cast<size_t>(p.d_hi)) {
    // Keep the d_score best by score, then random ones up to d, keeping at least d_out outbound peers.
    // Each score computed once (it walks the peer's topics), then shuffled so that ties fall at random.
    std::vector<std::pair<double, PeerId>> scored;
    for (const PeerId& id : members) scored.emplace_back(Score(id), id);
    Shuffle(rng_, &scored);
    std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<PeerId> keep, rest;
    for (size_t i = 0; i < scored.size(); ++i) (i < static_cast<size_t>(p.d_score) ? keep : rest).push_back(scored[i].second);
    Shuffle(rng_, &rest);
    // Outbound peers first among the rest, until d_out of the kept ones are outbound; then the others.
    size_t kept_outbound = std::count_if(keep.begin(), keep.end(), [&](const PeerId& id) { return IsOutbound(id); });
    std::vector<PeerId> others;
    for (const PeerId& id : rest) {
      if (kept_outbound < static_cast<size_t>(p.d_out) && IsOutbound(id)) {
        keep.push_back(id);
        ++kept_outbound;
      } else {
        others.push_back(id);
      }
    }
    for (const PeerId& id : others) {
      if (keep.size() >= static_cast<size_t>(p.d)) break;
      keep.push_back(id);
    }
    const PeerSet kept(keep.begin(), keep.end());
    const PeerSet before = members;
    for (const PeerId& id : before) {
      if (!kept.count(id)) RemoveFromMesh(topic, id, batch, /*px=*/true, p.prune_backoff);
    }
  }
  // Enough outbound peers? Counted only up to d_out, which is all the check needs.
  if (members.size() >= static_cast<size_t>(p.d_lo)) {
    const size_t d_out = static_cast<size_t>(p.d_out);
    size_t outbound_count = 0;
    for (auto it = members.begin(); it != members.end() && outbound_count < d_out; ++it) {
      outbound_count += IsOutbound(*it) ? 1 : 0;
    }
    // No `outside`: the outbound flag, read with the peer's entry, rules out most peers more cheaply.
    if (outbound_count < d_out) {
      auto outbound = [&](const PeerId& id, const GossipPeer& info) { return info.outbound && eligible(id, info); };
      for (const PeerId& peer : SelectPeers(topic, d_out - outbound_count, outbound)) {
        AddToMesh(topic, peer, batch);
      }
    }
  }
  // Opportunistic grafting: when the mesh's median score is low, bring in better peers.
  if (score_ && heartbeat_ticks_ % p.opportunistic_graft_ticks == 0 && members.size() > 1) {
    std::vector<double> scores;
    for (const PeerId& id : members) scores.push_back(Score(id));
    std::sort(scores.begin(), scores.end());
    const double median = scores[scores.size() / 2];
    if (median < options_.thresholds.opportunistic_graft_threshold) {
      for (const PeerId& peer : SelectPeers(
               topic, p.opportunistic_graft_peers,
               [&](const PeerId& id, const GossipPeer& info) { return eligible(id, info) && Score(id) > median; },
               &members)) {
        AddToMesh(topic, peer, batch);
      }
    }
  }
}

void GossipSubRouter::MaintainFanout() {
  const MonoTime now = core_->loop()->Now();
  for (auto it = fanout_last_publish_.begin(); it != fanout_last_publish_.end();) {
    if (now - it->second >= options_.params.fanout_ttl) {
      fanout_.erase(it->first);
      it = fanout_last_publish_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& entry : fanout_) {
    const std::string& topic = entry.first;
    PeerSet& members = entry.second;
    const PeerSet& subscribed = TopicPeers(topic);
    for (auto it = members.begin(); it != members.end();) {
      const bool keep = peers_.count(*it) && subscribed.count(*it) &&
                        Score(*it) >= options_.thresholds.publish_threshold;
      it = keep ? std::next(it) : members.erase(it);
    }
    if (members.size() < static_cast<size_t>(options_.params.d)) {
      for (const PeerId& p : SelectPeers(
               topic, options_.params.d - members.size(),
               [&](const PeerId& id, const GossipPeer&) { return Score(id) >= options_.thresholds.publish_threshold; },
               &members)) {
        members.insert(p);
      }
    }
  }
}

void GossipSubRouter::EmitGossip(ControlBatch* batch) {
  // What each peer may still be sent this heartbeat: at most max_ihave_length ids, and as many bytes of
  // them as fit in the RPCs a go peer reads (it hears kPeerMaxIHaveRpcs RPCs with IHAVEs per heartbeat; one
  // of them is left for the heartbeat's GRAFTs and PRUNEs).
  struct Room {
    size_t ids;
    size_t bytes;
  };
  std::unordered_map<PeerId, Room> room;
  const Room fresh{static_cast<size_t>(options_.params.max_ihave_length),
                   (kPeerMaxIHaveRpcs - 1) * kMaxControlBytesPerRpc};
  auto gossip = [&](const std::string& topic, const PeerSet& exclude) {
    // Partial-requesting peers get partial gossip (our groups' metadata), the others IHAVEs.
    const bool partial_topic = partial_ && OurPartialMode(topic).supports;
    if (!mcache_->HasGossipIds(topic) && !(partial_topic && !partial_->OurGroups(topic).empty())) return;
    std::vector<PeerId> candidates = SelectPeers(
        topic, SIZE_MAX,
        [&](const PeerId& id, const GossipPeer&) { return Score(id) >= options_.thresholds.gossip_threshold; },
        &exclude);
    if (candidates.empty()) return;  // Before copying the ids: often no one is outside the mesh.
    const size_t count = std::max<size_t>(options_.params.d_lazy,
                                          static_cast<size_t>(options_.params.gossip_factor * candidates.size()));
    if (candidates.size() > count) candidates.erase(candidates.begin() + count, candidates.end());
    if (partial_topic) {
      std::vector<PeerId> partial_peers;
      auto is_partial = [&](const PeerId& p) {
        auto info = peers_.find(p);
        return info != peers_.end() && RequestsPartial(info->second, topic);
      };
      for (const PeerId& p : candidates) {
        if (is_partial(p)) partial_peers.push_back(p);
      }
      candidates.erase(std::remove_if(candidates.begin(), candidates.end(), is_partial), candidates.end());
      if (!partial_peers.empty()) EmitPartialGossip(topic, partial_peers);
    }
    if (candidates.empty() || !mcache_->HasGossipIds(topic)) return;
    std::vector<std::string> ids = mcache_->GetGossipIds(topic);
    for (const PeerId& peer : candidates) {
      Room& left = room.try_emplace(peer, fresh).first->second;
      // The entry's header: its field tag and length, and the topic's.
      const size_t header = 8 + topic.size();
      if (left.ids == 0 || left.bytes <= header) continue;
      Shuffle(rng_, &ids);
      pb::ControlIHave* ihave = nullptr;
      for (const std::string& id : ids) {
        const size_t cost = 2 + id.size();
        if (left.ids == 0 || left.bytes < header + cost) break;
        if (ihave == nullptr) {
          ihave = (*batch)[peer].add_ihave();
          ihave->set_topicid(topic);
          left.bytes -= header;
        }
        ihave->add_messageids(id);
        --left.ids;
        left.bytes -= cost;
      }
      if (ihave != nullptr) ++stats_.ihave_sent;
    }
  };
  for (const auto& [topic, members] : mesh_) gossip(topic, members);
  for (const auto& [topic, members] : fanout_) gossip(topic, members);
}

void GossipSubRouter::CheckPromises() {
  promises_->ExpireBroken([this](const PeerId& peer) {
    ++stats_.broken_promises;
    core_->tracer().BrokenPromise(peer);
    GOSSIPSUB_PEER_LOG(LogLevel::kInfo, peer, "broken promise: an IWANT went unanswered",
                       {{"peer", peer.ToBase58()}, {"penalized", score_ != nullptr}});
    if (score_) score_->AddPenalty(peer, 1);
  });
}

void GossipSubRouter::NoteSlowPeers() {
  // No peer has dropped a send of its own doing since the last look: nothing to find.
  const uint64_t own_drops = core_->own_send_drops();
  if (own_drops == own_send_drops_seen_) return;
  own_send_drops_seen_ = own_drops;
  for (auto& [id, info] : peers_) {
    const PubSubPeer* peer = info.sender;
    if (peer == nullptr) continue;
    // Its own drops only: not those for want of room that other peers hold in the node's send budget.
    const uint64_t drops = peer->stats().dropped_full - peer->stats().dropped_no_room + peer->stats().dropped_timeout;
    if (drops == info.send_drops_seen) continue;
    info.send_drops_seen = drops;
    ++stats_.slow_peer_heartbeats;
    GOSSIPSUB_PEER_LOG(LogLevel::kInfo, id, "slow peer: sends dropped",
                       {{"peer", id.ToBase58()}, {"drops", drops}, {"penalized", score_ != nullptr}});
    if (score_) score_->SlowPeer(id);
  }
}

void GossipSubRouter::Heartbeat() {
  ++stats_.heartbeats;
  ++heartbeat_ticks_;
  // First, so that a peer found slow now leaves the meshes in this heartbeat.
  NoteSlowPeers();
  ControlBatch batch;
  for (auto& [topic, members] : mesh_) MaintainMesh(topic, &batch);
  MaintainFanout();
  EmitGossip(&batch);
  CheckPromises();
  SendBatch(&batch);
  if (!options_.direct_peers.empty() && heartbeat_ticks_ % options_.params.direct_connect_ticks == 0) {
    ConnectDirectPeers();
  }
  SyncProtections();
  px_->Pump();
  mcache_->Shift();
  backoff_->ExpireOld();
  if (gater_) gater_->Refresh();
  if (partial_) partial_->Heartbeat();
  for (auto& [id, info] : peers_) {
    info.ihaves_received = 0;
    info.iwanted_ids = 0;
    info.idontwant_messages_received = 0;
    info.idontwant_ids_received = 0;
    info.iwant_served = 0;
  }
}

const PeerSet& GossipSubRouter::Mesh(const std::string& topic) const {
  auto it = mesh_.find(topic);
  return it == mesh_.end() ? EmptySet() : it->second;
}

const PeerSet& GossipSubRouter::TopicPeers(const std::string& topic) const {
  auto it = topic_peers_.find(topic);
  return it == topic_peers_.end() ? EmptySet() : it->second;
}

bool GossipSubRouter::IsOutbound(const PeerId& peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.outbound;
}

const PeerSet& GossipSubRouter::Fanout(const std::string& topic) const {
  auto it = fanout_.find(topic);
  return it == fanout_.end() ? EmptySet() : it->second;
}

size_t GossipSubRouter::PeersWithProtocol(std::string_view protocol) const {
  return std::count_if(peers_.begin(), peers_.end(), [&](const auto& e) { return e.second.protocol == protocol; });
}

size_t GossipSubRouter::promise_count() const { return promises_->size(); }

size_t GossipSubRouter::dont_send_entries(const PeerId& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() || !it->second.dont_send ? 0 : it->second.dont_send->size();
}

GossipSubStateCounts GossipSubRouter::StateCounts() const {
  GossipSubStateCounts c;
  c.peers = peers_.size();
  for (const auto& [id, info] : peers_) c.dont_send_entries += info.dont_send ? info.dont_send->held() : 0;
  c.mesh_topics = mesh_.size();
  for (const auto& [topic, members] : mesh_) c.mesh_members += members.size();
  c.topic_peers_topics = topic_peers_.size();
  for (const auto& [topic, members] : topic_peers_) c.topic_peers_members += members.size();
  c.fanout_topics = fanout_.size();
  for (const auto& [topic, members] : fanout_) c.fanout_members += members.size();
  c.fanout_last_publish = fanout_last_publish_.size();
  c.backoff_entries = backoff_->size();
  c.mcache_messages = mcache_->size();
  c.mcache_bytes = mcache_->bytes();
  c.promises = promises_->size();
  c.promises_per_peer_cap = promises_per_peer_;
  c.idontwant_batch_peers = idontwant_batch_.size();
  for (const auto& [peer, ids] : idontwant_batch_) c.idontwant_batch_ids += ids.size();
  c.protected_entries = protected_.size();
  if (score_) {
    c.score_peers = score_->peer_count();
    c.score_ips = score_->ip_count();
    c.score_delivery_records = score_->delivery_record_count();
  }
  c.px_pending = px_->pending();
  c.px_dialing = px_->dialing();
  if (gater_) {
    c.gater_peers = gater_->peer_count();
    c.gater_sources = gater_->source_count();
  }
  c.mesh_events = mesh_events_.size();
  if (partial_) {
    c.partial_groups = partial_->groups();
    c.partial_views = partial_->views();
  }
  for (const auto& [id, info] : peers_) c.partial_peer_topics += info.partial_topics.size();
  return c;
}

// --- v1.3 extensions and partial messages ---

std::vector<uint32_t> GossipSubRouter::ExperimentalFields() const { return gossipsub::ExperimentalFields(options_.extensions); }

void GossipSubRouter::AddHello(const PeerId& peer, pb::RPC* first) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.protocol != kMeshSubV13) return;
  const PeerExtensions ours{partial_ != nullptr, options_.extensions.test_extension};
  if (ours.partial_messages || ours.test_extension) WriteExtensions(ours, options_.extensions, first);
}

void GossipSubRouter::DescribeSubscription(pb::RPC::SubOpts* sub) {
  const PartialTopicMode mode = OurPartialMode(sub->topicid());
  if (mode.requests) sub->set_requestspartial(true);
  if (mode.supports) sub->set_supportssendingpartial(true);
}

void GossipSubRouter::OnRpc(const PeerId& peer, const pb::RPC& rpc, bool first_on_stream, RpcAcceptance acceptance) {
  // Most RPCs carry nothing this looks at (messages and control only): they are spared the lookup.
  if (!first_on_stream && rpc.subscriptions_size() == 0 && !rpc.has_partial() && !HasExtensions(rpc) &&
      !options_.extensions.test_extension) {
    return;
  }
  auto it = peers_.find(peer);
  if (it == peers_.end() || !SpeaksMeshSub(it->second)) return;
  GossipPeer& info = it->second;
  HandleExtensions(peer, info, rpc, first_on_stream);
  // The partial-message flags of its subscriptions, for topics the core holds for it (so within its caps).
  const std::set<std::string>& topics = core_->PeerTopics(peer);
  for (const auto& sub : rpc.subscriptions()) {
    if (!sub.subscribe() || !AdvertisedPartial(info) || topics.count(sub.topicid()) == 0) {
      info.partial_topics.erase(sub.topicid());
      continue;
    }
    const PartialTopicMode mode{sub.requestspartial(), sub.requestspartial() || sub.supportssendingpartial()};
    if (mode.supports) {
      info.partial_topics[sub.topicid()] = mode;
    } else {
      info.partial_topics.erase(sub.topicid());
    }
  }
  if (rpc.has_partial()) {
    if (acceptance == RpcAcceptance::kAll) {
      HandlePartial(peer, info, rpc.partial());
    } else {
      ++stats_.partial_dropped;
    }
  }
}

void GossipSubRouter::HandleExtensions(const PeerId& peer, GossipPeer& info, const pb::RPC& rpc, bool first_on_stream) {
  if (first_on_stream) {
    info.extensions = ReadExtensions(rpc, options_.extensions);
    if (!info.extensions->partial_messages) info.partial_topics.clear();
    // Both sides advertised the test extension (ours went first on our stream): one message each way.
    if (options_.extensions.test_extension && info.extensions->test_extension && info.protocol == kMeshSubV13 &&
        !info.test_extension_sent) {
      info.test_extension_sent = true;
      pb::RPC hello;
      AddTestExtensionMessage(options_.extensions, &hello);
      if (core_->SendRpc(peer, std::move(hello), SendLane::kControl)) ++stats_.test_extension_sent;
    }
  } else if (HasExtensions(rpc)) {
    ++stats_.extensions_misplaced;
    GOSSIPSUB_PEER_LOG(LogLevel::kWarn, peer, "misplaced extensions: not first on the stream",
                       {{"peer", peer.ToBase58()}, {"penalized", score_ != nullptr}});
    if (score_) score_->AddPenalty(peer, options_.extensions.misplaced_extensions_penalty);
  }
  if (options_.extensions.test_extension && info.extensions && info.extensions->test_extension &&
      HasTestExtensionMessage(rpc, options_.extensions)) {
    ++stats_.test_extension_received;
  }
}

PartialTopicMode GossipSubRouter::OurPartialMode(const std::string& topic) const {
  if (!partial_) return {};
  auto it = options_.partial_topics.find(topic);
  if (it == options_.partial_topics.end()) return {};
  return {it->second.requests, it->second.requests || it->second.supports};
}

bool GossipSubRouter::AdvertisedPartial(const GossipPeer& p) const {
  return partial_ && p.extensions && p.extensions->partial_messages;
}

bool GossipSubRouter::RequestsPartial(const GossipPeer& p, const std::string& topic) const {
  if (!AdvertisedPartial(p)) return false;
  auto it = p.partial_topics.find(topic);
  return it != p.partial_topics.end() && it->second.requests;
}

bool GossipSubRouter::SupportsPartial(const GossipPeer& p, const std::string& topic) const {
  if (!AdvertisedPartial(p)) return false;
  auto it = p.partial_topics.find(topic);
  return it != p.partial_topics.end() && it->second.supports;
}

bool GossipSubRouter::IsPartialPeer(const GossipPeer& p, const std::string& topic) const {
  return RequestsPartial(p, topic) || (OurPartialMode(topic).requests && SupportsPartial(p, topic));
}

Status GossipSubRouter::SetPartialTopic(const std::string& topic, PartialTopicMode mode) {
  if (!partial_) return FailedPreconditionError("the partial-messages extension is off");
  if (!mode.requests && !mode.supports) {
    options_.partial_topics.erase(topic);
  } else {
    options_.partial_topics[topic] = mode;
  }
  return OkStatus();
}

bool GossipSubRouter::PeerRequestsPartial(const PeerId& peer, const std::string& topic) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && RequestsPartial(it->second, topic);
}

std::optional<PeerExtensions> GossipSubRouter::ExtensionsOf(const PeerId& peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return std::nullopt;
  return it->second.extensions;
}

std::vector<PeerId> GossipSubRouter::PartialRouteTargets(const std::string& topic) {
  auto partial_peer = [&](const PeerId& p) {
    auto info = peers_.find(p);
    return info != peers_.end() && IsPartialPeer(info->second, topic);
  };
  std::vector<PeerId> out;
  if (auto m = mesh_.find(topic); m != mesh_.end()) {
    for (const PeerId& p : m->second) {
      if (partial_peer(p)) out.push_back(p);
    }
    return out;
  }
  // Not in the topic: its fanout, chosen now among its partial peers if there is none.
  auto& fanout = fanout_[topic];
  if (fanout.empty()) {
    for (const PeerId& p : SelectPeers(topic, options_.params.d, [&](const PeerId& id, const GossipPeer& info) {
           return IsPartialPeer(info, topic) && Score(id) >= options_.thresholds.publish_threshold;
         })) {
      fanout.insert(p);
    }
  }
  fanout_last_publish_[topic] = core_->loop()->Now();
  for (const PeerId& p : fanout) {
    if (partial_peer(p)) out.push_back(p);
  }
  if (fanout.empty()) {
    fanout_.erase(topic);
    fanout_last_publish_.erase(topic);
  }
  return out;
}

StatusOr<size_t> GossipSubRouter::PublishPartial(const std::string& topic, const std::string& group_id,
                                                 const PartialActionFn& action, const std::vector<PeerId>& to) {
  if (!partial_) return FailedPreconditionError("the partial-messages extension is off");
  if (topic.empty() || group_id.empty()) return InvalidArgumentError("partial publish needs a topic and a group id");
  PartialGroups::Group& group = partial_->Ours(topic, group_id);
  std::vector<PeerId> targets;
  if (to.empty()) {
    for (const PeerId& p : PartialRouteTargets(topic)) group.peers.try_emplace(p);
    for (const auto& [p, view] : group.peers) targets.push_back(p);
  } else {
    for (const PeerId& p : to) {
      auto info = peers_.find(p);
      if (info == peers_.end() || !AdvertisedPartial(info->second)) continue;
      group.peers.try_emplace(p);
      targets.push_back(p);
    }
  }
  size_t sent = 0;
  for (const PeerId& p : targets) {
    auto info = peers_.find(p);
    auto view = group.peers.find(p);
    if (info == peers_.end() || view == group.peers.end()) continue;
    const bool requests = RequestsPartial(info->second, topic);
    PartialSend send = action(p, view->second, requests);
    pb::RPC rpc;
    pb::PartialMessagesExtension* partial = rpc.mutable_partial();
    if (requests && !send.parts.empty()) partial->set_partialmessage(std::move(send.parts));
    if (!send.metadata.empty()) partial->set_partsmetadata(std::move(send.metadata));
    if (!partial->has_partialmessage() && !partial->has_partsmetadata()) continue;
    partial->set_topicid(topic);
    partial->set_groupid(group_id);
    if (core_->SendRpc(p, std::move(rpc), SendLane::kPublish)) {
      ++sent;
      ++stats_.partial_sent;
    }
  }
  return sent;
}

void GossipSubRouter::HandlePartial(const PeerId& peer, const GossipPeer& info,
                                    const pb::PartialMessagesExtension& partial) {
  if (!AdvertisedPartial(info) || partial.topicid().empty() || partial.groupid().empty()) {
    ++stats_.partial_dropped;
    return;
  }
  const std::string& topic = partial.topicid();
  // State only for topics where we take part, or groups we published (a fanout publish).
  PartialGroups::Group* group = nullptr;
  if (OurPartialMode(topic).supports) {
    group = partial_->ForPeer(topic, partial.groupid(), peer);
  } else if (PartialGroups::Group* ours = partial_->Find(topic, partial.groupid()); ours != nullptr && ours->ours) {
    group = ours;
  }
  if (group == nullptr) {
    ++stats_.partial_dropped;
    return;
  }
  ++stats_.partial_received;
  options_.partial_messages->handler->OnPartialRpc(peer, partial, group->peers[peer]);
}

void GossipSubRouter::EmitPartialGossip(const std::string& topic, const std::vector<PeerId>& peers) {
  for (const auto& [id, group] : partial_->OurGroups(topic)) {
    std::vector<PeerId> untracked;
    for (const PeerId& p : peers) {
      if (group->peers.try_emplace(p).second) untracked.push_back(p);
    }
    if (!untracked.empty()) options_.partial_messages->handler->OnGossip(topic, *id, untracked);
  }
}

void GossipSubRouter::ReportPartial(const PeerId& peer, const std::string& topic, PartialFeedback feedback) {
  if (!score_) return;
  if (feedback == PartialFeedback::kUseful) {
    score_->UsefulPartial(peer, topic);
  } else {
    score_->InvalidPartial(peer, topic);
  }
}

}  // namespace libp2p::pubsub::gossipsub

#undef GOSSIPSUB_PEER_LOG
