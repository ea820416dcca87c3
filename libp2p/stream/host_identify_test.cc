// What the host makes of identify: signed addresses preferred, bad records ignored rather than a reason to
// disconnect, partial pushes merged, our own message small and free of wildcard addresses.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/peer_record.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/advertised_addresses.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/ping.h"
#include "libp2p/stream/tcp_transport.h"

namespace libp2p::stream {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

Ed25519PrivateKey KeyOf(std::string_view seed) { return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed))); }
Multiaddr M(const std::string& text) { return *Multiaddr::FromString(text); }

class HostIdentifyTest : public ::testing::Test {
 protected:
  HostIdentifyTest() {
    HostOptions oa, ob;
    oa.identity = &key_a_;
    ob.identity = &key_b_;
    a_ = std::make_unique<Host>(&loop_, ta_.get(), oa);
    b_ = std::make_unique<Host>(&loop_, tb_.get(), ob);
    a_->AddEvents(Host::Events{nullptr, [this](const PeerId&, const IdentifyInfo& i) { identified_.push_back(i); },
                               [this](const ConnectionInfo&, const Status& why) { disconnected_.push_back(why); }});
    EXPECT_TRUE(b_->Listen(M("/ip4/127.0.0.1/tcp/0")).ok());
  }

  // B answers identify requests with `info` (instead of its own), and records how each stream ended.
  void AnswerWith(IdentifyInfo info) {
    b_->SetStreamHandler(std::string(kIdentifyProtocolId), [this, info](std::unique_ptr<Stream> s, const PeerId&,
                                                                       const std::string&) {
      AnswerIdentify(s.get(), info);
      Stream* raw = s.get();
      answered_.push_back(std::move(s));
      raw->SetHandlers(Stream::Handlers{[](ByteSpan) {}, [this] { ++answer_eofs_; }, [this](const Status&) { ++answer_errors_; }, {}});
    });
  }

  // B's identify with its real key and an address, as a starting point.
  IdentifyInfo BaseInfo() {
    IdentifyInfo info;
    info.public_key = key_b_.public_key();
    info.listen_addrs = {M("/ip4/10.0.0.2/tcp/4001")};
    info.protocols = {"/ipfs/id/1.0.0", "/meshsub/1.1.0"};
    info.agent_version = "test/1";
    return info;
  }

  void Connect() {
    a_->Dial(b_->listen_addrs()[0], [](StatusOr<PeerId> p) { ASSERT_TRUE(p.ok()) << p.status().ToString(); });
    loop_.AdvanceTime(seconds(1));
  }

  const PeerStoreEntry* StoredB() const { return a_->peer_store().Find(b_->peer_id()); }

  ManualEventLoop loop_;
  MemoryNetwork network_{&loop_, WriteLimits{}, milliseconds(2)};
  std::unique_ptr<Transport> ta_ = network_.CreateTransport(), tb_ = network_.CreateTransport();
  Ed25519PrivateKey key_a_ = KeyOf("a"), key_b_ = KeyOf("b"), key_c_ = KeyOf("c");
  std::unique_ptr<Host> a_, b_;
  std::vector<IdentifyInfo> identified_;
  std::vector<Status> disconnected_;
  std::vector<std::unique_ptr<Stream>> answered_;
  int answer_eofs_ = 0, answer_errors_ = 0;
};

