// A hostile peer sends a floodsub node an arbitrary sequence of RPCs decoded from the input, on virtual time.
//
// The network (built afresh for each input, on the in-memory transport): `node` (host + PubSub + floodsub,
// subscribed to "a" and "b", with a validator on "b" rejecting data that starts with 'x', and small limits),
// an honest floodsub node subscribed to "a" and connected to it (so that forwarding runs), and the hostile
// peer: a bare host that dials `node`, opens /floodsub/1.0.0 to it and writes the input's frames.
//
// Input: byte 0 sets how the hostile peer treats the stream `node` opens to it (bit 0: it has a floodsub
// handler at all, else every open fails and what `node` sends it waits and expires; bit 1: the handler
// never reads, so `node`'s writes back up). Then records of [length L][op] + L bytes:
//   op >> 2   virtual time to advance before the record, in 250 ms steps (0..15.75 s);
//   op & 3 == 0  the L bytes are the body of one frame, as they are;
//            1  the L bytes are parsed as an RPC whose messages are made to pass verification: `from` set to
//               one of four peers picked by its first byte (the hostile peer, the honest node, `node` itself,
//               a stranger), an 8-byte seqno, no key, a signature (real when not fuzzing; under
//               LIBP2P_FUZZING signatures are not checked, see message.cc), then framed (raw if unparseable);
//            2  the L bytes are written with no framing (length prefixes of any size, split frames); with
//               L = 0 the hostile peer resets its stream instead;
//            3  the honest node publishes the L bytes on "a".
// If `node` resets the hostile stream (a bad frame), the hostile peer opens another.
//
// Invariants (abort on violation): no crash or sanitizer report; the hostile peer holds at most 8 topics at
// `node`; `node`'s delivered + duplicates + rejected + ignored never exceed the messages it received; what
// `node` queues for the hostile peer stays within the lane caps; after the sequence, 3 minutes of virtual
// time leave nothing queued for any peer and no message id in any seen cache.
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
#include "libp2p/pubsub/floodsub.h"
#include "libp2p/pubsub/message.h"
#include "libp2p/pubsub/pubsub.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"

namespace libp2p::pubsub {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;

constexpr size_t kMaxSubscriptionsPerPeer = 8;
constexpr size_t kMaxControlBytes = 512;
constexpr size_t kMaxDataBytes = 2048;
constexpr size_t kMaxRecords = 32;

void Check(bool ok) {
  if (!ok) abort();
}

Ed25519PrivateKey KeyOf(const std::string& seed) {
  return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed)));
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

// Counts the messages a PubSubPeer receives, before the core sees them.
class MessageCounter : public RpcObserver {
 public:
  void OnReceive(const PeerId&, pb::RPC* rpc) override {
    messages += static_cast<uint64_t>(rpc->publish_size());
  }
  uint64_t messages = 0;
};

// A host with PubSub and floodsub.
struct Node {
  Node(ManualEventLoop* loop, stream::MemoryNetwork* net, const Ed25519PrivateKey* key, PubSubOptions po)
      : transport(net->CreateTransport()) {
    stream::HostOptions ho;
    ho.identity = key;
    host = std::make_unique<stream::Host>(loop, transport.get(), ho);
    Check(host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
    po.identity = key;
    pubsub = std::make_unique<PubSub>(loop, host.get(), std::make_unique<FloodSubRouter>(), po);
  }
  void Join(const std::string& topic) {
    auto handler = [this](const pb::Message&, const std::string& id, const PeerId&) {
      delivered_ids.push_back(id);
    };
    Check(pubsub->Subscribe(topic, handler).ok());
  }
  // Every peer's queue is empty.
  bool Idle() {
    for (const PeerId& p : pubsub->Peers()) {
      if (pubsub->FindPeer(p)->queued_bytes() != 0) return false;
    }
    return true;
  }

  std::unique_ptr<stream::Transport> transport;
  std::unique_ptr<stream::Host> host;
  std::unique_ptr<PubSub> pubsub;
  std::vector<std::string> delivered_ids;
};

class Harness {
 public:
  explicit Harness(uint8_t flags) : flags_(flags) {}

  void Run(const uint8_t* data, size_t size) {
    Setup();
    size_t i = 0;
    for (size_t records = 0; i + 2 <= size && records < kMaxRecords; ++records) {
      const size_t length = std::min<size_t>(data[i], size - i - 2);
      const uint8_t op = data[i + 1];
      const std::string chunk(reinterpret_cast<const char*>(data + i + 2), length);
      i += 2 + length;
      loop_.AdvanceTime(std::chrono::milliseconds(250) * (op >> 2));
      Step(op & 3, chunk);
      loop_.RunUntilIdle();
      CheckInvariants();
    }
    loop_.AdvanceTime(std::chrono::minutes(3));
    CheckInvariants();
    Check(node_->Idle() && honest_->Idle());
    for (Node* n : {node_.get(), honest_.get()}) {
      for (const std::string& id : n->delivered_ids) Check(!n->pubsub->HasSeen(id));
    }
    Teardown();
  }

