// A hostile peer sends a GossipSub node an arbitrary sequence of RPCs decoded from the input, on virtual time.
//
// The network (built afresh for each input, on the in-memory transport): `node` (host + PubSub +
// GossipSubRouter with scoring on "a" and "b", small params, subscribed to "a" and "b", a validator on "b"
// rejecting data that starts with 'x'), an honest gossipsub node subscribed to "a" that dials it, and the
// hostile peer: a bare host that dials `node`, opens /meshsub/1.2.0 to it and writes the input's RPCs.
// Both peers dial `node`, so it has no outbound peer unless peer exchange dials one. Message ids are the
// 8-byte seqno (all three agree), so that inputs can name them in IHAVE/IWANT/IDONTWANT.
//
// Input: records, each starting with a byte L:
//   L & 0x80   advance virtual time by (L & 0x7f) * 40 ms (0..5 s);
//   otherwise  the next L bytes are parsed as an RPC whose messages are made to pass verification (`from`
//              one of four authors picked by its first byte: the hostile peer, the honest node, `node`
//              itself, a stranger; an 8-byte seqno; a signature, real when not fuzzing, dummy under
//              LIBP2P_FUZZING, see message.cc), then written as one frame. Unparseable bytes are skipped.
// If `node` resets the hostile stream, the hostile peer opens another.
//
// Invariants (abort on violation), after every record: each of node's meshes has at most d_hi peers plus
// its outbound peers (HandleGraft admits outbound peers beyond d_hi, as go does; the heartbeat prunes back
// to d and grafts at most d_out outbound and, with more than one member, opportunistic_graft_peers more;
// with d = d_hi = 1 and d_out = 0 those add nothing beyond that); the backoff table within its max_entries();
// at most kMaxPromises promises (the per-peer bound); the hostile peer's IDONTWANT entries within max_idontwant_entries_per_peer; what
// node queues for it within the lane caps; and every count of GossipSubRouter::StateCounts() and
// PubSub::StateCounts() within the bound its field documents (CheckStateBounds). After the sequence, 5 minutes
// of virtual time leave no promise.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/stubs/logging.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/testing/formatting_log_sink.h"
#include "libp2p/base/varint.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/peer_id.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/gossipsub/gossipsub_router.h"
#include "libp2p/pubsub/gossipsub/params.h"
#include "libp2p/pubsub/gossipsub/peer_score.h"
#include "libp2p/pubsub/message.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub::gossipsub {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;

constexpr size_t kMaxControlBytes = 4096;
constexpr size_t kMaxDataBytes = 8192;
constexpr size_t kMaxRecords = 64;
constexpr size_t kMaxSubscriptionsPerPeer = 8;
constexpr size_t kSeenMaxEntries = 64;
// The router's per-peer bound on promises (max_ihave_messages times the heartbeats iwant_followup_time spans,
// plus 2: see GossipSubRouter::Attach), for the two peers that can send IHAVEs (the honest and the hostile).
constexpr size_t kMaxPromises = 2 * 3 * (1 + 2);

void Check(bool ok) {
  if (!ok) abort();
}

Ed25519PrivateKey KeyOf(const std::string& seed) {
  return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("gsf-" + seed)));
}

// Made once: key derivation is not what is being fuzzed.
struct Keys {
  Ed25519PrivateKey node = KeyOf("node");
  Ed25519PrivateKey honest = KeyOf("honest");
  Ed25519PrivateKey hostile = KeyOf("hostile");
  Ed25519PrivateKey stranger = KeyOf("stranger");
};
const Keys& GetKeys() {
  static const Keys* keys = new Keys();
  return *keys;
}

std::string SeqnoId(const pb::Message& m) { return m.seqno(); }

GossipSubParams SmallParams() {
  GossipSubParams p;
  p.d = 1;
  p.d_lo = 1;
  p.d_hi = 1;
  p.d_out = 0;
  p.d_score = 0;
  p.d_lazy = 1;
  p.mcache_len = 3;
  p.mcache_gossip = 2;
  p.gossip_retransmission = 2;
  p.prune_backoff = std::chrono::seconds(10);
  p.unsubscribe_backoff = std::chrono::seconds(2);
  p.opportunistic_graft_ticks = 3;
  p.iwant_followup_time = std::chrono::seconds(1);
  p.max_ihave_length = 20;
  p.max_ihave_messages = 3;
  p.idontwant_message_size_threshold = 16;
  p.max_idontwant_messages = 4;
  p.max_idontwant_entries_per_peer = 8;
  return p;
}