// A record that does not open, or is another peer's, is ignored: the peer stays connected and identified
// (a default go-libp2p peer was once disconnected for a record we could not parse).
TEST_F(HostIdentifyTest, BadSignedPeerRecordsAreIgnoredNotADisconnect) {
  const PeerId c = PeerId::FromPublicKey(key_c_.public_key());
  IdentifyInfo info = BaseInfo();
  crypto::PeerRecord theirs{c};
  theirs.seq = 5;
  theirs.addresses = {M("/ip4/9.9.9.9/tcp/1")};
  info.signed_peer_record = *crypto::SignPeerRecord(key_c_, theirs);  // Someone else's record.
  AnswerWith(info);
  Connect();
  ASSERT_EQ(identified_.size(), 1u);
  EXPECT_TRUE(disconnected_.empty());
  EXPECT_TRUE(a_->IsConnected(b_->peer_id()));
  EXPECT_EQ(a_->stats().peer_records_ignored, 1u);
  ASSERT_NE(StoredB(), nullptr);
  EXPECT_TRUE(StoredB()->signed_peer_record.empty());
  const std::vector<Multiaddr>& addrs = StoredB()->addrs;  // The dialed address and the unsigned one.
  EXPECT_NE(std::find(addrs.begin(), addrs.end(), M("/ip4/10.0.0.2/tcp/4001")), addrs.end());
  EXPECT_EQ(std::find(addrs.begin(), addrs.end(), M("/ip4/9.9.9.9/tcp/1")), addrs.end());

  // Garbage in the record field: the same.
  info.signed_peer_record = Bytes{1, 2, 3, 4};
  AnswerWith(info);
  b_->Ping(a_->peer_id(), [](auto) {});  // Nothing to do with identify; just another stream.
  a_->Disconnect(b_->peer_id());
  loop_.AdvanceTime(seconds(1));
  disconnected_.clear();
  Connect();
  EXPECT_TRUE(disconnected_.empty());
  EXPECT_TRUE(a_->IsConnected(b_->peer_id()));
  EXPECT_EQ(a_->stats().peer_records_ignored, 2u);
}

// A record with addresses we cannot parse keeps the ones we can.
TEST_F(HostIdentifyTest, SignedAddressesArePreferredOverUnsignedOnes) {
  IdentifyInfo info = BaseInfo();
  crypto::PeerRecord record{b_->peer_id()};
  record.seq = 7;
  record.addresses = {M("/ip4/203.0.113.5/tcp/4001"), M("/ip4/203.0.113.5/udp/4001/quic-v1")};
  info.signed_peer_record = *crypto::SignPeerRecord(key_b_, record);
  AnswerWith(info);
  Connect();
  ASSERT_EQ(identified_.size(), 1u);
  ASSERT_NE(StoredB(), nullptr);
  EXPECT_EQ(StoredB()->addrs, record.addresses);
  EXPECT_EQ(StoredB()->peer_record_seq, 7u);
}

