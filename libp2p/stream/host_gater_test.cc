// The connection gater at each of its points, over real TCP on loopback with distinct 127.0.0.x sources:
// what each refusal costs the remote (a reset before any handshake, a dial that never starts, a connection
// closed after the handshake), what it reports, and what it counts.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/access_list.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/tcp_transport.h"

namespace libp2p::stream {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::milliseconds;

Ed25519PrivateKey KeyOf(std::string_view seed) { return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed))); }
Multiaddr M(const std::string& text) { return *Multiaddr::FromString(text); }
IpRange R(const std::string& text) { return *IpRange::Parse(text); }

// A gater that refuses at one chosen point and records every question it was asked.
class RecordingGater : public ConnectionGater {
 public:
  enum Point { kNone, kPeerDial, kAddrDial, kAccept, kSecured, kUpgraded };
  explicit RecordingGater(Point refuse) : refuse_(refuse) {}
  Status InterceptPeerDial(const PeerId&) override { return Ask(kPeerDial); }
  Status InterceptAddrDial(const std::optional<PeerId>&, const Multiaddr&) override { return Ask(kAddrDial); }
  Status InterceptAccept(const Multiaddr&, const Multiaddr&) override { return Ask(kAccept); }
  Status InterceptSecured(bool inbound, const PeerId&, const Multiaddr&, const Multiaddr&) override {
    secured_inbound.push_back(inbound);
    return Ask(kSecured);
  }
  Status InterceptUpgraded(const ConnectionInfo& c) override {
    upgraded.push_back(c);
    return Ask(kUpgraded);
  }
  std::vector<Point> asked;
  std::vector<bool> secured_inbound;
  std::vector<ConnectionInfo> upgraded;

 private:
  Status Ask(Point p) {
    asked.push_back(p);
    return p == refuse_ ? InternalError("test refuses here") : OkStatus();
  }
  const Point refuse_;
};

// One node: a host on its own TCP transport whose dials leave from 127.0.0.`source`.
struct Node {
  Node(ManualEventLoop* loop, std::string_view seed, int source, ConnectionGater* gater)
      : key(KeyOf(seed)),
        tcp(loop, TcpTransportOptions{.dial_source = M("/ip4/127.0.0." + std::to_string(source) + "/tcp/0")}) {
    HostOptions options;
    options.identity = &key;
    options.gater = gater;
    host = std::make_unique<Host>(loop, &tcp, std::move(options));
    host->AddEvents(Host::Events{.on_connected = [this](const ConnectionInfo&) { ++connected; }});
  }
  Multiaddr Listen(int ip) {
    EXPECT_TRUE(host->Listen(M("/ip4/127.0.0." + std::to_string(ip) + "/tcp/0")).ok());
    return host->listen_addrs().back().Encapsulate(M("/p2p/" + host->peer_id().ToBase58()));
  }
  Ed25519PrivateKey key;
  TcpTransport tcp;
  std::unique_ptr<Host> host;
  int connected = 0;
};

class HostGaterTest : public ::testing::Test {
 protected:
  void Pump(int rounds = 50) {
    for (int i = 0; i < rounds; ++i) loop_.AdvanceTime(milliseconds(1));
  }
  StatusOr<PeerId> DialAndWait(Node& from, const Multiaddr& to) {
    StatusOr<PeerId> result = CancelledError("no answer");
    bool done = false;
    from.host->Dial(to, [&](StatusOr<PeerId> p) {
      result = p;
      done = true;
    });
    for (int i = 0; i < 500 && !done; ++i) Pump(1);
    EXPECT_TRUE(done);
    return result;
  }
  ManualEventLoop loop_;
};

TEST_F(HostGaterTest, AllowedConnectionsPassEveryPointInOrder) {
  RecordingGater dialer_gater(RecordingGater::kNone), listener_gater(RecordingGater::kNone);
  Node listener(&loop_, "listener", 1, &listener_gater), dialer(&loop_, "dialer", 2, &dialer_gater);
  ASSERT_TRUE(DialAndWait(dialer, listener.Listen(1)).ok());
  Pump();
  using P = RecordingGater;
  EXPECT_EQ(dialer_gater.asked, (std::vector<P::Point>{P::kPeerDial, P::kAddrDial, P::kSecured, P::kUpgraded}));
  EXPECT_EQ(listener_gater.asked, (std::vector<P::Point>{P::kAccept, P::kSecured, P::kUpgraded}));
  EXPECT_EQ(dialer_gater.secured_inbound, std::vector<bool>{false});
  EXPECT_EQ(listener_gater.secured_inbound, std::vector<bool>{true});
  ASSERT_EQ(listener_gater.upgraded.size(), 1u);
  EXPECT_EQ(listener_gater.upgraded[0].peer, dialer.host->peer_id());
  EXPECT_TRUE(listener_gater.upgraded[0].inbound);
  EXPECT_FALSE(listener_gater.upgraded[0].muxer.empty());
  EXPECT_EQ(listener.connected, 1);
  EXPECT_EQ(dialer.connected, 1);
}