// The application's side of partial messages: it records what the peer says it has, and answers every RPC
// with a publish of the group (parts to requesting peers), as applications do.
class EchoPartials final : public PartialMessagesHandler {
 public:
  void OnPartialRpc(const PeerId&, const pb::PartialMessagesExtension& rpc, PartialPeerView& view) override {
    view.peer_has = rpc.partsmetadata().substr(0, 8);
    if (router != nullptr) {
      (void)router->PublishPartial(rpc.topicid(), rpc.groupid(), [](const PeerId&, PartialPeerView&, bool requests) {
        return PartialSend{requests ? "part" : "", "meta"};
      });
    }
  }
  void OnGossip(const std::string&, const std::string&, const std::vector<PeerId>&) override {}
  GossipSubRouter* router = nullptr;
};

EchoPartials echo_partials;

GossipSubOptions NodeOptions() {
  GossipSubOptions go;
  go.params = SmallParams();
  go.seed = 1;
  // Partial messages on "a" (the hostile peer may advertise the extension and send partial RPCs).
  go.partial_messages = PartialMessagesOptions{};
  go.partial_messages->handler = &echo_partials;
  go.partial_topics["a"] = PartialTopicMode{true, true};
  PeerScoreParams sp;
  TopicScoreParams a;
  a.topic_weight = 1;
  a.mesh_message_deliveries_threshold = 1;
  a.mesh_message_deliveries_cap = 10;
  a.mesh_message_deliveries_activation = std::chrono::seconds(2);
  sp.topics["a"] = a;
  TopicScoreParams b;
  b.topic_weight = 1;
  b.mesh_message_deliveries_weight = 0;
  b.mesh_failure_penalty_weight = 0;
  sp.topics["b"] = b;
  go.score_params = sp;
  go.thresholds.accept_px_threshold = 1;
  go.thresholds.opportunistic_graft_threshold = 1;
  return go;
}

// A host with PubSub and a GossipSubRouter.
struct Node {
  Node(ManualEventLoop* loop, stream::MemoryNetwork* net, const Ed25519PrivateKey* key, PubSubOptions po,
       GossipSubOptions go)
      : transport(net->CreateTransport()) {
    stream::HostOptions ho;
    ho.identity = key;
    host = std::make_unique<stream::Host>(loop, transport.get(), ho);
    Check(host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
    po.identity = key;
    po.message_id = SeqnoId;
    auto r = *GossipSubRouter::Create(std::move(go));
    router = r.get();
    pubsub = std::make_unique<PubSub>(loop, host.get(), std::move(r), po);
  }
  void Join(const std::string& topic) {
    Check(pubsub->Subscribe(topic, [](const pb::Message&, const std::string&, const PeerId&) {}).ok());
  }

  std::unique_ptr<stream::Transport> transport;
  std::unique_ptr<stream::Host> host;
  GossipSubRouter* router = nullptr;
  std::unique_ptr<PubSub> pubsub;
};

class Harness {
 public:
  void Run(const uint8_t* data, size_t size) {
    Setup();
    size_t i = 0;
    for (size_t records = 0; i < size && records < kMaxRecords; ++records) {
      const uint8_t l = data[i++];
      if (l & 0x80) {
        loop_.AdvanceTime(std::chrono::milliseconds(40) * (l & 0x7f));
      } else {
        const size_t length = std::min<size_t>(l, size - i);
        Send(std::string(reinterpret_cast<const char*>(data + i), length));
        i += length;
      }
      loop_.RunUntilIdle();
      CheckInvariants();
    }
    loop_.AdvanceTime(std::chrono::minutes(5));
    CheckInvariants();
    Check(node_->router->promise_count() == 0);
    Teardown();
  }

 private:
  void Setup() {
    const Keys& keys = GetKeys();
    PubSubOptions po;
    po.max_subscriptions_per_peer = kMaxSubscriptionsPerPeer;
    po.seen_max_entries = kSeenMaxEntries;
    po.peer.max_control_bytes = kMaxControlBytes;
    po.peer.max_data_bytes = kMaxDataBytes;
    po.peer.limits.max_rpc_size = 4096;
    node_ = std::make_unique<Node>(&loop_, &net_, &keys.node, po, NodeOptions());
    echo_partials.router = node_->router;
    node_->Join("a");
    node_->Join("b");
    node_->pubsub->AddValidator("b", [](const pb::Message& m, std::function<void(ValidationResult)> done) {
      done(!m.data().empty() && m.data()[0] == 'x' ? ValidationResult::kReject : ValidationResult::kAccept);
    });
    GossipSubOptions honest_go;
    honest_go.params = SmallParams();
    honest_go.seed = 2;
    honest_ = std::make_unique<Node>(&loop_, &net_, &keys.honest, PubSubOptions{}, honest_go);
    honest_->Join("a");
    honest_->host->Dial(node_->host->listen_addrs()[0], [](auto) {});

    hostile_transport_ = net_.CreateTransport();
    stream::HostOptions ho;
    ho.identity = &keys.hostile;
    hostile_ = std::make_unique<stream::Host>(&loop_, hostile_transport_.get(), ho);
    hostile_->SetStreamHandler(std::string(kMeshSubV12), [this](std::unique_ptr<stream::Stream> s, auto&, auto&) {
      s->SetHandlers(stream::Stream::Handlers{[](ByteSpan) {}, {}, {}, {}});
      held_.push_back(std::move(s));
    });
    hostile_->Dial(node_->host->listen_addrs()[0], [](auto) {});
    loop_.RunUntilIdle();
    Check(node_->host->IsConnected(hostile_->peer_id()) && node_->host->IsConnected(honest_->host->peer_id()));
    OpenHostileStream();
    Check(out_ != nullptr);
  }