TEST_F(HostIdentifyTest, AKeyThatIsNotThePeersIsALie) {
  IdentifyInfo info = BaseInfo();
  info.public_key = key_c_.public_key();
  AnswerWith(info);
  Connect();
  ASSERT_EQ(disconnected_.size(), 1u);
  EXPECT_EQ(disconnected_[0].code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(a_->IsConnected(b_->peer_id()));
}

// The spec: missing fields of a push are ignored, as peers may send partial updates. No public key in a
// push is no reason to disconnect, and an absent protocol list keeps the one we have.
TEST_F(HostIdentifyTest, PartialPushMerges) {
  AnswerWith(BaseInfo());
  Connect();
  ASSERT_EQ(identified_.size(), 1u);
  IdentifyInfo partial;
  partial.agent_version = "test/2";
  b_->NewStream(a_->peer_id(), {std::string(kIdentifyPushProtocolId)},
                [&](StatusOr<std::unique_ptr<Stream>> s, const std::string&) {
                  ASSERT_TRUE(s.ok());
                  AnswerIdentify(s->get(), partial);
                  answered_.push_back(std::move(s).value());
                });
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(identified_.size(), 2u);
  EXPECT_TRUE(disconnected_.empty());
  EXPECT_EQ(identified_[1].agent_version, "test/2");
  EXPECT_EQ(identified_[1].protocols, BaseInfo().protocols);
  EXPECT_EQ(StoredB()->protocols, BaseInfo().protocols);
  EXPECT_EQ(StoredB()->agent_version, "test/2");
}

// Identify ends with FIN both ways, not a reset: the answering side sees the requester's end of stream.
TEST_F(HostIdentifyTest, IdentifyStreamsCloseCleanly) {
  AnswerWith(BaseInfo());
  Connect();
  ASSERT_EQ(identified_.size(), 1u);
  EXPECT_EQ(answer_eofs_, 1);
  EXPECT_EQ(answer_errors_, 0);
}

// Ping ends with FIN both ways too: the responder sees the pinger's close and closes back.
TEST_F(HostIdentifyTest, PingStreamsCloseCleanly) {
  Connect();
  int eofs = 0, errors = 0;
  std::unique_ptr<Stream> server;
  b_->SetStreamHandler(std::string(kPingProtocolId), [&](std::unique_ptr<Stream> s, const PeerId&, const std::string&) {
    server = std::move(s);
    server->SetHandlers(Stream::Handlers{[&](ByteSpan d) { ASSERT_TRUE(server->Write(d).ok()); },
                                         [&] {
                                           ++eofs;
                                           server->CloseWrite();
                                         },
                                         [&](const Status&) { ++errors; }, {}});
  });
  StatusOr<Duration> rtt = CancelledError("unset");
  a_->Ping(b_->peer_id(), [&](StatusOr<Duration> r) { rtt = r; });
  loop_.AdvanceTime(seconds(1));
  ASSERT_TRUE(rtt.ok()) << rtt.status().ToString();
  EXPECT_EQ(eofs, 1);
  EXPECT_EQ(errors, 0);
}

// A ping that fails after its stream was negotiated (a wrong echo, then a reset) ends cleanly: the pinger
// went before its stream (under ASan this once read the freed stream).
TEST_F(HostIdentifyTest, PingFailingAfterNegotiationEndsCleanly) {
  Connect();
  std::unique_ptr<Stream> server;
  b_->SetStreamHandler(std::string(kPingProtocolId), [&](std::unique_ptr<Stream> s, const PeerId&, const std::string&) {
    server = std::move(s);
    server->SetHandlers(Stream::Handlers{[&](ByteSpan d) {
                                           Bytes wrong(d.begin(), d.end());
                                           wrong[0] ^= 1;
                                           ASSERT_TRUE(server->Write(wrong).ok());
                                         },
                                         {}, {}, {}});
  });
  StatusOr<Duration> rtt = CancelledError("unset");
  a_->Ping(b_->peer_id(), [&](StatusOr<Duration> r) { rtt = r; });
  loop_.AdvanceTime(seconds(1));
  EXPECT_EQ(rtt.status().code(), StatusCode::kInvalidArgument);
  server.reset();
  loop_.AdvanceTime(seconds(20));
  EXPECT_TRUE(a_->IsConnected(b_->peer_id()));
}

// Hosts destroyed while connections, streams and upgrades still wait in their deleters: those go with the
// host, while what they use still exists (nothing is left in the loop to run later against freed owners).
TEST_F(HostIdentifyTest, DestroyedWithWorkStillWaiting) {
  Connect();
  a_->Ping(b_->peer_id(), [](auto) {});
  a_->Disconnect(b_->peer_id());  // Its connection now waits in the deleter.
  b_.reset();
  a_.reset();
  loop_.RunUntilIdle();
}

TEST_F(HostIdentifyTest, ChangesOfOneLoopTurnArePushedOnce) {
  Connect();
  ASSERT_EQ(identified_.size(), 1u);
  b_->SetStreamHandler("/x/1", [](auto, auto&, auto&) {});
  b_->SetStreamHandler("/y/1", [](auto, auto&, auto&) {});
  b_->RemoveStreamHandler("/x/1");
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(identified_.size(), 2u);
  const auto& protocols = identified_[1].protocols;
  EXPECT_NE(std::find(protocols.begin(), protocols.end(), "/y/1"), protocols.end());
  EXPECT_EQ(std::find(protocols.begin(), protocols.end(), "/x/1"), protocols.end());
}

TEST_F(HostIdentifyTest, ListeningAgainIsPushed) {
  Connect();
  ASSERT_EQ(identified_.size(), 1u);
  ASSERT_TRUE(b_->Listen(M("/ip4/127.0.0.1/tcp/0")).ok());
  loop_.AdvanceTime(seconds(1));
  ASSERT_EQ(identified_.size(), 2u);
  EXPECT_EQ(identified_[1].listen_addrs.size(), 2u);
  StatusOr<crypto::PeerRecord> record = crypto::OpenSignedPeerRecord(StoredB()->signed_peer_record);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->addresses, b_->advertised_addrs());
}

