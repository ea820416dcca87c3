#include "libp2p/stream/host.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/peer_record.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/base/libevent_loop.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/tcp_transport.h"
#include "libp2p/stream/test_util.h"

namespace libp2p::stream {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::seconds;

Ed25519PrivateKey KeyOf(std::string_view seed) { return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed))); }

// A host on the shared in-memory network, recording its events.
struct TestHost {
  TestHost(ManualEventLoop* loop, MemoryNetwork* network, std::string_view seed, std::vector<std::string> muxers)
      : key(KeyOf(seed)), transport(network->CreateTransport()) {
    HostOptions options;
    options.identity = &key;
    options.muxers = std::move(muxers);
    host = std::make_unique<Host>(loop, transport.get(), options);
    host->AddEvents(Host::Events{[this](const ConnectionInfo& c) { connected.push_back(c); },
                                 [this](const PeerId& p, const IdentifyInfo& i) { identified.emplace_back(p, i); },
                                 [this](const ConnectionInfo& c, const Status&) { disconnected.push_back(c); }});
    EXPECT_TRUE(host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
  }
  Multiaddr Addr() const {
    return *Multiaddr::FromString(host->listen_addrs()[0].ToString() + "/p2p/" + host->peer_id().ToBase58());
  }

  Ed25519PrivateKey key;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<Host> host;
  std::vector<ConnectionInfo> connected, disconnected;
  std::vector<std::pair<PeerId, IdentifyInfo>> identified;
};

class HostTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Lets the network deliver what is in flight (every delivery takes 2 ms).
  void Settle() { loop_.AdvanceTime(std::chrono::seconds(1)); }

  ManualEventLoop loop_;
  MemoryNetwork network_{&loop_, WriteLimits{}, std::chrono::milliseconds(2)};
  TestHost a_{&loop_, &network_, "a", {GetParam()}};
  TestHost b_{&loop_, &network_, "b", {GetParam()}};
};

TEST_P(HostTest, DialUpgradesAndIdentifiesBothWays) {
  StatusOr<PeerId> dialed = CancelledError("unset");
  a_.host->Dial(b_.Addr(), [&](StatusOr<PeerId> p) { dialed = std::move(p); });
  Settle();
  ASSERT_TRUE(dialed.ok()) << dialed.status().ToString();
  EXPECT_TRUE(*dialed == b_.host->peer_id());
  ASSERT_EQ(a_.connected.size(), 1u);
  ASSERT_EQ(b_.connected.size(), 1u);
  EXPECT_FALSE(a_.connected[0].inbound);
  EXPECT_TRUE(b_.connected[0].inbound);
  EXPECT_EQ(a_.connected[0].muxer, GetParam());
  EXPECT_EQ(a_.connected[0].security, "/noise");
  ASSERT_EQ(a_.identified.size(), 1u);
  ASSERT_EQ(b_.identified.size(), 1u);
  const IdentifyInfo& info = a_.identified[0].second;
  EXPECT_EQ(info.agent_version, "libp2p-pubsub-cpp/" + std::string(kVersion));
  EXPECT_NE(std::find(info.protocols.begin(), info.protocols.end(), "/ipfs/ping/1.0.0"), info.protocols.end());
  EXPECT_NE(std::find(info.protocols.begin(), info.protocols.end(), "/ipfs/id/1.0.0"), info.protocols.end());
  const PeerStoreEntry* stored = a_.host->peer_store().Find(b_.host->peer_id());
  ASSERT_NE(stored, nullptr);
  EXPECT_TRUE(stored->identified);
  EXPECT_TRUE(stored->public_key.has_value());
}

TEST_P(HostTest, IdentifyCarriesSignedPeerRecordKeptInPeerStore) {
  a_.host->Dial(b_.Addr(), [](StatusOr<PeerId>) {});
  Settle();
  ASSERT_EQ(a_.identified.size(), 1u);
  const PeerStoreEntry* stored = a_.host->peer_store().Find(b_.host->peer_id());
  ASSERT_NE(stored, nullptr);
  ASSERT_FALSE(stored->signed_peer_record.empty());
  StatusOr<crypto::PeerRecord> record = crypto::OpenSignedPeerRecord(stored->signed_peer_record);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_TRUE(record->peer_id == b_.host->peer_id());
  EXPECT_EQ(record->addresses, b_.host->listen_addrs());
  EXPECT_EQ(record->seq, stored->peer_record_seq);

  // A second listener re-signs with a higher seq; the push that a new handler triggers carries it.
  const uint64_t first_seq = stored->peer_record_seq;
  ASSERT_TRUE(b_.host->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
  b_.host->SetStreamHandler("/test/1.0.0", [](std::unique_ptr<Stream>, const PeerId&, const std::string&) {});
  Settle();
  stored = a_.host->peer_store().Find(b_.host->peer_id());
  ASSERT_NE(stored, nullptr);
  EXPECT_GT(stored->peer_record_seq, first_seq);
  record = crypto::OpenSignedPeerRecord(stored->signed_peer_record);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->addresses.size(), 2u);
}