  void OpenHostileStream() {
    out_.reset();
    out_dead_ = false;
    hostile_->NewStream(node_->host->peer_id(), {std::string(kMeshSubV12)},
                        [this](StatusOr<std::unique_ptr<stream::Stream>> s, const std::string&) {
                          if (!s.ok()) return;
                          out_ = std::move(s).value();
                          out_->SetHandlers(stream::Stream::Handlers{
                              [](ByteSpan) {}, {}, [this](const Status&) { out_dead_ = true; }, {}});
                        });
    loop_.RunUntilIdle();
  }

  void Send(const std::string& chunk) {
    pb::RPC rpc;
    if (!rpc.ParseFromString(chunk)) return;
    MakePassable(&rpc);
    if (out_ == nullptr || out_dead_) OpenHostileStream();
    if (out_ == nullptr) return;
    const std::string body = rpc.SerializeAsString();
    std::string wire;
    AppendUvarint(body.size(), &wire);
    wire += body;
    if (!out_->Write(AsBytes(wire)).ok()) out_dead_ = true;
  }

  static void MakePassable(pb::RPC* rpc) {
    const Keys& keys = GetKeys();
    const Ed25519PrivateKey* authors[] = {&keys.hostile, &keys.honest, &keys.node, &keys.stranger};
    for (pb::Message& m : *rpc->mutable_publish()) {
      const Ed25519PrivateKey* author = authors[m.from().empty() ? 0 : static_cast<uint8_t>(m.from()[0]) % 4];
      m.set_from(std::string(AsStringView(PeerId::FromPublicKey(author->public_key()).bytes())));
      std::string seqno = m.seqno();
      seqno.resize(kSeqnoSize);
      m.set_seqno(seqno);
      m.clear_key();
#ifdef LIBP2P_FUZZING
      m.set_signature(std::string(64, 's'));  // Not checked in a fuzzing build; signing would only slow it.
#else
      const Bytes sig = author->Sign(AsBytes(SigningBytes(m)));
      m.set_signature(std::string(sig.begin(), sig.end()));
#endif
    }
  }

  void CheckInvariants() {
    GossipSubRouter* r = node_->router;
    const GossipSubParams p = SmallParams();
    size_t outbound = 0;
    for (const PeerId& peer : node_->pubsub->Peers()) outbound += node_->host->IsOutbound(peer);
    for (const char* topic : {"a", "b"}) Check(r->Mesh(topic).size() <= static_cast<size_t>(p.d_hi) + outbound);
    Check(r->backoff().size() <= r->backoff().max_entries());
    Check(r->promise_count() <= kMaxPromises);
    const PeerId& hostile = hostile_->peer_id();
    Check(r->dont_send_entries(hostile) <= static_cast<size_t>(p.max_idontwant_entries_per_peer));
    if (PubSubPeer* peer = node_->pubsub->FindPeer(hostile); peer != nullptr) {
      Check(peer->queued_bytes() <= kMaxControlBytes + kMaxDataBytes);
    }
    CheckStateBounds();
  }

