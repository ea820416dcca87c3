#include "libp2p/pubsub/gossipsub/testing/scenario.h"

#include <algorithm>
#include <set>
#include <utility>

#include "gtest/gtest.h"
#include "libp2p/base/varint.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/pubsub/gossipsub/peer_score.h"

namespace libp2p::pubsub::gossipsub {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;

Ed25519PrivateKey KeyOf(const std::string& seed) {
  return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes("gss-" + seed)));
}

std::string IdBytes(const PeerId& id) { return std::string(AsStringView(id.bytes())); }

pb::RPC SubscriptionRpc(const std::vector<std::string>& topics, bool subscribe) {
  pb::RPC rpc;
  for (const std::string& t : topics) {
    auto* s = rpc.add_subscriptions();
    s->set_subscribe(subscribe);
    s->set_topicid(t);
  }
  return rpc;
}

pb::RPC JoinRpc(const std::string& topic) {
  pb::RPC rpc = SubscriptionRpc({topic});
  rpc.mutable_control()->add_graft()->set_topicid(topic);
  return rpc;
}

pb::RPC IHaveRpc(const std::string& topic, const std::vector<std::string>& ids) {
  pb::RPC rpc;
  auto* ihave = rpc.mutable_control()->add_ihave();
  ihave->set_topicid(topic);
  for (const std::string& id : ids) ihave->add_messageids(id);
  return rpc;
}

pb::RPC IWantRpc(const std::vector<std::string>& ids) {
  pb::RPC rpc;
  auto* iwant = rpc.mutable_control()->add_iwant();
  for (const std::string& id : ids) iwant->add_messageids(id);
  return rpc;
}

pb::RPC IDontWantRpc(const std::vector<std::string>& ids) {
  pb::RPC rpc;
  auto* idw = rpc.mutable_control()->add_idontwant();
  for (const std::string& id : ids) idw->add_messageids(id);
  return rpc;
}

pb::RPC PruneRpc(const std::string& topic, uint64_t backoff_seconds) {
  pb::RPC rpc;
  auto* prune = rpc.mutable_control()->add_prune();
  prune->set_topicid(topic);
  prune->set_backoff(backoff_seconds);
  return rpc;
}

pb::RPC PublishRpc(const pb::Message& m) {
  pb::RPC rpc;
  *rpc.add_publish() = m;
  return rpc;
}

pb::Message SignedMessage(const Ed25519PrivateKey& author, const std::string& topic, const std::string& data,
                          uint64_t seqno) {
  pb::Message m;
  m.set_topic(topic);
  m.set_data(data);
  SignMessage(author, seqno, SignPolicy::kStrictSign, &m);
  return m;
}

GossipSubOptions ScoredOptions(const std::string& topic) {
  GossipSubOptions go;
  PeerScoreParams sp;
  TopicScoreParams tp;
  tp.topic_weight = 1;
  tp.time_in_mesh_weight = 0.01;
  tp.mesh_message_deliveries_weight = 0;
  tp.mesh_failure_penalty_weight = 0;
  tp.invalid_message_deliveries_weight = -10;
  sp.topics[topic] = tp;
  sp.behaviour_penalty_weight = -10;
  sp.behaviour_penalty_decay = 0.9;  // Slow, so the penalty is still visible a few heartbeats later.
  EXPECT_TRUE(sp.Validate().ok());
  go.score_params = sp;
  return go;
}