TEST_P(HostTest, PingBothWays) {
  a_.host->Dial(b_.Addr(), [](auto) {});
  Settle();
  StatusOr<Duration> ab = CancelledError("unset"), ba = CancelledError("unset");
  a_.host->Ping(b_.host->peer_id(), [&](StatusOr<Duration> r) { ab = r; });
  b_.host->Ping(a_.host->peer_id(), [&](StatusOr<Duration> r) { ba = r; });
  Settle();
  EXPECT_TRUE(ab.ok()) << ab.status().ToString();
  EXPECT_TRUE(ba.ok()) << ba.status().ToString();
}

TEST_P(HostTest, ProtocolHandlersAndNegotiatedStreams) {
  std::string received;
  std::unique_ptr<Stream> server_side;
  b_.host->SetStreamHandler("/echo/1.0.0", [&](std::unique_ptr<Stream> s, const PeerId& peer, const std::string& p) {
    EXPECT_TRUE(peer == a_.host->peer_id());
    EXPECT_EQ(p, "/echo/1.0.0");
    server_side = std::move(s);
    server_side->SetHandlers(Stream::Handlers{[&](ByteSpan d) { received += ToString(d); }, {}, {}, {}});
  });
  a_.host->Dial(b_.Addr(), [](auto) {});
  Settle();
  std::unique_ptr<Stream> client_side;
  std::string negotiated;
  a_.host->NewStream(b_.host->peer_id(), {"/nope/1.0.0", "/echo/1.0.0"},
                     [&](StatusOr<std::unique_ptr<Stream>> s, const std::string& p) {
                       ASSERT_TRUE(s.ok()) << s.status().ToString();
                       client_side = std::move(s).value();
                       negotiated = p;
                     });
  Settle();
  ASSERT_NE(client_side, nullptr);
  EXPECT_EQ(negotiated, "/echo/1.0.0");
  ASSERT_TRUE(client_side->Write(AsBytes("hello")).ok());
  Settle();
  EXPECT_EQ(received, "hello");
  // Unknown protocols fail cleanly.
  Status unknown = OkStatus();
  a_.host->NewStream(b_.host->peer_id(), {"/missing/1.0.0"},
                     [&](StatusOr<std::unique_ptr<Stream>> s, const std::string&) { unknown = s.status(); });
  Settle();
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
}

TEST_P(HostTest, NewHandlerIsPushedToConnectedPeers) {
  a_.host->Dial(b_.Addr(), [](auto) {});
  Settle();
  ASSERT_EQ(a_.identified.size(), 1u);
  b_.host->SetStreamHandler("/meshsub/1.1.0", [](auto, auto&, auto&) {});
  Settle();
  ASSERT_EQ(a_.identified.size(), 2u);
  const auto& protocols = a_.identified[1].second.protocols;
  EXPECT_NE(std::find(protocols.begin(), protocols.end(), "/meshsub/1.1.0"), protocols.end());
}