  // Every collection of the router and the core within the bound GossipSubStateCounts and PubSubStateCounts
  // document, for this network: two peers (honest, hostile) plus any that peer exchange dialed, two topics.
  void CheckStateBounds() {
    GossipSubRouter* r = node_->router;
    const GossipSubParams p = SmallParams();
    const GossipSubStateCounts c = r->StateCounts();
    const PubSubStateCounts core = node_->pubsub->StateCounts();
    const size_t known_peers = 2 + r->stats().px_dials;  // Peers the node ever had.
    const size_t topics = node_->pubsub->topics().size();
    size_t outbound = 0;
    for (const PeerId& peer : node_->pubsub->Peers()) outbound += node_->host->IsOutbound(peer);
    // Peers: the router mirrors the core.
    Check(c.peers == core.peers && core.peers <= known_peers);
    // Meshes: only our topics, each within d_hi plus the outbound peers.
    Check(c.mesh_topics <= topics);
    Check(c.mesh_members <= c.mesh_topics * (static_cast<size_t>(p.d_hi) + outbound));
    // Subscriptions: topic_peers_ mirrors the core's peer topics, max_subscriptions_per_peer each.
    Check(c.topic_peers_members == core.peer_topics);
    Check(c.topic_peers_topics <= c.topic_peers_members);
    Check(core.peer_topics <= core.peers * kMaxSubscriptionsPerPeer);
    Check(core.peer_topic_bytes <= core.peers * PubSubOptions{}.max_subscription_bytes_per_peer);
    // Fanout: only our own publishing (none here) makes any.
    Check(c.fanout_topics == 0 && c.fanout_members == 0 && c.fanout_last_publish == 0);
    // Backoff: one entry per (peer, topic of ours) at most.
    Check(c.backoff_entries <= known_peers * topics && c.backoff_entries <= r->backoff().max_entries());
    Check(c.mcache_bytes <= MessageCache::kDefaultMaxBytes);
    // Promises: the per-peer cap (and the harness's own constant agrees with it).
    Check(c.promises <= c.peers * c.promises_per_peer_cap && c.promises_per_peer_cap * 2 == kMaxPromises);
    Check(c.dont_send_entries <= c.peers * static_cast<size_t>(p.max_idontwant_entries_per_peer));
    // IDONTWANTs are flushed when the loop comes back: nothing waits between records.
    Check(c.idontwant_batch_peers == 0 && c.idontwant_batch_ids == 0);
    Check(c.protected_entries <= known_peers * topics);
    Check(c.score_peers <= known_peers && c.score_ips <= c.score_peers);
    Check(c.score_delivery_records <= DeliveryRecordLimits{}.max_records);
    const PxConnectorOptions px;
    Check(c.px_pending <= px.max_pending && c.px_dialing <= px.max_dialing);
    // The peer gater: one entry per peer, a source per peer at most (all from 127.0.0.x here); mesh events
    // are handed out when the loop comes back.
    Check(c.gater_peers == c.peers && c.gater_sources <= known_peers);
    Check(c.mesh_events == 0);
    // Partial messages: groups peers create only on "a", within the caps; a view per group and known peer;
    // flags only for the peers' subscriptions.
    const PartialMessagesOptions pm;
    Check(r->partial_groups()->peer_initiated("b") == 0);
    Check(c.partial_groups <= pm.peer_initiated_groups_per_topic);
    Check(r->partial_groups()->peer_initiated("a") <= known_peers * pm.peer_initiated_groups_per_topic_per_peer);
    Check(c.partial_views <= c.partial_groups * known_peers);
    Check(c.partial_peer_topics <= core.peer_topics);
    // The core: seen ids, validations and send lanes within their options.
    Check(core.seen_entries <= kSeenMaxEntries);
    Check(core.pending_validations <= PubSubOptions{}.max_pending_validations);
    Check(core.pending_validation_topics <= core.pending_validations);
    Check(core.pending_validation_bytes <= PubSubOptions{}.max_pending_validation_bytes);
    Check(core.send_bytes <= core.peers * (kMaxControlBytes + kMaxDataBytes));
    Check(core.send_bytes <= PubSubOptions{}.max_send_bytes);
  }

  void Teardown() {
    echo_partials.router = nullptr;
    // Streams first, then each core before its host, then the hosts; the loop and network go last.
    out_.reset();
    held_.clear();
    node_->pubsub.reset();
    honest_->pubsub.reset();
    hostile_.reset();
    node_.reset();
    honest_.reset();
    loop_.RunUntilIdle();
  }

  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
  std::unique_ptr<Node> node_;
  std::unique_ptr<Node> honest_;
  std::unique_ptr<stream::Transport> hostile_transport_;
  std::unique_ptr<stream::Host> hostile_;
  std::unique_ptr<stream::Stream> out_;
  bool out_dead_ = false;
  std::vector<std::unique_ptr<stream::Stream>> held_;
};

}  // namespace
}  // namespace libp2p::pubsub::gossipsub

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 4096) return 0;
  // Debug builds of the generated code log every string field that is not UTF-8 (topics are `string`).
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    // Our own logs, every level, are formatted (hostile topics and all) and dropped.
    libp2p::testing::FormattingLogSink::InstallForever();
    return true;
  }();
  (void)quiet;
  libp2p::pubsub::gossipsub::Harness().Run(data, size);
  return 0;
}