Node::Node(ManualEventLoop* loop, stream::MemoryNetwork* net, int n, GossipSubOptions go, PubSubOptions po,
           const std::string& ip)
    : key(KeyOf(std::to_string(n))), transport(net->CreateTransport(ip)) {
  stream::HostOptions ho;
  ho.identity = &key;
  host = std::make_unique<stream::Host>(loop, transport.get(), ho);
  EXPECT_TRUE(host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
  po.identity = &key;
  go.seed = static_cast<uint64_t>(n);
  auto r = *GossipSubRouter::Create(go);
  router = r.get();
  pubsub = std::make_unique<PubSub>(loop, host.get(), std::move(r), po);
}

Node::~Node() { pubsub.reset(); }

size_t Node::OutboundInMesh(const std::string& topic) const {
  const PeerSet& mesh = router->Mesh(topic);
  return static_cast<size_t>(
      std::count_if(mesh.begin(), mesh.end(), [&](const PeerId& p) { return router->IsOutbound(p); }));
}

void Node::Join(const std::string& topic) {
  ASSERT_TRUE(pubsub->Subscribe(topic, [this](const pb::Message& m, const std::string&, const PeerId&) {
    received.push_back(m.data());
  }).ok());
}

size_t Delivered(const std::vector<std::unique_ptr<Node>>& nodes, const std::string& data) {
  size_t n = 0;
  for (const auto& node : nodes) {
    n += static_cast<size_t>(std::count(node->received.begin(), node->received.end(), data));
  }
  return n;
}

RawPeer::RawPeer(ManualEventLoop* loop, stream::MemoryNetwork* net, const std::string& seed, std::string proto,
                 const std::string& ip)
    : loop(loop), seed(seed), key(KeyOf(seed)), transport(net->CreateTransport(ip)), protocol(std::move(proto)) {
  stream::HostOptions ho;
  ho.identity = &key;
  host = std::make_unique<stream::Host>(loop, transport.get(), ho);
  host->SetStreamHandler(protocol, [this](std::unique_ptr<stream::Stream> s, auto&, auto&) {
    if (never_read) s->PauseReading(true);
    auto buffer = std::make_shared<Bytes>();
    s->SetHandlers(stream::Stream::Handlers{[this, buffer](ByteSpan d) {
                                              buffer->insert(buffer->end(), d.begin(), d.end());
                                              Drain(buffer.get());
                                            },
                                            {}, {}, {}});
    inbound.push_back(std::move(s));
  });
}

RawPeer::~RawPeer() {
  out.reset();
  inbound.clear();
}

void RawPeer::Listen() {
  if (!host->listen_addrs().empty()) return;
  EXPECT_TRUE(host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
}

void RawPeer::ConnectTo(stream::Host& node) {
  host->Dial(node.listen_addrs()[0], [](auto) {});
  loop->RunUntilIdle();
  OpenStream(node);
}

void RawPeer::AcceptFrom(Node& node) {
  Listen();
  node.host->Dial(host->listen_addrs()[0], [](auto) {});
  loop->RunUntilIdle();
  OpenStream(*node.host);
}

void RawPeer::OpenStream(stream::Host& node) {
  out.reset();
  out_failed = false;
  host->NewStream(node.peer_id(), {protocol}, [this](StatusOr<std::unique_ptr<stream::Stream>> s, const std::string&) {
    ASSERT_TRUE(s.ok());
    out = std::move(s).value();
    out->SetHandlers(stream::Stream::Handlers{[](ByteSpan) {}, {}, [this](const Status&) { out_failed = true; }, {}});
  });
  loop->RunUntilIdle();
  ASSERT_NE(out, nullptr);
}

void RawPeer::DisconnectFrom(stream::Host& node) {
  out.reset();
  inbound.clear();
  host->Disconnect(node.peer_id());
  loop->RunUntilIdle();
}

void RawPeer::Send(const pb::RPC& rpc) { SendEncoded(rpc.SerializeAsString()); }

void RawPeer::SendEncoded(const std::string& encoded) {
  std::string frame;
  AppendUvarint(encoded.size(), &frame);
  frame += encoded;
  SendRaw(frame);
}

void RawPeer::SendRaw(const std::string& bytes) {
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Write(AsBytes(bytes)).ok());
  loop->RunUntilIdle();
}

void RawPeer::Drain(Bytes* buffer) {
  while (true) {
    const UvarintDecode len = DecodeUvarint(*buffer);
    if (len.error != UvarintError::kNone || buffer->size() < len.length + len.value) return;
    pb::RPC rpc;
    EXPECT_TRUE(rpc.ParseFromArray(buffer->data() + len.length, static_cast<int>(len.value)));
    received.push_back(std::move(rpc));
    buffer->erase(buffer->begin(), buffer->begin() + static_cast<std::ptrdiff_t>(len.length + len.value));
  }
}

void RawPeer::PauseReading(bool pause) {
  never_read = pause;
  for (auto& s : inbound) s->PauseReading(pause);
}

std::vector<std::string> RawPeer::Messages() const {
  std::vector<std::string> data;
  for (const pb::RPC& r : received) {
    for (const pb::Message& m : r.publish()) data.push_back(m.data());
  }
  return data;
}

std::vector<std::string> RawPeer::IHaveIds(const std::string& topic) const {
  std::vector<std::string> ids;
  for (const pb::RPC& r : received) {
    for (const auto& ih : r.control().ihave()) {
      if (ih.topicid() == topic) ids.insert(ids.end(), ih.messageids().begin(), ih.messageids().end());
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> RawPeer::IWantIds() const {
  std::vector<std::string> ids;
  for (const pb::RPC& r : received) {
    for (const auto& iw : r.control().iwant()) ids.insert(ids.end(), iw.messageids().begin(), iw.messageids().end());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

size_t RawPeer::IWantRpcs() const {
  return static_cast<size_t>(
      std::count_if(received.begin(), received.end(), [](const pb::RPC& r) { return r.control().iwant_size() > 0; }));
}

size_t RawPeer::Grafts(const std::string& topic) const {
  size_t n = 0;
  for (const pb::RPC& r : received) {
    for (const auto& g : r.control().graft()) n += g.topicid() == topic;
  }
  return n;
}

std::vector<pb::ControlPrune> RawPeer::Prunes(const std::string& topic) const {
  std::vector<pb::ControlPrune> prunes;
  for (const pb::RPC& r : received) {
    for (const auto& p : r.control().prune()) {
      if (p.topicid() == topic) prunes.push_back(p);
    }
  }
  return prunes;
}

size_t RawPeer::GraftsReceived() const {
  size_t n = 0;
  for (const pb::RPC& r : received) n += static_cast<size_t>(r.control().graft_size());
  return n;
}

size_t RawPeer::PrunesReceived() const {
  size_t n = 0;
  for (const pb::RPC& r : received) n += static_cast<size_t>(r.control().prune_size());
  return n;
}

}  // namespace libp2p::pubsub::gossipsub