 private:
  void Setup() {
    const Keys& keys = GetKeys();
    PubSubOptions po;
    po.max_subscriptions_per_peer = kMaxSubscriptionsPerPeer;
    po.seen_max_entries = 64;
    po.peer.max_control_bytes = kMaxControlBytes;
    po.peer.max_data_bytes = kMaxDataBytes;
    po.peer.limits.max_rpc_size = 4096;
    node_ = std::make_unique<Node>(&loop_, &net_, &keys.node, po);
    node_->Join("a");
    node_->Join("b");
    node_->pubsub->AddValidator("b", [](const pb::Message& m, std::function<void(ValidationResult)> done) {
      done(!m.data().empty() && m.data()[0] == 'x' ? ValidationResult::kReject : ValidationResult::kAccept);
    });
    honest_ = std::make_unique<Node>(&loop_, &net_, &keys.honest, PubSubOptions{});
    honest_->Join("a");
    honest_->host->Dial(node_->host->listen_addrs()[0], [](auto) {});

    hostile_transport_ = net_.CreateTransport();
    stream::HostOptions ho;
    ho.identity = &keys.hostile;
    hostile_ = std::make_unique<stream::Host>(&loop_, hostile_transport_.get(), ho);
    if (flags_ & 1) {
      hostile_->SetStreamHandler(std::string(kFloodSubProtocolId),
                                 [this](std::unique_ptr<stream::Stream> s, auto&, auto&) {
                                   s->SetHandlers(stream::Stream::Handlers{[](ByteSpan) {}, {}, {}, {}});
                                   if (flags_ & 2) s->PauseReading(true);
                                   held_.push_back(std::move(s));
                                 });
    }
    hostile_->Dial(node_->host->listen_addrs()[0], [](auto) {});
    loop_.RunUntilIdle();
    Check(node_->host->IsConnected(hostile_->peer_id()) &&
          node_->host->IsConnected(honest_->host->peer_id()));
    OpenHostileStream();
    Check(out_ != nullptr);
  }

  // Opens (again) the hostile peer's floodsub stream to `node`, and counts what `node` receives.
  void OpenHostileStream() {
    out_.reset();
    out_dead_ = false;
    hostile_->NewStream(node_->host->peer_id(), {std::string(kFloodSubProtocolId)},
                        [this](StatusOr<std::unique_ptr<stream::Stream>> s, const std::string&) {
                          if (!s.ok()) return;
                          out_ = std::move(s).value();
                          out_->SetHandlers(stream::Stream::Handlers{
                              [](ByteSpan) {}, {}, [this](const Status&) { out_dead_ = true; }, {}});
                        });
    loop_.RunUntilIdle();
    WatchPeers();
  }

  // Puts a message counter on each of `node`'s peers. (A peer is dropped only when its connection closes,
  // which nothing here does, so a watched address is never reused by a new peer.)
  void WatchPeers() {
    for (const PeerId& p : node_->pubsub->Peers()) {
      PubSubPeer* peer = node_->pubsub->FindPeer(p);
      if (std::find(watched_.begin(), watched_.end(), peer) != watched_.end()) continue;
      watched_.push_back(peer);
      counters_.push_back(std::make_unique<MessageCounter>());
      peer->AddObserver(counters_.back().get());
    }
  }

  void Step(int mode, const std::string& chunk) {
    if (mode == 3) {
      (void)honest_->pubsub->Publish("a", AsBytes(chunk));
      return;
    }
    if (out_ == nullptr || out_dead_) OpenHostileStream();
    if (out_ == nullptr) return;
    std::string wire;
    if (mode == 2 && chunk.empty()) {
      out_->Reset();
      out_dead_ = true;
      return;
    }
    if (mode == 2) {
      wire = chunk;
    } else {
      const std::string body = mode == 1 ? MakePassable(chunk) : chunk;
      AppendUvarint(body.size(), &wire);
      wire += body;
    }
    if (!out_->Write(AsBytes(wire)).ok()) out_dead_ = true;
  }

  // Rewrites the messages of the RPC in `chunk` so that they pass signature checks; unparseable input is
  // left as it is.
  std::string MakePassable(const std::string& chunk) const {
    pb::RPC rpc;
    if (!rpc.ParseFromString(chunk)) return chunk;
    const Keys& keys = GetKeys();
    const Ed25519PrivateKey* authors[] = {&keys.hostile, &keys.honest, &keys.node, &keys.stranger};
    for (pb::Message& m : *rpc.mutable_publish()) {
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
    return rpc.SerializeAsString();
  }

  void CheckInvariants() {
    WatchPeers();
    const PeerId& hostile = hostile_->peer_id();
    Check(node_->pubsub->PeerTopics(hostile).size() <= kMaxSubscriptionsPerPeer);
    uint64_t received = 0;
    for (const auto& c : counters_) received += c->messages;
    const PubSubStats& s = node_->pubsub->stats();
    Check(s.delivered + s.duplicates + s.rejected + s.ignored <= received);
    Check(s.published == 0);
    if (PubSubPeer* p = node_->pubsub->FindPeer(hostile); p != nullptr) {
      Check(p->queued_bytes() <= kMaxControlBytes + kMaxDataBytes);
    }
  }

  void Teardown() {
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

  const uint8_t flags_;
  ManualEventLoop loop_;
  stream::MemoryNetwork net_{&loop_};
  // Outlive the peers they observe.
  std::vector<std::unique_ptr<MessageCounter>> counters_;
  std::vector<PubSubPeer*> watched_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<Node> honest_;
  std::unique_ptr<stream::Transport> hostile_transport_;
  std::unique_ptr<stream::Host> hostile_;
  std::unique_ptr<stream::Stream> out_;
  bool out_dead_ = false;
  std::vector<std::unique_ptr<stream::Stream>> held_;
};

}  // namespace
}  // namespace libp2p::pubsub

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 2048) return 0;  // Small inputs only; at most kMaxRecords records are played.
  // Debug builds of the generated code log every string field that is not UTF-8 (topics are `string`).
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    // Our own logs, every level, are formatted (hostile topics and all) and dropped.
    libp2p::testing::FormattingLogSink::InstallForever();
    return true;
  }();
  (void)quiet;
  libp2p::pubsub::Harness(data[0]).Run(data + 1, size - 1);
  return 0;
}
