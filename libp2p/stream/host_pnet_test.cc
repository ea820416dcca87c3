// Private networks at the host: nodes with the same key connect, and what they send is not readable on the
// wire; a node with another key, or none, fails to upgrade on both sides, and the failure names a likely
// key mismatch. Real TCP on loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/stream/host.h"
#include "libp2p/stream/pnet.h"
#include "libp2p/stream/tcp_transport.h"

namespace libp2p::stream {
namespace {

using crypto::Ed25519PrivateKey;
using crypto::PeerId;
using std::chrono::milliseconds;
using std::chrono::seconds;

Ed25519PrivateKey KeyOf(std::string_view seed) { return *Ed25519PrivateKey::FromSeed(crypto::Sha256(AsBytes(seed))); }
Multiaddr M(const std::string& text) { return *Multiaddr::FromString(text); }
SwarmKey SwarmKeyOf(uint8_t fill) {
  SwarmKey k;
  k.key.fill(fill);
  return k;
}

struct Node {
  Node(ManualEventLoop* loop, std::string_view seed, std::optional<SwarmKey> swarm_key)
      : key(KeyOf(seed)), tcp(loop) {
    HostOptions options;
    options.identity = &key;
    options.swarm_key = swarm_key;
    host = std::make_unique<Host>(loop, &tcp, std::move(options));
    host->AddEvents(Host::Events{.on_inbound_failed = [this](const Multiaddr&, const Status& why) {
      inbound_failures.push_back(why);
    }});
  }
  Multiaddr Listen() {
    EXPECT_TRUE(host->Listen(M("/ip4/127.0.0.1/tcp/0")).ok());
    return host->listen_addrs().back().Encapsulate(M("/p2p/" + host->peer_id().ToBase58()));
  }
  Ed25519PrivateKey key;
  TcpTransport tcp;
  std::unique_ptr<Host> host;
  std::vector<Status> inbound_failures;
};

// A plain TCP listener on 127.0.0.1, for a peer that is no libp2p node; closed when it goes.
struct RawListener {
  RawListener() : fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(in);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof(in)) != 0 || ::listen(fd, 4) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len) != 0) {
      return;
    }
    addr = M("/ip4/127.0.0.1/tcp/" + std::to_string(ntohs(in.sin_port)));
  }
  ~RawListener() {
    if (fd >= 0) ::close(fd);
  }
  const int fd;
  Multiaddr addr;  // Empty when the socket could not listen.
};

class HostPnetTest : public ::testing::Test {
 protected:
  void Pump(int rounds) {
    for (int i = 0; i < rounds; ++i) loop_.AdvanceTime(milliseconds(1));
  }
  StatusOr<PeerId> DialAndWait(Node& from, const Multiaddr& to) {
    StatusOr<PeerId> result = CancelledError("no answer");
    bool done = false;
    from.host->Dial(to, [&](StatusOr<PeerId> p) {
      result = p;
      done = true;
    });
    for (int i = 0; i < 12000 && !done; ++i) Pump(1);  // Up to the 10 s upgrade timeout.
    EXPECT_TRUE(done);
    return result;
  }
  ManualEventLoop loop_;
};

TEST_F(HostPnetTest, SameKeyConnectsAndPings) {
  Node a(&loop_, "a", SwarmKeyOf(7)), b(&loop_, "b", SwarmKeyOf(7));
  StatusOr<PeerId> r = DialAndWait(a, b.Listen());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::optional<StatusOr<Duration>> rtt;
  a.host->Ping(b.host->peer_id(), [&](StatusOr<Duration> d) { rtt = d; });
  for (int i = 0; i < 200 && !rtt; ++i) Pump(1);
  ASSERT_TRUE(rtt.has_value());
  EXPECT_TRUE(rtt->ok()) << rtt->status().ToString();
}

void ExpectKeyHint(const Status& s) {
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("likely a swarm key mismatch"), std::string::npos) << s.ToString();
}

TEST_F(HostPnetTest, AnotherKeyFailsOnBothSidesAsALikelyKeyMismatch) {
  Node a(&loop_, "a", SwarmKeyOf(7)), b(&loop_, "b", SwarmKeyOf(8));
  const MonoTime start = loop_.Now();
  StatusOr<PeerId> r = DialAndWait(a, b.Listen());
  ASSERT_FALSE(r.ok());
  ExpectKeyHint(r.status());
  // Refused at the first byte that is not multistream-select's header, not at the upgrade timeout.
  EXPECT_LT(loop_.Now() - start, seconds(1));
  Pump(50);
  ASSERT_EQ(b.inbound_failures.size(), 1u);
  ExpectKeyHint(b.inbound_failures[0]);
  EXPECT_EQ(a.host->connection_count(), 0u);
  EXPECT_EQ(b.host->connection_count(), 0u);
}

TEST_F(HostPnetTest, APublicNodeAndAPrivateOneDoNotConnect) {
  Node priv(&loop_, "private", SwarmKeyOf(7)), pub(&loop_, "public", std::nullopt);
  const Multiaddr priv_addr = priv.Listen();
  StatusOr<PeerId> r = DialAndWait(pub, priv_addr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("swarm key"), std::string::npos);  // The public node knows of no key.
  Pump(50);
  ASSERT_EQ(priv.inbound_failures.size(), 1u);
  ExpectKeyHint(priv.inbound_failures[0]);

  r = DialAndWait(priv, pub.Listen());
  ASSERT_FALSE(r.ok());
  ExpectKeyHint(r.status());
}

// A peer that closes the connection before sending anything refused us (a gater, a limit) or was cut: it
// did not speak with another key, so the failure carries no key hint.
TEST_F(HostPnetTest, APeerThatSaysNothingIsNoKeyMismatch) {
  const RawListener listener;
  ASSERT_FALSE(listener.addr.empty());  // Bound and listening.
  Node a(&loop_, "a", SwarmKeyOf(7));
  StatusOr<PeerId> result = CancelledError("no answer");
  bool done = false;
  a.host->Dial(listener.addr, [&](StatusOr<PeerId> p) {
    result = p;
    done = true;
  });
  Pump(20);
  const int conn = ::accept(listener.fd, nullptr, nullptr);
  ASSERT_GE(conn, 0);
  ::close(conn);
  for (int i = 0; i < 500 && !done; ++i) Pump(1);
  ASSERT_TRUE(done);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message().find("swarm key"), std::string::npos) << result.status().ToString();
}

// What goes on the wire: 24 bytes of nonce, then bytes that are not multistream-select's cleartext header.
TEST_F(HostPnetTest, TheWireCarriesANonceAndNoCleartext) {
  const RawListener listener;
  ASSERT_FALSE(listener.addr.empty());  // Bound and listening.
  Node a(&loop_, "a", SwarmKeyOf(7));
  a.host->Dial(listener.addr, [](StatusOr<PeerId>) {});
  Pump(20);
  const int conn = ::accept(listener.fd, nullptr, nullptr);
  ASSERT_GE(conn, 0);
  std::string wire;
  char buf[256];
  for (int i = 0; i < 20 && wire.size() < kPnetNonceSize + 20; ++i) {
    Pump(1);
    const ssize_t n = ::recv(conn, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) wire.append(buf, static_cast<size_t>(n));
  }
  ::close(conn);
  ASSERT_GE(wire.size(), kPnetNonceSize + 20);  // The nonce, and at least multistream's header.
  EXPECT_EQ(wire.find("/multistream/1.0.0"), std::string::npos);
  EXPECT_EQ(wire.find("/noise"), std::string::npos);
}

}  // namespace
}  // namespace libp2p::stream