// A refused dial fails with kPermissionDenied and the reason, before the transport connects: the listener
// never sees a connection.
TEST_F(HostGaterTest, RefusedDialsNeverConnect) {
  for (RecordingGater::Point point : {RecordingGater::kPeerDial, RecordingGater::kAddrDial}) {
    RecordingGater gater(point);
    RecordingGater listener_gater(RecordingGater::kNone);
    Node listener(&loop_, "listener", 1, &listener_gater), dialer(&loop_, "dialer", 2, &gater);
    StatusOr<PeerId> r = DialAndWait(dialer, listener.Listen(1));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(r.status().message().find("refused by the connection gater before dialing"), std::string::npos)
        << r.status().ToString();
    EXPECT_NE(r.status().message().find("test refuses here"), std::string::npos) << r.status().ToString();
    Pump();
    EXPECT_TRUE(listener_gater.asked.empty());  // Not even accepted.
    EXPECT_EQ(dialer.host->stats().gater_refused_dials, 1u);
    EXPECT_EQ(gater.asked.back(), point);
  }
}

// Refused on accept: the socket is reset before we send anything (no multistream header), no upgrade starts.
TEST_F(HostGaterTest, RefusedOnAcceptBeforeAnyByte) {
  AccessList list;
  list.DenyRange(R("127.0.0.3/32"));
  Node listener(&loop_, "listener", 1, &list);
  const Multiaddr addr = listener.Listen(1);
  const auto c = addr.Components();
  const uint16_t port = static_cast<uint16_t>(c[1].value[0] << 8 | c[1].value[1]);

  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = htonl(0x7f000003u);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)), 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(0x7f000001u);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  Pump();
  char buf[64];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
  EXPECT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET)) << "read " << n << " bytes, errno " << errno;
  ::close(fd);
  EXPECT_EQ(listener.host->stats().gater_refused_accepts, 1u);
  EXPECT_EQ(listener.host->stats().upgrades_failed, 0u);  // No upgrade was started.

  // The same host takes a peer from an address the list does not deny, and refuses a host from the denied one.
  Node allowed(&loop_, "allowed", 2, nullptr), denied(&loop_, "denied", 3, nullptr);
  EXPECT_TRUE(DialAndWait(allowed, addr).ok());
  StatusOr<PeerId> r = DialAndWait(denied, addr);
  EXPECT_FALSE(r.ok());
  Pump();
  EXPECT_EQ(listener.host->stats().gater_refused_accepts, 2u);
  EXPECT_EQ(listener.connected, 1);
  EXPECT_FALSE(listener.host->IsConnected(denied.host->peer_id()));
}

// After the secure handshake: an inbound peer denied by id is dropped before the muxer, the listener never
// reports it; our own dial to a denied peer whose id the address did not name fails with kPermissionDenied.
TEST_F(HostGaterTest, RefusedAfterTheHandshakeInBothDirections) {
  AccessList list;
  Node listener(&loop_, "listener", 1, &list), stranger(&loop_, "stranger", 2, nullptr);
  list.DenyPeer(stranger.host->peer_id());
  const Multiaddr addr = listener.Listen(1);
  DialAndWait(stranger, addr).status().IgnoreError();  // It may finish its side of the handshake first.
  Pump(200);
  EXPECT_EQ(listener.host->stats().gater_refused_secured, 1u);
  EXPECT_EQ(listener.connected, 0);
  EXPECT_FALSE(stranger.host->IsConnected(listener.host->peer_id()));

  // Outbound: the address names no peer, so only the handshake tells who it is.
  const Multiaddr stranger_addr = stranger.Listen(2).WithoutPeerId();
  StatusOr<PeerId> r = DialAndWait(listener, stranger_addr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("after the secure handshake"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("is denied"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(listener.host->stats().gater_refused_secured, 2u);
  Pump(200);
  EXPECT_EQ(listener.connected, 0);
  // Counted once, as the gater's: a refusal is no failed handshake.
  EXPECT_EQ(listener.host->stats().upgrades_failed, 0u);
}

TEST_F(HostGaterTest, RefusedAfterTheUpgradeIsNeverReported) {
  RecordingGater gater(RecordingGater::kUpgraded);
  Node listener(&loop_, "listener", 1, nullptr), dialer(&loop_, "dialer", 2, &gater);
  StatusOr<PeerId> r = DialAndWait(dialer, listener.Listen(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("after the upgrade"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(dialer.connected, 0);
  EXPECT_EQ(dialer.host->connection_count(), 0u);
  EXPECT_EQ(dialer.host->stats().gater_refused_upgraded, 1u);
  Pump(200);
  EXPECT_FALSE(listener.host->IsConnected(dialer.host->peer_id()));
}

// The list changes while the host runs: the next connection is judged by the new rules; established ones
// stay until disconnected.
TEST_F(HostGaterTest, ChangesApplyToTheNextConnection) {
  AccessList list;
  Node listener(&loop_, "listener", 1, &list), peer(&loop_, "peer", 2, nullptr);
  const Multiaddr addr = listener.Listen(1);
  ASSERT_TRUE(DialAndWait(peer, addr).ok());
  Pump();
  list.DenyRange(R("127.0.0.2/32"));
  EXPECT_TRUE(listener.host->IsConnected(peer.host->peer_id()));
  listener.host->Disconnect(peer.host->peer_id());
  Pump(200);
  EXPECT_FALSE(DialAndWait(peer, addr).ok());
  EXPECT_EQ(listener.host->stats().gater_refused_accepts, 1u);
  list.RemoveDeniedRange(R("127.0.0.2/32"));
  EXPECT_TRUE(DialAndWait(peer, addr).ok());
}

}  // namespace
}  // namespace libp2p::stream