// Over real TCP: a node listening on 0.0.0.0 advertises its interface addresses, in identify and in its
// signed record, never the wildcard.
TEST(HostAdvertisingTest, WildcardListenerAdvertisesInterfaceAddresses) {
  ManualEventLoop loop;
  TcpTransport tcp(&loop);
  const Ed25519PrivateKey ka = KeyOf("a"), kb = KeyOf("b");
  HostOptions oa, ob;
  oa.identity = &ka;
  ob.identity = &kb;
  ob.interface_addresses = [] {
    return std::vector<Multiaddr>{M("/ip4/127.0.0.1"), M("/ip4/169.254.9.9"), M("/ip4/192.168.7.7"), M("/ip6/fe80::1")};
  };
  Host a(&loop, &tcp, oa), b(&loop, &tcp, ob);
  ASSERT_TRUE(b.Listen(M("/ip4/0.0.0.0/tcp/0")).ok());
  const std::string port = b.listen_addrs()[0].Components()[1].text;
  EXPECT_EQ(b.listen_addrs()[0].ToString(), "/ip4/0.0.0.0/tcp/" + port);
  const std::vector<Multiaddr> expected = {M("/ip4/192.168.7.7/tcp/" + port), M("/ip4/127.0.0.1/tcp/" + port),
                                           M("/ip4/169.254.9.9/tcp/" + port)};
  EXPECT_EQ(b.advertised_addrs(), expected);
  std::vector<IdentifyInfo> identified;
  a.AddEvents(Host::Events{nullptr, [&](const PeerId&, const IdentifyInfo& i) { identified.push_back(i); }, nullptr});
  a.Dial(M("/ip4/127.0.0.1/tcp/" + port), [](StatusOr<PeerId> p) { ASSERT_TRUE(p.ok()) << p.status().ToString(); });
  for (int i = 0; i < 200 && identified.empty(); ++i) loop.AdvanceTime(milliseconds(10));
  ASSERT_EQ(identified.size(), 1u);
  EXPECT_EQ(identified[0].listen_addrs, expected);
  StatusOr<crypto::PeerRecord> record = crypto::OpenSignedPeerRecord(identified[0].signed_peer_record);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->addresses, expected);
}

// Many interfaces: our identify stays within 4 KiB (rust-libp2p reads no more), dropping link-local
// addresses first, then loopback, then private ones; public ones stay.
TEST(HostAdvertisingTest, IdentifyStaysWithinFourKibiBytes) {
  ManualEventLoop loop;
  TcpTransport tcp(&loop);
  const Ed25519PrivateKey key = KeyOf("b");
  HostOptions options;
  options.identity = &key;
  options.interface_addresses = [] {
    std::vector<Multiaddr> out;
    for (int i = 1; i <= 60; ++i) out.push_back(M("/ip4/169.254.0." + std::to_string(i)));
    for (int i = 1; i <= 60; ++i) out.push_back(M("/ip4/10.0.0." + std::to_string(i)));
    for (int i = 1; i <= 10; ++i) out.push_back(M("/ip4/203.0.113." + std::to_string(i)));
    out.push_back(M("/ip4/127.0.0.1"));
    return out;
  };
  Host host(&loop, &tcp, options);
  ASSERT_TRUE(host.Listen(M("/ip4/0.0.0.0/tcp/0")).ok());
  const std::vector<Multiaddr>& advertised = host.advertised_addrs();
  ASSERT_FALSE(advertised.empty());
  for (const Multiaddr& a : advertised) {
    EXPECT_NE(ScopeOf(a), AddressScope::kLinkLocal) << a.ToString();
    EXPECT_NE(ScopeOf(a), AddressScope::kLoopback) << a.ToString();
  }
  EXPECT_EQ(ScopeOf(advertised.front()), AddressScope::kPublic);
  EXPECT_EQ(std::count_if(advertised.begin(), advertised.end(),
                          [](const Multiaddr& a) { return ScopeOf(a) == AddressScope::kPublic; }),
            10);
  // What a peer receives: the addresses, the record holding them again, and the rest.
  IdentifyInfo info;
  info.public_key = key.public_key();
  info.listen_addrs = advertised;
  info.protocols = host.protocols();
  info.observed_addr = M("/ip6/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/tcp/65535");
  info.agent_version = "libp2p-pubsub-cpp/0.1.0";
  info.protocol_version = "ipfs/0.1.0";
  crypto::PeerRecord record{PeerId::FromPublicKey(key.public_key())};
  record.seq = UINT64_MAX;
  record.addresses = advertised;
  info.signed_peer_record = *crypto::SignPeerRecord(key, record);
  EXPECT_LE(info.Encode().size() + 9, kMaxOwnIdentifySize);
}

}  // namespace
}  // namespace libp2p::stream