TEST_P(HostTest, WrongPeerIdIsRefused) {
  const Multiaddr wrong = *Multiaddr::FromString(b_.host->listen_addrs()[0].ToString() + "/p2p/" +
                                                 PeerId::FromPublicKey(KeyOf("c").public_key()).ToBase58());
  StatusOr<PeerId> dialed = CancelledError("unset");
  a_.host->Dial(wrong, [&](StatusOr<PeerId> p) { dialed = std::move(p); });
  Settle();
  EXPECT_EQ(dialed.status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(a_.connected.empty());
}

TEST_P(HostTest, DisconnectAndRemoteVanishing) {
  a_.host->Dial(b_.Addr(), [](auto) {});
  Settle();
  a_.host->Disconnect(b_.host->peer_id());
  Settle();
  EXPECT_EQ(a_.disconnected.size(), 1u);
  EXPECT_EQ(b_.disconnected.size(), 1u);
  EXPECT_FALSE(b_.host->IsConnected(a_.host->peer_id()));
  // Reconnect, then b vanishes entirely.
  a_.host->Dial(b_.Addr(), [](auto) {});
  Settle();
  ASSERT_TRUE(a_.host->IsConnected(b_.host->peer_id()));
  b_.host.reset();
  Settle();
  EXPECT_FALSE(a_.host->IsConnected(PeerId::FromPublicKey(b_.key.public_key())));
  EXPECT_EQ(a_.disconnected.size(), 2u);
}

// Both sides dial at once: both connections stay (as go and rust keep them), and streams work.
TEST_P(HostTest, SimultaneousDialsKeepBothConnections) {
  a_.host->Dial(b_.Addr(), [](auto) {});
  b_.host->Dial(a_.Addr(), [](auto) {});
  Settle();
  EXPECT_TRUE(a_.host->IsConnected(b_.host->peer_id()));
  EXPECT_TRUE(b_.host->IsConnected(a_.host->peer_id()));
  EXPECT_EQ(a_.host->connections_of(b_.host->peer_id()).size(), 2u);
  EXPECT_EQ(b_.host->connections_of(a_.host->peer_id()).size(), 2u);
  EXPECT_TRUE(a_.host->IsOutbound(b_.host->peer_id()));
  EXPECT_TRUE(a_.disconnected.empty());
  StatusOr<Duration> rtt = CancelledError("unset");
  a_.host->Ping(b_.host->peer_id(), [&](StatusOr<Duration> r) { rtt = r; });
  Settle();
  EXPECT_TRUE(rtt.ok()) << rtt.status().ToString();
}

TEST_P(HostTest, ConnectionsStayUpWhileIdle) {
  a_.host->Dial(b_.Addr(), [](auto) {});
  Settle();
  loop_.AdvanceTime(std::chrono::minutes(10));
  EXPECT_TRUE(a_.host->IsConnected(b_.host->peer_id()));
  EXPECT_TRUE(a_.disconnected.empty());
}

INSTANTIATE_TEST_SUITE_P(Muxers, HostTest, ::testing::Values("/yamux/1.0.0", "/mplex/6.7.0"),
                         [](const auto& info) { return info.param == "/yamux/1.0.0" ? "Yamux" : "Mplex"; });

}  // namespace
}  // namespace libp2p::stream

namespace libp2p::stream {
namespace {

// The same hosts over real TCP sockets, where bytes arrive chunked and ordered by the kernel, not by the
// virtual loop: the responder's first transport messages can reach the initiator before its handshake has
// handed the connection over (this once lost them and failed decryption).
TEST(HostTcpTest, ConnectIdentifyAndPingOverTcp) {
  auto loop = std::move(LibeventLoop::Create()).value();
  TcpTransport tcp_a(loop.get()), tcp_b(loop.get());
  const Ed25519PrivateKey key_a = KeyOf("tcp-a"), key_b = KeyOf("tcp-b");
  for (const char* muxer : {"/yamux/1.0.0", "/mplex/6.7.0"}) {
    HostOptions oa, ob;
    oa.identity = &key_a;
    ob.identity = &key_b;
    oa.muxers = ob.muxers = {muxer};
    Host a(loop.get(), &tcp_a, oa), b(loop.get(), &tcp_b, ob);
    ASSERT_TRUE(b.Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0")).ok());
    int identified = 0, disconnected = 0;
    a.AddEvents(Host::Events{{}, [&](auto&, auto&) { ++identified; }, [&](auto&, auto&) { ++disconnected; }});
    b.AddEvents(Host::Events{{}, [&](auto&, auto&) { ++identified; }, [&](auto&, auto&) { ++disconnected; }});
    a.Dial(b.listen_addrs()[0], [](auto) {});
    ASSERT_TRUE(testing::RunUntil(loop.get(), [&] { return identified == 2 || disconnected > 0; })) << muxer;
    EXPECT_EQ(disconnected, 0) << muxer;
    StatusOr<Duration> rtt = CancelledError("unset");
    bool done = false;
    a.Ping(b.peer_id(), [&](StatusOr<Duration> r) {
      rtt = r;
      done = true;
    });
    ASSERT_TRUE(testing::RunUntil(loop.get(), [&] { return done; })) << muxer;
    EXPECT_TRUE(rtt.ok()) << muxer << ": " << rtt.status().ToString();
  }
}

}  // namespace
}  // namespace libp2p::stream
