#include "libp2p/pubsub/gossipsub/testing/scenario.h"

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

void Node::Join(const std::string& topic) {
  ASSERT_TRUE(pubsub->Subscribe(topic, [this](const pb::Message& m, const std::string&, const PeerId&) {
    received.push_back(m.data());
  }).ok());
}

RawPeer::RawPeer(ManualEventLoop* loop, stream::MemoryNetwork* net, const std::string& seed, std::string proto,
                 const std::string& ip)
    : loop(loop), key(KeyOf(seed)), transport(net->CreateTransport(ip)), protocol(std::move(proto)) {
  stream::HostOptions ho;
  ho.identity = &key;
  host = std::make_unique<stream::Host>(loop, transport.get(), ho);
  host->SetStreamHandler(protocol, [this](std::unique_ptr<stream::Stream> s, auto&, auto&) {
    if (never_read) {
      s->PauseReading(true);
    } else {
      auto buffer = std::make_shared<Bytes>();
      s->SetHandlers(stream::Stream::Handlers{[this, buffer](ByteSpan d) {
                                                buffer->insert(buffer->end(), d.begin(), d.end());
                                                Drain(buffer.get());
                                              },
                                              {}, {}, {}});
    }
    inbound.push_back(std::move(s));
  });
}

RawPeer::~RawPeer() {
  out.reset();
  inbound.clear();
}

void RawPeer::ConnectTo(stream::Host& node) {
  host->Dial(node.listen_addrs()[0], [](auto) {});
  loop->RunUntilIdle();
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

size_t RawPeer::IWantIdsReceived() const {
  size_t n = 0;
  for (const pb::RPC& r : received) {
    for (const auto& w : r.control().iwant()) n += static_cast<size_t>(w.messageids_size());
  }
  return n;
}

size_t RawPeer::MessagesReceived() const {
  size_t n = 0;
  for (const pb::RPC& r : received) n += static_cast<size_t>(r.publish_size());
  return n;
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
